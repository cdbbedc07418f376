// The sparse quantizer's native encoder (native/core/sparse.cc) equals its TypeScript reference
// (SparseQuantizer.encodeReference, applyWhitening) bit for bit on random geometries, with and without a
// whitening, on data full of exact ties, and refuses bad arguments at the binding with messages naming them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SPARSE_DEFAULTS, SparseQuantizer, type SparseOptions } from '../src/quantize/sparse.js';
import { applyWhitening, fitWhitening, type Whitening } from '../src/quantize/whitening.js';
import { loadBinding } from '../src/native/loader.js';
import type { NativeSparseBlock } from '../src/native/binding.js';
import { below, rng, seedFor } from './helpers/memory-random.js';

const seed = seedFor('84.sparse-native');

/**
 * A whitening of arbitrary (not fitted) values: the encoder's arithmetic does not care whether V is orthonormal.
 * One in eight is a centring (no directions).
 */
function randomWhitening(r: () => number, dim: number, scale = 1): Whitening {
  const d = r() < 0.125 ? 0 : 1 + below(r, Math.min(dim, 24));
  const vals = (n: number, s: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  return {
    dim,
    d,
    withinClass: false,
    samples: 100,
    shrink: 3,
    mean: vals(dim, 1),
    f: vals(d, 2),
    g: 0.5 + r() * scale,
    basis: vals(d * dim, 1),
  };
}

/** Rows of one of three kinds: continuous, a small integer grid (exact ties everywhere), or mostly zero. */
function randomRows(r: () => number, rows: number, dim: number): { x: Float32Array; kind: string } {
  const kind = ['continuous', 'grid', 'sparse'][below(r, 3)];
  const x = new Float32Array(rows * dim);
  for (let i = 0; i < x.length; i++) {
    if (kind === 'continuous') x[i] = (r() * 2 - 1) * 10 ** (below(r, 7) - 3);
    else if (kind === 'grid') x[i] = below(r, 5) - 2;
    else x[i] = r() < 0.05 ? below(r, 3) - 1 : 0;
  }
  return { x, kind };
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return '';
}

const Equal = suite('native sparse encode equals the TypeScript reference');

Equal('200 random geometries (dims 1..300, 2..3000 neurons, any k), half of them whitened, in either layout', () => {
  const r = rng(seed);
  for (let c = 0; c < 200; c++) {
    const dim = 1 + below(r, 300);
    const neurons = 2 + below(r, 3000);
    const whiteNeurons = 2 + below(r, 1500);
    const opts: SparseOptions = { neurons, k: 1 + below(r, neurons - 1), whiteNeurons, whiteK: 1 + below(r, whiteNeurons - 1) };
    const w = r() < 0.5 ? randomWhitening(r, dim) : null;
    if (w && r() < 0.5) opts.layout = 'white';
    const q = new SparseQuantizer(dim, opts, w);
    const rows = below(r, 4);
    const { x, kind } = randomRows(r, rows, dim);
    const diff = firstDifference(q.encode(x, rows), q.encodeReference(x, rows));
    if (diff) assert.unreachable(`case ${c}: dim ${dim} ${JSON.stringify(opts)} whitened ${!!w} ${kind}: ${diff}`);
  }
});

Equal('the default geometry on 1280-d rows, with a fitted whitening', () => {
  const r = rng(seed + 1);
  const dim = 1280;
  const fit = Float32Array.from({ length: 300 * dim }, () => r() * 2 - 1);
  const w = fitWhitening(fit, dim, null, { d: 64 });
  const white = new SparseQuantizer(dim, { ...SPARSE_DEFAULTS, layout: 'white' }, w);
  assert.equal(white.blocks, [{ name: 'white', begin: 0, neurons: 5120, k: 1280 }]);
  for (const q of [new SparseQuantizer(dim, SPARSE_DEFAULTS), new SparseQuantizer(dim, SPARSE_DEFAULTS, w), white]) {
    const { x } = randomRows(r, 6, dim);
    const diff = firstDifference(q.encode(x, 6), q.encodeReference(x, 6));
    if (diff) assert.unreachable(`whitened ${!!q.whitening} blocks ${q.blocks.length}: ${diff}`);
  }
});

Equal('whiten equals applyWhitening bit for bit', () => {
  const r = rng(seed + 2);
  for (let c = 0; c < 30; c++) {
    const dim = 1 + below(r, 400);
    const w = randomWhitening(r, dim, 100);
    const q = new SparseQuantizer(dim, SPARSE_DEFAULTS, w);
    const rows = below(r, 5);
    const { x } = randomRows(r, rows, dim);
    const diff = firstDifference(q.whiten(x, rows), applyWhitening(w, x, rows));
    if (diff) assert.unreachable(`case ${c}: dim ${dim} d ${w.d}: ${diff}`);
  }
});

Equal('zero rows (all ties) give neurons 0 .. k-1 of each block, natively too', () => {
  const w = randomWhitening(rng(seed + 3), 20);
  w.mean.fill(0);
  const q = new SparseQuantizer(20, { neurons: 40, k: 5, whiteNeurons: 30, whiteK: 3 }, w);
  assert.equal(Array.from(q.encode(new Float32Array(20), 1)), [0, 1, 2, 3, 4, 40, 41, 42]);
  assert.equal(q.encode(new Float32Array(20), 1), q.encodeReference(new Float32Array(20), 1));
});

const Refuse = suite('native sparse encode refuses bad input');

Refuse('features: wrong length, wrong type, not finite; rows not an integer', () => {
  const q = new SparseQuantizer(10, { neurons: 32, k: 4, whiteNeurons: 0, whiteK: 0 });
  assert.throws(() => q.encode(new Float32Array(19), 2), /features: expected 2 x 10 = 20 values, got Float32Array of length 19/);
  assert.throws(() => q.encode(new Float64Array(20) as unknown as Float32Array, 2), /features: expected a Float32Array, got Float64Array/);
  assert.throws(() => q.encode(new Float32Array(10), 1.5), /rows: expected an integer/);
  const x = new Float32Array(20);
  x[17] = -Infinity;
  assert.throws(() => q.encode(x, 2), /features: value 17 is not finite \(-Infinity\)/);
  assert.throws(() => q.encodeReference(x, 2), /features: value 17 is not finite \(-Infinity\)/);
  assert.throws(() => q.whiten(new Float32Array(10), 1), /whiten: this quantizer has no whitening/);
});

Refuse('a whitening that overflows float32 is an error in both, naming the row', () => {
  const w = randomWhitening(rng(seed + 4), 8);
  w.g = 1e30;
  const q = new SparseQuantizer(8, { neurons: 16, k: 4, whiteNeurons: 16, whiteK: 4 }, w);
  const x = new Float32Array(16);
  x[8] = 1e20;
  assert.throws(() => q.encode(x, 2), /features: row 1 whitens to a value that is not finite in float32/);
  assert.throws(() => q.encodeReference(x, 2), /features: row 1 whitens to a value that is not finite in float32/);
});

Refuse('the binding checks a direct call again: blocks, signs, permutations, whitening', () => {
  const { SparseEncoder } = loadBinding();
  const block = (over: Partial<NativeSparseBlock> = {}): NativeSparseBlock => ({
    begin: 0,
    neurons: 6,
    k: 2,
    white: false,
    inSign: new Float64Array(3).fill(1),
    perm: new Uint32Array([3, 1, 2, 0]),
    midSign: new Float64Array(4).fill(-1),
    ...over,
  });
  // dim 3 pads to 4; 6 neurons take two rounds of 4
  const two = {
    inSign: new Float64Array(6).fill(1),
    perm: new Uint32Array([3, 1, 2, 0, 0, 1, 2, 3]),
    midSign: new Float64Array(8).fill(1),
  };
  const ok = new SparseEncoder(3, [block(two)], null);
  assert.is(ok.encode(new Float32Array([1, 2, 3]), 1).length, 2);
  assert.throws(() => new SparseEncoder(0, [block(two)], null), /dim: expected an integer in \[1, 16777216\], got number 0/);
  assert.throws(() => new SparseEncoder(3, [], null), /blocks: expected 1 to 16 blocks, got an array of length 0/);
  assert.throws(
    () => new SparseEncoder(3, [block()], null),
    /blocks\[0\].inSign: expected a Float64Array of length 6, got Float64Array of length 3/,
  );
  assert.throws(
    () => new SparseEncoder(3, [block({ ...two, k: 6 })], null),
    /blocks\[0\].k: expected an integer in \[1, 5\], got number 6/,
  );
  assert.throws(
    () => new SparseEncoder(3, [block({ ...two, perm: new Uint32Array([3, 1, 2, 0, 0, 1, 2, 2]) })], null),
    /SparseEncoder: geometry out of range/,
  );
  assert.throws(
    () => new SparseEncoder(3, [block({ ...two, midSign: new Float64Array(8).fill(0.5) })], null),
    /SparseEncoder: geometry out of range/,
  );
  assert.throws(() => new SparseEncoder(3, [block({ ...two, begin: 1 })], null), /SparseEncoder: geometry out of range/);
  assert.throws(() => new SparseEncoder(3, [block({ ...two, white: true })], null), /SparseEncoder: geometry out of range/);
  assert.throws(
    () => new SparseEncoder(3, [{ ...block(two), extra: 1 } as NativeSparseBlock], null),
    /blocks\[0\]: unknown option "extra"/,
  );
  const w = { d: 1, mean: new Float32Array(3), f: new Float32Array(1), g: 1, basis: new Float32Array(3) };
  assert.throws(
    () => new SparseEncoder(3, [block(two)], { ...w, basis: new Float32Array(2) }),
    /whitening.basis: expected a Float32Array of length 3/,
  );
  assert.throws(() => new SparseEncoder(3, [block(two)], { ...w, g: NaN }), /whitening.g: expected a finite number, got NaN/);
  assert.throws(() => ok.encode(new Float32Array(4), 1), /features: expected 1 x 3 = 3 values, got Float32Array of length 4/);
  assert.throws(() => ok.whiten(new Float32Array(3), 1), /whiten: this encoder has no whitening/);
  assert.throws(
    () => new SparseEncoder(3, [block(two)], undefined as never),
    /whitening: expected a whitening object or null, got undefined/,
  );
  // A method called on another object is a TypeError from the runtime, not a crash.
  assert.throws(
    () => (SparseEncoder.prototype as { encode: (...a: unknown[]) => unknown }).encode.call({}, new Float32Array(3), 1),
    (e: Error) => e instanceof TypeError,
  );
});

Equal.run();
Refuse.run();
