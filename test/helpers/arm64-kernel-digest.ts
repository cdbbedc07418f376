// Child process for test/90.arm64: scores seeded memories and runs a small learner end to end, then prints
// one JSON line with the kernel in use and a SHA-256 of every score and prediction. Run once as is and once
// with ENGRAM_SIMD=scalar, the two digests must be equal: the whole process, not one call, is compared.
import { createHash } from 'node:crypto';
import { BinaryMemory } from '../../src/memory/index.js';
import { loadBinding } from '../../src/native/index.js';
import { Engram } from '../../src/learner/engram.js';
import { below, randomCodes, rng } from './memory-random.js';

const seed = Number(process.argv[2]);
const r = rng(seed);
const hash = createHash('sha256');
let nonzero = 0;

// Geometries around the 128-class NEON step and its 64-class tail, bits only and with counters.
for (const [neurons, classes, active, counterBits] of [
  [512, 1, 8, 0],
  [2048, 127, 32, 0],
  [2048, 128, 32, 4],
  [4096, 129, 64, 8],
  [16384, 1000, 64, 0],
] as const) {
  const m = new BinaryMemory({ neurons, classes, active, counterBits });
  for (let i = 0; i < 40; i++) {
    m.store(
      randomCodes(r, 25, active, neurons),
      Uint32Array.from({ length: 25 }, () => below(r, classes)),
    );
  }
  if (counterBits) m.prune({ minCount: 2 });
  const scores = m.score(randomCodes(r, 40, active, neurons));
  for (const s of scores) if (s > 0) nonzero++;
  hash.update(new Uint8Array(scores.buffer, scores.byteOffset, scores.byteLength));
}

// The learner on feature vectors: 12 classes of noisy points around random centres.
const dim = 96;
const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const centres = Array.from({ length: 12 }, () => Float32Array.from({ length: dim }, gauss));
const near = (c: Float32Array) => Float32Array.from(c, (x) => x + 0.6 * gauss());
const e = await Engram.memory({ backbone: null, quantizer: { kind: 'sign', dim } });
for (let c = 0; c < centres.length; c++)
  await e.learn(
    `class-${c}`,
    Array.from({ length: 8 }, () => near(centres[c])),
  );
const queries = centres.flatMap((c) => Array.from({ length: 5 }, () => near(c)));
const predictions = await e.predict(queries);
await e.close();
const correct = predictions.filter((p, i) => p.top[0]?.label === `class-${Math.floor(i / 5)}`).length;
hash.update(JSON.stringify(predictions));

console.log(JSON.stringify({ kernel: loadBinding().simd().active, digest: hash.digest('hex'), nonzero, correct, queries: queries.length }));
