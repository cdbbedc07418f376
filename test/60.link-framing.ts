// The link's framing: CRC-32, COBS and the streaming frame reader, including what it does with
// garbage, damage, oversized and unfinished frames, and the same bytes through a binding-mock port.
import { test, suite } from 'uvu';
import * as assert from 'uvu/assert';
import { crc32 } from '../src/util/crc32.js';
import { cobsDecode, cobsEncode } from '../src/link/cobs.js';
import { FrameReader, MAX_BODY_BYTES, MAX_ENCODED_BYTES, decodeBlock, encodeFrame, type ReadEvent } from '../src/link/frame.js';
import { ErrorCode } from '../src/link/protocol.js';
import { openMock } from './helpers/link-mock.js';
import { seededRandom } from './helpers/link-rng.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const crc = suite('crc32');

// The table algorithm docs/protocol.md gives firmware authors, written out here as the reference.
const TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32Table(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

crc('matches the published check values', () => {
  const cases: [string, number][] = [
    ['', 0x00000000],
    ['a', 0xe8b7be43],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ];
  for (const [text, want] of cases) {
    assert.is(crc32(Buffer.from(text)), want, `crc32(${JSON.stringify(text)})`);
    assert.is(crc32Table(Buffer.from(text)), want, `table crc32(${JSON.stringify(text)})`);
  }
});

crc('the table algorithm equals crc32 on random buffers', () => {
  const rng = seededRandom('crc32 random');
  for (let i = 0; i < 200; i++) {
    const b = rng.bytes(rng.int(3000));
    assert.is(crc32Table(b), crc32(b));
  }
});

crc.run();

const cobs = suite('cobs');

cobs('encodes the boundary cases canonically', () => {
  const run = (n: number, from: number) => Buffer.from(Array.from({ length: n }, (_, i) => from + i));
  const cases: [Buffer, Buffer][] = [
    [hex(''), hex('01')],
    [hex('00'), hex('0101')],
    [hex('0000'), hex('010101')],
    [hex('112200 33'), hex('031122 0233')],
    [hex('11223344'), hex('0511223344')],
    [hex('11000000'), hex('0211 01 01 01')],
    // 254 non-zero bytes fill one block exactly: no trailing block.
    [run(254, 1), Buffer.concat([hex('ff'), run(254, 1)])],
    // 255 non-zero bytes spill one byte into a second block.
    [run(255, 1), Buffer.concat([hex('ff'), run(254, 1), hex('02ff')])],
    // A zero right after a full block opens an empty block.
    [Buffer.concat([run(254, 1), hex('00')]), Buffer.concat([hex('ff'), run(254, 1), hex('0101')])],
  ];
  for (const [plain, encoded] of cases) {
    assert.equal(cobsEncode(plain), encoded, `encode ${plain.length} bytes`);
    assert.equal(cobsDecode(encoded), plain, `decode ${encoded.length} bytes`);
  }
});

cobs('round-trips random data and never emits a zero', () => {
  const rng = seededRandom('cobs random');
  for (let i = 0; i < 300; i++) {
    const plain = rng.bytes(rng.int(1200));
    // Make zeros common so short and long runs both occur.
    for (let k = 0; k < plain.length; k++) if (rng.next() < 0.2) plain[k] = 0;
    const enc = cobsEncode(plain);
    assert.is(enc.indexOf(0), -1);
    assert.ok(enc.length <= plain.length + Math.ceil(plain.length / 254) + 1);
    assert.equal(cobsDecode(enc), plain);
  }
});

cobs('rejects blocks that are not COBS', () => {
  assert.is(cobsDecode(hex('05 11 22')), null, 'code runs past the end');
  assert.is(cobsDecode(hex('03 11 00')), null, 'zero inside a block');
  assert.is(cobsDecode(hex('00')), null, 'zero code');
});

cobs.run();

const frames = suite('frames');

const sample = { version: 1, type: 0x03, id: 0x1234, body: Buffer.from('hello frame\u0000with zero') };

function only(events: ReadEvent[]) {
  assert.is(events.length, 1, `one event, got ${events.length}`);
  return events[0];
}

frames('a frame is delimited on both sides and holds no other zero', () => {
  const wire = encodeFrame(sample);
  assert.is(wire[0], 0);
  assert.is(wire[wire.length - 1], 0);
  assert.is(wire.subarray(1, -1).indexOf(0), -1);
  // Header and CRC layout, checked against the decoded bytes.
  const raw = cobsDecode(wire.subarray(1, -1))!;
  assert.equal([...raw.subarray(0, 4)], [1, 0x03, 0x34, 0x12]);
  assert.is(raw.readUInt32LE(raw.length - 4), crc32(raw.subarray(0, raw.length - 4)));
});

frames('the reader returns the frame whole, whatever the chunking', () => {
  const wire = encodeFrame(sample);
  const whole = only(new FrameReader().push(wire));
  assert.ok(whole.frame);
  assert.is(whole.frame.id, 0x1234);
  assert.is(whole.frame.type, 0x03);
  assert.equal(whole.frame.body, sample.body);

  const reader = new FrameReader();
  const events: ReadEvent[] = [];
  for (const b of wire) events.push(...reader.push(Buffer.of(b)));
  assert.equal(only(events).frame!.body, sample.body);
  assert.is(reader.pending, 0);
});

frames('garbage before a frame is reported once and the frame still arrives', () => {
  const garbage = Buffer.from('line noise \x07\x13\xff\xfe', 'latin1');
  const events = new FrameReader().push(Buffer.concat([garbage, encodeFrame(sample)]));
  assert.is(events.length, 2);
  assert.ok(events[0].fault);
  assert.ok([ErrorCode.BAD_FRAME, ErrorCode.BAD_CRC].includes(events[0].fault.code));
  assert.equal(events[1].frame!.body, sample.body);
});

frames('a flipped bit gives BAD_CRC and the next frame is read normally', () => {
  const bad = encodeFrame(sample);
  // Flip a body byte to another non-zero value so COBS stays valid.
  bad[8] = bad[8] === 0x01 ? 0x02 : bad[8] ^ 0x01 || 0x03;
  const events = new FrameReader().push(Buffer.concat([bad, encodeFrame({ ...sample, id: 7 })]));
  assert.is(events.length, 2);
  assert.is(events[0].fault!.code, ErrorCode.BAD_CRC);
  assert.match(events[0].fault!.message, /CRC mismatch/);
  assert.is(events[1].frame!.id, 7);
});

frames('short and malformed blocks are BAD_FRAME', () => {
  assert.is(decodeBlock(cobsEncode(Buffer.from([1, 2, 3]))).fault!.code, ErrorCode.BAD_FRAME);
  assert.match(decodeBlock(cobsEncode(Buffer.from([1, 2, 3]))).fault!.message, /shorter than header and CRC/);
  assert.is(decodeBlock(hex('09 01 02')).fault!.code, ErrorCode.BAD_FRAME);
});

frames('an oversized frame is reported once as TOO_LARGE, then the reader resyncs', () => {
  const reader = new FrameReader();
  const flood = Buffer.alloc(MAX_ENCODED_BYTES + 10, 0x55);
  const events = [...reader.push(flood.subarray(0, 40000)), ...reader.push(flood.subarray(40000))];
  assert.is(events.length, 1);
  assert.is(events[0].fault!.code, ErrorCode.TOO_LARGE);
  // The flood ends at the next delimiter; the following frame is intact.
  const after = reader.push(encodeFrame(sample));
  assert.is(after.length, 1);
  assert.equal(after[0].frame!.body, sample.body);
});

frames('the largest body fits and one byte more is refused by the encoder', () => {
  const body = Buffer.alloc(MAX_BODY_BYTES, 0x5a);
  const got = only(new FrameReader().push(encodeFrame({ version: 1, type: 2, id: 1, body })));
  assert.is(got.frame!.body.length, MAX_BODY_BYTES);
  assert.throws(
    () => encodeFrame({ version: 1, type: 2, id: 1, body: Buffer.alloc(MAX_BODY_BYTES + 1) }),
    /frame.body: expected at most 65528 bytes/,
  );
  assert.throws(() => encodeFrame({ version: 1, type: 2, id: 70000 }), /frame.id: expected an integer in \[0, 65535\]/);
});

frames('an unfinished frame is abandoned as TRUNCATED; empty blocks are ignored', () => {
  const reader = new FrameReader();
  const wire = encodeFrame(sample);
  assert.equal(reader.push(wire.subarray(0, 10)), []);
  assert.ok(reader.pending > 0);
  const f = reader.abandon();
  assert.is(f!.code, ErrorCode.TRUNCATED);
  assert.match(f!.message, /incomplete frame of 9 bytes/);
  assert.is(reader.abandon(), null);
  assert.equal(reader.push(Buffer.alloc(5)), [], 'a run of delimiters yields nothing');
  assert.equal(only(reader.push(wire)).frame!.body, sample.body);
});

frames('a cut frame followed by a whole one: the leading delimiter saves the whole one', () => {
  const wire = encodeFrame(sample);
  const events = new FrameReader().push(Buffer.concat([wire.subarray(0, 12), encodeFrame({ ...sample, id: 99 })]));
  assert.is(events.length, 2);
  assert.ok(events[0].fault);
  assert.is(events[1].frame!.id, 99);
});

frames('random frames in random chunks all come back in order', () => {
  const rng = seededRandom('frame stream');
  const sent = Array.from({ length: 60 }, (_, i) => ({ version: 1, type: 1 + rng.int(7), id: i + 1, body: rng.bytes(rng.int(2000)) }));
  const wire = Buffer.concat(sent.map((f) => encodeFrame(f)));
  const reader = new FrameReader();
  const got: ReadEvent[] = [];
  for (let at = 0; at < wire.length;) {
    const n = 1 + rng.int(700);
    got.push(...reader.push(wire.subarray(at, at + n)));
    at += n;
  }
  assert.is(got.length, sent.length);
  got.forEach((ev, i) => {
    assert.is(ev.frame!.id, sent[i].id);
    assert.is(ev.frame!.type, sent[i].type);
    assert.equal(ev.frame!.body, sent[i].body);
  });
});

frames.run();

const mock = suite('frames over a binding-mock port');

mock('frames written to the port are recorded byte for byte', async () => {
  const { port, binding } = await openMock();
  const wire = encodeFrame(sample);
  await new Promise<void>((resolve, reject) => port.write(wire, (err) => (err ? reject(err) : resolve())));
  await new Promise((r) => port.drain(r));
  assert.equal(binding.recording, wire);
  const back = only(new FrameReader().push(binding.recording));
  assert.equal(back.frame!.body, sample.body);
  await new Promise((r) => port.close(r));
});

mock('bytes arriving in pieces on the port are reassembled', async () => {
  const { port, binding } = await openMock();
  const reader = new FrameReader();
  const events: ReadEvent[] = [];
  port.on('data', (chunk: Buffer) => events.push(...reader.push(chunk)));
  const wire = Buffer.concat([Buffer.from([0x42, 0x42]), encodeFrame(sample), encodeFrame({ ...sample, id: 2 })]);
  for (let at = 0; at < wire.length; at += 7) binding.emitData(wire.subarray(at, at + 7));
  await new Promise((r) => setTimeout(r, 50));
  assert.is(events.length, 3);
  assert.is(events[0].fault!.code, ErrorCode.BAD_FRAME);
  assert.is(events[1].frame!.id, 0x1234);
  assert.is(events[2].frame!.id, 2);
  await new Promise((r) => port.close(r));
});

mock.run();
test.run();
