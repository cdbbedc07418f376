// Benchmark protocols (bench/lib/protocol.ts): task splits, row selection, accuracy, average forgetting,
// the class-incremental runner and seeded N-way k-shot episodes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accuracy,
  averageForgetting,
  episodes,
  meanCi,
  pick,
  runIncremental,
  select,
  splitTasks,
  type Rows,
} from '../bench/lib/protocol.js';
import { NearestClassMean, LinearSoftmax } from '../src/baselines/index.js';
import { Rng } from '../src/util/rng.js';
import { blobs, centres } from './helpers/bench-blobs.js';

const SEED = Number(process.env.SEED ?? 8181);
console.log(`81.bench-protocol seed=${SEED}`);

const Split = suite('splitTasks and select');

Split('Split-MNIST is five tasks of two consecutive classes', () => {
  assert.equal(splitTasks([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2), [
    [0, 1],
    [2, 3],
    [4, 5],
    [6, 7],
    [8, 9],
  ]);
  assert.equal(splitTasks([0, 1, 2], 1), [[0], [1], [2]]);
  assert.throws(() => splitTasks([0, 1, 2], 2), /3 classes do not split into tasks of 2/);
  assert.throws(() => splitTasks([0, 1], 0), /size: expected a positive integer/);
});

Split('select keeps the wanted classes, at most perClass each, in order', () => {
  const rows: Rows = { dim: 1, features: Float32Array.from([0, 1, 2, 3, 4, 5, 6]), labels: [2, 0, 2, 1, 2, 0, 2] };
  const s = select(rows, [2, 0], 2);
  assert.equal(Array.from(s.labels), [2, 0, 2, 0]);
  assert.equal(Array.from(s.features), [0, 1, 2, 5]);
  assert.equal(Array.from(pick(rows, [6, 3]).features), [6, 3]);
});

const Metrics = suite('metrics');

Metrics('accuracy counts exact matches and checks lengths', () => {
  assert.is(accuracy([1, 2, 3, 4], [1, 0, 3, 0]), 0.5);
  assert.is(accuracy([], []), 0);
  assert.throws(() => accuracy([1], [1, 2]), /predicted: expected 2 predictions, got 1/);
});

Metrics('average forgetting: best earlier accuracy minus final, over all tasks but the last', () => {
  const acc = [[0.9], [0.5, 0.8], [0.6, 0.4, 0.7]];
  // task 0: best 0.9, final 0.6 -> 0.3; task 1: best 0.8, final 0.4 -> 0.4
  assert.ok(Math.abs(averageForgetting(acc) - 0.35) < 1e-12);
  assert.is(averageForgetting([[1]]), 0);
});

Metrics('meanCi gives the mean and a 95% half-width that shrinks with n', () => {
  assert.equal(meanCi([0.5, 0.5]), { mean: 0.5, ci95: 0 });
  const a = meanCi([0, 1, 0, 1]).ci95;
  const b = meanCi([0, 1, 0, 1, 0, 1, 0, 1]).ci95;
  assert.ok(a > b && b > 0);
});

const Runner = suite('runIncremental');

Runner('NCM does not forget; sequential linear does, and the matrix shows it', () => {
  const rng = new Rng(SEED);
  const c = centres(rng, 4, 8, 1);
  const train = blobs(rng, c, 40, 0.2);
  const test = blobs(rng, c, 40, 0.2);
  const tasks = splitTasks([0, 1, 2, 3], 2);
  const ncm = runIncremental(new NearestClassMean(8), train, test, tasks);
  const seq = runIncremental(new LinearSoftmax(8, { epochs: 30, seed: SEED }), train, test, tasks);
  assert.is(ncm.taskAccuracy.length, 2);
  assert.is(ncm.taskAccuracy[1].length, 2);
  assert.ok(ncm.finalAccuracy >= 0.9 && ncm.forgetting <= 0.05, JSON.stringify(ncm));
  assert.ok(seq.taskAccuracy[0][0] >= 0.9, 'first task learned');
  assert.ok(seq.forgetting >= 0.5 && seq.finalAccuracy <= 0.6, JSON.stringify(seq.taskAccuracy));
  assert.is(seq.finalAccuracy, seq.seenAccuracy[1]);
});

Runner('perClass caps the examples each class contributes', () => {
  const rng = new Rng(SEED + 1);
  const c = centres(rng, 2, 4, 1);
  const train = blobs(rng, c, 20, 0.2);
  const seen: number[] = [];
  const counting = {
    learn: (_f: Float32Array, y: ArrayLike<number>) => void seen.push(y.length),
    predict: (f: Float32Array) => new Int32Array(f.length / 4),
  };
  runIncremental(counting, train, train, [[0], [1]], 3);
  assert.equal(seen, [3, 3]);
});

const Episodes = suite('episodes');

Episodes('N-way k-shot: the same seed gives the same episodes, with the right shape', () => {
  const rng = new Rng(SEED);
  const c = centres(rng, 8, 4, 1);
  const train = blobs(rng, c, 10, 0.2);
  const test = blobs(rng, c, 10, 0.2);
  const a = episodes(train, test, 5, 2, 3, 20, 42);
  const b = episodes(train, test, 5, 2, 3, 20, 42);
  assert.equal(a, b);
  assert.is(a.length, 20);
  for (const e of a) {
    assert.is(new Set(e.classes).size, 5);
    assert.is(e.support.length, 10);
    assert.is(e.query.length, 15);
    for (const i of e.support) assert.ok(e.classes.includes(train.labels[i]));
    for (const i of e.query) assert.ok(e.classes.includes(test.labels[i]));
    assert.is(new Set(e.support).size, 10, 'no support example twice');
  }
  assert.not.equal(episodes(train, test, 5, 2, 3, 20, 43), a);
  assert.throws(() => episodes(train, test, 9, 1, 1, 1, 1), /ways: expected at most 8 classes, got 9/);
});

Split.run();
Metrics.run();
Runner.run();
Episodes.run();
