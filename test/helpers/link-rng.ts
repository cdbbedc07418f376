// A small seeded generator for randomised link tests; the seed is printed so a failure can be replayed
// with ENGRAM_TEST_SEED=<seed>.
export function seededRandom(label: string): { seed: number; next(): number; int(n: number): number; bytes(n: number): Buffer } {
  const seed = process.env.ENGRAM_TEST_SEED ? Number(process.env.ENGRAM_TEST_SEED) : (Date.now() ^ (process.pid << 8)) >>> 0;
  console.log(`${label}: seed ${seed}`);
  let s = seed >>> 0 || 1;
  const next = () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  return { seed, next, int, bytes };
}
