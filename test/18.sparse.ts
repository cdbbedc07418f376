// The sparse expansion quantizer (seeded rotation + top-k per block) and the learner's cosine read over it:
// codes are deterministic, well formed and scale-invariant, near vectors share more neurons than far ones,
// bad input is refused; with read 'cosine', forgetting, saturation (halving) and snapshots behave, and the read
// and predict's ranking equal their definitions bit for bit.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SPARSE_DEFAULTS, SparseQuantizer, type SparseOptions } from '../src/quantize/sparse.js';
import { fitWhitening } from '../src/quantize/whitening.js';
import { coreReadOptions } from '../src/learner/build-quantizer.js';
import { LearnerCore, MIX_DEFAULT } from '../src/learner/core.js';
import { ReferenceMemory } from '../src/memory/index.js';
import { Rng } from '../src/util/rng.js';
import { seedFor } from './helpers/memory-random.js';

const seed = seedFor('18.sparse');

function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
function randomRows(rng: Rng, rows: number, dim: number): Float32Array {
  return Float32Array.from({ length: rows * dim }, () => gaussian(rng));
}
function overlap(a: Uint32Array, b: Uint32Array): number {
  const set = new Set(a);
  return b.reduce((n, v) => n + (set.has(v) ? 1 : 0), 0);
}

/** Whitening fitted on random rows of `dim` (for the white block's geometry; its quality is 19.whitening's). */
function someWhitening(rng: Rng, dim: number) {
  return fitWhitening(randomRows(rng, 4 * dim, dim), dim, null, { d: Math.min(16, dim) });
}

const Codes = suite('SparseQuantizer codes');

const SMALL: SparseOptions = { neurons: 300, k: 30, whiteNeurons: 200, whiteK: 20 };
// dim, options: power-of-two and padded dimensions, one rotation round and several with a partial last one
const GEOMETRIES: [number, SparseOptions][] = [
  [64, { ...SMALL, neurons: 64, k: 8 }],
  [100, SMALL],
  [37, { neurons: 1000, k: 999, whiteNeurons: 2, whiteK: 1 }],
  [1280, SPARSE_DEFAULTS],
];

for (const [dim, opts] of GEOMETRIES) {
  Codes(
    `dim ${dim}, ${opts.neurons}/${opts.k} + ${opts.whiteNeurons}/${opts.whiteK}: each block has k ascending indices inside its range`,
    () => {
      const rng = new Rng(seed + dim);
      const q = new SparseQuantizer(dim, opts, someWhitening(rng, dim));
      assert.is(q.neurons, opts.neurons + opts.whiteNeurons);
      assert.is(q.active, opts.k + opts.whiteK);
      assert.equal(q.blocks, [
        { name: 'raw', begin: 0, neurons: opts.neurons, k: opts.k },
        { name: 'white', begin: opts.neurons, neurons: opts.whiteNeurons, k: opts.whiteK },
      ]);
      const rows = 5;
      const codes = q.encode(randomRows(rng, rows, dim), rows);
      assert.is(codes.length, rows * q.active);
      for (let r = 0; r < rows; r++) {
        let o = r * q.active;
        for (const b of q.blocks) {
          const block = codes.subarray(o, o + b.k);
          for (let i = 0; i < b.k; i++) {
            if (block[i] < b.begin || block[i] >= b.begin + b.neurons)
              assert.unreachable(`row ${r} ${b.name}: index ${block[i]} outside [${b.begin}, ${b.begin + b.neurons})`);
            if (i > 0 && block[i] <= block[i - 1]) assert.unreachable(`row ${r} ${b.name}: not strictly ascending at ${i}`);
          }
          o += b.k;
        }
      }
    },
  );
}

Codes('without a whitening there is one raw block and whiteNeurons/whiteK are not used', () => {
  const q = new SparseQuantizer(100, { ...SMALL, whiteNeurons: 0, whiteK: 0 });
  assert.equal(q.blocks, [{ name: 'raw', begin: 0, neurons: 300, k: 30 }]);
  assert.is(q.neurons, 300);
  assert.is(q.active, 30);
});

