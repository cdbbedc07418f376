// Seeded randomness for the memory tests: every randomised suite prints its seed so a failure can be
// replayed with ENGRAM_SEED=<seed>.

import { Rng } from '../../src/util/rng.js';

/** The project's seeded generator (util/rng.ts, mulberry32) as a function returning [0, 1). */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** The seed for this run: ENGRAM_SEED when set, else time-based; printed once per suite. */
export function seedFor(suite: string): number {
  const fixed = process.env.ENGRAM_SEED;
  const seed = fixed ? Number(fixed) : Date.now() % 1_000_000_007;
  console.log(`${suite}: seed ${seed} (replay with ENGRAM_SEED=${seed})`);
  return seed;
}

/** Integer in [0, n). */
export function below(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

/** `batch` codes of `active` distinct neurons out of `neurons`, flattened. */
export function randomCodes(r: () => number, batch: number, active: number, neurons: number): Uint32Array {
  const out = new Uint32Array(batch * active);
  for (let b = 0; b < batch; b++) {
    const seen = new Set<number>();
    for (let i = 0; i < active; i++) {
      let n = below(r, neurons);
      while (seen.has(n) && seen.size < neurons) n = below(r, neurons);
      seen.add(n);
      out[b * active + i] = n;
    }
  }
  return out;
}
