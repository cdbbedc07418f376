// The store's own whitening (sparse quantizer, whiten 'auto'): fitted on the examples the store learns, and
// refitted as they grow, until it has seen enough of them to stay fixed (docs/learner.md).
//
// While it calibrates, the store keeps every example's feature vector (the core's feature archive), so that a
// refit can code every stored example again under the new whitening: the memory is rebuilt from the archive,
// never left holding codes of two whitenings. Fits happen when the examples kept reach 16, then each time they
// double; the fit that sees CALIBRATION_ROWS examples (a sample of them, when more arrived at once) is the
// last: it is coded in the white layout (every neuron in one white block, sparse.ts), the features are dropped
// and the memory goes on as any other, O(code) per example.
import { fitWhitening, WHITENING_DEFAULTS, type Whitening } from '../quantize/whitening.js';
import type { Quantizer } from '../quantize/quantizer.js';
import { SparseQuantizer } from '../quantize/sparse.js';
import type { MemoryOptions, ResolvedQuantizer } from './config.js';
import { LearnerCore, type OwnWhitening } from './core.js';
import { coreReadOptions } from './build-quantizer.js';
import type { LearnerOp } from './ops.js';

/** Examples kept before the first fit. */
export const OWN_WHITENING_FIRST = 16;
/** Examples of the last fit: after it the whitening is fixed and the features are dropped. */
export const CALIBRATION_ROWS = 4096;

/** Examples kept at which the next fit happens, after a fit on `fitted` examples (0: none yet); null: fixed. */
export function nextFitAt(fitted: number): number | null {
  if (fitted >= CALIBRATION_ROWS) return null;
  return fitted === 0 ? OWN_WHITENING_FIRST : Math.min(2 * fitted, CALIBRATION_ROWS);
}

type LearnOp = Extract<LearnerOp, { op: 'learn' }>;

/** Rows kept in the core's archive. */
export function keptRows(core: LearnerCore): number {
  return (core.archive?.ops ?? []).reduce((n, op) => n + (op.op === 'learn' ? op.rows : 0), 0);
}

/** Examples beyond one per label a fit needs (its within-class scatter has that many degrees of freedom). */
export const OWN_WHITENING_SPREAD = 8;

/**
 * Fits the store's whitening on the examples in `core`'s archive: within-class scatter (each example minus its
 * label's mean), on at most CALIBRATION_ROWS of them taken evenly through the archive. Null while they hold
 * fewer than OWN_WHITENING_SPREAD examples beyond one per label (many labels of one example each: nothing yet
 * measures how a class varies); the next learn tries again.
 */
export function fitOwnWhitening(core: LearnerCore, dim: number): Whitening | null {
  const learns = (core.archive?.ops ?? []).filter((op): op is LearnOp => op.op === 'learn');
  const total = learns.reduce((n, op) => n + op.rows, 0);
  const take = Math.min(total, CALIBRATION_ROWS);
  const features = new Float32Array(take * dim);
  const labels: number[] = [];
  const ids = new Map<string, number>();
  let seen = 0;
  for (const op of learns) {
    const id = ids.get(op.label) ?? ids.set(op.label, ids.size).get(op.label)!;
    for (let r = 0; r < op.rows; r++, seen++) {
      // Row `seen` of `total` is taken when it is the first to reach the next of `take` even steps.
      if (Math.floor((seen * take) / total) === labels.length && labels.length < take) {
        features.set(op.features!.subarray(r * dim, (r + 1) * dim), labels.length * dim);
        labels.push(id);
      }
    }
  }
  if (take - ids.size < OWN_WHITENING_SPREAD) return null;
  return fitWhitening(features, dim, labels, { seed: 1, shrink: ownShrink(take) });
}

/**
 * Shrinkage of a fit on n examples, as a multiple of the mean eigenvalue: 3 (the default of `engram codebook
 * fit`) from 512 examples on, heavier below (1536 / n), so that a whitening estimated from few examples does not
 * shrink the very scatter of the examples it was fitted on (which makes their own scores, and so the open-set
 * threshold, too high). The last fit (CALIBRATION_ROWS examples, coded in the white layout) takes 1: with every
 * neuron in the white block, a lighter shrinkage keeps more of what separates classes (bench/results/shots.md).
 */
export function ownShrink(n: number): number {
  if (n >= CALIBRATION_ROWS) return FINAL_SHRINK;
  return Math.max(WHITENING_DEFAULTS.shrink, 1536 / n);
}

/** Shrinkage of the last fit. */
export const FINAL_SHRINK = 1;

/**
 * A new core holding what `from`'s archive holds, every example coded by `quantizer`; it keeps the features
 * while its whitening is not final, or when the store keeps features anyway.
 */
export function rebuildCore(
  from: LearnerCore,
  quantizer: Quantizer,
  ownWhitening: OwnWhitening | null,
  keepFeatures: boolean,
): LearnerCore {
  const archive = from.archive;
  if (!archive) throw new Error('engram: rebuilding the memory needs the features it was learned from');
  const keep = (ownWhitening !== null && !ownWhitening.fixed) || keepFeatures;
  const core = new LearnerCore({
    ...from.options,
    neurons: quantizer.neurons,
    active: quantizer.active,
    keepFeatures: keep,
    ...coreReadOptions(quantizer, { units: from.options.units, counterBits: from.options.counterBits }),
  });
  core.ownWhitening = ownWhitening;
  core.fixedThreshold = from.fixedThreshold;
  for (const op of archive.ops) {
    if (op.op !== 'learn') {
      core.apply(op);
      continue;
    }
    const codes = quantizer.encode(op.features!, op.rows);
    const { features, dim, ...rest } = op;
    core.apply(keep ? { ...rest, codes, active: quantizer.active, features, dim } : { ...rest, codes, active: quantizer.active });
  }
  return core;
}

/**
 * Whether a new store with these options fits its own whitening: sparse, whiten 'auto', none given, cosine
 * read, and features of more dimensions than the whitening's directions. A whitening of every direction (the
 * embedded backbone's 128) rescales noise as much as nuisance: on digits it took the share of unseen digits
 * answered unknown from 81% to 68% at 100 examples per class (docs/learner.md), for under a point of accuracy.
 */
export function calibratesOwnWhitening(q: ResolvedQuantizer, quantizer: Quantizer, mem: MemoryOptions): boolean {
  return (
    q.kind === 'sparse' &&
    quantizer.dim > WHITENING_DEFAULTS.d &&
    q.whiten === 'auto' &&
    quantizer instanceof SparseQuantizer &&
    !quantizer.whitening &&
    coreReadOptions(quantizer, { units: mem.units, counterBits: mem.counterBits ?? 8 }).read === 'cosine'
  );
}
