// A seeded generator for randomised link tests (util/rng.ts); the seed is printed so a failure can be
// replayed with ENGRAM_TEST_SEED=<seed>.
import { Rng } from '../../src/util/rng.js';

export function seededRandom(label: string): { seed: number; next(): number; int(n: number): number; bytes(n: number): Buffer } {
  const seed = process.env.ENGRAM_TEST_SEED ? Number(process.env.ENGRAM_TEST_SEED) : (Date.now() ^ (process.pid << 8)) >>> 0;
  console.log(`${label}: seed ${seed}`);
  const r = new Rng(seed);
  const bytes = (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = r.int(256);
    return b;
  };
  return { seed, next: () => r.next(), int: (n: number) => r.int(n), bytes };
}
