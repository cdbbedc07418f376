// What every memory implementation offers: the native BinaryMemory and the TypeScript ReferenceMemory
// both implement MemoryLike, so property tests can drive them with the same operation sequences.
import type { CodeBatch, Labels } from './codes.js';

export type CounterBits = 0 | 4 | 8;

export interface BinaryMemoryOptions {
  /** Code neurons N (1 .. 2^24). */
  neurons: number;
  /** Saturating counter per connection: 0 (bits only), 4 or 8 bits. */
  counterBits?: CounterBits;
  /** Classes to create up front. */
  classes?: number;
  /** Active neurons per code, used when codes are passed as a bare Uint32Array. */
  active?: number;
}

/**
 * One memory operation per prune call, keyed by what it limits. These are the memory's own operations, not the
 * policies users name: those (budget, fanin, count, share, class) live in learner/prune.ts and map onto these.
 */
export type MemoryPrune =
  | { minCount: number }
  /** One threshold per class (length classCount, each 1 .. counterMax; 1 keeps the class whole); needs counters. */
  | { minCountPerClass: Uint32Array | readonly number[] }
  | { maxFanIn: number }
  | { maxBytes: number }
  | { maxDensity: number }
  | { classId: number };

/** @deprecated The memory operation's old name: use MemoryPrune (users' policies are learner/prune.ts's PrunePolicy). */
export type PrunePolicy = MemoryPrune;

export interface ScoreOptions {
  /** Count only connections whose counter is >= minCount (needs counters; scalar path). */
  minCount?: number;
  /** 'scalar' forces the reference kernel; 'active' (default) uses SIMD when available. */
  kernel?: 'active' | 'scalar';
}

export interface MemoryStats {
  neurons: number;
  classes: number;
  counterBits: CounterBits;
  connections: number;
  connectionsPerClass: Float64Array;
  /** connections / (neurons x classes); 0 without classes. */
  density: number;
  /** connectionsPerClass[c] / neurons. */
  densityPerClass: Float64Array;
  /** fanInHistogram[f] = neurons connected to exactly f classes, f = 0 .. classes. */
  fanInHistogram: Float64Array;
  /** Bytes held in memory by bits and counters (class capacity included). */
  bytes: number;
  /** Length of serialize()'s output. */
  serializedBytes: number;
  /** Entropy bound of the bit matrix: what an ideal compressor would need (the maxBytes budget's unit). */
  compressedBytes: number;
}

export interface TopK {
  /** k actually returned per row: min(k, classes). */
  k: number;
  /** Class ids [batch x k], best first; ties go to the lower class id. */
  indices: Uint32Array;
  /** Their scores [batch x k]. */
  scores: Int32Array;
}

export interface MemoryLike {
  readonly neurons: number;
  readonly classCount: number;
  readonly counterBits: CounterBits;
  addClass(): number;
  store(codes: CodeBatch, labels: Labels): void;
  adjust(codes: CodeBatch, labels: Labels, delta: number): { added: number; removed: number };
  score(codes: CodeBatch, options?: ScoreOptions): Int32Array;
  /** Int32Array [batch x classCount]: the sum of each class's counters over each code's neurons (needs counters). */
  scoreCounts(codes: CodeBatch, options?: { kernel?: 'active' | 'scalar' }): Int32Array;
  /** Halves every counter of a class, rounding up, so no connection disappears (needs counters). */
  halveClass(classId: number): void;
  /** Sum, sum of squares and largest of a class's counters over neurons [begin, end) (default: all; needs counters). */
  counterMoments(classId: number, begin?: number, end?: number): { sum: number; sumSq: number; max: number };
  prune(policy: MemoryPrune): number;
  clearClass(classId: number): number;
  stats(): MemoryStats;
  serialize(): Buffer;
}
