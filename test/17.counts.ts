// Counter reads of the memory (the cosine read's inputs): scoreCounts, halveClass and counterMoments give
// the same answers natively (SIMD and scalar kernels) as in ReferenceMemory, on random memories whose
// counters saturate, for class counts that leave SIMD tails and codes long enough to pass the 16-bit flush.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryMemory, ReferenceMemory, type CounterBits, type MemoryLike } from '../src/memory/index.js';
import { loadBinding } from '../src/native/loader.js';
import { below, randomCodes, rng, seedFor } from './helpers/memory-random.js';

const seed = seedFor('17.counts');

type Pair = { n: BinaryMemory; r: ReferenceMemory };

/**
 * The same random memory twice: each class gets a few variable-length codes with random deltas, a quarter of
 * them +255 (saturating), and one negative delta, so counters span 0 .. counterMax.
 */
function randomPair(r: () => number, neurons: number, counterBits: CounterBits, classes: number): Pair {
  const n = new BinaryMemory({ neurons, counterBits, classes });
  const ref = new ReferenceMemory({ neurons, counterBits, classes });
  const max = (1 << counterBits) - 1;
  for (let c = 0; c < classes; c++) {
    for (let round = 0; round < 4; round++) {
      const len = 1 + below(r, neurons - 1);
      const code = { indices: randomCodes(r, 1, len, neurons), offsets: Uint32Array.of(0, len) };
      const delta = round === 3 ? -1 - below(r, max) : r() < 0.25 ? 255 : 1 + below(r, max);
      const a = n.adjust(code, [c], delta);
      const b = ref.adjust(code, [c], delta);
      assert.equal(a, b, `adjust class ${c} round ${round}`);
    }
  }
  return { n, r: ref };
}

function same(a: Int32Array, b: Int32Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.unreachable(`${what}: differs at ${i}: ${a[i]} vs ${b[i]} (seed ${seed})`);
}

const Counts = suite('scoreCounts');

const CLASS_COUNTS = [1, 15, 31, 33, 100, 1000];

for (const counterBits of [4, 8] as const) {
  for (const classes of CLASS_COUNTS) {
    Counts(`${counterBits}-bit, ${classes} classes: native = scalar kernel = reference, codes of 1 to 600 rows`, () => {
      const r = rng(seed + classes * 10 + counterBits);
      const neurons = classes >= 1000 ? 700 : 1200;
      const { n, r: ref } = randomPair(r, neurons, counterBits, classes);
      for (const active of [1, 37, 257, 258, 600]) {
        const codes = { indices: randomCodes(r, 3, active, neurons), active };
        const want = ref.scoreCounts(codes);
        same(n.scoreCounts(codes), want, `active kernel, ${active} rows`);
        same(n.scoreCounts(codes, { kernel: 'scalar' }), want, `scalar kernel, ${active} rows`);
      }
      // Variable-length codes with repeated rows: a row listed twice counts twice.
      const idx = Uint32Array.from({ length: 700 }, () => below(r, neurons));
      const varCodes = { indices: idx, offsets: Uint32Array.of(0, 0, 300, 700) };
      same(n.scoreCounts(varCodes), ref.scoreCounts(varCodes), 'variable-length codes');
    });
  }
}

Counts('saturated counters sum past 65535 without wrapping (every kernel)', () => {
  const neurons = 700;
  const all = Uint32Array.from({ length: neurons }, (_, i) => i);
  for (const classes of [1, 32, 33]) {
    const m = new BinaryMemory({ neurons, counterBits: 8, classes });
    for (let c = 0; c < classes; c++) m.adjust({ indices: all, active: neurons }, [c], 255);
    const expect = new Int32Array(classes).fill(255 * neurons);
    same(m.scoreCounts({ indices: all, active: neurons }), expect, `${classes} classes, active kernel`);
    same(m.scoreCounts({ indices: all, active: neurons }, { kernel: 'scalar' }), expect, `${classes} classes, scalar kernel`);
  }
});

Counts('a memory without classes gives an empty row', () => {
  const m = new BinaryMemory({ neurons: 8, counterBits: 8, active: 2 });
  assert.is(m.scoreCounts(Uint32Array.of(1, 2)).length, 0);
});

