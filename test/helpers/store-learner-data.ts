// The op stream of the learner crash test: op n (a learn of one example, or every PRUNE_EVERY-th a prune)
// is a pure function of n, so the parent can rebuild the learner any acknowledged prefix must produce.
import type { Engram, EngramOptions } from '../../src/learner/engram.js';
import type { PrunePolicy } from '../../src/learner/prune.js';
import { Rng } from '../../src/util/rng.js';

export const DIM = 32;
const CLASSES = 5;

/** What both the crashing store-backed learner and the in-memory rebuild are created with. */
export const LEARNER_OPTIONS: Pick<EngramOptions, 'backbone' | 'quantizer'> = { backbone: null, quantizer: { kind: 'sign', dim: DIM } };

const centres = (() => {
  const rng = new Rng(4242);
  return Array.from({ length: CLASSES }, () => Float32Array.from({ length: DIM }, () => rng.next() * 2 - 1));
})();

export function exampleAt(n: number): { label: string; vector: Float32Array } {
  const rng = new Rng(n * 7919 + 13);
  const c = rng.int(CLASSES);
  return { label: `class-${c}`, vector: Float32Array.from(centres[c], (v) => v + (rng.next() - 0.5) * 1.2) };
}

export function probes(count: number): Float32Array[] {
  return Array.from({ length: count }, (_, i) => exampleAt(1_000_000 + i).vector);
}

export const PRUNE_EVERY = 13;

/** The prune of op n (n a multiple of PRUNE_EVERY): by counter and by fan-in, in turn. */
export function pruneAt(n: number): PrunePolicy | null {
  if (n % PRUNE_EVERY !== 0) return null;
  return (n / PRUNE_EVERY) % 2 === 0 ? { kind: 'count', minCount: 2 } : { kind: 'fanin', maxClasses: 3 };
}

/** Runs op n of the stream on `engram`. */
export async function applyOp(engram: Engram, n: number): Promise<void> {
  const policy = pruneAt(n);
  if (policy) await engram.prune(policy);
  else {
    const { label, vector } = exampleAt(n);
    await engram.learn(label, [vector]);
  }
}

/** Ops of the stream a store-backed learner holds: its journal's records but the one metadata record. */
export function opsHeld(engram: Engram): number {
  return engram.journal()!.lastSeq - 1;
}

/** Examples the learner holds. */
export function learnedCount(engram: Engram): number {
  return Object.values(engram.stats().examples).reduce((a, b) => a + b, 0);
}

/** Learn ops among ops 1..n. */
export function learnsUpTo(n: number): number {
  return n - Math.floor(n / PRUNE_EVERY);
}
