// Serialized form: round trip through both implementations, and damaged or foreign buffers are clear errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryMemory, ReferenceMemory } from '../src/memory/index.js';
import { below, randomCodes, rng, seedFor } from './helpers/memory-random.js';

const seed = seedFor('13.serialize');

function filled(counterBits: 0 | 4 | 8, classes: number): BinaryMemory {
  const r = rng(seed + counterBits + classes);
  const m = new BinaryMemory({ neurons: 50, counterBits, classes, active: 6 });
  for (let i = 0; i < 20; i++) m.store(randomCodes(r, 3, 6, 50), below(r, classes));
  return m;
}

test('round trip keeps scores, stats and bytes (0, 4, 8 counter bits)', () => {
  for (const bits of [0, 4, 8] as const) {
    for (const classes of [1, 3, 8, 9, 65]) {
      const m = filled(bits, classes);
      const buf = m.serialize();
      const back = BinaryMemory.deserialize(buf, { active: 6 });
      assert.ok(back.serialize().equals(buf));
      assert.equal(back.stats(), m.stats());
      const q = randomCodes(rng(seed), 4, 6, 50);
      assert.equal(back.score(q), m.score(q));
      assert.is(back.active, 6);
    }
  }
});

test('the header spells out magic, version and geometry', () => {
  const buf = filled(4, 3).serialize();
  assert.is(buf.subarray(0, 4).toString('latin1'), 'EGBM');
  assert.is(buf.readUInt16LE(4), 1);
  assert.is(buf[6], 4);
  assert.is(buf.readUInt32LE(8), 50);
  assert.is(buf.readUInt32LE(12), 3);
  assert.is(Number(buf.readBigUInt64LE(16)), 50 * (1 + 2));
  assert.is(buf.length, 24 + 150 + 4);
});

test('the TypeScript reference reads native bytes and writes the same bytes', () => {
  const m = filled(8, 9);
  const buf = m.serialize();
  assert.ok(ReferenceMemory.deserialize(buf).serialize().equals(buf));
});

test('a buffer view with a byte offset is read correctly', () => {
  const buf = filled(4, 9).serialize();
  const padded = new Uint8Array(buf.length + 7);
  padded.set(buf, 3);
  const view = padded.subarray(3, 3 + buf.length);
  assert.ok(BinaryMemory.deserialize(view).serialize().equals(buf));
  assert.ok(ReferenceMemory.deserialize(view).serialize().equals(buf));
});

test('foreign, truncated, padded and damaged buffers throw clear errors', () => {
  const buf = filled(4, 9).serialize();
  assert.throws(
    () => BinaryMemory.deserialize(Buffer.from('PK\x03\x04 not a memory')),
    /^buffer: not a serialized engram memory \(bad magic\)$/,
  );
  assert.throws(() => BinaryMemory.deserialize(Buffer.alloc(0)), /bad magic/);
  assert.throws(() => BinaryMemory.deserialize(buf.subarray(0, buf.length - 1)), /buffer: /);
  assert.throws(() => BinaryMemory.deserialize(Buffer.concat([buf, Buffer.from([0])])), /buffer: /);
  const flipped = Buffer.from(buf);
  flipped[40] ^= 0x10;
  assert.throws(() => BinaryMemory.deserialize(flipped), /^buffer: checksum mismatch \(damaged buffer\)$/);
  const v2 = Buffer.from(buf);
  v2[4] = 2;
  assert.throws(() => BinaryMemory.deserialize(v2), /^buffer: unsupported format version$/);
});

test('random damage never crashes and both implementations agree on accept/reject', () => {
  const r = rng(seed + 99);
  const good = filled(4, 9).serialize();
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    let bad: Buffer = Buffer.from(good);
    const kind = below(r, 3);
    if (kind === 0) bad[below(r, bad.length)] ^= 1 + below(r, 255);
    else if (kind === 1) bad = bad.subarray(0, below(r, bad.length));
    else bad = Buffer.concat([bad, Buffer.alloc(1 + below(r, 4))]);
    let nativeError = '';
    let refError = '';
    try {
      BinaryMemory.deserialize(bad);
    } catch (e) {
      nativeError = (e as Error).message;
    }
    try {
      ReferenceMemory.deserialize(bad);
    } catch (e) {
      refError = (e as Error).message;
    }
    assert.is(nativeError, refError, `case ${i}`);
    assert.match(nativeError, /^buffer: /, `case ${i}: damage is rejected`);
    rejected++;
  }
  assert.is(rejected, 3000);
});

test.run();
