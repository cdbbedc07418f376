// Pruning policies: each removes what it promises and returns the number removed; stats follow.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryMemory, compressedBytes } from '../src/memory/index.js';
import { below, randomCodes, rng, seedFor } from './helpers/memory-random.js';

const u32 = (...v: number[]) => new Uint32Array(v);

function filled(seed: number, counterBits: 0 | 4 | 8 = 4): BinaryMemory {
  const r = rng(seed);
  const m = new BinaryMemory({ neurons: 256, counterBits, classes: 10, active: 16 });
  for (let c = 0; c < 10; c++) m.store(randomCodes(r, 40, 16, 256), c);
  return m;
}

const seed = seedFor('12.prune');

test('minCount removes connections seen fewer times and keeps the rest', () => {
  const m = filled(seed);
  const before = m.stats().connections;
  const weak = (() => {
    // count connections with counter < 3 through the threshold score of every single neuron
    let n = 0;
    for (let i = 0; i < 256; i++) {
      const all = m.score({ indices: u32(i), active: 1 }, { minCount: 1 });
      const strong = m.score({ indices: u32(i), active: 1 }, { minCount: 3 });
      for (let c = 0; c < 10; c++) n += all[c] - strong[c];
    }
    return n;
  })();
  assert.ok(weak > 0, 'the fixture has weak connections');
  assert.is(m.prune({ minCount: 3 }), weak);
  assert.is(m.stats().connections, before - weak);
  assert.is(m.prune({ minCount: 3 }), 0, 'pruning again removes nothing');
});

// 70 classes (two 64-class words), each stored 1..40 times, so counters spread from 1 to well above 4.
function filledWide(seed: number, counterBits: 4 | 8): BinaryMemory {
  const r = rng(seed);
  const m = new BinaryMemory({ neurons: 128, counterBits, classes: 70, active: 16 });
  for (let c = 0; c < 70; c++) m.store(randomCodes(r, 1 + below(r, 40), 16, 128), c);
  return m;
}

/** Bit matrix as neuron x class 0/1, read through single-neuron scores. */
function connectionsOf(m: BinaryMemory): Int32Array[] {
  return Array.from({ length: m.neurons }, (_, i) => m.score({ indices: u32(i), active: 1 }));
}

for (const counterBits of [4, 8] as const) {
  test(`minCountPerClass (${counterBits}-bit) equals the global minCount applied to each class on its own`, () => {
    const m = filledWide(seed + 10 + counterBits, counterBits);
    const r = rng(seed + 20 + counterBits);
    const max = m.counterMax;
    const mins = Array.from({ length: 70 }, () => 1 + below(r, 7));
    mins[0] = 1;
    mins[69] = max;
    // For each threshold used, a clone pruned globally with it: its column c is what class c must become.
    const expected = new Map<number, BinaryMemory>();
    for (const t of new Set(mins)) {
      const clone = m.clone();
      clone.prune({ minCount: t });
      expected.set(t, clone);
    }
    const before = m.stats();
    const removed = m.prune({ minCountPerClass: mins });
    const after = m.stats();
    let expectedRemoved = 0;
    for (let c = 0; c < 70; c++) {
      const want = expected.get(mins[c])!.stats().connectionsPerClass[c];
      assert.is(after.connectionsPerClass[c], want, `class ${c} (threshold ${mins[c]})`);
      expectedRemoved += before.connectionsPerClass[c] - want;
    }
    assert.ok(expectedRemoved > 0, 'the fixture has connections below their class threshold');
    assert.is(after.connectionsPerClass[0], before.connectionsPerClass[0], 'threshold 1 keeps the class whole');
    assert.is(removed, expectedRemoved);
    assert.is(after.connections, before.connections - removed);
    // Not only the counts: every connection of class c is the one the clone for mins[c] kept.
    const got = connectionsOf(m);
    const want = new Map([...expected].map(([t, clone]) => [t, connectionsOf(clone)]));
    let differ = 0;
    for (let n = 0; n < m.neurons; n++) for (let c = 0; c < 70; c++) if (got[n][c] !== want.get(mins[c])![n][c]) differ++;
    assert.is(differ, 0, 'connections that differ from the class-by-class prune');
    // Counters match too: scores thresholded above the prune's own thresholds agree class by class.
    for (const t of [5, 9]) {
      const codes = { indices: Uint32Array.from({ length: 128 }, (_, i) => i), active: 128 };
      const s = m.score(codes, { minCount: t });
      for (let c = 0; c < 70; c++) assert.is(s[c], expected.get(mins[c])!.score(codes, { minCount: t })[c], `class ${c}, minCount ${t}`);
    }
    assert.is(m.prune({ minCountPerClass: mins }), 0, 'pruning again removes nothing');
  });
}

