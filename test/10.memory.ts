// BinaryMemory: storing, scoring, classes, counters, refinement, top-k, merge and clone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryMemory } from '../src/memory/index.js';

const codes = (...rows: number[][]) => new Uint32Array(rows.flat());

test('store connects each code to its class and score counts shared neurons', () => {
  const m = new BinaryMemory({ neurons: 32, classes: 3, active: 3 });
  m.store(codes([1, 2, 3], [4, 5, 6], [1, 2, 7]), [0, 1, 2]);
  assert.equal(Array.from(m.score(codes([1, 2, 3]))), [3, 0, 2]);
  assert.equal(Array.from(m.score(codes([4, 5, 7], [9, 10, 11]))), [0, 2, 1, 0, 0, 0]);
  assert.is(m.stats().connections, 9);
});

test('a memory without classes scores to an empty row', () => {
  const m = new BinaryMemory({ neurons: 8, active: 2 });
  assert.is(m.classCount, 0);
  assert.is(m.score(codes([1, 2])).length, 0);
});

test('variable-length codes use offsets', () => {
  const m = new BinaryMemory({ neurons: 16, classes: 2 });
  m.store({ indices: codes([1], [2, 3, 4]), offsets: new Uint32Array([0, 1, 4]) }, [0, 1]);
  const s = m.score({ indices: codes([1, 2, 3], [], [4]), offsets: new Uint32Array([0, 3, 3, 4]) });
  assert.equal(Array.from(s), [1, 2, 0, 0, 0, 1]);
});

test('codes as packed bit sets score like the same codes as indices', () => {
  const m = new BinaryMemory({ neurons: 40, classes: 2, active: 3 });
  m.store(codes([1, 33, 39], [2, 3, 4]), [0, 1]);
  // two codes, two words each: {1, 33, 39} and {3, 4, 32}
  const bitset = new Uint32Array([1 << 1, (1 << 1) | (1 << 7), (1 << 3) | (1 << 4), 1]);
  assert.equal(Array.from(m.score({ bitset })), [3, 0, 0, 2]);
  m.store({ bitset: new Uint32Array([1 << 5, 0]) }, 1);
  assert.equal(Array.from(m.score(codes([5, 6, 7]))), [0, 1]);
  assert.throws(() => m.score({ bitset: new Uint32Array(3) }), /codes.bitset: expected a length that is a multiple of 2/);
  assert.throws(
    () => m.score({ bitset: new Uint32Array([0, 1 << 8]) }),
    /codes.bitset: expected no bits at or above neuron 40, got some in code 0/,
  );
  assert.throws(() => m.score({ bitset: new Uint32Array(2), active: 3 }), /codes: expected bitset alone/);
});

test('codes and labels given as views at a byte offset are read at their offset', () => {
  const m = new BinaryMemory({ neurons: 32, classes: 3, active: 2 });
  const backing = new Uint32Array([31, 31, 1, 2, 3, 4, 31]);
  const labelsBacking = new Uint32Array([2, 0, 1]);
  m.store(backing.subarray(2, 6), labelsBacking.subarray(1));
  assert.equal(Array.from(m.score(backing.subarray(2, 4))), [2, 0, 0]);
  assert.equal(Array.from(m.score(codes([3, 4]))), [0, 2, 0]);
  assert.equal(Array.from(m.score(codes([31, 30]))), [0, 0, 0]);
});

test('addClass grows the class capacity without losing connections', () => {
  const m = new BinaryMemory({ neurons: 64, active: 2 });
  const capacities = new Set<number>();
  for (let c = 0; c < 300; c++) {
    assert.is(m.addClass(), c);
    m.store(codes([c % 64, (c * 7 + 1) % 64]), c);
    capacities.add(m.stats().bytes);
  }
  // capacity doubles: 64, 128, 256, 512 classes -> four distinct sizes, not one per class
  assert.is(capacities.size, 4);
  for (let c = 0; c < 300; c++) {
    const s = m.score(codes([c % 64, (c * 7 + 1) % 64]));
    assert.is(s[c], 2, `class ${c} kept its code`);
  }
  assert.is(m.ensureClasses(310), 310);
});

test('counters saturate at 15 with 4 bits and at 255 with 8 bits', () => {
  for (const [bits, max] of [
    [4, 15],
    [8, 255],
  ] as const) {
    const m = new BinaryMemory({ neurons: 8, counterBits: bits, classes: 1, active: 1 });
    for (let i = 0; i < 300; i++) m.store(codes([3]), 0);
    // minCount = max keeps the saturated connection, max + 1 is out of range for 4 bits only
    assert.equal(Array.from(m.score(codes([3]), { minCount: max })), [1]);
    assert.is(m.adjust(codes([3]), 0, -(max - 1)).removed, 0);
    assert.is(m.adjust(codes([3]), 0, -1).removed, 1, `${bits}-bit counter reached 0 after ${max} decrements`);
  }
});