Codes('deterministic: two instances give the same codes, and a row encodes alone as in a batch', () => {
  const rng = new Rng(seed + 1);
  const x = randomRows(rng, 4, 1280);
  const w = someWhitening(rng, 1280);
  const a = new SparseQuantizer(1280, SPARSE_DEFAULTS, w).encode(x, 4);
  const b = new SparseQuantizer(1280, SPARSE_DEFAULTS, w).encode(x, 4);
  assert.equal(a, b);
  const q = new SparseQuantizer(1280, SPARSE_DEFAULTS, w);
  assert.equal(q.encode(x.subarray(2 * 1280, 3 * 1280), 1), a.subarray(2 * q.active, 3 * q.active));
});

Codes('ties go to the lower index: the zero vector activates neurons 0 .. k-1', () => {
  for (const [dim, opts] of GEOMETRIES) {
    const q = new SparseQuantizer(dim, opts);
    const code = q.encode(new Float32Array(dim), 1);
    assert.equal(
      Array.from(code),
      Array.from({ length: opts.k }, (_, i) => i),
      `dim ${dim}`,
    );
  }
});

Codes('top-k is scale-invariant: x, 2x, x/2 and (on a grid where 3x is exact) 3x give the same code', () => {
  const rng = new Rng(seed + 2);
  const q = new SparseQuantizer(1280, SPARSE_DEFAULTS);
  const x = randomRows(rng, 3, 1280);
  const code = q.encode(x, 3);
  for (const s of [2, 0.5, 1024])
    assert.equal(
      q.encode(
        x.map((v) => v * s),
        3,
      ),
      code,
      `scale ${s}`,
    );
  // Multiples of 1/256 below 8: 3x is exact in float32 and every rotated sum is exact in float64, so the
  // comparison is exact too (a continuous x could flip a near tie by rounding).
  const grid = x.map((v) => Math.round(Math.max(-7.9, Math.min(7.9, v)) * 256) / 256);
  const g = q.encode(grid, 3);
  assert.equal(
    q.encode(
      grid.map((v) => v * 3),
      3,
    ),
    g,
    'scale 3',
  );
  assert.not.equal(
    g,
    q.encode(
      grid.map((v) => -v),
      3,
    ),
    'negation changes the code',
  );
});

Codes('near vectors (cosine 0.99) share more active neurons than unrelated ones (cosine ~0)', () => {
  const rng = new Rng(seed + 3);
  const dim = 1280;
  const q = new SparseQuantizer(dim, SPARSE_DEFAULTS);
  const near: number[] = [];
  const far: number[] = [];
  for (let t = 0; t < 8; t++) {
    const x = randomRows(rng, 1, dim);
    const z = randomRows(rng, 1, dim);
    // y = 0.99 x/|x| + sqrt(1 - 0.99^2) z_perp/|z_perp|: cosine exactly 0.99 up to rounding
    const nx = Math.hypot(...x);
    const xz = x.reduce((s, v, i) => s + v * z[i], 0) / (nx * nx);
    const zp = z.map((v, i) => v - xz * x[i]);
    const nz = Math.hypot(...zp);
    const y = x.map((v, i) => (0.99 * v) / nx + (Math.sqrt(1 - 0.99 * 0.99) * zp[i]) / nz);
    const cx = q.encode(x, 1);
    near.push(overlap(cx, q.encode(y, 1)));
    far.push(overlap(cx, q.encode(z, 1)));
  }
  const k = SPARSE_DEFAULTS.k;
  assert.ok(Math.min(...near) > Math.max(...far), `near ${near} far ${far}`);
  // Chance overlap of two random k-sets of n is k^2/n (192 here); near codes keep most of their neurons.
  assert.ok(Math.min(...near) > 0.7 * k, `near overlaps ${near} of ${k}`);
  assert.ok(Math.max(...far) < 0.4 * k, `far overlaps ${far} of ${k}`);
});

