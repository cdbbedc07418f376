// The baselines of the benchmarks (src/baselines) on tiny synthetic data: each learns separable classes,
// SLDA uses the shared covariance that NCM ignores, kNN remembers every example, sequential fine-tuning
// forgets what joint training keeps, and bad input is refused with a clear error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KNearest, LinearSoftmax, NearestClassMean, RidgeHead, StreamingLda, type Classifier } from '../src/baselines/index.js';
import { Rng } from '../src/util/rng.js';
import { blobs, centres } from './helpers/bench-blobs.js';

const SEED = Number(process.env.SEED ?? 8080);
console.log(`80.baselines seed=${SEED}`);

function accuracy(c: Classifier, x: Float32Array, y: ArrayLike<number>): number {
  const p = c.predict(x);
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (p[i] === y[i]) ok++;
  return ok / y.length;
}

const makers: [string, (dim: number) => Classifier][] = [
  ['ncm', (d) => new NearestClassMean(d)],
  ['slda', (d) => new StreamingLda(d)],
  ['ridge', (d) => new RidgeHead(d)],
  ['knn1', (d) => new KNearest(d, 1)],
  ['knn5', (d) => new KNearest(d, 5)],
  ['linear', (d) => new LinearSoftmax(d, { epochs: 40, seed: SEED })],
  ['linear-standardized', (d) => new LinearSoftmax(d, { epochs: 40, seed: SEED, standardize: true })],
];

const Learn = suite('every baseline');

for (const [name, make] of makers) {
  Learn(`${name} separates 4 well separated classes in 16-d`, () => {
    const rng = new Rng(SEED);
    const c = centres(rng, 4, 16, 1);
    const train = blobs(rng, c, 40, 0.15);
    const test = blobs(rng, c, 40, 0.15);
    const m = make(16);
    m.learn(train.features, train.labels);
    const a = accuracy(m, test.features, test.labels);
    assert.ok(a >= 0.9, `${name} accuracy ${a}`);
  });

  // Fine-tuned one class at a time the linear layer forgets by design (tested under "linear softmax").
  if (!name.startsWith('linear'))
    Learn(`${name} learns classes arriving one at a time`, () => {
      const rng = new Rng(SEED + 1);
      const c = centres(rng, 3, 8, 1);
      const train = blobs(rng, c, 30, 0.1);
      const m = make(8);
      for (let k = 0; k < 3; k++)
        m.learn(train.features.subarray(k * 30 * 8, (k + 1) * 30 * 8), train.labels.subarray(k * 30, (k + 1) * 30));
      const p = m.predict(train.features);
      // Every class learned is predicted for at least one of its own examples.
      for (let k = 0; k < 3; k++) assert.ok(p.subarray(k * 30, (k + 1) * 30).includes(k), `${name} predicts class ${k}`);
    });

  Learn(`${name} refuses features of the wrong shape and bad labels`, () => {
    const m = make(4);
    assert.throws(() => m.learn(new Float32Array(6), [0]), /features: expected a Float32Array whose length is a multiple of 4/);
    assert.throws(() => m.learn(new Float32Array(8), [0]), /labels: expected 2 labels \(one per row\), got 1/);
    assert.throws(() => m.learn(new Float32Array(4), [1.5]), /labels\[0\]/);
    assert.throws(() => m.learn([1, 2, 3, 4] as unknown as Float32Array, [0]), /features/);
  });
}

const Bytes = suite('bytes per class');

Bytes('NCM, SLDA and linear keep D floats per class; kNN 4*D per example', () => {
  const rng = new Rng(SEED);
  const data = blobs(rng, centres(rng, 2, 10, 1), 7, 0.1);
  assert.is(new NearestClassMean(10).bytesPerClass(), 40);
  const lda = new StreamingLda(10);
  assert.is(lda.bytesPerClass(), 40);
  assert.is(lda.sharedBytes(), 4 * 55);
  assert.is(new LinearSoftmax(10).bytesPerClass(), 44);
  const knn = new KNearest(10, 1);
  knn.learn(data.features, data.labels);
  assert.is(knn.bytesPerClass(), 4 * 10 * 7);
});

