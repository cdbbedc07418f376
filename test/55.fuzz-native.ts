// Native-boundary fuzz: thousands of random calls with wrong types, sizes, NaN, negative and huge values,
// into the public BinaryMemory and straight into the addon's Memory (which must check again on its own).
// Every call must throw TypeError or RangeError naming the parameter; the process stays alive and the
// memory is unchanged by every rejected call. Damaged serialized buffers get a clear Error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryMemory } from '../src/memory/binary-memory.js';
import { loadBinding } from '../src/native/loader.js';
import type { NativeMemory } from '../src/native/binding.js';
import type { Rng } from '../src/util/rng.js';
import { seededRng } from './helpers/store-fs.js';

const CALLS = Number(process.env.ENGRAM_FUZZ_CALLS ?? 10_000);
const N = 300;
const C = 4;
const A = 5;

type Gen = (rng: Rng) => unknown;
/** One argument: how to make a valid value, and many ways to make an invalid one. */
interface Slot {
  valid: Gen;
  invalid: Gen[];
}
/** An argument list whose slots depend on each other (codes, offsets, active): valid or invalid as a whole. */
interface Spec {
  name: string;
  slots: Slot[];
  call: (args: unknown[]) => unknown;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

// Values of the wrong type for anything expecting a number, a typed array or an object.
const WRONG_TYPES: Gen[] = [
  () => 'text',
  () => '3',
  () => null,
  () => true,
  () => 7n,
  () => Symbol('s'),
  () => () => 1,
  () => [1, 2, 3],
  () => new Float64Array(4),
  () => new ArrayBuffer(8),
  () => new Date(0),
];

/** Invalid values for an integer in [min, max]: wrong types and out-of-range numbers (undefined unless optional). */
function badInts(min: number, max: number, optional = false): Gen[] {
  const out: Gen[] = [
    ...WRONG_TYPES,
    ...(optional ? [] : [() => undefined]),
    () => NaN,
    () => Infinity,
    () => -Infinity,
    () => min + 0.5,
    () => 1e300,
    () => -1e300,
    () => Number.MAX_VALUE,
    () => max + 1,
    (rng) => max + 1 + rng.int(1 << 30),
  ];
  if (min > -Infinity)
    out.push(
      () => min - 1,
      (rng) => min - 1 - rng.int(1 << 30),
    );
  return out;
}

const intSlot = (min: number, max: number, validMax = max, optional = false): Slot => ({
  valid: (rng) => min + rng.int(Math.min(validMax, max) - min + 1),
  invalid: badInts(min, max, optional),
});

function validIndices(rng: Rng, batch: number): Uint32Array {
  const idx = new Uint32Array(batch * A);
  for (let i = 0; i < idx.length; i++) idx[i] = rng.int(N);
  return idx;
}

/** A batch of codes as the public API takes them. */
const publicCodes: Slot = {
  valid: (rng) => (rng.next() < 0.5 ? validIndices(rng, 1 + rng.int(3)) : { indices: validIndices(rng, 1 + rng.int(3)), active: A }),
  invalid: [
    ...WRONG_TYPES,
    () => undefined,
    () => new Int32Array(A),
    () => new Float32Array(A),
    () => ({ indices: new Uint32Array(A), active: 0 }),
    () => ({ indices: new Uint32Array(A), active: NaN }),
    () => ({ indices: new Uint32Array(A), active: -A }),
    () => ({ indices: new Uint32Array(A), active: 2 ** 40 }),
    () => ({ indices: new Uint32Array(A), active: '5' }),
    () => ({ indices: new Uint32Array(A + 1), active: A }),
    () => new Uint32Array(A + 2),
    (rng) => ({ indices: validIndices(rng, 1).fill(N + rng.int(1000), rng.int(A)), active: A }),
    () => new Uint32Array(A).fill(0xffffffff),
    () => ({ indices: new Uint32Array(A), offsets: new Uint32Array([0, 3, 2, A]) }),
    () => ({ indices: new Uint32Array(A), offsets: new Uint32Array([1, A]) }),
    () => ({ indices: new Uint32Array(A), offsets: new Uint32Array([0, A + 1]) }),
    () => ({ indices: new Uint32Array(A), offsets: new Uint32Array(0) }),
    () => ({ indices: new Uint32Array(A), offsets: [0, A] }),
    () => ({ indices: new Uint32Array(A), active: A, offsets: new Uint32Array([0, A]) }),
    () => ({ indices: new Uint32Array(A), active: A, extra: 1 }),
    () => ({ indices: [1, 2, 3, 4, 5], active: A }),
    () => ({ active: A }),
  ],
};

/** Labels for a batch whose size the caller does not know: only shapes invalid for any batch. */
const publicLabels: Slot = {
  valid: (rng) => rng.int(C),
  invalid: [
    () => -1,
    () => C,
    () => C + 1e6,
    () => NaN,
    () => 0.5,
    () => Infinity,
    () => '0',
    () => null,
    () => undefined,
    () => 7n,
    () => new Float32Array(1),
    () => new Int32Array(1),
    () => new Uint32Array(0),
    () => new Uint32Array(1000).fill(C),
    () => ['0'],
    () => [-1],
    () => [NaN],
  ],
};

function publicSpecs(mem: BinaryMemory): Spec[] {
  return [
    {
      name: 'new BinaryMemory',
      slots: [
        intSlot(1, 1 << 24, 500),
        { valid: (rng) => pick(rng, [0, 4, 8]), invalid: [...badInts(0, 8, true), () => 3, () => 16, () => 1] },
        intSlot(0, 1 << 20, 6, true),
      ],
      call: ([neurons, counterBits, classes]) => new BinaryMemory({ neurons, counterBits, classes } as never),
    },
    {
      name: 'new BinaryMemory (options object)',
      slots: [
        {
          valid: () => ({ neurons: 10 }),
          invalid: [...WRONG_TYPES, () => undefined, () => ({}), () => ({ neurons: 10, neuron: 5 }), () => ({ neurons: 10, active: 0 })],
        },
      ],
      call: ([opts]) => new BinaryMemory(opts as never),
    },
    { name: 'ensureClasses', slots: [{ valid: () => C, invalid: badInts(0, 1 << 20) }], call: ([n]) => mem.ensureClasses(n as never) },
    { name: 'store', slots: [publicCodes, publicLabels], call: ([codes, labels]) => mem.store(codes as never, labels as never) },
    {
      name: 'adjust',
      slots: [publicCodes, publicLabels, intSlot(-255, 255)],
      call: ([codes, labels, delta]) => mem.adjust(codes as never, labels as never, delta as never),
    },
    {
      name: 'score',
      slots: [
        publicCodes,
        {
          valid: (rng) => pick(rng, [undefined, {}, { kernel: 'scalar' }, { minCount: 2 }]),
          invalid: [
            () => 'fast',
            () => 5,
            () => [1],
            () => ({ kernel: 'gpu' }),
            () => ({ kernel: 1 }),
            () => ({ minCount: -1 }),
            () => ({ minCount: NaN }),
            () => ({ minCount: 256 }),
            () => ({ minCount: '2' }),
            () => ({ threshold: 2 }),
          ],
        },
      ],
      call: ([codes, opts]) => mem.score(codes as never, opts as never),
    },
    {
      name: 'topK',
      slots: [
        {
          valid: (rng) => new Int32Array(C * (1 + rng.int(3))),
          invalid: [
            ...WRONG_TYPES,
            () => undefined,
            () => new Uint32Array(C),
            () => new Float32Array(C),
            () => new Int32Array(C + 1),
            () => [1, 2, 3, 4],
          ],
        },
        intSlot(1, 1 << 20, 10),
      ],
      call: ([scores, k]) => mem.topK(scores as never, k as never),
    },
    {
      name: 'prune',
      slots: [
        {
          valid: () => ({ maxFanIn: 1 << 20 }),
          invalid: [
            ...WRONG_TYPES,
            () => undefined,
            () => ({}),
            () => ({ minCount: 2, maxFanIn: 3 }),
            () => ({ minCount: -1 }),
            () => ({ minCount: 256 }),
            () => ({ maxFanIn: NaN }),
            () => ({ maxFanIn: -5 }),
            () => ({ maxBytes: -1 }),
            () => ({ maxBytes: Infinity }),
            () => ({ maxBytes: '10' }),
            () => ({ maxDensity: 1.5 }),
            () => ({ maxDensity: NaN }),
            () => ({ classId: C }),
            () => ({ classId: -1 }),
            () => ({ classId: 0.5 }),
            () => ({ budget: 10 }),
            () => ({ minCountPerClass: new Uint32Array(C + 1).fill(1) }),
            () => ({ minCountPerClass: new Uint32Array(C).fill(16) }),
            () => ({ minCountPerClass: new Uint32Array(0) }),
            () => ({ minCountPerClass: [1, 'x'] }),
            () => ({ minCountPerClass: 3 }),
            () => ({ minCountPerClass: new Uint32Array(C).fill(1), minCount: 2 }),
          ],
        },
      ],
      call: ([policy]) => mem.prune(policy as never),
    },
    { name: 'clearClass', slots: [{ valid: () => 0, invalid: badInts(0, C - 1) }], call: ([id]) => mem.clearClass(id as never) },
    {
      name: 'merge',
      slots: [
        {
          valid: () => new BinaryMemory({ neurons: N, counterBits: 4, classes: 1 }),
          invalid: [
            ...WRONG_TYPES,
            () => undefined,
            () => ({}),
            () => new BinaryMemory({ neurons: N + 1, counterBits: 4 }),
            () => new BinaryMemory({ neurons: N, counterBits: 8 }),
          ],
        },
      ],
      call: ([other]) => mem.merge(other as never),
    },
    {
      name: 'BinaryMemory.deserialize',
      slots: [
        { valid: () => mem.serialize(), invalid: [...WRONG_TYPES, () => undefined, () => new Uint16Array(8), () => new Int8Array(8)] },
        {
          valid: () => ({ active: A }),
          invalid: [() => 'x', () => ({ active: 0 }), () => ({ active: NaN }), () => ({ active: -1 }), () => ({ activ: 5 })],
        },
      ],
      call: ([buf, opts]) => BinaryMemory.deserialize(buf as never, opts as never),
    },
  ];
}

/** (codes, offsets, active) as the addon takes them, valid or invalid together. */
const nativeCodes: Slot[] = [
  {
    valid: (rng) => validIndices(rng, 1 + rng.int(3)),
    invalid: [...WRONG_TYPES, () => undefined, () => new Int32Array(A), () => new Float32Array(A)],
  },
  {
    valid: (rng) => pick(rng, [null, undefined]),
    invalid: [
      () => new Uint32Array([0, 3, 2, 7]),
      () => new Uint32Array([1, 1]),
      () => new Uint32Array([0, 1e9]),
      () => new Uint32Array(0),
      () => new Int32Array([0, A]),
      () => [0, A],
      () => 'offsets',
      () => 5,
    ],
  },
  { valid: () => A, invalid: badInts(1, 1 << 24) },
];

function nativeSpecs(Memory: ReturnType<typeof loadBinding>['Memory'], mem: NativeMemory): Spec[] {
  const labels: Slot = {
    valid: () => 'match',
    invalid: [
      ...WRONG_TYPES,
      () => undefined,
      () => 0,
      () => new Int32Array(1),
      () => new Uint32Array(0),
      () => new Uint32Array(500),
      () => new Uint32Array(500).fill(C),
    ],
  };
  // A valid labels slot must match the batch of the codes chosen in the same call.
  const withLabels = (args: unknown[]) => {
    const [codes, offsets, active] = args as [unknown, unknown, unknown];
    if (args[3] !== 'match') return args;
    // Only the batch size of well-formed codes matters; anything else is rejected before the labels are read.
    let n = 1;
    if (codes instanceof Uint32Array && offsets instanceof Uint32Array) n = Math.max(0, offsets.length - 1);
    else if (codes instanceof Uint32Array && typeof active === 'number' && Number.isInteger(active) && active > 0) {
      n = Math.floor(codes.length / active);
    }
    return [codes, offsets, active, new Uint32Array(n).fill(0), ...args.slice(4)];
  };
  return [
    {
      name: 'native new Memory',
      slots: [intSlot(1, 1 << 24, 500), { valid: () => 4, invalid: [...badInts(0, 8), () => 3, () => 16] }, intSlot(0, 1 << 20, 6)],
      call: ([n, b, c]) => new Memory(n as never, b as never, c as never),
    },
    { name: 'native addClasses', slots: [{ valid: () => 1, invalid: badInts(1, 1 << 20) }], call: ([n]) => mem.addClasses(n as never) },
    { name: 'native store', slots: [...nativeCodes, labels], call: (a) => mem.store(...(withLabels(a) as [never, never, never, never])) },
    {
      name: 'native adjust',
      slots: [...nativeCodes, labels, intSlot(-255, 255)],
      call: (a) => mem.adjust(...(withLabels(a) as [never, never, never, never, never])),
    },
    {
      name: 'native score',
      slots: [
        ...nativeCodes,
        { valid: (rng) => pick(rng, [undefined, 'active', 'scalar']), invalid: [() => 'gpu', () => '', () => 1, () => null, () => ({})] },
      ],
      call: ([c, o, a, k]) => mem.score(c as never, o as never, a as never, k as never),
    },
    {
      name: 'native scoreMinCount',
      slots: [...nativeCodes, intSlot(0, 255)],
      call: ([c, o, a, m]) => mem.scoreMinCount(c as never, o as never, a as never, m as never),
    },
    { name: 'native pruneMinCount', slots: [{ valid: () => 0, invalid: badInts(0, 255) }], call: ([m]) => mem.pruneMinCount(m as never) },
    {
      name: 'native pruneMinCountPerClass',
      slots: [
        {
          valid: () => new Uint32Array(mem.classes).fill(1),
          invalid: [
            ...WRONG_TYPES,
            () => undefined,
            () => new Uint32Array(mem.classes + 1).fill(1),
            () => new Uint32Array(0),
            () => new Uint32Array(mem.classes).fill(16),
            () => new Int32Array(mem.classes).fill(1),
          ],
        },
      ],
      call: ([m]) => mem.pruneMinCountPerClass(m as never),
    },
    {
      name: 'native pruneFanIn',
      slots: [{ valid: () => 1 << 20, invalid: badInts(0, 1 << 20) }],
      call: ([m]) => mem.pruneFanIn(m as never),
    },
    {
      name: 'native pruneTo',
      slots: [{ valid: () => Number.MAX_SAFE_INTEGER, invalid: badInts(0, Number.MAX_SAFE_INTEGER) }],
      call: ([k]) => mem.pruneTo(k as never),
    },
    {
      name: 'native clearClass',
      slots: [{ valid: () => 0, invalid: badInts(0, mem.classes - 1) }],
      call: ([c]) => mem.clearClass(c as never),
    },
    {
      name: 'native merge',
      slots: [
        {
          valid: () => new Memory(N, 4, 1),
          invalid: [...WRONG_TYPES, () => undefined, () => ({}), () => new Memory(N + 1, 4, 0), () => new Memory(N, 0, 0)],
        },
      ],
      call: ([o]) => mem.merge(o as never),
    },
    {
      name: 'native Memory.deserialize',
      slots: [
        { valid: () => mem.serialize(), invalid: [...WRONG_TYPES, () => undefined, () => new Uint16Array(8), () => new Int8Array(8)] },
      ],
      call: ([b]) => Memory.deserialize(b as never),
    },
  ];
}

/** Makes CALLS calls, each with at least one invalid argument; returns how each method failed. */
function fuzz(label: string, specs: Spec[], rng: Rng, calls: number): Map<string, { type: number; range: number }> {
  const tally = new Map<string, { type: number; range: number }>();
  for (let i = 0; i < calls; i++) {
    const spec = specs[i % specs.length];
    const bad = new Set<number>([rng.int(spec.slots.length)]);
    for (let s = 0; s < spec.slots.length; s++) if (rng.next() < 0.25) bad.add(s);
    const args = spec.slots.map((slot, s) => (bad.has(s) ? pick(rng, slot.invalid)(rng) : slot.valid(rng)));
    const what = () => `${label} call ${i}: ${spec.name}(${args.map(show).join(', ')})`;
    let thrown: unknown = null;
    try {
      spec.call(args);
    } catch (err) {
      thrown = err;
    }
    if (thrown === null) assert.unreachable(`${what()} did not throw`);
    if (!(thrown instanceof TypeError || thrown instanceof RangeError)) {
      assert.unreachable(`${what()} threw ${(thrown as Error)?.constructor?.name}: ${(thrown as Error)?.message}`);
    }
    // An accidental TypeError from inside a wrapper ("Cannot mix BigInt...") does not name a parameter.
    if (!/^[\w.[\]]+: \S/.test((thrown as Error).message)) {
      assert.unreachable(`${what()}: the message does not name a parameter: ${(thrown as Error).message}`);
    }
    const t = tally.get(spec.name) ?? { type: 0, range: 0 };
    if (thrown instanceof TypeError) t.type += 1;
    else t.range += 1;
    tally.set(spec.name, t);
  }
  return tally;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol' || typeof v === 'function') return String(v);
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Uint8Array).length})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function filledMemory(rng: Rng): BinaryMemory {
  const mem = new BinaryMemory({ neurons: N, counterBits: 4, classes: C, active: A });
  for (let i = 0; i < 40; i++) mem.store(validIndices(rng, 1), rng.int(C));
  return mem;
}