Codes('bad input is refused with a message naming the problem', () => {
  const q = new SparseQuantizer(10, { ...SMALL, neurons: 32, k: 4 });
  assert.throws(() => q.encode(new Float32Array(19), 2), /features: expected 2 x 10 = 20 values, got Float32Array of length 19/);
  assert.throws(() => q.encode(new Float32Array(5), 0.5), /rows: expected an integer in \[0, \d+\], got number 0.5/);
  assert.throws(() => q.encode(new Float32Array(0), -1), /rows: expected an integer in \[0, \d+\], got number -1/);
  const nan = new Float32Array(20);
  nan[13] = NaN;
  assert.throws(() => q.encode(nan, 2), /features: value 13 is not finite \(NaN\)/);
  nan[13] = Infinity;
  assert.throws(() => q.encode(nan, 2), /features: value 13 is not finite \(Infinity\)/);
  assert.throws(
    () => new SparseQuantizer(10, { ...SMALL, neurons: 32, k: 32 }),
    /quantizer.k: expected an integer in \[1, 31\], got number 32/,
  );
  assert.throws(
    () => new SparseQuantizer(10, { ...SMALL, neurons: 32, k: 0 }),
    /quantizer.k: expected an integer in \[1, 31\], got number 0/,
  );
  assert.throws(
    () => new SparseQuantizer(10, { ...SMALL, neurons: 1, k: 1 }),
    /quantizer.neurons: expected an integer in \[2, 1048576\], got number 1/,
  );
  assert.throws(() => new SparseQuantizer(10, { ...SMALL, neurons: 32.5, k: 1 }), /quantizer.neurons: expected an integer/);
  const rng = new Rng(seed + 4);
  const w = someWhitening(rng, 10);
  assert.throws(
    () => new SparseQuantizer(10, { ...SMALL, whiteNeurons: 20, whiteK: 20 }, w),
    /quantizer.whiteK: expected an integer in \[1, 19\], got number 20/,
  );
  assert.throws(
    () => new SparseQuantizer(10, { ...SMALL, whiteNeurons: 1, whiteK: 1 }, w),
    /quantizer.whiteNeurons: expected an integer in \[2, 1048576\], got number 1/,
  );
  assert.throws(() => new SparseQuantizer(12, SMALL, w), /whitening: fitted on 10-d features, the backbone gives 12/);
  // The white layout needs a whitening, and only the two layouts exist.
  assert.throws(() => new SparseQuantizer(10, { ...SPARSE_DEFAULTS, layout: 'white' }), /quantizer.layout: "white" needs a whitening/);
  assert.throws(
    () => new SparseQuantizer(10, { ...SPARSE_DEFAULTS, layout: 'both' as 'white' }),
    /quantizer.layout: expected "split" or "white", got "both"/,
  );
});

// ---------------------------------------------------------------------------------------------------------
// LearnerCore with read 'cosine' over sparse codes of synthetic classes: a prototype per class plus noise.

const Cosine = suite('LearnerCore cosine read');

const DIM = 64;
const Q_OPTS: SparseOptions = { neurons: 1024, k: 128, whiteNeurons: 512, whiteK: 64 };

function makeClasses(rng: Rng, count: number): Float32Array[] {
  return Array.from({ length: count }, () => randomRows(rng, 1, DIM));
}
/** `rows` examples of a class: its prototype plus noise of `noise` per coordinate. */
function examples(rng: Rng, proto: Float32Array, rows: number, noise: number): Float32Array {
  const out = new Float32Array(rows * DIM);
  for (let r = 0; r < rows; r++) for (let t = 0; t < DIM; t++) out[r * DIM + t] = proto[t] + noise * gaussian(rng);
  return out;
}

/** A cosine core over a sparse quantizer with (two blocks) or without (one block) a whitening. */
function cosineCore(rng: Rng, whitened: boolean) {
  const w = whitened ? fitWhitening(randomRows(rng, 200, DIM), DIM, null, { d: 8 }) : null;
  const q = new SparseQuantizer(DIM, Q_OPTS, w);
  const read = coreReadOptions(q, { counterBits: 8 });
  assert.is(read.read, 'cosine');
  assert.is(read.blocks!.length, whitened ? 2 : 1);
  const core = new LearnerCore({ neurons: q.neurons, active: q.active, counterBits: 8, refine: false, minCount: 1, ...read });
  return { q, core };
}

