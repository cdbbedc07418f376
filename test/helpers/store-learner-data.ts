// The example stream of the learner crash test: example n is a pure function of n, so the parent can
// rebuild the learner any acknowledged prefix must produce.
import type { Engram, EngramOptions } from '../../src/learner/engram.js';
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

/** Examples the learner holds (every op of the stream is a one-example learn). */
export function learnedCount(engram: Engram): number {
  return Object.values(engram.stats().examples).reduce((a, b) => a + b, 0);
}
