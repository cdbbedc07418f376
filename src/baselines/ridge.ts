// Closed-form ridge head: least squares from L2-normalised features to one-hot labels, with an intercept,
// accumulated streaming (a shared Gram matrix and one feature sum per class) and solved at query time:
// W = (Xc^T Xc + lambda' I)^-1 Xc^T Yc, lambda' = lambda * trace(Xc^T Xc) / dim. The decorrelated head of
// RanPAC's tables (McDonnell et al. 2023) without the random projection.
import type { Classifier } from './types.js';
import { checkLabels, normalizeRows, rowsOf } from './vector.js';
import { cholesky, choleskySolve } from './cholesky.js';
import { int, num } from '../util/validate.js';

export class RidgeHead implements Classifier {
  readonly name = 'ridge';
  /** Sum of x x^T over every row (upper triangle used), dim x dim. */
  readonly #gram: Float64Array;
  readonly #sum: Float64Array;
  readonly #classSums = new Map<number, Float64Array>();
  readonly #classCounts = new Map<number, number>();
  #total = 0;
  #model: { classes: number[]; w: Float64Array; b: Float64Array; mean: Float64Array } | null = null;

  constructor(
    readonly dim: number,
    public lambda = 0.1,
  ) {
    int('dim', dim, 1, 4096);
    num('lambda', lambda, 0, 1e6);
    this.#gram = new Float64Array(dim * dim);
    this.#sum = new Float64Array(dim);
  }

  learn(features: Float32Array, labels: ArrayLike<number>): void {
    const rows = rowsOf(features, this.dim);
    checkLabels(labels, rows);
    const D = this.dim;
    const x = normalizeRows(features, D);
    const G = this.#gram;
    for (let r = 0; r < rows; r++) {
      const o = r * D;
      const c = labels[r];
      const cs = this.#classSums.get(c) ?? this.#classSums.set(c, new Float64Array(D)).get(c)!;
      this.#classCounts.set(c, (this.#classCounts.get(c) ?? 0) + 1);
      for (let a = 0; a < D; a++) {
        const va = x[o + a];
        this.#sum[a] += va;
        cs[a] += va;
        if (va === 0) continue;
        const row = a * D;
        for (let b = a; b < D; b++) G[row + b] += va * x[o + b];
      }
    }
    this.#total += rows;
    this.#model = null;
  }

  #fit(): { classes: number[]; w: Float64Array; b: Float64Array; mean: Float64Array } {
    const D = this.dim;
    const n = this.#total;
    const mean = Float64Array.from(this.#sum, (v) => v / n);
    // Centred Gram, full symmetric, plus the ridge.
    const A = new Float64Array(D * D);
    let trace = 0;
    for (let a = 0; a < D; a++) {
      for (let b = a; b < D; b++) {
        const v = this.#gram[a * D + b] - n * mean[a] * mean[b];
        A[a * D + b] = v;
        A[b * D + a] = v;
      }
      trace += A[a * D + a];
    }
    const ridge = (this.lambda * trace) / D || 1e-9;
    for (let a = 0; a < D; a++) A[a * D + a] += ridge;
    cholesky(A, D, () => 'ridge: the regularised Gram matrix is not positive definite');
    const classes = [...this.#classSums.keys()].sort((p, q) => p - q);
    const w = new Float64Array(classes.length * D);
    const b = new Float64Array(classes.length);
    classes.forEach((c, k) => {
      const s = this.#classSums.get(c)!;
      const nc = this.#classCounts.get(c)!;
      w.set(
        choleskySolve(
          A,
          D,
          Float64Array.from(s, (v, t) => v - nc * mean[t]),
        ),
        k * D,
      );
      b[k] = nc / n;
    });
    return { classes, w, b, mean };
  }

  get model(): { classes: number[]; w: Float64Array; b: Float64Array; mean: Float64Array } | null {
    return this.#model;
  }

  predict(features: Float32Array): Int32Array {
    const rows = rowsOf(features, this.dim);
    const out = new Int32Array(rows).fill(-1);
    if (this.#total === 0) return out;
    this.#model ??= this.#fit();
    const { classes, w, b, mean } = this.#model;
    const D = this.dim;
    const x = normalizeRows(features, D);
    for (let r = 0; r < rows; r++) {
      let best = -Infinity;
      for (let k = 0; k < classes.length; k++) {
        let s = b[k];
        for (let t = 0; t < D; t++) s += (x[r * D + t] - mean[t]) * w[k * D + t];
        if (s > best) {
          best = s;
          out[r] = classes[k];
        }
      }
    }
    return out;
  }

  /** One float32 weight row per class (solved from a float32 feature sum of the same size). */
  /** Changes the regulariser without relearning (the benchmark tunes it on a validation split). */
  setLambda(value: number): void {
    num('lambda', value, 0, 1e6);
    this.lambda = value;
    this.#model = null;
  }

  bytesPerClass(): number {
    return 4 * this.dim;
  }

  /** The shared Gram matrix, stored as float32 upper triangle. */
  sharedBytes(): number {
    return (4 * this.dim * (this.dim + 1)) / 2;
  }
}
