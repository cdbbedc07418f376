// A linear softmax layer on L2-normalised (or standardised) features, trained by minibatch Adam. Trained once on all data it
// is the offline upper bound; trained task after task on each task's data only (its output layer growing
// with new classes) it is the naive fine-tuning baseline that forgets.
import type { Classifier } from './types.js';
import { checkLabels, normalizeRows, rowsOf } from './vector.js';
import { Rng } from '../util/rng.js';
import { bool, int, num, options } from '../util/validate.js';

export interface LinearOptions {
  epochs?: number;
  learningRate?: number;
  batchSize?: number;
  /** L2 penalty on the weights. */
  weightDecay?: number;
  seed?: number;
  /**
   * Standardise each dimension by the mean and standard deviation of the first learn() call's rows (frozen
   * afterwards) instead of L2-normalising rows: trained once on everything, the stronger upper bound.
   */
  standardize?: boolean;
}

export class LinearSoftmax implements Classifier {
  readonly name: string;
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly weightDecay: number;
  readonly standardize: boolean;
  #stats: { mean: Float64Array; inv: Float64Array } | null = null;
  /** Class label of each output row. */
  #classes: number[] = [];
  /** (D + 1) floats per class: weights then bias. */
  #w = new Float64Array(0);
  #m = new Float64Array(0);
  #v = new Float64Array(0);
  #step = 0;
  readonly #rng: Rng;

  constructor(
    readonly dim: number,
    opts: LinearOptions = {},
    name = 'linear',
  ) {
    int('dim', dim, 1, 1 << 20);
    const o = options('options', opts, ['epochs', 'learningRate', 'batchSize', 'weightDecay', 'seed', 'standardize'] as const);
    this.epochs = o.epochs === undefined ? 30 : int('options.epochs', o.epochs, 1, 10000);
    this.learningRate = o.learningRate === undefined ? 0.01 : num('options.learningRate', o.learningRate, 1e-9, 10);
    this.batchSize = o.batchSize === undefined ? 64 : int('options.batchSize', o.batchSize, 1, 1 << 20);
    this.weightDecay = o.weightDecay === undefined ? 1e-4 : num('options.weightDecay', o.weightDecay, 0, 1);
    this.#rng = new Rng(o.seed === undefined ? 1 : int('options.seed', o.seed, 0, 2 ** 32 - 1));
    this.standardize = o.standardize === undefined ? false : bool('options.standardize', o.standardize);
    this.name = name;
  }

  #grow(labels: ArrayLike<number>): void {
    const added = [...new Set(Array.from(labels))].filter((c) => !this.#classes.includes(c)).sort((a, b) => a - b);
    if (added.length === 0) return;
    const W = this.dim + 1;
    const grow = (a: Float64Array) => {
      const g = new Float64Array(a.length + added.length * W);
      g.set(a);
      return g;
    };
    this.#w = grow(this.#w);
    this.#m = grow(this.#m);
    this.#v = grow(this.#v);
    this.#classes.push(...added);
  }

  learn(features: Float32Array, labels: ArrayLike<number>): void {
    const rows = rowsOf(features, this.dim);
    checkLabels(labels, rows);
    this.#grow(labels);
    if (this.standardize && !this.#stats) this.#stats = statsOf(features, this.dim);
    const x = this.#input(features);
    const target = Int32Array.from(labels, (c) => this.#classes.indexOf(c));
    const order = Array.from({ length: rows }, (_, i) => i);
    const C = this.#classes.length;
    const D = this.dim;
    const W = D + 1;
    const grad = new Float64Array(C * W);
    const p = new Float64Array(C);
    for (let e = 0; e < this.epochs; e++) {
      this.#rng.shuffle(order);
      for (let s = 0; s < rows; s += this.batchSize) {
        const batch = order.slice(s, s + this.batchSize);
        grad.fill(0);
        for (const r of batch) {
          this.#logits(x, r * D, p);
          softmaxInPlace(p);
          p[target[r]] -= 1;
          for (let c = 0; c < C; c++) {
            const g = p[c] / batch.length;
            if (g === 0) continue;
            const o = c * W;
            for (let t = 0; t < D; t++) grad[o + t] += g * x[r * D + t];
            grad[o + D] += g;
          }
        }
        this.#adam(grad);
      }
    }
  }

  #input(features: Float32Array): Float32Array {
    const st = this.#stats;
    if (!this.standardize) return normalizeRows(features, this.dim);
    if (!st) return new Float32Array(features.length);
    const D = this.dim;
    return Float32Array.from(features, (v, i) => (v - st.mean[i % D]) * st.inv[i % D]);
  }

  #logits(x: Float32Array, o: number, out: Float64Array): void {
    const D = this.dim;
    const W = D + 1;
    for (let c = 0; c < this.#classes.length; c++) {
      let s = this.#w[c * W + D];
      for (let t = 0; t < D; t++) s += this.#w[c * W + t] * x[o + t];
      out[c] = s;
    }
  }

  #adam(grad: Float64Array): void {
    const b1 = 0.9;
    const b2 = 0.999;
    this.#step++;
    const c1 = 1 - b1 ** this.#step;
    const c2 = 1 - b2 ** this.#step;
    for (let i = 0; i < grad.length; i++) {
      const g = grad[i] + this.weightDecay * this.#w[i];
      this.#m[i] = b1 * this.#m[i] + (1 - b1) * g;
      this.#v[i] = b2 * this.#v[i] + (1 - b2) * g * g;
      this.#w[i] -= (this.learningRate * (this.#m[i] / c1)) / (Math.sqrt(this.#v[i] / c2) + 1e-8);
    }
  }

  predict(features: Float32Array): Int32Array {
    const rows = rowsOf(features, this.dim);
    const x = this.#input(features);
    const out = new Int32Array(rows).fill(-1);
    const p = new Float64Array(this.#classes.length);
    for (let r = 0; r < rows; r++) {
      this.#logits(x, r * this.dim, p);
      let best = -Infinity;
      for (let c = 0; c < p.length; c++) {
        if (p[c] > best) {
          best = p[c];
          out[r] = this.#classes[c];
        }
      }
    }
    return out;
  }

  bytesPerClass(): number {
    return 4 * (this.dim + 1);
  }

  sharedBytes(): number {
    return 0;
  }
}

function softmaxInPlace(p: Float64Array): void {
  let max = -Infinity;
  for (const v of p) if (v > max) max = v;
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i] = Math.exp(p[i] - max);
  for (let i = 0; i < p.length; i++) p[i] /= s;
}

/** Per-dimension mean and 1 / standard deviation (1 where a dimension is constant). */
function statsOf(features: Float32Array, dim: number): { mean: Float64Array; inv: Float64Array } {
  const rows = features.length / dim;
  const mean = new Float64Array(dim);
  const inv = new Float64Array(dim);
  for (let i = 0; i < features.length; i++) mean[i % dim] += features[i] / rows;
  for (let i = 0; i < features.length; i++) inv[i % dim] += (features[i] - mean[i % dim]) ** 2 / rows;
  for (let t = 0; t < dim; t++) inv[t] = inv[t] > 0 ? 1 / Math.sqrt(inv[t]) : 1;
  return { mean, inv };
}
