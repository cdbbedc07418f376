// k nearest neighbours by cosine over every stored example (what TF.js knn-classifier does): memory and
// query time grow with each example. Votes go to the most frequent label among the k nearest; a tie goes
// to the label with the larger summed similarity.
import type { Classifier } from './types.js';
import { checkLabels, dot, normalizeRows, rowsOf } from './vector.js';
import { int } from '../util/validate.js';

export class KNearest implements Classifier {
  readonly name: string;
  #data = new Float32Array(0);
  #labels: number[] = [];

  constructor(
    readonly dim: number,
    readonly k: number,
  ) {
    int('dim', dim, 1, 1 << 20);
    int('k', k, 1, 1 << 20);
    this.name = `knn${k}`;
  }

  learn(features: Float32Array, labels: ArrayLike<number>): void {
    const rows = rowsOf(features, this.dim);
    checkLabels(labels, rows);
    const grown = new Float32Array(this.#data.length + features.length);
    grown.set(this.#data);
    grown.set(normalizeRows(features, this.dim), this.#data.length);
    this.#data = grown;
    for (let r = 0; r < rows; r++) this.#labels.push(labels[r]);
  }

  predict(features: Float32Array): Int32Array {
    const rows = rowsOf(features, this.dim);
    const x = normalizeRows(features, this.dim);
    const n = this.#labels.length;
    const k = Math.min(this.k, n);
    const out = new Int32Array(rows).fill(-1);
    const bestS = new Float64Array(k);
    const bestL = new Int32Array(k);
    for (let r = 0; r < rows; r++) {
      let filled = 0;
      for (let i = 0; i < n; i++) {
        const s = dot(x, r * this.dim, this.#data, i * this.dim, this.dim);
        if (filled === k && s <= bestS[k - 1]) continue;
        let pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && s > bestS[pos - 1]) {
          bestS[pos] = bestS[pos - 1];
          bestL[pos] = bestL[pos - 1];
          pos--;
        }
        bestS[pos] = s;
        bestL[pos] = this.#labels[i];
      }
      const votes = new Map<number, [number, number]>();
      for (let j = 0; j < filled; j++) {
        const v = votes.get(bestL[j]) ?? [0, 0];
        votes.set(bestL[j], [v[0] + 1, v[1] + bestS[j]]);
      }
      let top: [number, number] = [-1, -Infinity];
      for (const [label, v] of votes) {
        if (v[0] > top[0] || (v[0] === top[0] && v[1] > (votes.get(out[r])?.[1] ?? -Infinity))) {
          top = v;
          out[r] = label;
        }
      }
    }
    return out;
  }

  /** 4*D bytes per stored example, averaged over the classes stored. */
  bytesPerClass(): number {
    const classes = new Set(this.#labels).size;
    return classes === 0 ? 0 : (4 * this.dim * this.#labels.length) / classes;
  }

  sharedBytes(): number {
    return 0;
  }
}
