// Bad arguments: the TypeScript wrapper and the raw binding throw the same TypeError / RangeError naming
// the parameter, and nothing reaches the core unchecked (no call here may crash the process).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryMemory, ReferenceMemory } from '../src/memory/index.js';
import { pqEncode } from '../src/quantize/pq-encode.js';
import { loadBinding } from '../src/native/index.js';

const native = loadBinding();
const u32 = (...v: number[]) => new Uint32Array(v);

// [what, wrapper call, raw binding call (or null when the wrapper-only option has no raw form), error]
type Case = [string, () => unknown, (() => unknown) | null, RegExp, ErrorConstructor];

function cases(): Case[] {
  const m = new BinaryMemory({ neurons: 10, classes: 2, active: 2 });
  const raw = new native.Memory(10, 0, 2);
  const m4 = new BinaryMemory({ neurons: 10, counterBits: 4, classes: 2, active: 2 });
  const raw4 = new native.Memory(10, 4, 2);
  return [
    [
      'neurons 0',
      () => new BinaryMemory({ neurons: 0 }),
      () => new native.Memory(0, 0, 0),
      /^neurons: expected an integer in \[1, 16777216\], got number 0$/,
      RangeError,
    ],
    [
      'neurons as string',
      () => new BinaryMemory({ neurons: '8' as never }),
      () => new native.Memory('8' as never, 0, 0),
      /^neurons: expected an integer in \[1, 16777216\], got string "8"$/,
      TypeError,
    ],
    [
      'neurons fractional',
      () => new BinaryMemory({ neurons: 2.5 }),
      () => new native.Memory(2.5, 0, 0),
      /^neurons: .* got number 2\.5$/,
      RangeError,
    ],
    [
      'counterBits 3',
      () => new BinaryMemory({ neurons: 4, counterBits: 3 as never }),
      () => new native.Memory(4, 3, 0),
      /^counterBits: expected one of 0, 4, 8, got number 3$/,
      RangeError,
    ],
    [
      'classes NaN',
      () => new BinaryMemory({ neurons: 4, classes: NaN }),
      () => new native.Memory(4, 0, NaN),
      /^classes: expected an integer in \[0, 1048576\], got NaN$/,
      RangeError,
    ],
    [
      'codes as array',
      () => m.store([1, 2] as never, 0),
      () => raw.store([1, 2] as never, null, 2, u32(0)),
      /^codes: expected .*got an array of length 2$/,
      TypeError,
    ],
    [
      'codes as Int32Array',
      () => m.store({ indices: new Int32Array(2) as never, active: 2 }, 0),
      () => raw.store(new Int32Array(2) as never, null, 2, u32(0)),
      /^codes(\.indices)?: expected a Uint32Array, got Int32Array of length 2$/,
      TypeError,
    ],
    [
      'index out of range',
      () => m.store(u32(1, 10), 0),
      () => raw.store(u32(1, 10), null, 2, u32(0)),
      /^codes: expected neuron indices below 10, got number 10 at index 1$/,
      RangeError,
    ],
    [
      'length not a multiple of active',
      () => m.store(u32(1, 2, 3), 0),
      () => raw.store(u32(1, 2, 3), null, 2, u32(0)),
      /^codes: expected a length that is a multiple of codes.active \(2\), got Uint32Array of length 3$/,
      RangeError,
    ],
    [
      'active 0',
      () => m.store({ indices: u32(1), active: 0 }, 0),
      () => raw.store(u32(1), null, 0, u32(0)),
      /^codes.active: expected an integer in \[1, 16777216\], got number 0$/,
      RangeError,
    ],
    [
      'offsets not ending at length',
      () => m.store({ indices: u32(1, 2), offsets: u32(0, 1) }, [0]),
      () => raw.store(u32(1, 2), u32(0, 1), 0, u32(0)),
      /^codes.offsets: expected ascending offsets from 0 to 2 \(codes.length\), got Uint32Array of length 2$/,
      RangeError,
    ],
    [
      'offsets descending',
      () => m.store({ indices: u32(1, 2), offsets: u32(0, 2, 1, 2) }, [0, 0, 0]),
      () => raw.store(u32(1, 2), u32(0, 2, 1, 2), 0, u32(0, 0, 0)),
      /^codes.offsets: expected ascending offsets/,
      RangeError,
    ],
    [
      'label out of range',
      () => m.store(u32(1, 2), u32(2)),
      () => raw.store(u32(1, 2), null, 2, u32(2)),
      /^labels: expected class ids below 2, got number 2 at index 0$/,
      RangeError,
    ],
    [
      'labels wrong length',
      () => m.store(u32(1, 2), u32(0, 1)),
      () => raw.store(u32(1, 2), null, 2, u32(0, 1)),
      /^labels: expected a Uint32Array of length 1 \(one per code\), got Uint32Array of length 2$/,
      RangeError,
    ],
    [
      'delta fractional',
      () => m.adjust(u32(1, 2), 0, 0.5),
      () => raw.adjust(u32(1, 2), null, 2, u32(0), 0.5),
      /^delta: expected an integer in \[-255, 255\], got number 0\.5$/,
      RangeError,
    ],
    [
      'delta too large',
      () => m.adjust(u32(1, 2), 0, 256),
      () => raw.adjust(u32(1, 2), null, 2, u32(0), 256),
      /^delta: expected an integer in \[-255, 255\], got number 256$/,
      RangeError,
    ],
    [
      'clearClass of a missing class',
      () => m.clearClass(2),
      () => raw.clearClass(2),
      /classId: expected an integer in \[0, 1\], got number 2$/,
      RangeError,
    ],
    [
      'kernel name',
      () => m.score(u32(1, 2), { kernel: 'fast' as never }),
      () => raw.score(u32(1, 2), null, 2, 'fast' as never),
      /kernel: expected one of active, scalar, got string "fast"$/,
      RangeError,
    ],
    [
      'minCountPerClass without counters',
      () => m.prune({ minCountPerClass: u32(2, 2) }),
      () => raw.pruneMinCountPerClass(u32(2, 2)),
      /^(policy\.minCountPerClass|prune): .*no counting plane/,
      Error,
    ],
    [
      'minCountPerClass too short',
      () => m4.prune({ minCountPerClass: u32(2) }),
      () => raw4.pruneMinCountPerClass(u32(2)),
      /minCountPerClass: expected a Uint32Array (or an array of numbers )?of length 2 \(one per class\), got Uint32Array of length 1$/,
      RangeError,
    ],
    [
      'minCountPerClass too long',
      () => m4.prune({ minCountPerClass: [2, 2, 2] }),
      () => raw4.pruneMinCountPerClass(u32(2, 2, 2)),
      /minCountPerClass: expected a Uint32Array (or an array of numbers )?of length 2 \(one per class\), got (an array|Uint32Array) of length 3$/,
      RangeError,
    ],
    [
      'minCountPerClass as Int32Array',
      () => m4.prune({ minCountPerClass: new Int32Array(2) as never }),
      () => raw4.pruneMinCountPerClass(new Int32Array(2) as never),
      /minCountPerClass: expected a Uint32Array.*, got Int32Array of length 2$/,
      TypeError,
    ],
    [
      'minCountPerClass 0',
      () => m4.prune({ minCountPerClass: [2, 0] }),
      () => raw4.pruneMinCountPerClass(u32(2, 0)),
      /minCountPerClass: expected integers in \[1, 15\], got number 0 at index 1$/,
      RangeError,
    ],
    [
      'minCountPerClass above counterMax',
      () => m4.prune({ minCountPerClass: u32(16, 2) }),
      () => raw4.pruneMinCountPerClass(u32(16, 2)),
      /minCountPerClass: expected integers in \[1, 15\], got number 16 at index 0$/,
      RangeError,
    ],
    [
      'merge with a non-memory',
      () => m.merge({} as never),
      () => raw.merge({} as never),
      /^other: expected a BinaryMemory, got an object$/,
      TypeError,
    ],
    [
      'deserialize a string',
      () => BinaryMemory.deserialize('EGBM' as never),
      () => native.Memory.deserialize('EGBM' as never),
      /^buffer: expected a Uint8Array, got string "EGBM"$/,
      TypeError,
    ],
    [
      'pqEncode parts not dividing dims',
      () => pqEncode(new Float32Array(6), new Float32Array(6), { batch: 1, dims: 6, parts: 4, anchorCount: 1, probes: 1 }),
      () => native.pqEncode(new Float32Array(6), new Float32Array(6), 1, 6, 4, 1, 1),
      /^parts: expected a divisor of dims \(6\), got number 4$/,
      RangeError,
    ],
    [
      'pqEncode probes > anchors',
      () => pqEncode(new Float32Array(2), new Float32Array(4), { batch: 1, dims: 2, parts: 1, anchorCount: 2, probes: 3 }),
      () => native.pqEncode(new Float32Array(2), new Float32Array(4), 1, 2, 1, 2, 3),
      /^probes: expected an integer in \[1, 2\], got number 3$/,
      RangeError,
    ],
    [
      'pqEncode features length',
      () => pqEncode(new Float32Array(3), new Float32Array(4), { batch: 1, dims: 2, parts: 1, anchorCount: 2, probes: 1 }),
      () => native.pqEncode(new Float32Array(3), new Float32Array(4), 1, 2, 1, 2, 1),
      /^features: expected a Float32Array of length 2 \(batch x dims\), got Float32Array of length 3$/,
      RangeError,
    ],
    [
      'pqEncode NaN feature',
      () => pqEncode(new Float32Array([0, NaN]), new Float32Array(4), { batch: 1, dims: 2, parts: 1, anchorCount: 2, probes: 1 }),
      () => native.pqEncode(new Float32Array([0, NaN]), new Float32Array(4), 1, 2, 1, 2, 1),
      /^features: expected finite numbers, got NaN at index 1$/,
      RangeError,
    ],
    [
      'pqEncode anchors as Float64Array',
      () => pqEncode(new Float32Array(2), new Float64Array(4) as never, { batch: 1, dims: 2, parts: 1, anchorCount: 2, probes: 1 }),
      () => native.pqEncode(new Float32Array(2), new Float64Array(4) as never, 1, 2, 1, 2, 1),
      /^anchors: expected a Float32Array, got Float64Array of length 4$/,
      TypeError,
    ],
  ];
}