const Lda = suite('streaming LDA');

Lda('uses the shared covariance: beats NCM when classes differ along a low-variance direction', () => {
  const rng = new Rng(SEED + 2);
  // Means differ a little in dimension 1, where noise is small; dimension 0 carries large noise.
  const c = [
    [5, 5.0, 5],
    [5, 5.6, 5],
  ];
  const scale = [8, 0.1, 0.1];
  const train = blobs(rng, c, 200, 0.5, scale);
  const test = blobs(rng, c, 200, 0.5, scale);
  const ncm = new NearestClassMean(3);
  const lda = new StreamingLda(3, 1e-4);
  ncm.learn(train.features, train.labels);
  lda.learn(train.features, train.labels);
  const a = accuracy(lda, test.features, test.labels);
  const b = accuracy(ncm, test.features, test.labels);
  assert.ok(a > 0.9 && a > b + 0.1, `slda ${a} vs ncm ${b}`);
});

Lda('learning in batches gives the same model as learning at once', () => {
  const rng = new Rng(SEED + 3);
  const data = blobs(rng, centres(rng, 3, 6, 1), 20, 0.3);
  const probe = blobs(rng, centres(rng, 3, 6, 1), 20, 2).features;
  const once = new StreamingLda(6);
  once.learn(data.features, data.labels);
  const parts = new StreamingLda(6);
  for (let s = 0; s < 60; s += 7)
    parts.learn(data.features.subarray(s * 6, Math.min(60, s + 7) * 6), data.labels.subarray(s, Math.min(60, s + 7)));
  assert.equal(Array.from(parts.predict(probe)), Array.from(once.predict(probe)));
});

const Ridge = suite('ridge head');

Ridge('decorrelates: beats NCM when classes differ along a low-variance direction', () => {
  const rng = new Rng(SEED + 4);
  const c = [
    [5, 5.0, 5],
    [5, 5.6, 5],
  ];
  const scale = [8, 0.1, 0.1];
  const train = blobs(rng, c, 200, 0.5, scale);
  const test = blobs(rng, c, 200, 0.5, scale);
  const ncm = new NearestClassMean(3);
  const ridge = new RidgeHead(3, 1e-4);
  ncm.learn(train.features, train.labels);
  ridge.learn(train.features, train.labels);
  const a = accuracy(ridge, test.features, test.labels);
  const b = accuracy(ncm, test.features, test.labels);
  assert.ok(a > 0.9 && a > b + 0.1, `ridge ${a} vs ncm ${b}`);
});

Ridge('setLambda refits without relearning; batches give the model of one learn; bad values refused', () => {
  const rng = new Rng(SEED + 5);
  const data = blobs(rng, centres(rng, 3, 6, 1), 20, 0.3);
  const probe = blobs(rng, centres(rng, 3, 6, 1), 20, 2).features;
  const once = new RidgeHead(6, 0.1);
  once.learn(data.features, data.labels);
  const parts = new RidgeHead(6, 10);
  for (let s = 0; s < 60; s += 7)
    parts.learn(data.features.subarray(s * 6, Math.min(60, s + 7) * 6), data.labels.subarray(s, Math.min(60, s + 7)));
  parts.setLambda(0.1);
  assert.equal(Array.from(parts.predict(probe)), Array.from(once.predict(probe)));
  assert.equal(Array.from(new RidgeHead(6).predict(probe.subarray(0, 12))), [-1, -1], 'nothing learned: -1');
  assert.throws(() => parts.setLambda(-1), /lambda/);
  assert.throws(() => new RidgeHead(0), /dim/);
  assert.is(once.bytesPerClass(), 24);
  assert.is(once.sharedBytes(), (4 * 6 * 7) / 2);
});

const Knn = suite('kNN');

Knn('k=1 recalls every stored example exactly', () => {
  const rng = new Rng(SEED + 4);
  const data = blobs(rng, centres(rng, 5, 12, 1), 10, 0.8);
  const knn = new KNearest(12, 1);
  knn.learn(data.features, data.labels);
  assert.equal(Array.from(knn.predict(data.features)), Array.from(data.labels));
});

