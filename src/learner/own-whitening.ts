// The store's own whitening (sparse quantizer, whiten 'auto'): fitted on the examples the store learns, and
// refitted as they grow, until it has seen enough of them to stay fixed (docs/learner.md).
//
// While it calibrates, the store keeps every example's feature vector (the core's feature archive), so that a
// refit can code every stored example again under the new whitening: the memory is rebuilt from the archive,
// never left holding codes of two whitenings. Before there are examples enough to fit one (16, with some
// spread within labels), a store of 8 labels or more, one example each, centres its codes on their mean, again
// at every learn (until a label has a second example: then the raw codes again, for its open-set threshold):
// a whitening of no directions (centreWhitening), coded in the white layout. Fits happen when the examples
// kept reach 16, then each time they double; the fit that sees CALIBRATION_ROWS examples (a sample
// of them, when more arrived at once) is the last: it is coded in the white layout (every neuron in one white
// block, sparse.ts), the features are dropped and the memory goes on as any other, O(code) per example.
import { centreWhitening, fitWhitening, WHITENING_DEFAULTS, type Whitening } from '../quantize/whitening.js';
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

/**
 * When a store centres (no whitening yet): 8 labels or more, of one example each. Centred on their own mean,
 * the known classes look unlike each other (the centred means of C classes point apart, cosine -1/(C - 1)
 * between two), so the open-set calibration's novel samples (a known example's best score on the other
 * classes) come out lower than a truly novel image scores and "unknown" is seldom answered: Fashion-MNIST, 3
 * classes of 3 examples one per call, 0% of novel images turned away against 75% with the raw codes; 8 classes
 * with a second example for 4 of them, 16% against 51%. With one example per label there are no known samples
 * and no threshold either way, and with fewer than 8 labels the centring did not help accuracy.
 */
export const OWN_CENTRE_LABELS = 8;

/** Whether a store with these examples centres until its first whitening (OWN_CENTRE_LABELS). */
export function centres(core: LearnerCore): boolean {
  const { rows, labels } = keptLearns(core);
  return centresOn(rows, labels.size);
}

function centresOn(rows: number, labels: number): boolean {
  return labels >= OWN_CENTRE_LABELS && rows === labels;
}

/**
 * Examples kept at which the next fit happens, after a fit on `fitted` examples (0: none yet; `centre`: that
 * fit was a centring); null: fixed. Before any fit, and after a centring, every learn tries (fitOwnWhitening
 * decides whether there is anything new: a whitening, or a centring worth coding the memory again for); this
 * says when the first whitening can come. After a fit, when the examples double.
 */
export function nextFitAt(fitted: number, centre = false): number | null {
  if (fitted >= CALIBRATION_ROWS) return null;
  if (fitted === 0) return OWN_WHITENING_FIRST;
  if (centre) return Math.max(fitted + 1, OWN_WHITENING_FIRST);
  return Math.min(2 * fitted, CALIBRATION_ROWS);
}

/**
 * Whether the store may fit anew after the whitening `w` (null: none): when its examples reach nextFitAt, or
 * when labels arrived that the fit never saw (labelsDue). A whitening fitted before half the classes existed
 * measures how the first ones vary: in class order (Split-CIFAR-10, 100 examples per class) the fit at 800
 * examples saw eight classes of ten.
 */
export function fitDue(w: Whitening | null, core: LearnerCore): boolean {
  if (w === null || w.d === 0) return true;
  const at = nextFitAt(w.samples);
  if (at === null) return false;
  const { rows, firstRows } = keptLearns(core);
  return rows >= at || labelsDue(firstRows, w.samples);
}

/**
 * Labels seen by a fit below which every new label refits it; past them, an eighth more labels do (so a store
 * of many small classes refits about as often as the doubling schedule, not at every label).
 */
export const OWN_REFIT_LABELS = 64;