test('minCountPerClass takes a number array, a Uint32Array or a view into a larger buffer alike', () => {
  const mins = Array.from({ length: 70 }, (_, c) => 1 + (c % 5));
  const a = filledWide(seed + 30, 4);
  const b = a.clone();
  const c = a.clone();
  const backing = new Uint32Array(80).fill(15);
  backing.set(mins, 5);
  const ra = a.prune({ minCountPerClass: mins });
  assert.ok(ra > 0);
  assert.is(b.prune({ minCountPerClass: Uint32Array.from(mins) }), ra);
  assert.is(c.prune({ minCountPerClass: backing.subarray(5, 75) }), ra);
  assert.ok(a.serialize().equals(b.serialize()));
  assert.ok(a.serialize().equals(c.serialize()));
});

test('minCountPerClass of all ones removes nothing; a memory without classes takes an empty array', () => {
  const m = filledWide(seed + 40, 8);
  const before = m.serialize();
  assert.is(m.prune({ minCountPerClass: new Uint32Array(70).fill(1) }), 0);
  assert.ok(m.serialize().equals(before));
  assert.is(new BinaryMemory({ neurons: 8, counterBits: 4 }).prune({ minCountPerClass: [] }), 0);
});

test('maxFanIn clears neurons shared by more classes', () => {
  const m = filled(seed + 1, 0);
  const hist = m.stats().fanInHistogram;
  let expected = 0;
  for (let f = 5; f < hist.length; f++) expected += f * hist[f];
  assert.ok(expected > 0, 'the fixture has neurons with fan-in above 4');
  assert.is(m.prune({ maxFanIn: 4 }), expected);
  const after = m.stats().fanInHistogram;
  for (let f = 5; f < after.length; f++) assert.is(after[f], 0);
  assert.is(after[0], hist[0] + hist.slice(5).reduce((a, b) => a + b, 0));
});

test('maxDensity prunes down to the density budget exactly', () => {
  const m = filled(seed + 2);
  const s = m.stats();
  assert.ok(s.density > 0.2);
  const keep = Math.floor(0.2 * 256 * 10);
  assert.is(m.prune({ maxDensity: 0.2 }), s.connections - keep);
  assert.is(m.stats().connections, keep);
  assert.ok(m.stats().density <= 0.2);
  assert.is(m.prune({ maxDensity: 0.5 }), 0);
});

test('maxDensity removes weak connections before strong ones', () => {
  const m = new BinaryMemory({ neurons: 16, counterBits: 8, classes: 2, active: 2 });
  for (let i = 0; i < 5; i++) m.store(u32(1, 2), 0);
  m.store(u32(3, 4), 1);
  assert.is(m.prune({ maxDensity: 2 / 32 }), 2);
  assert.equal(Array.from(m.score({ indices: u32(1, 2, 3, 4), active: 4 })), [2, 0]);
});

test('maxBytes prunes until the compressed size fits', () => {
  const m = filled(seed + 3);
  const s = m.stats();
  const budget = Math.floor(s.compressedBytes / 2);
  const removed = m.prune({ maxBytes: budget });
  const after = m.stats();
  assert.ok(removed > 0);
  assert.ok(after.compressedBytes <= budget, `${after.compressedBytes} <= ${budget}`);
  assert.ok(compressedBytes(256, 10, after.connections + 1) > budget, 'no more than needed was removed');
  assert.is(m.prune({ maxBytes: budget }), 0);
  assert.is(m.prune({ maxBytes: 0 }), after.connections);
  assert.is(m.stats().connections, 0);
});

test('classId / clearClass removes one class only and the id stays usable', () => {
  const m = filled(seed + 4);
  const per = m.stats().connectionsPerClass;
  assert.is(m.clearClass(3), per[3]);
  const after = m.stats().connectionsPerClass;
  assert.is(after[3], 0);
  for (let c = 0; c < 10; c++) if (c !== 3) assert.is(after[c], per[c]);
  m.store(u32(...Array.from({ length: 16 }, (_, i) => i)), 3);
  assert.is(m.stats().connectionsPerClass[3], 16);
  assert.is(m.classCount, 10);
});

test('stats: densities and histogram agree with connection counts', () => {
  const m = filled(seed + 5);
  const s = m.stats();
  const sum = s.connectionsPerClass.reduce((a, b) => a + b, 0);
  assert.is(sum, s.connections);
  assert.is(
    s.fanInHistogram.reduce((a, b) => a + b, 0),
    256,
  );
  assert.is(
    s.fanInHistogram.reduce((a, f, i) => a + f * i, 0),
    s.connections,
  );
  assert.ok(Math.abs(s.density - s.connections / 2560) < 1e-12);
  assert.ok(Math.abs(s.densityPerClass[2] - s.connectionsPerClass[2] / 256) < 1e-12);
  assert.is(s.serializedBytes, m.serialize().length);
  assert.is(s.bytes, 256 * 8 + (256 * 64) / 2);
});

test.run();
