// engram's learner (LearnerCore: the product code) as a benchmark method on cached features: a PQ codebook
// (or another quantizer) fitted on calibration rows, then codes stored class by class. Deployments:
//   binary   - OR-only bits (counterBits 0)
//   pruned   - counters while learning (4 bits, or counterBits), connections seen < minCount times pruned
//              after each task, deployed as bits only (counters dropped)
//   counters - 4-bit counters kept, minCount applied at query time
//   units    - example units: one bit column per stored example, read by a vote of the `vote` best
import { fitCodebook, type Codebook } from '../../src/quantize/codebook.js';
import { ProductQuantizer, type Quantizer } from '../../src/quantize/quantizer.js';
import { LearnerCore } from '../../src/learner/core.js';
import type { Learner } from './protocol.js';

export interface CodebookSpec {
  parts: number;
  anchors: number;
  center: boolean;
  l2: boolean;
}

const codebooks = new Map<string, Codebook>();

/** Fits (or reuses, within one process) a codebook on calibration rows; `key` names the calibration set. */
export function codebookFor(key: string, calib: Float32Array, dim: number, spec: CodebookSpec, seed: number): Codebook {
  const id = `${key}|${spec.parts}|${spec.anchors}|${spec.center}|${spec.l2}|${seed}`;
  let cb = codebooks.get(id);
  if (!cb) {
    cb = fitCodebook(calib, dim, { ...spec, iterations: 8, seed });
    codebooks.set(id, cb);
  }
  return cb;
}

export type Deployment = 'binary' | 'pruned' | 'counters' | 'units';

export interface EngramSettings {
  deployment: Deployment;
  probes: number;
  /** Count threshold (pruned / counters). */
  minCount: number;
  refine: boolean;
  /** Counter width while learning (pruned): 4 unless given. */
  counterBits?: 4 | 8;
  /** Pruned: a class keeps connections seen in at least this share of its examples (instead of minCount). */
  share?: number;
  /** Units: how many best-matching example columns vote. */
  vote?: number;
}

export class EngramMethod implements Learner {
  readonly core: LearnerCore;
  /** Microseconds spent in memory operations alone (codes in, no encoding), and rows they covered. */
  memoryMicros = { learn: 0, learnRows: 0, predict: 0, predictRows: 0 };

  readonly quantizer: Quantizer;

  constructor(
    source: Codebook | Quantizer,
    readonly settings: EngramSettings,
  ) {
    this.quantizer = 'encode' in source ? source : new ProductQuantizer(source, settings.probes);
    const d = settings.deployment;
    const counterBits = d === 'binary' || d === 'units' ? 0 : (settings.counterBits ?? 4);
    this.core = new LearnerCore({
      neurons: this.quantizer.neurons,
      active: this.quantizer.active,
      counterBits,
      refine: settings.refine && counterBits > 0,
      minCount: d === 'counters' ? settings.minCount : 1,
      ...(d === 'units' ? { units: 'example' as const, vote: settings.vote ?? 5 } : {}),
    });
    // Closed-set benchmark: always answer the best class.
    this.core.fixedThreshold = 0;
  }

  learn(features: Float32Array, labels: ArrayLike<number>): void {
    const rows = labels.length;
    const codes = this.quantizer.encode(features, rows);
    const A = this.quantizer.active;
    const t0 = performance.now();
    // Consecutive rows of one label go in as one learn call, as a user's `engram learn <label>` would.
    for (let s = 0; s < rows;) {
      let e = s;
      while (e < rows && labels[e] === labels[s]) e++;
      this.core.learn(String(labels[s]), codes.subarray(s * A, e * A), e - s);
      s = e;
    }
    if (this.settings.deployment === 'pruned' && this.settings.share !== undefined) {
      this.core.prune({ kind: 'share', share: this.settings.share });
    } else if (this.settings.deployment === 'pruned' && this.settings.minCount > 1) {
      this.core.prune({ kind: 'count', minCount: this.settings.minCount });
    }
    this.memoryMicros.learn += 1000 * (performance.now() - t0);
    this.memoryMicros.learnRows += rows;
  }

  predict(features: Float32Array): Int32Array {
    const rows = features.length / this.quantizer.dim;
    const codes = this.quantizer.encode(features, rows);
    const t0 = performance.now();
    const p = this.core.predict(codes, rows, 1);
    this.memoryMicros.predict += 1000 * (performance.now() - t0);
    this.memoryMicros.predictRows += rows;
    return Int32Array.from(p, (x) => (x.label === null ? -1 : Number(x.label)));
  }

  /** Raw bytes of one class: its N-bit columns (one, or one per example unit), plus counters when kept. */
  bytesPerClass(): number {
    const bits = this.settings.deployment === 'counters' ? 5 : 1;
    const unitLabel = this.core.unitLabel;
    const classes = this.core.activeLabels().length;
    const columns = unitLabel && classes > 0 ? unitLabel.filter((l) => l >= 0).length / classes : 1;
    return (columns * this.quantizer.neurons * bits) / 8;
  }

  /** Entropy-bound size of the bit matrix per class (what a compressed store would need). */
  compressedBytesPerClass(): number {
    const classes = this.core.activeLabels().length;
    return classes === 0 ? 0 : this.core.compressedBytes() / classes;
  }

  density(): number {
    return this.core.memory.stats().density;
  }
}