for (const whitened of [false, true]) {
  const blocks = whitened ? 'raw + white blocks' : 'raw block';
  Cosine(`${blocks}: forgetting one class leaves every other class's scores unchanged bit for bit`, () => {
    const rng = new Rng(seed + 10 + (whitened ? 1 : 0));
    const { q, core } = cosineCore(rng, whitened);
    const protos = makeClasses(rng, 5);
    protos.forEach((p, c) => core.learn(`c${c}`, q.encode(examples(rng, p, 3 + c * 7, 0.5), 3 + c * 7), 3 + c * 7));
    const probe = q.encode(examples(rng, protos[0], 4, 0.8), 4);
    const before = core.labelScoresOf(probe, 4);
    core.apply({ op: 'forget', label: 'c2' });
    const after = core.labelScoresOf(probe, 4);
    const L = core.labels.length;
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < L; c++) {
        if (c === 2) assert.is(after[r * L + c], 0, 'the forgotten class scores 0');
        else if (!Object.is(after[r * L + c], before[r * L + c]))
          assert.unreachable(`row ${r} class ${c}: ${before[r * L + c]} -> ${after[r * L + c]}`);
      }
    }
    assert.ok(before[2] > 0, 'the forgotten class scored before');
    assert.not.ok(core.predict(probe, 4).some((p) => p.top.some((t) => t.label === 'c2')));
  });

  Cosine(`${blocks}: 600 examples of one class saturate its counters, halve them, lose no connection and keep accuracy`, () => {
    const rng = new Rng(seed + 20 + (whitened ? 1 : 0));
    const { q, core } = cosineCore(rng, whitened);
    const protos = makeClasses(rng, 4);
    protos.forEach((p, c) => core.learn(`c${c}`, q.encode(examples(rng, p, 5, 0.5), 5), 5));
    const mem = core.memory;
    let halvings = 0;
    const halve = mem.halveClass.bind(mem);
    mem.halveClass = (c: number) => {
      halvings++;
      halve(c);
    };
    const id = core.classOf('c1');
    const seen = new Set<number>();
    for (let batch = 0; batch < 12; batch++) {
      const codes = q.encode(examples(rng, protos[1], 50, 0.5), 50);
      const before = mem.stats().connectionsPerClass[id];
      core.learn('c1', codes, 50);
      codes.forEach((n) => seen.add(n));
      const after = mem.stats().connectionsPerClass[id];
      assert.ok(after >= before, `batch ${batch}: connections fell from ${before} to ${after}`);
      assert.ok(mem.counterMoments(id).max <= mem.counterMax);
    }
    assert.is(core.examples[id], 605);
    assert.ok(halvings >= 2, `halved ${halvings} times`);
    // Every neuron any of the 600 codes used is still connected to the class.
    for (const n of seen) if (mem.counterMoments(id, n, n + 1).max === 0) assert.unreachable(`neuron ${n} lost its connection`);
    for (let c = 0; c < 4; c++) {
      const held = examples(rng, protos[c], 10, 0.5);
      const wins = core.predict(q.encode(held, 10), 10).filter((p) => p.top[0].label === `c${c}`).length;
      assert.ok(wins >= 9, `class c${c}: ${wins}/10 held-out examples win`);
    }
  });

  Cosine(`${blocks}: a snapshot gives identical predictions after serialize/deserialize`, () => {
    const rng = new Rng(seed + 30 + (whitened ? 1 : 0));
    const { q, core } = cosineCore(rng, whitened);
    const protos = makeClasses(rng, 4);
    protos.forEach((p, c) => core.learn(`c${c}`, q.encode(examples(rng, p, 40 + 100 * c, 0.6), 40 + 100 * c), 40 + 100 * c));
    core.apply({ op: 'forget', label: 'c0' });
    const probe = q.encode(examples(rng, protos[3], 6, 1), 6);
    const back = LearnerCore.deserialize(core.serialize());
    assert.equal(back.predict(probe, 6, 4), core.predict(probe, 6, 4));
    assert.equal(back.labelScoresOf(probe, 6), core.labelScoresOf(probe, 6));
    assert.equal(back.options, core.options);
  });
}

/**
 * The cosine read as docs/learner.md defines it, from the TypeScript reference memory: per block, the counter
 * sums at the code's neurons over sqrt(k) times the class column's norm, blocks mixed by n / (n + mix), summed in
 * block order; forgotten classes score 0.
 */
function cosineByDefinition(core: LearnerCore, codes: Uint32Array, rows: number): Float64Array {
  const ref = ReferenceMemory.deserialize(core.memory.serialize());
  const { active, blocks, mix } = core.options;
  const L = core.labels.length;
  const out = new Float64Array(rows * L);
  let offset = 0;
  blocks!.forEach((b, bi) => {
    const sub = new Uint32Array(rows * b.k);
    for (let r = 0; r < rows; r++) sub.set(codes.subarray(r * active + offset, r * active + offset + b.k), r * b.k);
    offset += b.k;
    const sums = ref.scoreCounts({ indices: sub, active: b.k });
    for (let c = 0; c < L; c++) {
      const n = core.examples[c];
      if (n === 0) continue;
      const norm = Math.sqrt(ref.counterMoments(c, b.begin, b.begin + b.neurons).sumSq);
      const a = n / (n + (mix ?? MIX_DEFAULT));
      const w = blocks!.length === 1 ? 1 : bi === 0 ? 1 - a : a;
      if (norm === 0 || w === 0) continue;
      for (let r = 0; r < rows; r++) out[r * L + c] += (w * sums[r * L + c]) / (Math.sqrt(b.k) * norm);
    }
  });
  return out;
}