for (const [what, wrapper, rawCall, message, kind] of cases()) {
  test(`${what}: wrapper and binding throw the same ${kind.name}`, () => {
    assert.throws(wrapper, (e: Error) => e instanceof kind && message.test(e.message));
    if (rawCall) assert.throws(rawCall, (e: Error) => e instanceof kind && message.test(e.message));
  });
}

test('wrapper-only checks: options, policies and score options', () => {
  assert.throws(() => new BinaryMemory({ neurons: 4, nuerons: 5 } as never), /options: unknown option "nuerons"/);
  assert.throws(() => new BinaryMemory(undefined as never), /options: expected an object with neurons, got undefined/);
  const m = new BinaryMemory({ neurons: 10, classes: 2, active: 2 });
  assert.throws(
    () => m.prune({} as never),
    /policy: expected exactly one of minCount, minCountPerClass, maxFanIn, maxBytes, maxDensity, classId, got none/,
  );
  assert.throws(() => m.prune({ maxFanIn: 1, minCount: 2 }), /policy: expected exactly one of .* got maxFanIn, minCount/);
  assert.throws(() => m.prune({ minCount: 2 }), /policy.minCount: the memory has no counting plane/);
  const m8 = new BinaryMemory({ neurons: 10, counterBits: 8, classes: 2, active: 2 });
  assert.throws(
    () => m8.prune({ minCountPerClass: [2, 256] }),
    (e: Error) =>
      e instanceof RangeError && /^policy\.minCountPerClass: expected integers in \[1, 255\], got number 256 at index 1$/.test(e.message),
  );
  assert.throws(
    () => m8.prune({ minCountPerClass: [2, 1.5] }),
    /policy\.minCountPerClass: expected integers in \[1, 255\], got number 1\.5 at index 1$/,
  );
  assert.throws(
    () => m8.prune({ minCountPerClass: [2, NaN] }),
    /policy\.minCountPerClass: expected integers in \[1, 255\], got NaN at index 1$/,
  );
  assert.throws(
    () => m8.prune({ minCountPerClass: ['2', 2] as never }),
    (e: Error) =>
      e instanceof TypeError && /policy\.minCountPerClass: expected integers in \[1, 255\], got string "2" at index 0$/.test(e.message),
  );
  assert.throws(
    () => m8.prune({ minCountPerClass: 3 as never }),
    (e: Error) =>
      e instanceof TypeError &&
      /policy\.minCountPerClass: expected a Uint32Array or an array of numbers of length 2 \(one per class\), got number 3$/.test(
        e.message,
      ),
  );
  assert.throws(() => m.prune({ maxDensity: 1.5 }), /policy.maxDensity: expected a finite number in \[0, 1\], got number 1.5/);
  assert.throws(() => m.prune({ maxBytes: -1 }), /policy.maxBytes: expected a finite number in \[0, Infinity\], got number -1/);
  assert.throws(() => m.score(u32(1, 2), { minCount: 2 }), /options.minCount: the memory has no counting plane/);
  assert.throws(() => m.score(u32(1, 2), { mincount: 2 } as never), /options: unknown option "mincount"/);
  assert.throws(() => m.store(u32(1, 2), -1), /labels: expected an integer in \[0, 1\], got number -1/);
  assert.throws(() => m.store(u32(1, 2), ['0'] as never), /labels\[0\]: expected an integer .* got string "0"/);
  assert.throws(
    () => new BinaryMemory({ neurons: 4 }).store(u32(1), 0),
    /codes: expected a \{ indices, active \} or \{ indices, offsets \} batch \(this memory has no active option\)/,
  );
  assert.throws(
    () => m.store({ indices: u32(1, 2), active: 2, offsets: u32(0, 2) }, 0),
    /codes: expected either active or offsets, got both/,
  );
  assert.throws(() => m.topK(new Int32Array(3), 1), /scores: expected a length that is a multiple of classes \(2\)/);
  assert.throws(() => m.topK(new Int32Array(2), 0), /k: expected an integer in \[1, 1048576\], got number 0/);
});

