// Nearest class mean: a running mean of each class's L2-normalised features; a query goes to the class
// whose mean is most cosine-similar. Keeps D floats per class (what Coral's weight imprinting keeps).
import type { Classifier } from './types.js';
import { checkLabels, dot, normalizeRows, rowsOf } from './vector.js';
import { int } from '../util/validate.js';

export class NearestClassMean implements Classifier {
  readonly name = 'ncm';
  readonly #sums = new Map<number, Float64Array>();
  readonly #counts = new Map<number, number>();

  constructor(readonly dim: number) {
    int('dim', dim, 1, 1 << 20);
  }

  learn(features: Float32Array, labels: ArrayLike<number>): void {
    const rows = rowsOf(features, this.dim);
    checkLabels(labels, rows);
    const x = normalizeRows(features, this.dim);
    for (let r = 0; r < rows; r++) {
      const c = labels[r];
      let s = this.#sums.get(c);
      if (!s) this.#sums.set(c, (s = new Float64Array(this.dim)));
      for (let t = 0; t < this.dim; t++) s[t] += x[r * this.dim + t];
      this.#counts.set(c, (this.#counts.get(c) ?? 0) + 1);
    }
  }

  predict(features: Float32Array): Int32Array {
    const rows = rowsOf(features, this.dim);
    const x = normalizeRows(features, this.dim);
    // The sum's direction is the mean's direction; cosine needs only the direction.
    const classes = [...this.#sums.keys()];
    const means = classes.map((c) => normalizeRows(Float32Array.from(this.#sums.get(c)!), this.dim));
    const out = new Int32Array(rows).fill(-1);
    for (let r = 0; r < rows; r++) {
      let best = -Infinity;
      for (let j = 0; j < classes.length; j++) {
        const s = dot(x, r * this.dim, means[j], 0, this.dim);
        if (s > best) {
          best = s;
          out[r] = classes[j];
        }
      }
    }
    return out;
  }

  bytesPerClass(): number {
    return 4 * this.dim;
  }

  sharedBytes(): number {
    return 0;
  }
}
