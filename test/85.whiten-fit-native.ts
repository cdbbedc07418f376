// The whitening fit's two products in the addon (native/core/whiten_fit.cc: scatterTimes, orthonormalize)
// equal their TypeScript references bit for bit on random shapes (rows not a multiple of four, dimensions not a
// multiple of four, degenerate rows), so a fit gives the same whitening file either way; and the binding refuses
// bad arguments with messages naming them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  REFERENCE_FIT_PRODUCTS,
  dot4,
  encodeWhitening,
  fitWhitening,
  orthonormalizeReference,
  scatterTimesReference,
} from '../src/quantize/whitening.js';
import { loadBinding } from '../src/native/loader.js';
import { below, rng, seedFor } from './helpers/memory-random.js';

const seed = seedFor('85.whiten-fit-native');
const native = loadBinding();

/** Rows of continuous values over several magnitudes, with some rows all zero and some repeated. */
function randomMatrix(r: () => number, rows: number, dim: number): Float64Array {
  const m = new Float64Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    const kind = below(r, 6);
    if (kind === 0) continue; // a zero row
    if (kind === 1 && i > 0) {
      m.copyWithin(i * dim, (i - 1) * dim, i * dim); // the row before again
      continue;
    }
    const scale = 10 ** (below(r, 7) - 3);
    for (let t = 0; t < dim; t++) m[i * dim + t] = (r() * 2 - 1) * scale;
  }
  return m;
}

const sameBits = (a: Float64Array, b: Float64Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const Equal = suite('whitening fit products: native equals the reference bit for bit');

Equal('scatterTimes on random shapes', () => {
  const r = rng(seed);
  for (let trial = 0; trial < 60; trial++) {
    const dim = 1 + below(r, 70);
    const n = 1 + below(r, 41);
    const l = 1 + below(r, dim);
    const R = randomMatrix(r, n, dim);
    const Q = randomMatrix(r, l, dim);
    const want = scatterTimesReference(R, n, dim, Q, l);
    const got = native.scatterTimes(R, n, dim, Q, l);
    assert.ok(sameBits(got, want), `trial ${trial}: n ${n}, dim ${dim}, l ${l} (seed ${seed})`);
  }
});

Equal('orthonormalize on random shapes, degenerate rows becoming zero', () => {
  const r = rng(seed + 1);
  for (let trial = 0; trial < 60; trial++) {
    const dim = 1 + below(r, 70);
    const l = 1 + below(r, dim + 3); // more rows than dimensions: the extra ones are degenerate
    const Q = randomMatrix(r, l, dim);
    const want = Float64Array.from(Q);
    orthonormalizeReference(want, l, dim);
    native.orthonormalize(Q, l, dim);
    assert.ok(sameBits(Q, want), `trial ${trial}: l ${l}, dim ${dim} (seed ${seed})`);
  }
});

Equal('the result is what it says: an orthonormal set, and the scatter applied', () => {
  // Orthonormal rows, checked on the native result itself.
  const r = rng(seed + 2);
  const dim = 37;
  const l = 9;
  const Q = Float64Array.from({ length: l * dim }, () => r() * 2 - 1); // independent rows
  native.orthonormalize(Q, l, dim);
  for (let i = 0; i < l; i++) {
    for (let j = 0; j <= i; j++) {
      const p = dot4(Q, i * dim, Q, j * dim, dim);
      assert.ok(Math.abs(p - (i === j ? 1 : 0)) < 1e-9, `row ${i} . row ${j} = ${p}`);
    }
  }
  // R = two rows e0 and 2 e1 over n = 2: R^T R / n = diag(0.5, 2, 0, ...); applied to (1, 1, 1) -> (0.5, 2, 0).
  const R = new Float64Array([1, 0, 0, 0, 2, 0]);
  const out = native.scatterTimes(R, 2, 3, new Float64Array([1, 1, 1]), 1);
  assert.equal([...out], [0.5, 2, 0]);
});

Equal('a fit gives the same whitening file with the native products as with the references', () => {
  const r = rng(seed + 3);
  const dim = 150;
  const n = 203;
  const x = Float32Array.from({ length: n * dim }, () => r() * 2 - 1);
  const labels = Array.from({ length: n }, (_, i) => i % 7);
  const a = fitWhitening(x, dim, labels, { d: 16, seed: 5 });
  const b = fitWhitening(x, dim, labels, { d: 16, seed: 5 }, REFERENCE_FIT_PRODUCTS);
  assert.ok(encodeWhitening(a).equals(encodeWhitening(b)));
});

Equal.run();

const Args = suite('whitening fit products: bad arguments');

Args('wrong array types and lengths are named', () => {
  const R = new Float64Array(12);
  const Q = new Float64Array(4);
  assert.throws(() => native.scatterTimes(new Float32Array(12) as unknown as Float64Array, 3, 4, Q, 1), /R: expected a Float64Array, got/);
  assert.throws(() => native.scatterTimes(R, 4, 4, Q, 1), /R: expected a Float64Array of length 16/);
  assert.throws(() => native.scatterTimes(R, 3, 4, new Float64Array(5), 1), /Q: expected a Float64Array of length 4/);
  assert.throws(() => native.scatterTimes(R, 3, 4, Q, 5), /l: expected an integer in \[1, 4\]/);
  assert.throws(() => native.scatterTimes(R, 0, 4, Q, 1), /n: expected an integer in \[1, /);
  assert.throws(() => native.scatterTimes(R, 3, 1.5, Q, 1), /dim: expected an integer/);
  assert.throws(() => native.orthonormalize(Q, 2, 4), /Q: expected a Float64Array of length 8/);
  assert.throws(() => native.orthonormalize([1, 2] as unknown as Float64Array, 1, 2), /Q: expected a Float64Array, got/);
});

Args.run();
