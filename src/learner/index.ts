// The learner: the Engram API, its options and defaults.
export { Engram, type EngramOptions, type EngramStats, type Input as EngramInput, type LearnResult, type MemoryBudget } from './engram.js';
export type { Prediction, ClassScore } from './core.js';
export type { EvalItem, EvaluateOptions, EvalReport, EvalClass, EvalAnswer, EvalFailure, Rate as EvalRate } from './evaluate.js';
export { QUANTIZER_DEFAULTS, MEMORY_DEFAULTS, type QuantizerOptions, type MemoryOptions } from './config.js';
export type { PrunePolicy as EngramPrunePolicy } from './prune.js';
export type { QuantizerState } from './build-quantizer.js';
export { DEFAULT_BACKBONE } from './backbone-ref.js';