Counts('bad arguments throw with messages naming the problem', () => {
  for (const Mem of [BinaryMemory, ReferenceMemory]) {
    const bare: MemoryLike = new Mem({ neurons: 16, classes: 2, active: 2 });
    assert.throws(() => bare.scoreCounts(Uint32Array.of(1, 2)), /scoreCounts: the memory has no counters/);
    const m: MemoryLike = new Mem({ neurons: 16, counterBits: 8, classes: 2, active: 2 });
    assert.throws(() => m.scoreCounts(Uint32Array.of(1, 16)), /codes: expected neuron indices below 16, got number 16 at index 1/);
    assert.throws(() => m.scoreCounts(Uint32Array.of(1, 2), { kernel: 'avx9' as never }), /options.kernel: expected one of active, scalar/);
    assert.throws(() => m.scoreCounts(Uint32Array.of(1, 2), { kernal: 'scalar' } as never), /options: unknown option "kernal"/);
    // minCount belongs to score(): scoreCounts sums every counter, so the option must not be silently ignored.
    assert.throws(() => m.scoreCounts(Uint32Array.of(1, 2), { minCount: 3 } as never), /options: unknown option "minCount"/);
  }
});

const Halve = suite('halveClass');

for (const counterBits of [4, 8] as const) {
  Halve(`${counterBits}-bit: native = reference, rounds up, keeps every connection, touches one class`, () => {
    const r = rng(seed + 500 + counterBits);
    const { n, r: ref } = randomPair(r, 300, counterBits, 33);
    const before = n.stats().connectionsPerClass;
    const probe = { indices: Uint32Array.from({ length: 300 }, (_, i) => i), active: 1 };
    const rowsBefore = n.scoreCounts(probe);
    for (const c of [0, 17, 32, 17]) {
      n.halveClass(c);
      ref.halveClass(c);
    }
    same(n.scoreCounts(probe), ref.scoreCounts(probe), 'counters after halving');
    assert.equal(n.stats().connectionsPerClass, before, 'connections per class unchanged');
    assert.equal(n.serialize(), ref.serialize(), 'serialized bytes');
    const after = n.scoreCounts(probe);
    const halvings = (c: number) => (c === 17 ? 2 : c === 0 || c === 32 ? 1 : 0);
    for (let row = 0; row < 300; row++) {
      for (let c = 0; c < 33; c++) {
        let v = rowsBefore[row * 33 + c];
        for (let h = 0; h < halvings(c); h++) v = (v + 1) >> 1;
        if (after[row * 33 + c] !== v) assert.unreachable(`neuron ${row} class ${c}: ${after[row * 33 + c]}, expected ${v} (seed ${seed})`);
      }
    }
  });
}

Halve('halving down to ones never removes a connection', () => {
  const r = rng(seed + 600);
  const { n, r: ref } = randomPair(r, 200, 8, 5);
  const connections = n.stats().connections;
  for (let i = 0; i < 9; i++) {
    n.halveClass(2);
    ref.halveClass(2);
  }
  assert.is(n.stats().connections, connections);
  assert.is(ref.stats().connections, connections);
  assert.is(n.counterMoments(2).max, n.stats().connectionsPerClass[2] > 0 ? 1 : 0);
});

Halve('a halved memory serializes to the reference bytes and parses back to the same counters', () => {
  const r = rng(seed + 700);
  for (const counterBits of [4, 8] as const) {
    const { n, r: ref } = randomPair(r, 90, counterBits, 7);
    n.halveClass(3);
    ref.halveClass(3);
    const bytes = n.serialize();
    assert.equal(bytes, ref.serialize());
    const back = BinaryMemory.deserialize(bytes);
    const refBack = ReferenceMemory.deserialize(bytes);
    const probe = { indices: Uint32Array.from({ length: 90 }, (_, i) => i), active: 1 };
    same(back.scoreCounts(probe), n.scoreCounts(probe), `${counterBits}-bit native round trip`);
    same(refBack.scoreCounts(probe), n.scoreCounts(probe), `${counterBits}-bit reference round trip`);
    assert.equal(back.counterMoments(3), n.counterMoments(3));
  }
});

Halve('bad arguments throw with messages naming the problem', () => {
  for (const Mem of [BinaryMemory, ReferenceMemory]) {
    assert.throws(() => new Mem({ neurons: 8, classes: 2 }).halveClass(0), /halveClass: the memory has no counting plane/);
    assert.throws(
      () => new Mem({ neurons: 8, counterBits: 4 }).halveClass(0),
      /classId: expected an existing class id \(the memory has no classes\)/,
    );
    const m = new Mem({ neurons: 8, counterBits: 4, classes: 3 });
    assert.throws(() => m.halveClass(3), /classId: expected an integer in \[0, 2\], got number 3/);
    assert.throws(() => m.halveClass(-1), /classId: expected an integer in \[0, 2\], got number -1/);
    assert.throws(() => m.halveClass(1.5), /classId: expected an integer in \[0, 2\], got number 1.5/);
    assert.throws(() => m.halveClass('1' as never), /classId: expected an integer in \[0, 2\], got string "1"/);
  }
});

const Moments = suite('counterMoments');

