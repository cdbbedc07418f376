// Quantizers: codebook fitting and file format, product quantization, top-k and sign codes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { kmeans } from '../src/quantize/kmeans.js';
import { codebookId, decodeCodebook, encodeCodebook, fitCodebook, preprocess } from '../src/quantize/codebook.js';
import { ProductQuantizer, SignQuantizer, TopKQuantizer, featureStats } from '../src/quantize/quantizer.js';
import { Rng } from '../src/util/rng.js';

const SEED = Number(process.env.SEED ?? 12345);
console.log(`30.quantize seed=${SEED}`);

/** n points around `centres` (k x d) with small noise. */
function blobs(rng: Rng, centres: number[][], perCentre: number, noise: number): Float32Array {
  const d = centres[0].length;
  const out = new Float32Array(centres.length * perCentre * d);
  let o = 0;
  for (const c of centres) for (let i = 0; i < perCentre; i++) for (let t = 0; t < d; t++) out[o++] = c[t] + (rng.next() - 0.5) * noise;
  return out;
}

const KMeans = suite('kmeans');

KMeans('recovers well separated clusters', () => {
  const rng = new Rng(SEED);
  const centres = [
    [0, 0],
    [10, 0],
    [0, 10],
    [10, 10],
  ];
  const x = blobs(rng, centres, 50, 1);
  const c = kmeans(x, 200, 2, { k: 4, iterations: 20, seed: 3 });
  for (const want of centres) {
    const near = [0, 1, 2, 3].some((j) => Math.hypot(c[2 * j] - want[0], c[2 * j + 1] - want[1]) < 0.5);
    assert.ok(near, `a centroid near ${want}`);
  }
});

KMeans('is deterministic for a seed', () => {
  const x = blobs(
    new Rng(SEED),
    [
      [0, 0, 0],
      [5, 5, 5],
      [9, 1, 3],
    ],
    30,
    4,
  );
  assert.equal(
    Array.from(kmeans(x, 90, 3, { k: 5, iterations: 10, seed: 7 })),
    Array.from(kmeans(x, 90, 3, { k: 5, iterations: 10, seed: 7 })),
  );
});

KMeans('refuses fewer samples than clusters', () => {
  assert.throws(() => kmeans(new Float32Array(6), 3, 2, { k: 4, iterations: 1, seed: 1 }), /at least k=4 samples, got 3/);
});

const Codebooks = suite('codebook');

Codebooks('fits P parts of K anchors and round-trips through its file format', () => {
  const rng = new Rng(SEED);
  const x = new Float32Array(300 * 8).map(() => rng.next());
  const cb = fitCodebook(x, 8, { parts: 4, anchors: 16, center: true, l2: true, seed: 2 });
  assert.is(cb.data.length, 4 * 16 * 2);
  assert.ok(cb.mean && cb.mean.length === 8);
  const back = decodeCodebook(encodeCodebook(cb));
  assert.equal(back.parts, 4);
  assert.equal(back.anchors, 16);
  assert.equal(back.l2, true);
  assert.equal(Array.from(back.data), Array.from(cb.data));
  assert.equal(Array.from(back.mean!), Array.from(cb.mean));
  assert.is(codebookId(back), codebookId(cb));
});

Codebooks('rejects foreign, truncated and inconsistent files with a clear error', () => {
  const cb = fitCodebook(
    new Float32Array(64 * 4).map((_, i) => Math.sin(i)),
    4,
    { parts: 2, anchors: 4 },
  );
  const good = encodeCodebook(cb);
  assert.throws(() => decodeCodebook(Buffer.from('not a codebook at all....'), 'x.cb'), /x\.cb: not an engram codebook/);
  assert.throws(() => decodeCodebook(good.subarray(0, good.length - 4), 'x.cb'), /x\.cb: expected \d+ bytes/);
  const badVersion = Buffer.from(good);
  badVersion.writeUInt32LE(9, 4);
  assert.throws(() => decodeCodebook(badVersion, 'x.cb'), /version 9 is not supported/);
  const nan = Buffer.from(good);
  nan.writeFloatLE(NaN, 24);
  assert.throws(() => decodeCodebook(nan, 'x.cb'), /non-finite/);
});

