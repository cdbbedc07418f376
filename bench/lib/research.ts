// Prototypes of memory ideas from issue #6, in plain TypeScript on PQ codes, so they can be measured on
// cached features before anything changes in src/memory: an ensemble of codebooks, counters used at query
// time (count threshold or log-count scoring), storing only on error, query-time multi-probe.
// With one codebook, threshold 1 and no extras it is exactly the product's OR memory (checked in bench).
import { ProductQuantizer } from '../../src/quantize/quantizer.js';
import type { Codebook } from '../../src/quantize/codebook.js';
import { compressedBytes } from '../../src/memory/budget.js';
import type { Learner } from './protocol.js';

export interface ResearchSettings {
  /** Counter ceiling: 1 = bits only, 15 = 4-bit counters, 255 = 8-bit. */
  counterMax: number;
  /** Scoring: 'bits' counts connections with count >= minCount; 'log' sums log(count + 1) (a naive-Bayes-like vote). */
  scoring: 'bits' | 'log';
  minCount: number;
  /** Store an example only when the memory currently misclassifies it (after the first `warmup` of its class). */
  storeOnError: boolean;
  warmup: number;
  /**
   * When > 0, each class's threshold is this share of the examples it has seen (clamped to 1..counterMax)
   * instead of the fixed minCount: a 1-shot class keeps its connections, a 500-shot class keeps only those
   * seen often.
   */
  relative: number;
  /** Extra anchors per part activated for queries only (1 = none). */
  queryProbes: number;
}

export class ResearchMemory implements Learner {
  readonly quantizers: ProductQuantizer[];
  readonly queryQuantizers: ProductQuantizer[];
  /** Per codebook: counts [neurons x classes], grown as classes arrive. */
  counts: Uint8Array[];
  classes: number[] = [];
  stored = 0;
  readonly #seen = new Map<number, number>();

  constructor(
    codebooks: Codebook[],
    readonly s: ResearchSettings,
  ) {
    this.quantizers = codebooks.map((c) => new ProductQuantizer(c, 1));
    this.queryQuantizers = codebooks.map((c) => new ProductQuantizer(c, s.queryProbes));
    this.counts = codebooks.map(() => new Uint8Array(0));
  }

  get neurons(): number {
    return this.quantizers.reduce((a, q) => a + q.neurons, 0);
  }

  #classId(label: number): number {
    let c = this.classes.indexOf(label);
    if (c >= 0) return c;
    c = this.classes.length;
    this.classes.push(label);
    this.counts = this.counts.map((old, m) => {
      const N = this.quantizers[m].neurons;
      const C = this.classes.length;
      const grown = new Uint8Array(N * C);
      for (let n = 0; n < N; n++) grown.set(old.subarray(n * (C - 1), (n + 1) * (C - 1)), n * C);
      return grown;
    });
    return c;
  }

  learn(features: Float32Array, labels: ArrayLike<number>): void {
    const rows = labels.length;
    const codes = this.quantizers.map((q) => q.encode(features, rows));
    for (let r = 0; r < rows; r++) {
      const c = this.#classId(labels[r]);
      const seen = this.#seen.get(c) ?? 0;
      this.#seen.set(c, seen + 1);
      if (this.s.storeOnError && seen >= this.s.warmup) {
        const sc = this.#score(codes, r, false);
        let best = 0;
        for (let k = 1; k < sc.length; k++) if (sc[k] > sc[best]) best = k;
        if (best === c) continue;
      }
      this.stored++;
      const C = this.classes.length;
      codes.forEach((code, m) => {
        const A = this.quantizers[m].active;
        const cnt = this.counts[m];
        for (let a = 0; a < A; a++) {
          const i = code[r * A + a] * C + c;
          if (cnt[i] < this.s.counterMax) cnt[i]++;
        }
      });
    }
  }

  #score(codes: Uint32Array[], r: number, query: boolean): Float64Array {
    const C = this.classes.length;
    const out = new Float64Array(C);
    const t = this.#thresholds();
    codes.forEach((code, m) => {
      const q = query ? this.queryQuantizers[m] : this.quantizers[m];
      const A = q.active;
      const probes = query ? this.s.queryProbes : 1;
      const cnt = this.counts[m];
      for (let a = 0; a < A; a++) {
        const base = code[r * A + a] * C;
        // Farther probes vote with less weight.
        const w = 1 / (1 + (a % probes));
        for (let c = 0; c < C; c++) {
          const v = cnt[base + c];
          out[c] += w * (this.s.scoring === 'log' ? Math.log1p(v) : v >= t[c] ? 1 : 0);
        }
      }
    });
    return out;
  }

  /** Each class's count threshold: fixed minCount, or its share `relative` of the class's examples. */
  #thresholds(): Float64Array {
    const C = this.classes.length;
    const t = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      t[c] =
        this.s.relative > 0
          ? Math.min(this.s.counterMax, Math.max(1, Math.round(this.s.relative * (this.#seen.get(c) ?? 0))))
          : this.s.minCount;
    }
    return t;
  }

  predict(features: Float32Array): Int32Array {
    const rows = features.length / this.quantizers[0].dim;
    const codes = this.queryQuantizers.map((q) => q.encode(features, rows));
    const out = new Int32Array(rows).fill(-1);
    for (let r = 0; r < rows; r++) {
      const sc = this.#score(codes, r, true);
      let best = -1;
      let bs = -Infinity;
      for (let c = 0; c < sc.length; c++) if (sc[c] > bs) [bs, best] = [sc[c], c];
      if (best >= 0) out[r] = this.classes[best];
    }
    return out;
  }

  /** Raw bytes of one class column: N bits, times the counter width when counters are kept for queries. */
  bytesPerClass(): number {
    // A count threshold can be applied once by pruning, leaving bits; log scoring needs the counters.
    const bitsPer = this.s.scoring === 'log' ? 1 + Math.ceil(Math.log2(this.s.counterMax + 1)) : 1;
    return (this.neurons * bitsPer) / 8;
  }

  /** Connections that count for queries (count >= the class's threshold), over all codebooks. */
  connections(): number {
    const C = this.classes.length;
    const t = this.#thresholds();
    let on = 0;
    for (const cnt of this.counts) for (let i = 0; i < cnt.length; i++) if (cnt[i] >= t[i % C]) on++;
    return on;
  }

  density(): number {
    const cells = this.neurons * this.classes.length;
    return cells ? this.connections() / cells : 0;
  }

  /** Entropy bound of the bit matrix left after pruning below the thresholds, per class. */
  compressedBytesPerClass(): number {
    const C = this.classes.length;
    return C ? compressedBytes(this.neurons, C, this.connections()) / C : 0;
  }
}
