// engram's learner (LearnerCore: the product code) as a benchmark method on cached features: a PQ codebook
// fitted on calibration rows, then codes stored class by class. Three deployments of the same memory:
//   binary   - OR-only bits (counterBits 0)
//   pruned   - 4-bit counters while learning, connections seen < minCount times pruned after each task,
//              deployed as bits only (counters dropped)
//   counters - 4-bit counters kept, minCount applied at query time
import { fitCodebook, type Codebook } from '../../src/quantize/codebook.js';
import { ProductQuantizer } from '../../src/quantize/quantizer.js';
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

export type Deployment = 'binary' | 'pruned' | 'counters';

export interface EngramSettings {
  deployment: Deployment;
  probes: number;
  /** Count threshold (pruned / counters). */
  minCount: number;
  refine: boolean;
}

export class EngramMethod implements Learner {
  readonly core: LearnerCore;
  readonly quantizer: ProductQuantizer;
  /** Microseconds spent in memory operations alone (codes in, no encoding), and rows they covered. */
  memoryMicros = { learn: 0, learnRows: 0, predict: 0, predictRows: 0 };

  constructor(
    codebook: Codebook,
    readonly settings: EngramSettings,
  ) {
    this.quantizer = new ProductQuantizer(codebook, settings.probes);
    const counterBits = settings.deployment === 'binary' ? 0 : 4;
    this.core = new LearnerCore({
      neurons: this.quantizer.neurons,
      active: this.quantizer.active,
      counterBits,
      refine: settings.refine && counterBits > 0,
      minCount: settings.deployment === 'counters' ? settings.minCount : 1,
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
    for (let s = 0; s < rows; ) {
      let e = s;
      while (e < rows && labels[e] === labels[s]) e++;
      this.core.learn(String(labels[s]), codes.subarray(s * A, e * A), e - s);
      s = e;
    }
    if (this.settings.deployment === 'pruned' && this.settings.minCount > 1) {
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

  /** Raw bytes of one class column: N bits, plus the counters when they are kept. */
  bytesPerClass(): number {
    const bits = this.settings.deployment === 'counters' ? 5 : 1;
    return (this.quantizer.neurons * bits) / 8;
  }

  /** Entropy-bound size of the bit matrix per class (what a compressed store would need). */
  compressedBytesPerClass(): number {
    const s = this.core.memory.stats();
    return s.classes === 0 ? 0 : s.compressedBytes / s.classes;
  }

  density(): number {
    return this.core.memory.stats().density;
  }
}