Codebooks('validates parts against the dimension', () => {
  assert.throws(
    () => fitCodebook(new Float32Array(100 * 6), 6, { parts: 4, anchors: 2 }),
    /parts: expected a divisor of the feature dimension 6/,
  );
  assert.throws(() => fitCodebook(new Float32Array(3 * 4), 4, { parts: 2, anchors: 8 }), /at least 8 feature rows/);
});

Codebooks('preprocess centres and normalises rows', () => {
  const out = preprocess(new Float32Array([3, 4, 6, 8]), 2, new Float32Array([0, 0]), true);
  assert.ok(Math.abs(out[0] - 0.6) < 1e-6 && Math.abs(out[1] - 0.8) < 1e-6);
  const centred = preprocess(new Float32Array([3, 4]), 2, new Float32Array([1, 1]), false);
  assert.equal(Array.from(centred), [2, 3]);
});

const PQ = suite('ProductQuantizer');

PQ('encodes each part as the index of its nearest anchor, neuron p*K + k', () => {
  // dim 4, 2 parts of 2, 3 anchors each.
  const data = new Float32Array([
    0,
    0,
    1,
    1,
    5,
    5, // part 0 anchors 0..2
    0,
    0,
    -1,
    -1,
    9,
    9, // part 1 anchors 0..2
  ]);
  const q = new ProductQuantizer({ parts: 2, anchors: 3, dim: 4, l2: false, mean: null, data });
  assert.is(q.neurons, 6);
  assert.is(q.active, 2);
  const codes = q.encode(new Float32Array([0.9, 1.2, 8, 8.5, 4, 6, -0.2, 0.1]), 2);
  assert.equal(Array.from(codes), [0 * 3 + 1, 1 * 3 + 2, 0 * 3 + 2, 1 * 3 + 0]);
});

PQ('multi-probe also activates the next-nearest anchors', () => {
  const data = new Float32Array([0, 1, 2, 10]); // dim 1, 1 part, 4 anchors
  const q = new ProductQuantizer({ parts: 1, anchors: 4, dim: 1, l2: false, mean: null, data }, 2);
  assert.is(q.active, 2);
  const codes = Array.from(q.encode(new Float32Array([1.2]), 1)).sort();
  assert.equal(codes, [1, 2]);
});

PQ('rejects features of the wrong size or with NaN', () => {
  const q = new ProductQuantizer({ parts: 1, anchors: 2, dim: 2, l2: false, mean: null, data: new Float32Array(4) });
  assert.throws(() => q.encode(new Float32Array(3), 2), /features: expected 2 x 2 = 4 values/);
  assert.throws(() => q.encode(new Float32Array([0, NaN]), 1), /value 1 is not finite/);
  assert.throws(
    () => new ProductQuantizer({ parts: 1, anchors: 2, dim: 2, l2: false, mean: null, data: new Float32Array(4) }, 3),
    /probes: expected an integer in \[1, 2\]/,
  );
});

const Others = suite('TopK and Sign quantizers');

Others('top-k gives the indices of the k largest activations, ascending', () => {
  const q = new TopKQuantizer(5, 2);
  assert.equal(Array.from(q.encode(new Float32Array([0.1, 0.9, 0.3, 0.8, 0.2]), 1)), [1, 3]);
});

Others('top-k standardises with calibration statistics when given', () => {
  const q = new TopKQuantizer(3, 1, { mean: new Float32Array([10, 0, 0]), std: new Float32Array([1, 1, 1]) });
  assert.equal(Array.from(q.encode(new Float32Array([10.5, 0.7, 0.1]), 1)), [1]);
});

Others('sign gives one neuron per dimension: 2i above the threshold, 2i+1 otherwise', () => {
  const q = new SignQuantizer(3, new Float32Array([0, 1, 2]));
  assert.is(q.neurons, 6);
  assert.equal(Array.from(q.encode(new Float32Array([0.5, 0.5, 2.5]), 1)), [0, 3, 4]);
});

Others('featureStats computes mean, std and median per dimension', () => {
  const s = featureStats(new Float32Array([1, 10, 2, 20, 4, 30]), 2);
  assert.ok(Math.abs(s.mean[0] - 7 / 3) < 1e-6);
  assert.is(s.median[0], 2);
  assert.is(s.median[1], 20);
  assert.ok(s.std[1] > 0);
});

KMeans.run();
Codebooks.run();
PQ.run();
Others.run();
