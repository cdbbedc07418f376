// The methods compared, built fresh for each run: baselines from src/baselines and engram's memory in its
// deployments. The engram settings here are the ones chosen by bench/explore.ts (docs/benchmarks.md).
import { KNearest, LinearSoftmax, NearestClassMean, StreamingLda } from '../../src/baselines/index.js';
import type { Codebook } from '../../src/quantize/codebook.js';
import { TopKQuantizer } from '../../src/quantize/quantizer.js';
import { EngramMethod, type CodebookSpec, type EngramSettings } from './engram-method.js';
import type { Learner } from './protocol.js';
import { ResearchMemory, type ResearchSettings } from './research.js';

export interface Method extends Learner {
  bytesPerClass(): number;
  /** Entropy-bound bytes per class for engram's bit matrix; undefined for float methods. */
  compressedBytesPerClass?(): number;
}

export interface Codebooks {
  in: Codebook;
  ood: Codebook;
  tinyIn: Codebook;
  tinyOod: Codebook;
  unitsIn: Codebook;
  unitsOod: Codebook;
  /** Per-dimension mean and std of the calibration rows, for top-k standardisation. */
  statsIn: { mean: Float32Array; std: Float32Array };
  statsOod: { mean: Float32Array; std: Float32Array };
}

export interface MethodSpec {
  name: string;
  /** 'joint' methods see all training data at once (the offline upper bound), never incrementally. */
  joint?: boolean;
  /** The model after learning a set of examples does not depend on their order (NCM, SLDA, kNN, joint linear). */
  orderFree?: boolean;
  /** Which calibration an engram method uses: fitted on the first task (in-domain) or on the other dataset. */
  codebook?: keyof Codebooks;
  make(dim: number, codebooks: Codebooks): Method;
}

/** PQ geometry and preprocessing chosen by the validation sweep on 1280-d MobileNetV2 features (docs/benchmarks.md). */
export const ENGRAM_CODEBOOK: CodebookSpec = { parts: 256, anchors: 64, center: true, l2: true };

/** The chosen shape for a feature dimension: parts of about 5 values (at least 2), as for 1280-d. */
export function engramCodebook(dim: number): CodebookSpec {
  let parts = Math.min(ENGRAM_CODEBOOK.parts, Math.floor(dim / 2));
  while (dim % parts !== 0) parts--;
  return { ...ENGRAM_CODEBOOK, parts };
}

/**
 * The 1/16 budget shape: P*K/8 = D/4 bytes per class, 1/16 of NCM's 4*D (for 1280-d: 160 parts x 16 anchors,
 * 320 bytes), parts of 8 values; its relative threshold (3.75%) was chosen on validation as for the main shape.
 */
export function tinyCodebook(dim: number): CodebookSpec {
  return { parts: dim / 8, anchors: 16, center: true, l2: true };
}

export const TINY_RELATIVE = 0.0375;

/**
 * Example units (one column per stored example, two anchors per part stored and queried, a vote of the 5
 * best): parts of 2 values and 16 anchors, P*K/8 = D bytes per example (1280 for 1280-d: 1/4 of kNN's 4*D),
 * chosen on validation (docs/benchmarks.md).
 */
export function unitsCodebook(dim: number): CodebookSpec {
  let parts = Math.floor(dim / 2);
  while (dim % parts !== 0) parts--;
  return { parts, anchors: 16, center: true, l2: true };
}

export const UNITS_PROBES = 2;
export const UNITS_VOTE = 5;

/** The linear layers: standardised inputs, 10 epochs of Adam at 0.001, chosen on validation (docs/benchmarks.md). */
export const LINEAR = { epochs: 10, learningRate: 0.001, standardize: true, seed: 1 };

/**
 * Two-sided top-k on standardised features for the 1/16 budget: 2*D neurons (D/4 bytes per class, 320 for
 * 1280-d), k = D/20 largest and k smallest active, 8-bit counters pruned per class to connections seen in at
 * least 10% of its examples; chosen on validation (docs/benchmarks.md).
 */
export function tinyTopK(dim: number, stats: { mean: Float32Array; std: Float32Array }): TopKQuantizer {
  return TopKQuantizer.twoSided(dim, Math.max(1, Math.round(dim / 20)), stats);
}