Knn('k=5 outvotes a single mislabelled neighbour that k=1 follows', () => {
  const f = new Float32Array([1, 0, 0.99, 0.1, 0.98, 0.12, 0.97, 0.15, 0.96, 0.2, 1, 0.01]);
  const y = [0, 0, 0, 0, 0, 1];
  const q = new Float32Array([1, 0.011]);
  const k1 = new KNearest(2, 1);
  const k5 = new KNearest(2, 5);
  k1.learn(f, y);
  k5.learn(f, y);
  assert.is(k1.predict(q)[0], 1);
  assert.is(k5.predict(q)[0], 0);
});

Knn('predicts -1 before anything is stored', () => {
  assert.equal(Array.from(new KNearest(2, 3).predict(new Float32Array([1, 0]))), [-1]);
  assert.equal(Array.from(new NearestClassMean(2).predict(new Float32Array([1, 0]))), [-1]);
});

const Linear = suite('linear softmax');

Linear('fine-tuned task after task it forgets the first task; trained jointly it does not', () => {
  const rng = new Rng(SEED + 5);
  const c = centres(rng, 4, 8, 1);
  const train = blobs(rng, c, 50, 0.2);
  const test = blobs(rng, c, 50, 0.2);
  const first = (d: { features: Float32Array; labels: Int32Array }) => ({
    f: d.features.subarray(0, 100 * 8),
    y: d.labels.subarray(0, 100),
  });
  const second = (d: { features: Float32Array; labels: Int32Array }) => ({ f: d.features.subarray(100 * 8), y: d.labels.subarray(100) });
  const seq = new LinearSoftmax(8, { epochs: 40, seed: SEED });
  seq.learn(first(train).f, first(train).y);
  const before = accuracy(seq, first(test).f, first(test).y);
  seq.learn(second(train).f, second(train).y);
  const after = accuracy(seq, first(test).f, first(test).y);
  const joint = new LinearSoftmax(8, { epochs: 40, seed: SEED });
  joint.learn(train.features, train.labels);
  assert.ok(before >= 0.9, `task 1 learned: ${before}`);
  assert.ok(after <= 0.3, `task 1 forgotten after task 2: ${after}`);
  assert.ok(accuracy(joint, test.features, test.labels) >= 0.9, 'joint keeps all four classes');
});

Linear('standardised: statistics come from the first learn call, so a feature scale L2 hides is used', () => {
  // Classes differ only in dimension 0's offset, on top of a large shared offset in dimension 1: after L2
  // normalisation the difference is tiny, after standardisation it is the whole signal.
  const rng = new Rng(SEED + 6);
  const make = (n: number) => {
    const f = new Float32Array(n * 2 * 2);
    const y = new Int32Array(n * 2);
    for (let i = 0; i < n * 2; i++) {
      y[i] = i % 2;
      f[2 * i] = (y[i] ? 0.05 : -0.05) + (rng.next() - 0.5) * 0.04;
      f[2 * i + 1] = 100 + (rng.next() - 0.5);
    }
    return { f, y };
  };
  const train = make(100);
  const test = make(100);
  const std = new LinearSoftmax(2, { epochs: 40, seed: SEED, standardize: true });
  std.learn(train.f, train.y);
  assert.ok(accuracy(std, test.f, test.y) >= 0.95, `standardised accuracy ${accuracy(std, test.f, test.y)}`);
  assert.ok(std.standardize);
  assert.throws(() => new LinearSoftmax(4, { standardize: 'yes' } as never), /options\.standardize/);
});

Linear('rejects misspelled and out-of-range options', () => {
  assert.throws(() => new LinearSoftmax(4, { epoch: 3 } as never), /epoch/);
  assert.throws(() => new LinearSoftmax(4, { learningRate: -1 }), /options.learningRate/);
  assert.throws(() => new StreamingLda(4, 2), /shrinkage/);
  assert.throws(() => new KNearest(4, 0), /k/);
});

Learn.run();
Bytes.run();
Lda.run();
Ridge.run();
Knn.run();
Linear.run();