for (const counterBits of [4, 8] as const) {
  Moments(`${counterBits}-bit: native = reference = the definition, on whole and sub-ranges`, () => {
    const r = rng(seed + 800 + counterBits);
    const neurons = 257;
    const { n, r: ref } = randomPair(r, neurons, counterBits, 19);
    const probe = { indices: Uint32Array.from({ length: neurons }, (_, i) => i), active: 1 };
    const cells = ref.scoreCounts(probe); // row = neuron, one counter per class
    const ranges: [number | undefined, number | undefined][] = [
      [undefined, undefined],
      [0, neurons],
      [5, 5],
      [neurons, neurons],
      [0, 1],
      [256, 257],
      [3, undefined],
    ];
    for (let t = 0; t < 40; t++) {
      const a = below(r, neurons + 1);
      const b = below(r, neurons + 1);
      ranges.push([Math.min(a, b), Math.max(a, b)]);
    }
    for (const [begin, end] of ranges) {
      const c = below(r, 19);
      let sum = 0;
      let sumSq = 0;
      let max = 0;
      for (let i = begin ?? 0; i < (end ?? neurons); i++) {
        const v = cells[i * 19 + c];
        sum += v;
        sumSq += v * v;
        max = Math.max(max, v);
      }
      const want = { sum, sumSq, max };
      assert.equal(n.counterMoments(c, begin, end), want, `native class ${c} [${begin}, ${end})`);
      assert.equal(ref.counterMoments(c, begin, end), want, `reference class ${c} [${begin}, ${end})`);
    }
  });
}

Moments('bad arguments throw with messages naming the parameter', () => {
  for (const Mem of [BinaryMemory, ReferenceMemory]) {
    assert.throws(() => new Mem({ neurons: 8, classes: 1 }).counterMoments(0), /counterMoments: the memory has no counting plane/);
    assert.throws(() => new Mem({ neurons: 8, counterBits: 8 }).counterMoments(0), /classId: expected an existing class id/);
    const m = new Mem({ neurons: 8, counterBits: 8, classes: 2 });
    assert.throws(() => m.counterMoments(2), /classId: expected an integer in \[0, 1\], got number 2/);
    assert.throws(() => m.counterMoments(0, 9), /begin: expected an integer in \[0, 8\], got number 9/);
    assert.throws(() => m.counterMoments(0, 5, 4), /end: expected an integer in \[5, 8\], got number 4/);
    assert.throws(() => m.counterMoments(0, 0, 9), /end: expected an integer in \[0, 8\], got number 9/);
    assert.throws(() => m.counterMoments(0, NaN), /begin: expected an integer in \[0, 8\], got NaN/);
  }
});

// The addon checks again, with the same messages, so a bad call that bypasses the TypeScript layer never
// reaches the core unchecked.
const Boundary = suite('native boundary');

Boundary('the addon refuses bad arguments itself, naming the parameter', () => {
  const { Memory } = loadBinding();
  const bare = new Memory(16, 0, 2);
  const m = new Memory(16, 8, 2);
  const one = Uint32Array.of(1, 2);
  const cases: [string, () => unknown, RegExp][] = [
    ['halve without counters', () => bare.halveClass(0), /halveClass: the memory has no counting plane/],
    ['halve class out of range', () => m.halveClass(2), /classId: expected an integer in \[0, 1\], got number 2/],
    ['halve class of wrong type', () => m.halveClass('a' as never), /classId: expected an integer in \[0, 1\], got string "a"/],
    [
      'halve without classes',
      () => new Memory(16, 8, 0).halveClass(0),
      /classId: expected an existing class id \(the memory has no classes\)/,
    ],
    ['moments without counters', () => bare.classCounterMoments(0, 0, 16), /classCounterMoments: the memory has no counting plane/],
    ['moments begin > end', () => m.classCounterMoments(0, 5, 4), /end: expected an integer in \[5, 16\], got number 4/],
    ['moments end > neurons', () => m.classCounterMoments(0, 0, 17), /end: expected an integer in \[0, 16\], got number 17/],
    ['moments class out of range', () => m.classCounterMoments(2, 0, 1), /classId: expected an integer in \[0, 1\], got number 2/],
    ['counts without counters', () => bare.scoreCounts(one, null, 2), /scoreCounts: the memory has no counting plane/],
    [
      'counts with an unknown kernel',
      () => m.scoreCounts(one, null, 2, 'x' as never),
      /kernel: expected one of active, scalar, got string "x"/,
    ],
    [
      'counts with an index out of range',
      () => m.scoreCounts(Uint32Array.of(1, 20), null, 2),
      /codes: expected neuron indices below 16, got number 20 at index 1/,
    ],
  ];
  for (const [what, fn, message] of cases) assert.throws(fn, message, what);
  // Nothing refused changed the memory.
  assert.equal(m.classCounterMoments(0, 0, 16), { sum: 0, sumSq: 0, max: 0 });
});

Counts.run();
Halve.run();
Moments.run();
Boundary.run();