/** Whether the labels first learned after the first `fitted` kept examples call for a refit (fitDue). */
function labelsDue(firstRows: number[], fitted: number): boolean {
  const before = firstRows.filter((r) => r < fitted).length;
  const after = firstRows.length - before;
  return after > 0 && (before < OWN_REFIT_LABELS || 8 * after >= before);
}

/** nextFitAt after the whitening `w` (null: none yet). */
export function nextFitAfter(w: Whitening | null): number | null {
  return nextFitAt(w?.samples ?? 0, w?.d === 0);
}

/**
 * The layout a store's own whitening is coded in: 'white' (every neuron in one white block) for a centring and
 * for the last fit, where the raw block has nothing left to add; 'split' for the fits in between, whose young
 * whitening the raw block backs up for classes of few examples (docs/learner.md).
 */
export function ownLayout(w: Whitening): 'split' | 'white' {
  return w.d === 0 || nextFitAfter(w) === null ? 'white' : 'split';
}

type LearnOp = Extract<LearnerOp, { op: 'learn' }>;

/** Rows kept in the core's archive. */
export function keptRows(core: LearnerCore): number {
  return keptLearns(core).rows;
}

/**
 * The learns in `core`'s archive, their rows, their labels numbered in order of first appearance, and the row
 * at which each label (by that number) first appears.
 */
function keptLearns(core: LearnerCore): { learns: LearnOp[]; rows: number; labels: Map<string, number>; firstRows: number[] } {
  const learns = (core.archive?.ops ?? []).filter((op): op is LearnOp => op.op === 'learn');
  const labels = new Map<string, number>();
  const firstRows: number[] = [];
  let rows = 0;
  for (const op of learns) {
    if (!labels.has(op.label)) {
      labels.set(op.label, labels.size);
      firstRows.push(rows);
    }
    rows += op.rows;
  }
  return { learns, rows, labels, firstRows };
}

/** Examples beyond one per label a fit needs (its within-class scatter has that many degrees of freedom). */
export const OWN_WHITENING_SPREAD = 8;

/**
 * The store's whitening, fitted on the examples in `core`'s archive (at most CALIBRATION_ROWS of them, taken
 * evenly through it): within-class scatter (each example minus its label's mean) from OWN_WHITENING_FIRST
 * examples on, when they hold at least OWN_WHITENING_SPREAD beyond one per label. Else a centring on their
 * mean, while they are OWN_CENTRE_LABELS labels or more of one example each (nothing yet measures how a class
 * varies): at every learn while they are fewer than OWN_WHITENING_FIRST, then each time they double past
 * `current` (the store's centring now), and at CALIBRATION_ROWS, where it is final. Null when there is nothing
 * new to fit.
 */
export function fitOwnWhitening(core: LearnerCore, dim: number, current: Whitening | null = null): Whitening | null {
  const { learns, rows: total, labels: ids } = keptLearns(core);
  const take = Math.min(total, CALIBRATION_ROWS);
  const whiten = take >= OWN_WHITENING_FIRST && take - ids.size >= OWN_WHITENING_SPREAD;
  if (!whiten) {
    if (!centresOn(total, ids.size)) return null;
    const centred = current?.d === 0 ? current.samples : 0;
    if (centred >= OWN_WHITENING_FIRST && take < Math.min(2 * centred, CALIBRATION_ROWS)) return null;
  }
  const features = new Float32Array(take * dim);
  const labels: number[] = [];
  let seen = 0;
  for (const op of learns) {
    const id = ids.get(op.label)!;
    for (let r = 0; r < op.rows; r++, seen++) {
      // Row `seen` of `total` is taken when it is the first to reach the next of `take` even steps.
      if (Math.floor((seen * take) / total) === labels.length && labels.length < take) {
        features.set(op.features!.subarray(r * dim, (r + 1) * dim), labels.length * dim);
        labels.push(id);
      }
    }
  }
  return whiten ? fitWhitening(features, dim, labels, { seed: 1, shrink: ownShrink(take) }) : centreWhitening(features, dim);
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