test('a failed call leaves the memory unchanged', () => {
  const m = new BinaryMemory({ neurons: 10, counterBits: 4, classes: 2, active: 2 });
  m.store(u32(1, 2), 0);
  const before = m.serialize();
  assert.throws(() => m.store(u32(3, 4, 5, 10), u32(1, 1)), /neuron indices below 10/);
  assert.throws(() => m.store(u32(3, 4, 5, 6), u32(1, 2)), /class ids below 2/);
  assert.throws(() => m.adjust(u32(3, 4), 1, 300), /delta/);
  assert.throws(() => m.prune({ minCountPerClass: [2, 16] }), /minCountPerClass/);
  assert.throws(() => m.prune({ minCountPerClass: [2] }), /minCountPerClass/);
  assert.ok(m.serialize().equals(before));
});

test('a geometry above 4 GiB is refused up front, not left to the OOM killer', () => {
  assert.throws(
    () => new BinaryMemory({ neurons: 1 << 24, counterBits: 8, classes: 1000 }),
    (e: Error) => e instanceof RangeError && /memory too large/.test(e.message),
  );
  assert.throws(() => new ReferenceMemory({ neurons: 1 << 24, counterBits: 8, classes: 1000 }), /memory too large/);
});

test('misusing the raw binding throws instead of crashing', () => {
  const proto = native.Memory.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  assert.throws(
    () => proto.score.call({}, u32(1), null, 1),
    (e: Error) => e instanceof TypeError && /^score: expected `this` to be a Memory, got an object that is not one$/.test(e.message),
  );
  assert.throws(() => (native.Memory as unknown as (...a: unknown[]) => unknown)(4, 0, 0), /cannot be invoked without 'new'/);
  assert.throws(
    () => new native.Memory(4, 0, 0).merge(Object.create(native.Memory.prototype)),
    /^other: expected a BinaryMemory, got an object$/,
  );
  assert.throws(
    () => new native.Memory(4, 0, 0).store(u32(1), null, 1, undefined as never),
    /^labels: expected a Uint32Array, got undefined$/,
  );
  assert.throws(
    () => (new native.Memory(4, 0, 0).score as (...a: unknown[]) => unknown)(),
    /^codes: expected a Uint32Array, got undefined$/,
  );
});

test('ReferenceMemory rejects the same inputs with the same messages', () => {
  const r = new ReferenceMemory({ neurons: 10, classes: 2, active: 2 });
  assert.throws(() => r.store(u32(1, 10), 0), /^codes: expected neuron indices below 10, got number 10 at index 1$/);
  assert.throws(() => r.store(u32(1, 2), u32(2)), /^labels: expected class ids below 2, got number 2 at index 0$/);
  assert.throws(() => new ReferenceMemory({ neurons: 4, counterBits: 3 as never }), /^counterBits: expected one of 0, 4, 8, got number 3$/);
});

test.run();
