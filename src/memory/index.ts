export { BinaryMemory, serializedSize } from './binary-memory.js';
export { ReferenceMemory } from './reference.js';
export { topK } from './top-k.js';
export { compressedBytes, keepForBytes, keepForDensity } from './budget.js';
export type { CodeBatch, Labels } from './codes.js';
export type { BinaryMemoryOptions, CounterBits, MemoryLike, MemoryStats, MemoryPrune, PrunePolicy, ScoreOptions, TopK } from './types.js';