for (const whitened of [false, true]) {
  const blocks = whitened ? 'raw + white blocks' : 'raw block';
  Cosine(`${blocks}: the read and predict's ranking equal their definitions bit for bit (ties, forgotten, halved)`, () => {
    const rng = new Rng(seed + 40 + (whitened ? 1 : 0));
    const { q, core } = cosineCore(rng, whitened);
    const protos = makeClasses(rng, 6);
    // Classes of 1 to 300 examples (the mix weight moves; the largest saturates and halves), one forgotten,
    // and two classes learned from the same codes (equal scores: the label decides their order).
    protos.forEach((p, c) => core.learn(`c${c}`, q.encode(examples(rng, p, 1 + c * c * 12, 0.5), 1 + c * c * 12), 1 + c * c * 12));
    const twin = q.encode(examples(rng, protos[1], 7, 0.5), 7);
    core.learn('twin-b', twin, 7);
    core.learn('twin-a', twin, 7);
    core.apply({ op: 'forget', label: 'c2' });
    const rows = 9;
    const probe = new Uint32Array(rows * q.active);
    for (let r = 0; r < rows - 1; r++) probe.set(q.encode(examples(rng, protos[r % 6], 1, 0.8), 1), r * q.active);
    probe.set(twin.subarray(0, q.active), (rows - 1) * q.active);
    const got = core.labelScoresOf(probe, rows);
    const want = cosineByDefinition(core, probe, rows);
    assert.is(got.length, want.length);
    for (let i = 0; i < got.length; i++)
      if (!Object.is(got[i], want[i])) assert.unreachable(`score ${i}: ${got[i]}, by definition ${want[i]}`);
    const L = core.labels.length;
    for (const top of [1, 3, 8]) {
      core.predict(probe, rows, top).forEach((p, r) => {
        const ranked = core.labels
          .map((label, c) => ({ label, score: want[r * L + c] }))
          .filter((_, c) => core.examples[c] > 0)
          .sort((a, b) => b.score - a.score || (a.label < b.label ? -1 : 1));
        assert.equal(p.top, ranked.slice(0, top), `row ${r}, top ${top}`);
        assert.is(p.score, ranked[0].score);
        assert.is(p.margin, ranked[0].score - ranked[1].score);
      });
    }
    // The twins score the same on their own code (another class of the same prototype may score higher):
    // whatever ranks above them, twin-a comes right before twin-b.
    const last = core.predict(probe, rows, L)[rows - 1].top;
    const a = last.findIndex((t) => t.label === 'twin-a');
    assert.ok(a >= 0 && a + 1 < last.length, 'both twins ranked');
    assert.is(last[a + 1].label, 'twin-b', 'equal scores rank by label');
    assert.is(last[a].score, last[a + 1].score);
  });
}

Cosine('coreReadOptions: cosine only for a sparse quantizer with class units and counters', () => {
  const q = new SparseQuantizer(DIM, Q_OPTS);
  assert.equal(coreReadOptions(q, { counterBits: 0 }), {});
  assert.equal(coreReadOptions(q, { counterBits: 8, units: 'example' }), {});
  assert.equal(coreReadOptions(q, { counterBits: 4 }).blocks, [{ begin: 0, neurons: 1024, k: 128 }]);
});

Cosine('a cosine core refuses options it cannot read', () => {
  const base = { neurons: 100, active: 10, counterBits: 8 as const, refine: false, minCount: 1, read: 'cosine' as const };
  assert.throws(() => new LearnerCore({ ...base, counterBits: 0 }), /memory.read: the cosine read needs counters/);
  assert.throws(() => new LearnerCore({ ...base, units: 'example' }), /memory.read: the cosine read applies to class units only/);
  assert.throws(() => new LearnerCore({ ...base, blocks: [] }), /memory.blocks: the blocks must cover the code's active neurons/);
  assert.throws(() => new LearnerCore({ ...base, blocks: [{ begin: 0, neurons: 100, k: 9 }] }), /memory.blocks: the blocks must cover/);
});

Codes.run();
Cosine.run();
