// Prototype of "several class neurons per class" (issue #6): each class owns up to `columns` columns of
// the bit matrix. The first examples of a class open its columns; each later example is stored in the
// class's column that already matches it best, so a column gathers one mode of the class (a writing style,
// a pose). A query's class is that of its best column. Thresholds are relative per column, as in
// ResearchMemory; bytes per class = columns x N/8.
import { ProductQuantizer } from '../../src/quantize/quantizer.js';
import type { Codebook } from '../../src/quantize/codebook.js';
import type { Learner } from './protocol.js';

export class SubclassMemory implements Learner {
  readonly quantizer: ProductQuantizer;
  /** counts[neuron][unit] flattened as neuron * capacity + unit. */
  #counts: Uint8Array;
  #capacity = 64;
  readonly labelOf: number[] = [];
  readonly #seen: number[] = [];

  constructor(
    codebook: Codebook,
    readonly columns: number,
    readonly relative: number,
    readonly counterMax = 15,
  ) {
    this.quantizer = new ProductQuantizer(codebook, 1);
    this.#counts = new Uint8Array(this.quantizer.neurons * this.#capacity);
  }

  #grow(): void {
    const N = this.quantizer.neurons;
    const cap = this.#capacity * 2;
    const next = new Uint8Array(N * cap);
    for (let n = 0; n < N; n++) next.set(this.#counts.subarray(n * this.#capacity, (n + 1) * this.#capacity), n * cap);
    this.#counts = next;
    this.#capacity = cap;
  }

  #threshold(u: number): number {
    return Math.min(this.counterMax, Math.max(1, Math.round(this.relative * this.#seen[u])));
  }

  /** Scores of every unit for one code: active neurons whose count reaches the unit's threshold. */
  #scores(code: Uint32Array, o: number): Float64Array {
    const U = this.labelOf.length;
    const out = new Float64Array(U);
    const t = Array.from({ length: U }, (_, u) => this.#threshold(u));
    for (let a = 0; a < this.quantizer.active; a++) {
      const base = code[o + a] * this.#capacity;
      for (let u = 0; u < U; u++) if (this.#counts[base + u] >= t[u]) out[u]++;
    }
    return out;
  }

  learn(features: Float32Array, labels: ArrayLike<number>): void {
    const rows = labels.length;
    const A = this.quantizer.active;
    const codes = this.quantizer.encode(features, rows);
    for (let r = 0; r < rows; r++) {
      const mine = this.labelOf.flatMap((l, u) => (l === labels[r] ? [u] : []));
      let unit: number;
      if (mine.length < this.columns) {
        if (this.labelOf.length === this.#capacity) this.#grow();
        unit = this.labelOf.length;
        this.labelOf.push(labels[r]);
        this.#seen.push(0);
      } else {
        const s = this.#scores(codes, r * A);
        unit = mine.reduce((best, u) => (s[u] > s[best] ? u : best), mine[0]);
      }
      this.#seen[unit]++;
      for (let a = 0; a < A; a++) {
        const i = codes[r * A + a] * this.#capacity + unit;
        if (this.#counts[i] < this.counterMax) this.#counts[i]++;
      }
    }
  }

  predict(features: Float32Array): Int32Array {
    const rows = features.length / this.quantizer.dim;
    const A = this.quantizer.active;
    const codes = this.quantizer.encode(features, rows);
    const out = new Int32Array(rows).fill(-1);
    for (let r = 0; r < rows; r++) {
      const s = this.#scores(codes, r * A);
      let best = -1;
      for (let u = 0; u < s.length; u++) if (best < 0 || s[u] > s[best]) best = u;
      if (best >= 0) out[r] = this.labelOf[best];
    }
    return out;
  }

  bytesPerClass(): number {
    return (this.columns * this.quantizer.neurons) / 8;
  }
}
