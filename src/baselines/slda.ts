// Streaming linear discriminant analysis (deep SLDA): running class means plus one shared within-class
// covariance, updated exactly batch by batch; a query scores w_c.x + b_c with w_c = P mu_c and
// b_c = -mu_c.P mu_c / 2, P the inverse of the shrunk covariance (1 - eps) S + eps (tr S / dim) I.
import type { Classifier } from './types.js';
import { checkLabels, normalizeRows, rowsOf } from './vector.js';
import { cholesky, choleskySolve } from './cholesky.js';
import { int, num } from '../util/validate.js';

export class StreamingLda implements Classifier {
  readonly name = 'slda';
  readonly #means = new Map<number, Float64Array>();
  readonly #counts = new Map<number, number>();
  /** Within-class scatter (upper triangle used), dim x dim. */
  readonly #scatter: Float64Array;
  #total = 0;
  #model: { classes: number[]; w: Float64Array; b: Float64Array } | null = null;

  constructor(
    readonly dim: number,
    public shrinkage = 1e-2,
  ) {
    int('dim', dim, 1, 4096);
    num('shrinkage', shrinkage, 0, 1);
    this.#scatter = new Float64Array(dim * dim);
  }

  learn(features: Float32Array, labels: ArrayLike<number>): void {
    const rows = rowsOf(features, this.dim);
    checkLabels(labels, rows);
    const x = normalizeRows(features, this.dim);
    const byClass = new Map<number, number[]>();
    for (let r = 0; r < rows; r++) byClass.set(labels[r], [...(byClass.get(labels[r]) ?? []), r]);
    for (const [c, idx] of byClass) this.#merge(c, x, idx);
    this.#model = null;
  }

  // Chan's parallel update: S += S_batch + n_a n_b / (n_a + n_b) (mu_a - mu_b)(mu_a - mu_b)^T.
  #merge(c: number, x: Float32Array, idx: number[]): void {
    const D = this.dim;
    const nb = idx.length;
    const mb = new Float64Array(D);
    for (const r of idx) for (let t = 0; t < D; t++) mb[t] += x[r * D + t] / nb;
    const centred = new Float64Array(nb * D);
    idx.forEach((r, j) => {
      for (let t = 0; t < D; t++) centred[j * D + t] = x[r * D + t] - mb[t];
    });
    const S = this.#scatter;
    for (let j = 0; j < nb; j++) {
      const o = j * D;
      for (let a = 0; a < D; a++) {
        const va = centred[o + a];
        if (va === 0) continue;
        const row = a * D;
        for (let b = a; b < D; b++) S[row + b] += va * centred[o + b];
      }
    }
    const na = this.#counts.get(c) ?? 0;
    const ma = this.#means.get(c) ?? new Float64Array(D);
    if (na > 0) {
      const f = (na * nb) / (na + nb);
      const d = new Float64Array(D);
      for (let t = 0; t < D; t++) d[t] = ma[t] - mb[t];
      for (let a = 0; a < D; a++) for (let b = a; b < D; b++) S[a * D + b] += f * d[a] * d[b];
    }
    for (let t = 0; t < D; t++) ma[t] = (na * ma[t] + nb * mb[t]) / (na + nb);
    this.#means.set(c, ma);
    this.#counts.set(c, na + nb);
    this.#total += nb;
  }

  predict(features: Float32Array): Int32Array {
    const rows = rowsOf(features, this.dim);
    const x = normalizeRows(features, this.dim);
    const m = (this.#model ??= this.#fit());
    const D = this.dim;
    const out = new Int32Array(rows).fill(-1);
    for (let r = 0; r < rows; r++) {
      let best = -Infinity;
      for (let j = 0; j < m.classes.length; j++) {
        let s = m.b[j];
        for (let t = 0; t < D; t++) s += m.w[j * D + t] * x[r * D + t];
        if (s > best) {
          best = s;
          out[r] = m.classes[j];
        }
      }
    }
    return out;
  }

  #fit(): { classes: number[]; w: Float64Array; b: Float64Array } {
    const D = this.dim;
    const eps = this.shrinkage;
    const n = Math.max(1, this.#total);
    // Shrunk covariance, full symmetric, then Cholesky: A = L L^T. The shrinkage target is the identity
    // scaled to the covariance's mean eigenvalue, so eps means the same whatever the features' scale.
    let trace = 0;
    for (let a = 0; a < D; a++) trace += this.#scatter[a * D + a] / n;
    const scale = trace > 0 ? trace / D : 1;
    const A = new Float64Array(D * D);
    for (let a = 0; a < D; a++) {
      for (let b = a; b < D; b++) {
        const v = (1 - eps) * (this.#scatter[a * D + b] / n) + (a === b ? eps * scale : 0);
        A[a * D + b] = v;
        A[b * D + a] = v;
      }
    }
    cholesky(A, D, (j) => `slda: covariance is not positive definite at row ${j}; raise shrinkage`);
    const classes = [...this.#means.keys()];
    const w = new Float64Array(classes.length * D);
    const b = new Float64Array(classes.length);
    classes.forEach((c, j) => {
      const mu = this.#means.get(c)!;
      const sol = choleskySolve(A, D, mu);
      w.set(sol, j * D);
      let q = 0;
      for (let t = 0; t < D; t++) q += mu[t] * sol[t];
      b[j] = -q / 2;
    });
    return { classes, w, b };
  }

  /** Changes the regulariser without relearning (the benchmark tunes it on a validation split). */
  setShrinkage(value: number): void {
    num('shrinkage', value, 0, 1);
    this.shrinkage = value;
    this.#model = null;
  }

  bytesPerClass(): number {
    return 4 * this.dim;
  }

  /** The shared covariance, stored as float32 upper triangle. */
  sharedBytes(): number {
    return (4 * this.dim * (this.dim + 1)) / 2;
  }
}
