// The SIMD kernels (AVX2 / NEON) give exactly the scalar kernel's scores, through the public API.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryMemory } from '../src/memory/index.js';
import { loadBinding } from '../src/native/index.js';
import { below, randomCodes, rng, seedFor } from './helpers/memory-random.js';

const seed = seedFor('15.simd');
const info = loadBinding().simd();
if (!info.simd) console.log(`15.simd: no SIMD kernels on ${process.arch}; the cases compare scalar with scalar`);

test(`${info.active} and scalar kernels agree for class counts around word boundaries`, () => {
  const r = rng(seed);
  for (const classes of [1, 2, 63, 64, 65, 128, 191, 255, 256, 257, 320, 1000]) {
    const neurons = 64 + below(r, 2000);
    const active = 1 + below(r, 100);
    const m = new BinaryMemory({ neurons, classes, active });
    for (let i = 0; i < 30; i++) {
      m.store(
        randomCodes(r, 20, active, neurons),
        Uint32Array.from({ length: 20 }, () => below(r, classes)),
      );
    }
    const q = randomCodes(r, 50, active, neurons);
    const a = m.score(q, { kernel: 'scalar' });
    const b = m.score(q);
    assert.equal(b, a, `classes ${classes}`);
    assert.ok(
      a.some((v) => v > 0),
      'the query hits stored connections',
    );
  }
});

test('agreement on the benchmark geometry (N = 16384, C = 1000, 64 active, dense rows)', () => {
  const r = rng(seed + 1);
  const m = new BinaryMemory({ neurons: 16384, classes: 1000, active: 64 });
  for (let c = 0; c < 1000; c++) m.store(randomCodes(r, 60, 64, 16384), c);
  const q = randomCodes(r, 100, 64, 16384);
  assert.equal(m.score(q), m.score(q, { kernel: 'scalar' }));
  const d = m.stats().density;
  assert.ok(d > 0.15 && d < 0.3, `density ${d}`);
});

test('variable-length codes with long lists (many bit planes) agree', () => {
  const r = rng(seed + 2);
  const m = new BinaryMemory({ neurons: 5000, classes: 300 });
  const lengths = [0, 1, 2, 3, 4, 7, 8, 255, 256, 1000, 4999];
  const offsets = new Uint32Array(lengths.length + 1);
  lengths.forEach((l, i) => (offsets[i + 1] = offsets[i] + l));
  const idx = new Uint32Array(offsets[lengths.length]);
  for (let i = 0; i < idx.length; i++) idx[i] = below(r, 5000);
  m.store(
    { indices: idx, offsets },
    Uint32Array.from(lengths, (_, i) => i * 27),
  );
  const a = m.score({ indices: idx, offsets }, { kernel: 'scalar' });
  assert.equal(m.score({ indices: idx, offsets }), a);
  assert.ok(Math.max(...a) > 256, 'sums exceed 8 bit planes');
});

test.run();
