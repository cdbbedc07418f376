// User-facing learner configuration: validated once, with the defaults documented in docs/learner.md.
import { bool, int, num, oneOf, options, str } from '../util/validate.js';
import { QUANTIZER_KINDS, type QuantizerKind } from '../quantize/quantizer.js';

export { QUANTIZER_KINDS };
import { SPARSE_DEFAULTS } from '../quantize/sparse.js';

export interface QuantizerOptions {
  kind?: QuantizerKind;
  /** pq: number of parts P (must divide the feature dimension). */
  parts?: number;
  /** pq: anchors per part K. */
  anchors?: number;
  /** pq: anchors activated per part (multi-probe); 1 = nearest only. */
  probes?: number;
  /** pq: subtract the calibration mean before encoding. */
  center?: boolean;
  /** pq: L2-normalise (after centring) before encoding. */
  l2?: boolean;
  /** pq: a codebook file to use instead of fitting one from the backbone's calibration sample; sparse: a
   *  whitening file (engram codebook fit), which adds the whitened block. */
  codebook?: string;
  /** topk: active neurons per code; sparse: active neurons of the raw block. */
  k?: number;
  /** sparse: neurons of the raw block. */
  neurons?: number;
  /**
   * sparse: 'auto' (default) fits a whitening on the first learn of a new store when it brings at least 64
   * examples (their scatter: the nuisance of the domain) and adds the whitened block; 'off' keeps the raw block.
   */
  whiten?: 'auto' | 'off';
  /** topk: also activate the k smallest activations (neurons dim..2*dim-1): 2k active out of 2*dim. */
  twoSided?: boolean;
  /** Feature dimension, for a learner fed feature vectors without a backbone. */
  dim?: number;
}

export interface MemoryOptions {
  /** Counter bits beside each connection (0, 4 or 8). */
  counterBits?: 0 | 4 | 8;
  /** Refine on error at learn time. */
  refine?: boolean;
  /** Count only connections seen at least this often when scoring. */
  minCount?: number;
  /** Fixed open-set threshold in [0, 1] instead of the calibrated one. */
  unknownThreshold?: number;
  /** Keep the feature vectors of everything learned, so the codebook can be refitted (engram codebook refit). */
  keepFeatures?: boolean;
  /** 'class': one memory column per label (default); 'example': one per stored example, read by a vote. */
  units?: 'class' | 'example';
  /** Example units: how many best-matching columns vote (default 5). */
  vote?: number;
}

export type ResolvedQuantizer = Required<Pick<QuantizerOptions, 'kind'>> & QuantizerOptions;

// Defaults; see docs/learner.md for the measurements behind them.
export const QUANTIZER_DEFAULTS = {
  kind: 'sparse' as QuantizerKind,
  pq: { parts: 32, anchors: 256, probes: 4, center: true, l2: true },
  topk: { k: 32 },
  sparse: { neurons: SPARSE_DEFAULTS.neurons, k: SPARSE_DEFAULTS.k },
} as const;

export const MEMORY_DEFAULTS = {
  counterBits: 4 as 0 | 4 | 8,
  refine: false,
  minCount: 1,
  keepFeatures: false,
  units: 'class' as 'class' | 'example',
  vote: 5,
};

