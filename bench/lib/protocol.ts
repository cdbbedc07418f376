// Evaluation protocols on cached features: class-incremental task splits, the one-class-at-a-time stream,
// N-way k-shot episodes, and the metrics (accuracy matrix, final accuracy, average forgetting).
import { Rng } from '../../src/util/rng.js';

/** Labelled rows: row-major features [count x dim]. */
export interface Rows {
  dim: number;
  features: Float32Array;
  labels: ArrayLike<number>;
}

/** The subset of rows whose label is in `classes`, at most `perClass` of each, in input order. */
export function select(rows: Rows, classes: readonly number[], perClass = Infinity): Rows {
  const want = new Set(classes);
  const taken = new Map<number, number>();
  const idx: number[] = [];
  for (let i = 0; i < rows.labels.length; i++) {
    const c = rows.labels[i];
    if (!want.has(c) || (taken.get(c) ?? 0) >= perClass) continue;
    taken.set(c, (taken.get(c) ?? 0) + 1);
    idx.push(i);
  }
  return pick(rows, idx);
}

/** Rows at the given indices, in that order. */
export function pick(rows: Rows, idx: readonly number[]): Rows {
  const { dim } = rows;
  const features = new Float32Array(idx.length * dim);
  idx.forEach((i, j) => features.set(rows.features.subarray(i * dim, (i + 1) * dim), j * dim));
  return { dim, features, labels: Int32Array.from(idx, (i) => rows.labels[i]) };
}

/** Rows `idx` of `rows` as one feature vector each (views, no copy): the inputs Engram.learn and predict take. */
export function vectorsOf(rows: Rows, idx: readonly number[]): Float32Array[] {
  return idx.map((i) => rows.features.subarray(i * rows.dim, (i + 1) * rows.dim));
}

/** Consecutive tasks of `size` classes: [[0,1],[2,3],...] for Split-MNIST 5x2. */
export function splitTasks(classes: readonly number[], size: number): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size: expected a positive integer, got ${size}`);
  if (classes.length % size !== 0) throw new RangeError(`size: ${classes.length} classes do not split into tasks of ${size}`);
  const tasks: number[][] = [];
  for (let i = 0; i < classes.length; i += size) tasks.push(classes.slice(i, i + size));
  return tasks;
}

/** Share of predictions equal to the labels (0..1); 0 for no rows. */
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predicted.length !== labels.length) throw new RangeError(`predicted: expected ${labels.length} predictions, got ${predicted.length}`);
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) ok++;
  return labels.length === 0 ? 0 : ok / labels.length;
}

/**
 * Average forgetting of an accuracy matrix acc[t][j] (accuracy on task j after learning task t, j <= t):
 * mean over the tasks before the last of (best earlier accuracy - final accuracy). 0 for one task.
 */
export function averageForgetting(acc: number[][]): number {
  const T = acc.length;
  if (T < 2) return 0;
  let sum = 0;
  for (let j = 0; j < T - 1; j++) {
    let best = -Infinity;
    for (let t = j; t < T - 1; t++) best = Math.max(best, acc[t][j]);
    sum += best - acc[T - 1][j];
  }
  return sum / (T - 1);
}

/** What a method must offer to run under a protocol. */
export interface Learner {
  learn(features: Float32Array, labels: ArrayLike<number>): void;
  predict(features: Float32Array): Int32Array;
}

export interface IncrementalResult {
  /** acc[t][j]: accuracy on task j's test rows after learning tasks 0..t. */
  taskAccuracy: number[][];
  /** Accuracy on the test rows of every class seen so far, after each task. */
  seenAccuracy: number[];
  finalAccuracy: number;
  forgetting: number;
  /** Microseconds per training example spent in learn(), and per test example in predict(). */
  learnMicros: number;
  predictMicros: number;
}

/** Class-incremental run: tasks arrive in order; after each, test on all classes seen so far. */
export function runIncremental(method: Learner, train: Rows, test: Rows, tasks: number[][], perClass = Infinity): IncrementalResult {
  const taskAccuracy: number[][] = [];
  const seenAccuracy: number[] = [];
  const testByTask = tasks.map((t) => select(test, t));
  let learnT = 0;
  let learnN = 0;
  let predT = 0;
  let predN = 0;
  for (let t = 0; t < tasks.length; t++) {
    const data = select(train, tasks[t], perClass);
    const t0 = performance.now();
    method.learn(data.features, data.labels);
    learnT += performance.now() - t0;
    learnN += data.labels.length;
    const row: number[] = [];
    let ok = 0;
    let n = 0;
    for (let j = 0; j <= t; j++) {
      const q = testByTask[j];
      const t1 = performance.now();
      const p = method.predict(q.features);
      predT += performance.now() - t1;
      predN += q.labels.length;
      const a = accuracy(p, q.labels);
      row.push(a);
      ok += a * q.labels.length;
      n += q.labels.length;
    }
    taskAccuracy.push(row);
    seenAccuracy.push(ok / n);
  }
  return {
    taskAccuracy,
    seenAccuracy,
    finalAccuracy: seenAccuracy[seenAccuracy.length - 1],
    forgetting: averageForgetting(taskAccuracy),
    learnMicros: (1000 * learnT) / Math.max(1, learnN),
    predictMicros: (1000 * predT) / Math.max(1, predN),
  };
}

export interface Episode {
  classes: number[];
  /** Row indices into the train rows (k per class) and the test rows (queries per class). */
  support: number[];
  query: number[];
}

/** N-way k-shot episodes drawn with a fixed seed: support from `train`, queries from `test`. */
export function episodes(train: Rows, test: Rows, ways: number, shots: number, queries: number, count: number, seed: number): Episode[] {
  const rng = new Rng(seed);
  const byClass = (rows: Rows) => {
    const m = new Map<number, number[]>();
    for (let i = 0; i < rows.labels.length; i++) m.set(rows.labels[i], [...(m.get(rows.labels[i]) ?? []), i]);
    return m;
  };
  const tr = byClass(train);
  const te = byClass(test);
  const classes = [...tr.keys()].filter((c) => te.has(c)).sort((a, b) => a - b);
  if (ways > classes.length) throw new RangeError(`ways: expected at most ${classes.length} classes, got ${ways}`);
  const out: Episode[] = [];
  for (let e = 0; e < count; e++) {
    const chosen = rng.sample(classes.length, ways).map((i) => classes[i]);
    const support: number[] = [];
    const query: number[] = [];
    for (const c of chosen) {
      const s = tr.get(c)!;
      support.push(...rng.sample(s.length, shots).map((i) => s[i]));
      const q = te.get(c)!;
      query.push(...rng.sample(q.length, queries).map((i) => q[i]));
    }
    out.push({ classes: chosen, support, query });
  }
  return out;
}

/** Mean and 95% confidence half-width (normal approximation) of episode accuracies. */
export function meanCi(values: readonly number[]): { mean: number; ci95: number } {
  const n = values.length;
  if (n === 0) return { mean: 0, ci95: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, ci95: (1.96 * Math.sqrt(v)) / Math.sqrt(n) };
}