export const TINY_SHARE = 0.1;

/** Fixed count threshold chosen by the validation sweep (about 2% of 400 examples per class). */
export const ENGRAM_MIN_COUNT = 8;

/** Relative count threshold: a class keeps connections seen in at least this share of its examples. */
export const ENGRAM_RELATIVE = 0.02;

function engram(name: string, codebook: 'in' | 'ood', s: EngramSettings): MethodSpec {
  return { name, codebook, make: (_d, cbs) => new EngramMethod(cbs[codebook], s) };
}

function prototype(name: string, codebook: 'in' | 'ood' | 'tinyIn' | 'tinyOod', s: Partial<ResearchSettings>): MethodSpec {
  const base: ResearchSettings = {
    counterMax: 15,
    scoring: 'bits',
    minCount: 1,
    storeOnError: false,
    warmup: 0,
    queryProbes: 1,
    relative: 0,
  };
  return { name, codebook, make: (_d, cbs) => new ResearchMemory([cbs[codebook]], { ...base, ...s }) };
}

function tinyTopKSpec(name: string, stats: 'statsIn' | 'statsOod'): MethodSpec {
  const s: EngramSettings = { deployment: 'pruned', probes: 1, minCount: 1, refine: false, counterBits: 8, share: TINY_SHARE };
  return { name, codebook: stats, make: (d, cbs) => new EngramMethod(tinyTopK(d, cbs[stats]), s) };
}

export function methodSpecs(): MethodSpec[] {
  const t = ENGRAM_MIN_COUNT;
  return [
    { name: 'ncm', orderFree: true, make: (d) => new NearestClassMean(d) },
    { name: 'slda', orderFree: true, make: (d) => new StreamingLda(d) },
    { name: 'knn1', orderFree: true, make: (d) => new KNearest(d, 1) },
    { name: 'knn5', orderFree: true, make: (d) => new KNearest(d, 5) },
    { name: 'linear-joint', joint: true, orderFree: true, make: (d) => new LinearSoftmax(d, LINEAR, 'linear-joint') },
    { name: 'linear-seq', make: (d) => new LinearSoftmax(d, LINEAR, 'linear-seq') },
    // The learner as shipped today (counters, refine on error, no threshold), on the chosen code shape.
    engram('engram-defaults', 'in', { deployment: 'counters', probes: 1, minCount: 1, refine: true }),
    engram('engram-binary', 'in', { deployment: 'binary', probes: 1, minCount: 1, refine: false }),
    engram('engram-pruned', 'in', { deployment: 'pruned', probes: 1, minCount: t, refine: false }),
    engram('engram-pruned-ood', 'ood', { deployment: 'pruned', probes: 1, minCount: t, refine: false }),
    {
      name: 'engram-share',
      codebook: 'in',
      make: (_d, cbs) => new EngramMethod(cbs.in, { deployment: 'pruned', probes: 1, minCount: 1, refine: false, share: ENGRAM_RELATIVE }),
    },
    {
      name: 'engram-units',
      codebook: 'unitsIn',
      make: (_d, cbs) =>
        new EngramMethod(cbs.unitsIn, { deployment: 'units', probes: UNITS_PROBES, minCount: 1, refine: false, vote: UNITS_VOTE }),
    },
    {
      name: 'engram-units-ood',
      codebook: 'unitsOod',
      make: (_d, cbs) =>
        new EngramMethod(cbs.unitsOod, { deployment: 'units', probes: UNITS_PROBES, minCount: 1, refine: false, vote: UNITS_VOTE }),
    },
    tinyTopKSpec('engram-tiny-topk', 'statsIn'),
    tinyTopKSpec('engram-tiny-topk-ood', 'statsOod'),
    // Prototypes (bench/lib/research.ts) of changes proposed for src/memory: per-class relative thresholds.
    prototype('proto-relative', 'in', { relative: ENGRAM_RELATIVE }),
    prototype('proto-relative-ood', 'ood', { relative: ENGRAM_RELATIVE }),
    prototype('proto-logcount', 'in', { scoring: 'log' }),
    prototype('proto-tiny', 'tinyIn', { relative: TINY_RELATIVE }),
    prototype('proto-tiny-ood', 'tinyOod', { relative: TINY_RELATIVE }),
  ];
}