const Fuzz = suite('native boundary fuzz');

Fuzz(`${CALLS} bad calls into BinaryMemory: TypeError or RangeError each, memory unchanged`, () => {
  const { rng } = seededRng('55.fuzz-native (public)');
  const mem = filledMemory(rng);
  const before = mem.serialize();
  const tally = fuzz('public', publicSpecs(mem), rng, CALLS);
  assert.equal(mem.serialize(), before, 'no rejected call changed the memory');
  assert.is(mem.score(new Uint32Array(A)).length, C, 'the memory still answers');
  console.log(`55.fuzz-native public: ${JSON.stringify(Object.fromEntries(tally))}`);
});

Fuzz(`${CALLS} bad calls straight into the addon: it checks again on its own`, () => {
  const { rng } = seededRng('55.fuzz-native (addon)');
  const binding = loadBinding();
  const mem = new binding.Memory(N, 4, C);
  for (let i = 0; i < 40; i++) mem.store(validIndices(rng, 1), null, A, new Uint32Array([rng.int(C)]));
  const before = mem.serialize();
  const tally = fuzz('addon', nativeSpecs(binding.Memory, mem), rng, CALLS);
  assert.equal(mem.serialize(), before, 'no rejected call changed the memory');
  console.log(`55.fuzz-native addon: ${JSON.stringify(Object.fromEntries(tally))}`);
});

Fuzz('damaged serialized memories are refused with a clear Error, never loaded', () => {
  const { rng } = seededRng('55.fuzz-native (deserialize)');
  const good = filledMemory(rng).serialize();
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(good);
    let damaged: Buffer;
    const kind = i % 4;
    if (kind === 0) damaged = buf.subarray(0, rng.int(buf.length));
    else if (kind === 1) {
      buf[rng.int(buf.length)] ^= 1 << rng.int(8);
      damaged = buf;
    } else if (kind === 2) {
      damaged = Buffer.alloc(rng.int(2 * good.length));
      for (let k = 0; k < damaged.length; k++) damaged[k] = rng.int(256);
    } else damaged = Buffer.concat([buf, Buffer.alloc(1 + rng.int(16))]);
    assert.throws(() => BinaryMemory.deserialize(damaged), /^buffer: /, `case ${i} (kind ${kind}, ${damaged.length} bytes)`);
  }
});

Fuzz.run();