test('adjust: positive delta sets a connection, negative removes it at zero', () => {
  const m = new BinaryMemory({ neurons: 16, counterBits: 8, classes: 2, active: 2 });
  assert.equal(m.adjust(codes([1, 2]), 1, 3), { added: 2, removed: 0 });
  assert.equal(Array.from(m.score(codes([1, 2]), { minCount: 3 })), [0, 2]);
  assert.equal(m.adjust(codes([1, 5]), 1, -2), { added: 0, removed: 0 });
  assert.equal(Array.from(m.score(codes([1, 2]))), [0, 2]);
  assert.equal(m.adjust(codes([1, 2]), 1, -1), { added: 0, removed: 1 });
  assert.equal(Array.from(m.score(codes([1, 2]))), [0, 1]);
});

test('adjust without counters sets or clears bits', () => {
  const m = new BinaryMemory({ neurons: 16, classes: 1, active: 2 });
  assert.equal(m.adjust(codes([1, 2]), 0, 1), { added: 2, removed: 0 });
  assert.equal(m.adjust(codes([2, 3]), 0, -1), { added: 0, removed: 1 });
  assert.equal(Array.from(m.score(codes([1, 2]))), [1]);
});

test('score with minCount counts only connections seen often enough', () => {
  const m = new BinaryMemory({ neurons: 16, counterBits: 4, classes: 2, active: 2 });
  m.store(codes([1, 2], [1, 3], [1, 4]), [0, 0, 1]);
  assert.equal(Array.from(m.score(codes([1, 2]), { minCount: 2 })), [1, 0]);
  assert.equal(Array.from(m.score(codes([1, 2]), { minCount: 1 })), [2, 1]);
  assert.equal(Array.from(m.score(codes([1, 2]), { minCount: 0 })), [2, 1]);
});

test('topK orders by score, ties to the lower class id', () => {
  const m = new BinaryMemory({ neurons: 4, classes: 5 });
  const scores = new Int32Array([3, 7, 7, 1, 7, 0, 0, 0, 0, 9]);
  const t = m.topK(scores, 3);
  assert.is(t.k, 3);
  assert.equal(Array.from(t.indices), [1, 2, 4, 4, 0, 1]);
  assert.equal(Array.from(t.scores), [7, 7, 7, 9, 0, 0]);
  assert.is(m.topK(scores, 10).k, 5);
});

test('merge ORs bits, adds counters and grows classes', () => {
  const a = new BinaryMemory({ neurons: 16, counterBits: 4, classes: 1, active: 2 });
  const b = new BinaryMemory({ neurons: 16, counterBits: 4, classes: 3, active: 2 });
  for (let i = 0; i < 10; i++) a.store(codes([1, 2]), 0);
  for (let i = 0; i < 10; i++) b.store(codes([2, 3]), 0);
  b.store(codes([5, 6]), 2);
  a.merge(b);
  assert.is(a.classCount, 3);
  assert.equal(Array.from(a.score(codes([1, 2]), { minCount: 15 })), [1, 0, 0]);
  assert.equal(Array.from(a.score(codes([2, 3]), { minCount: 10 })), [2, 0, 0]);
  assert.equal(Array.from(a.score(codes([5, 6]))), [0, 0, 2]);
  assert.throws(
    () => a.merge(new BinaryMemory({ neurons: 17, counterBits: 4 })),
    /other: expected a memory with neurons 16 and counterBits 4, got neurons 17/,
  );
});

test('clone is a deep copy', () => {
  const a = new BinaryMemory({ neurons: 16, counterBits: 8, classes: 2, active: 2 });
  a.store(codes([1, 2]), 0);
  const b = a.clone();
  b.store(codes([3, 4]), 1);
  assert.equal(Array.from(a.score(codes([3, 4]))), [0, 0]);
  assert.equal(Array.from(b.score(codes([3, 4]))), [0, 2]);
  assert.is(b.active, 2);
  assert.ok(a.serialize().equals(a.clone().serialize()));
});

test('a large geometry works: 2^20 neurons', () => {
  const m = new BinaryMemory({ neurons: 1 << 20, classes: 2, active: 4 });
  m.store(codes([0, 1, (1 << 20) - 2, (1 << 20) - 1]), 1);
  assert.equal(Array.from(m.score(codes([(1 << 20) - 1, 5, 6, 0]))), [0, 2]);
});

test.run();