export function parseQuantizerOptions(value: unknown): ResolvedQuantizer {
  const o = options('quantizer', value, [
    'kind',
    'parts',
    'anchors',
    'probes',
    'center',
    'l2',
    'codebook',
    'k',
    'twoSided',
    'dim',
    'neurons',
    'whiten',
  ]);
  const kind = o.kind === undefined ? QUANTIZER_DEFAULTS.kind : oneOf('quantizer.kind', o.kind, QUANTIZER_KINDS);
  const q: ResolvedQuantizer = { kind };
  if (o.dim !== undefined) q.dim = int('quantizer.dim', o.dim, 1, 1 << 20);
  if (kind === 'pq') {
    const d = QUANTIZER_DEFAULTS.pq;
    q.parts = o.parts === undefined ? d.parts : int('quantizer.parts', o.parts, 1, 4096);
    q.anchors = o.anchors === undefined ? d.anchors : int('quantizer.anchors', o.anchors, 2, 65536);
    q.probes = o.probes === undefined ? d.probes : int('quantizer.probes', o.probes, 1, q.anchors);
    // With a codebook file, preprocessing not given is the codebook's own (build-quantizer fills it in).
    if (o.center !== undefined) q.center = bool('quantizer.center', o.center);
    else if (o.codebook === undefined) q.center = d.center;
    if (o.l2 !== undefined) q.l2 = bool('quantizer.l2', o.l2);
    else if (o.codebook === undefined) q.l2 = d.l2;
    if (o.codebook !== undefined) q.codebook = str('quantizer.codebook', o.codebook, { nonEmpty: true });
    if (q.parts * q.anchors > 1 << 22)
      throw new RangeError(`quantizer: parts x anchors must be at most ${1 << 22}, got ${q.parts * q.anchors}`);
  } else {
    for (const key of ['parts', 'anchors', 'probes', 'center', 'l2'] as const) {
      if (o[key] !== undefined) throw new RangeError(`quantizer.${key}: only applies to kind "pq", got kind "${kind}"`);
    }
    if (o.codebook !== undefined && kind !== 'sparse')
      throw new RangeError(`quantizer.codebook: only applies to kinds "pq" and "sparse", got kind "${kind}"`);
  }
  if (kind === 'sparse') {
    const d = QUANTIZER_DEFAULTS.sparse;
    q.neurons = o.neurons === undefined ? d.neurons : int('quantizer.neurons', o.neurons, 2, 1 << 20);
    q.k = o.k === undefined ? Math.min(d.k, Math.floor(q.neurons / 4)) : int('quantizer.k', o.k, 1, q.neurons - 1);
    if (o.codebook !== undefined) q.codebook = str('quantizer.codebook', o.codebook, { nonEmpty: true });
    if (o.twoSided !== undefined) throw new RangeError(`quantizer.twoSided: only applies to kind "topk", got kind "sparse"`);
    q.whiten = o.whiten === undefined ? 'auto' : oneOf('quantizer.whiten', o.whiten, ['auto', 'off'] as const);
    return q;
  }
  if (o.neurons !== undefined) throw new RangeError(`quantizer.neurons: only applies to kind "sparse", got kind "${kind}"`);
  if (o.whiten !== undefined) throw new RangeError(`quantizer.whiten: only applies to kind "sparse", got kind "${kind}"`);
  if (kind === 'topk') {
    q.k = o.k === undefined ? QUANTIZER_DEFAULTS.topk.k : int('quantizer.k', o.k, 1, 1 << 20);
    if (o.twoSided !== undefined && bool('quantizer.twoSided', o.twoSided)) q.twoSided = true;
  } else {
    for (const key of ['k', 'twoSided'] as const) {
      if (o[key] !== undefined) throw new RangeError(`quantizer.${key}: only applies to kind "topk", got kind "${kind}"`);
    }
  }
  return q;
}

/**
 * Memory options for a learner whose quantizer is `kind`: the sparse quantizer's class columns read counts,
 * so their counters default to 8 bits (a column halves itself when one reaches 255).
 */
export function parseMemoryOptions(
  value: unknown,
  kind: QuantizerKind = 'pq',
): Required<Omit<MemoryOptions, 'unknownThreshold' | 'vote'>> & Pick<MemoryOptions, 'unknownThreshold' | 'vote'> {
  const o = options('memory', value, ['counterBits', 'refine', 'minCount', 'unknownThreshold', 'keepFeatures', 'units', 'vote']);
  const units = o.units === undefined ? MEMORY_DEFAULTS.units : oneOf('memory.units', o.units, ['class', 'example'] as const);
  const vote = o.vote === undefined ? MEMORY_DEFAULTS.vote : int('memory.vote', o.vote, 1, 255);
  if (units === 'class' && o.vote !== undefined) throw new RangeError('memory.vote: only applies with units "example"');
  // An example unit holds one example: counters, refinement and count thresholds have nothing to count.
  const defaultBits = units === 'example' ? 0 : kind === 'sparse' ? 8 : MEMORY_DEFAULTS.counterBits;
  const counterBits = o.counterBits === undefined ? defaultBits : (int('memory.counterBits', o.counterBits, 0, 8) as 0 | 4 | 8);
  if (![0, 4, 8].includes(counterBits)) throw new RangeError(`memory.counterBits: expected 0, 4 or 8, got number ${counterBits}`);
  const refine = o.refine === undefined ? MEMORY_DEFAULTS.refine : bool('memory.refine', o.refine);
  const minCount = o.minCount === undefined ? MEMORY_DEFAULTS.minCount : int('memory.minCount', o.minCount, 1, 255);
  const keepFeatures = o.keepFeatures === undefined ? MEMORY_DEFAULTS.keepFeatures : bool('memory.keepFeatures', o.keepFeatures);
  if (units === 'example') {
    if (counterBits !== 0)
      throw new RangeError(`memory.counterBits: example units keep no counters (each column holds one example), got number ${counterBits}`);
    if (refine) throw new RangeError('memory.refine: does not apply to example units');
    if (minCount > 1)
      throw new RangeError(`memory.minCount: does not apply to example units (every connection is seen once), got number ${minCount}`);
  }
  const res: ReturnType<typeof parseMemoryOptions> = {
    counterBits,
    refine,
    minCount,
    keepFeatures,
    units,
    ...(units === 'example' ? { vote } : {}),
  };
  if (o.unknownThreshold !== undefined) res.unknownThreshold = num('memory.unknownThreshold', o.unknownThreshold, 0, 1);
  return res;
}
