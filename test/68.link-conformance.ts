// Conformance of engram serve's link with docs/protocol.md, one case per rule the document states: the worked
// examples byte for byte (read from the document itself), the size limit, request id 0, de-duplication with
// several requests outstanding, the controller's maximum frame and label paging, the error codes for
// out-of-range values, sizes in compressed bytes, the margin with one class, version 1 layouts for version 1
// frames, and access control (allowed requests, tags, replays).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LinkServer, type LinkServerOptions } from '../src/link/server.js';
import { LinkClient, LinkError } from '../src/link/client.js';
import { FrameReader, MAX_ENCODED_BYTES, MAX_FRAME_BYTES, encodeFrame, type Frame } from '../src/link/frame.js';
import { cobsEncode } from '../src/link/cobs.js';
import { crc32 } from '../src/util/crc32.js';
import { requestTag, signRequest } from '../src/link/auth.js';
import {
  ErrorCode,
  MessageType,
  decodeAck,
  decodeError,
  decodeRequest,
  encodeAck,
  encodeRequest,
  type Request,
} from '../src/link/protocol.js';
import { Engram } from '../src/learner/engram.js';
import type { LinkLearner } from '../src/link/learner.js';
import { FakeLearner } from './helpers/link-fake-learner.js';
import { openMock, openMockPair } from './helpers/link-mock.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

function frames(bytes: Buffer): Frame[] {
  const out: Frame[] = [];
  for (const ev of new FrameReader().push(bytes)) {
    if (ev.fault) throw new Error(`server sent an unreadable frame: ${ev.fault.message}`);
    out.push(ev.frame);
  }
  return out;
}

/** A server on a recording mock port; send() returns the frames written in answer. */
async function rig(learner: LinkLearner = new FakeLearner(), opts: LinkServerOptions = {}) {
  const { port, binding } = await openMock();
  const server = new LinkServer(learner, opts);
  const detach = server.attach(port);
  let seen = 0;
  return {
    server,
    learner,
    async send(bytes: Buffer, expect = 1): Promise<Frame[]> {
      binding.emitData(bytes);
      const t0 = Date.now();
      for (;;) {
        const got = frames(binding.recording.subarray(seen));
        if (got.length >= expect) {
          seen = binding.recording.length;
          return got;
        }
        if (Date.now() - t0 > 3000) throw new Error(`expected ${expect} frames, got ${got.length}`);
        await sleep(5);
      }
    },
    async close() {
      detach();
      await new Promise((r) => port.close(r));
    },
  };
}

const req = (r: Request, id: number, version = 2) => {
  const { type, body } = encodeRequest(r);
  return encodeFrame({ version, type, id, body });
};
const errorOf = (f: Frame) => {
  assert.is(f.type, MessageType.ERROR, `expected ERROR, got 0x${f.type.toString(16)}`);
  return { id: f.id, ...decodeError(f.body) };
};
const learnFeatures = (label: string, v: number[]): Request => ({
  type: 'learn',
  label,
  input: { kind: 'features', vector: Float32Array.from(v) },
});

// ---- the document's worked examples ----

const doc = suite("docs/protocol.md's worked examples");
const text = readFileSync(join(root, 'docs', 'protocol.md'), 'utf8');
function example(name: string): Buffer {
  const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`\\n([0-9a-f \\n]+)\`\`\``).exec(text);
  assert.ok(m, `docs/protocol.md has example ${name}`);
  return Buffer.from(m[1].replace(/\s+/g, ''), 'hex');
}
const KEY = Buffer.from([...Array(32).keys()]);
const SESSION = Buffer.from('0123456789abcdef', 'hex');

doc('HELLO v2 and its ACK', () => {
  const { type, body } = encodeRequest({ type: 'hello', minVersion: 1, maxVersion: 2, maxFrame: 256 });
  assert.is(hex(encodeFrame({ version: 1, type, id: 1, body })), hex(example('hello-v2')));
  const ack = encodeAck(
    {
      type: 'hello',
      version: 2,
      maxFrame: 65536,
      featureDim: 2,
      images: false,
      engram: '0.1.0',
      device: '',
      link: {
        replyFrame: 256,
        keyRequired: true,
        allowed: ['hello', 'learn', 'predict', 'stats', 'predict-frame'],
        session: SESSION,
        nextSeq: 1,
        input: { width: 0, height: 0, channels: 0 },
      },
    },
    { version: 2 },
  );
  const wire = example('hello-v2-ack');
  assert.is(hex(encodeFrame({ version: 1, type: MessageType.ACK, id: 1, body: ack })), hex(wire));
  const back = decodeAck(frames(wire)[0].body, 1);
  assert.ok(back.type === 'hello' && back.link);
  if (back.type === 'hello') assert.equal(back.link.allowed, ['hello', 'learn', 'predict', 'stats', 'predict-frame']);
  // An engram from before the second mask ends the body after the input size: read as types 1..8 only.
  const older = decodeAck(ack.subarray(0, ack.length - 1), 2);
  assert.ok(older.type === 'hello' && older.link);
  if (older.type === 'hello') assert.equal(older.link.allowed, ['hello', 'learn', 'predict', 'stats']);
});

doc('PREDICT-FRAME and its ACK', () => {
  const { type, body } = encodeRequest({ type: 'predict-frame', top: 2 });
  assert.is(type, 0x09);
  assert.is(hex(encodeFrame({ version: 2, type, id: 5, body })), hex(example('predict-frame')));
  const reply = {
    type: 'predict-frame' as const,
    frame: 300,
    label: 'ok',
    score: 0.75,
    margin: 0.5,
    top: [
      { label: 'ok', score: 0.75 },
      { label: 'no', score: 0.25 },
    ],
  };
  const wire = example('predict-frame-ack');
  assert.is(hex(encodeFrame({ version: 2, type: MessageType.ACK, id: 5, body: encodeAck(reply, { version: 2 }) })), hex(wire));
  assert.equal(decodeAck(frames(wire)[0].body, 2), reply);
  assert.equal(decodeRequest(0x08, encodeRequest({ type: 'learn-frame', label: 'ok' }).body, 2), { type: 'learn-frame', label: 'ok' });
  assert.throws(() => decodeRequest(0x09, body, 1), /PREDICT-FRAME\) needs header version 2/);
  assert.throws(() => decodeRequest(0x09, Buffer.of(0), 2), /top must be in \[1, 32\], got 0/);
  assert.throws(() => decodeRequest(0x08, Buffer.of(0), 2), /label/);
});

doc('STATS v2 paging and its ACK', () => {
  const { type, body } = encodeRequest({ type: 'stats', first: 1 });
  assert.is(hex(encodeFrame({ version: 2, type, id: 4, body })), hex(example('stats-v2')));
  const ack = encodeAck(
    {
      type: 'stats',
      classes: 2,
      examples: 3,
      bytes: 4096,
      compressedBytes: 50,
      density: 0.25,
      labelsTotal: 2,
      first: 1,
      labels: ['ok', 'no'],
    },
    { version: 2 },
  );
  assert.is(hex(encodeFrame({ version: 2, type: MessageType.ACK, id: 4, body: ack })), hex(example('stats-v2-ack')));
});

doc('the tagged LEARN: HMAC input, tag and wire bytes', () => {
  const { type, body } = encodeRequest(learnFeatures('ok', [1, 0]));
  const signed = signRequest(KEY, SESSION, 1, { version: 2, type, id: 3, body });
  assert.is(signed.type, 0x42);
  const input = Buffer.concat([SESSION, Buffer.from([1, 0, 0, 0]), Buffer.from([2, 0x42, 3, 0]), body]);
  assert.is(hex(input), hex(example('tag-input')));
  assert.is(hex(requestTag(KEY, SESSION, 1, { version: 2, type: 0x42, id: 3 }, body)), hex(example('tag')));
  const wire = encodeFrame({ version: 2, type: signed.type, id: 3, body: signed.body });
  assert.is(hex(wire), hex(example('tagged-learn')));
  assert.is(crc32(Buffer.concat([Buffer.from([2, 0x42, 3, 0]), signed.body])), 0x0d96f6ad);
});

doc.run();

// ---- frames ----

const frame = suite('frame size, request id 0, de-duplication');

frame('65795 stuffed bytes are a frame; the 65796th byte without a delimiter is TOO_LARGE', async () => {
  const r = await rig();
  // A LEARN whose frame decodes to exactly 65536 bytes, none of them zero where it can be helped.
  const label = 'x';
  const vector = new Float32Array((MAX_FRAME_BYTES - 8 - 3) / 4).fill(1.5);
  const wire = req(learnFeatures(label, [...vector]), 7);
  assert.ok(wire.length - 2 <= MAX_ENCODED_BYTES, `${wire.length - 2} stuffed bytes`);
  const [ok] = await r.send(wire);
  assert.is(ok.type, MessageType.ACK, 'the largest frame is run');
  assert.is(MAX_ENCODED_BYTES, 65795);
  const flood = Buffer.alloc(MAX_ENCODED_BYTES + 1, 0x41);
  const [big] = await r.send(Buffer.concat([Buffer.of(0), flood, Buffer.of(0)]));
  assert.equal([errorOf(big).code, big.id], [ErrorCode.TOO_LARGE, 0]);
  await r.close();
});

frame('a block within 65795 stuffed bytes that decodes to more than 65536 bytes is TOO_LARGE and not run', async () => {
  const r = await rig();
  for (const size of [MAX_FRAME_BYTES + 1, 65794]) {
    const raw = Buffer.alloc(size); // mostly zeros: COBS keeps it short
    raw[0] = 2;
    raw[1] = MessageType.STATS;
    raw.writeUInt16LE(9, 2);
    raw.writeUInt32LE(crc32(raw.subarray(0, size - 4)), size - 4);
    const stuffed = cobsEncode(raw);
    assert.ok(stuffed.length <= MAX_ENCODED_BYTES, `${stuffed.length} stuffed bytes for ${size}`);
    const [e] = await r.send(Buffer.concat([Buffer.of(0), stuffed, Buffer.of(0)]));
    const err = errorOf(e);
    assert.equal([err.code, err.id], [ErrorCode.TOO_LARGE, 0]);
    assert.match(err.message, new RegExp(`decodes to ${size} bytes, more than 65536`));
  }
  assert.is((r.learner as FakeLearner).calls.length, 0);
  await r.close();
});

frame('a request with id 0 is not run: BAD_REQUEST with id 0', async () => {
  const r = await rig();
  for (const version of [1, 2]) {
    const [e] = await r.send(encodeFrame({ version, type: MessageType.STATS, id: 0 }));
    const err = errorOf(e);
    assert.equal([err.code, err.id, err.requestType], [ErrorCode.BAD_REQUEST, 0, MessageType.STATS]);
    assert.match(err.message, /request id 0 is reserved/);
  }
  assert.is((r.learner as FakeLearner).calls.length, 0);
  await r.close();
});

frame('a pipelining controller re-sending earlier requests never stores one twice', async () => {
  const learner = new FakeLearner();
  const r = await rig(learner);
  const sent = Array.from({ length: 8 }, (_, i) => (i % 2 ? req({ type: 'stats' }, 100 + i) : req(learnFeatures(`c${i}`, [i]), 100 + i)));
  const first = await r.send(Buffer.concat(sent), 8);
  assert.equal(
    first.map((f) => [f.type, f.id]),
    sent.map((_, i) => [MessageType.ACK, 100 + i]),
  );
  // Every one of them again, oldest first, after later requests were answered.
  const again = await r.send(Buffer.concat(sent), 8);
  assert.equal(
    again.map((f) => f.id),
    first.map((f) => f.id),
  );
  for (let i = 0; i < 8; i++) assert.equal(again[i].body, first[i].body, 'the same answer');
  assert.is(learner.calls.filter((c) => c.op === 'learn').length, 4, 'each LEARN ran once');
  assert.is(r.server.counters.retransmits, 8);
  await r.close();
});

frame.run();

// ---- answers within the controller's frame ----

const limits = suite("HELLO's maxFrame bounds every answer");

limits('STATS is cut to the frame and pages through every label; errors shrink; an answer that cannot fit is TOO_LARGE', async () => {
  const learner = new FakeLearner();
  for (let i = 0; i < 120; i++) await learner.learn(`label-number-${String(i).padStart(3, '0')}`, [Float32Array.of(1)]);
  const pair = await openMockPair();
  const server = new LinkServer(learner);
  const detach = server.attach(pair.a);
  const client = new LinkClient(pair.b, { timeoutMs: 2000, maxFrame: 128 });
  // Every frame the client receives is checked against the limit.
  const sizes: number[] = [];
  pair.b.on('data', (d: Buffer) => {
    for (const ev of new FrameReader().push(Buffer.concat([Buffer.of(0), d]))) if (ev.frame) sizes.push(ev.frame.body.length + 8);
  });
  const hello = await client.hello();
  assert.is(hello.link!.replyFrame, 128);
  const s = await client.stats();
  assert.is(s.labelsTotal, 120);
  assert.ok(s.labels.length > 0 && s.labels.length < 10, `${s.labels.length} labels in one 128-byte answer`);
  const all = await client.labels();
  assert.equal(
    all,
    Array.from({ length: 120 }, (_, i) => `label-number-${String(i).padStart(3, '0')}`),
  );
  const e = await client.forget('x'.repeat(200)).catch((err) => err);
  assert.instance(e, LinkError);
  const p = await client.predict(Float32Array.of(1), { top: 32 });
  assert.ok(p.top.length >= 1 && p.top.length < 32, `top cut to ${p.top.length}`);
  assert.ok(Math.max(...sizes) <= 128, `largest frame received: ${Math.max(...sizes)} bytes`);
  // A label that cannot fit even alone.
  await learner.learn('y'.repeat(200), [Float32Array.of(2)]);
  learner.predict = async () => [{ label: 'y'.repeat(200), score: 1, margin: 1, top: [{ label: 'y'.repeat(200), score: 1 }] }];
  const big = await client.predict(Float32Array.of(1)).catch((err) => err);
  assert.is(big.code, ErrorCode.TOO_LARGE);
  assert.match(big.message, /PREDICT answer needs \d+ bytes, more than the 128-byte frame/);
  client.close();
  detach();
  await pair.close();
});

limits.run();

// ---- values, sizes, versions, with the real learner ----

const values = suite('error codes, sizes and layouts with the real Engram');

values('out-of-range values: BAD_REQUEST for the wire format, INVALID_ARGUMENT for what engram holds', async () => {
  const engram = await Engram.memory({ backbone: null, quantizer: { kind: 'topk', k: 2, dim: 8 } });
  const r = await rig(engram, { featureDim: 8 });
  const prune = (kind: number, ...fields: Buffer[]) =>
    encodeFrame({ version: 2, type: MessageType.PRUNE, id: 50 + kind + fields.length, body: Buffer.concat([Buffer.of(kind), ...fields]) });
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  const f32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    return b;
  };
  const cases: [Buffer, ErrorCode, RegExp][] = [
    [prune(1, u32(0), f32(1.5)), ErrorCode.BAD_REQUEST, /maxDensity must be in \(0, 1\]/],
    [prune(1, u32(0), f32(NaN)), ErrorCode.BAD_REQUEST, /maxDensity must be in/],
    [prune(1, u32(0), f32(-0.5), Buffer.alloc(0)), ErrorCode.BAD_REQUEST, /maxDensity must be in/],
    [prune(2, u32(0)), ErrorCode.BAD_REQUEST, /maxClasses must be at least 1/],
    [prune(3, u32(0)), ErrorCode.BAD_REQUEST, /minCount must be at least 1/],
    [req({ type: 'forget', label: 'never-stored' }, 60), ErrorCode.INVALID_ARGUMENT, /no class named "never-stored"/],
    [req(learnFeatures('short', [1, 2, 3]), 61), ErrorCode.INVALID_ARGUMENT, /length 8/],
    [
      req({ type: 'learn', label: 'img', input: { kind: 'image', bytes: Buffer.from('not an image') } }, 62),
      ErrorCode.INVALID_ARGUMENT,
      /backbone|image/i,
    ],
  ];
  for (const [wire, code, pattern] of cases) {
    const e = errorOf((await r.send(wire))[0]);
    assert.is(e.code, code, `${pattern}: ${e.message}`);
    assert.match(e.message, pattern);
  }
  await r.close();
  await engram.close();
});

values('sizes are compressed bytes: PRUNE maxBytes bounds what STATS reports; the margin with one class is the score', async () => {
  const engram = await Engram.memory({ backbone: null, quantizer: { kind: 'topk', k: 4, dim: 64 } });
  const pair = await openMockPair();
  const detach = new LinkServer(engram, { featureDim: 64 }).attach(pair.b);
  const client = new LinkClient(pair.a, { timeoutMs: 3000 });
  await client.hello();
  let seed = 7;
  const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 0x100000000;
  const v = (c: number) => Float32Array.from({ length: 64 }, (_, i) => (Math.floor(i / 8) === c ? 1 : 0) + rand() * 0.5);
  await client.learn('only', v(0));
  const one = await client.predict(v(0));
  assert.ok(one.score > 0);
  assert.is(one.margin, one.score, 'one class: margin = score - 0');
  for (let c = 1; c < 8; c++) for (let n = 0; n < 6; n++) await client.learn(`c${c}`, v(c));
  const before = await client.stats();
  assert.ok(
    before.compressedBytes! > 0 && before.compressedBytes! < before.bytes,
    `${before.compressedBytes} compressed of ${before.bytes}`,
  );
  assert.is(before.compressedBytes, engram.stats().compressedBytes);
  const budget = Math.floor(before.compressedBytes! / 2);
  const p = await client.prune({ kind: 'budget', maxBytes: budget });
  assert.ok(p.removed > 0);
  assert.ok(p.compressedBytes! <= budget, `${p.compressedBytes} <= ${budget}`);
  assert.is(p.bytes, before.bytes, 'the resident size does not change');
  const after = await client.stats();
  assert.is(after.compressedBytes, p.compressedBytes);
  client.close();
  detach();
  await pair.close();
  await engram.close();
});

values('a version 1 controller gets version 1 layouts', async () => {
  const r = await rig();
  const [hello] = await r.send(req({ type: 'hello', minVersion: 1, maxVersion: 1 }, 1, 1));
  assert.is(hello.version, 1);
  const h = decodeAck(hello.body, 1);
  assert.ok(h.type === 'hello' && h.version === 1 && h.link === undefined);
  const [prune] = await r.send(req({ type: 'prune', policy: { kind: 'count', minCount: 2 } }, 2, 1));
  assert.is(prune.body.length, 9, 'type, removed, bytes');
  assert.equal(decodeAck(prune.body, 1), { type: 'prune', removed: 3, bytes: 1000 });
  const [stats] = await r.send(req({ type: 'stats' }, 3, 1));
  assert.equal(decodeAck(stats.body, 1), {
    type: 'stats',
    classes: 0,
    examples: 0,
    bytes: 1000,
    density: 0.125,
    labelsTotal: 0,
    labels: [],
  });
  // A STATS body with `first` is version 2 only.
  const [bad] = await r.send(encodeFrame({ version: 1, type: MessageType.STATS, id: 4, body: Buffer.from([1, 0]) }));
  assert.is(errorOf(bad).code, ErrorCode.BAD_REQUEST);
  await r.close();
});

values.run();

// ---- access ----

const access = suite('allowed requests, tags and replays');

access('requests switched off are NOT_ALLOWED; HELLO says what runs', async () => {
  const r = await rig(new FakeLearner(), { allow: ['predict', 'stats'] });
  const [h] = await r.send(req({ type: 'hello', minVersion: 1, maxVersion: 2 }, 1, 1));
  const hello = decodeAck(h.body, 1);
  assert.ok(hello.type === 'hello');
  if (hello.type === 'hello') assert.equal(hello.link!.allowed, ['hello', 'predict', 'stats']);
  for (const [r2, name] of [
    [learnFeatures('x', [1]), 'LEARN'],
    [{ type: 'forget', label: 'x' } as Request, 'FORGET'],
    [{ type: 'save' } as Request, 'SAVE'],
  ] as const) {
    const e = errorOf((await r.send(req(r2, 2)))[0]);
    assert.is(e.code, ErrorCode.NOT_ALLOWED);
    assert.match(e.message, new RegExp(`${name} is not allowed on this engram \\(allowed: hello, predict, stats\\)`));
  }
  assert.is((await r.send(req({ type: 'stats' }, 3)))[0].type, MessageType.ACK);
  assert.equal(
    (r.learner as FakeLearner).calls.map((c) => c.op),
    ['stats'],
  );
  await r.close();
});

access('LEARN-FRAME and PREDICT-FRAME: NOT_ALLOWED without a camera, version 2 only, tagged like LEARN with a key', async () => {
  let r = await rig(new FakeLearner());
  let [h] = await r.send(req({ type: 'hello', minVersion: 1, maxVersion: 2 }, 1, 1));
  let hello = decodeAck(h.body, 1);
  if (hello.type === 'hello')
    assert.equal(hello.link!.allowed, ['hello', 'learn', 'predict', 'forget', 'prune', 'stats', 'save'], 'no camera: not listed');
  for (const [request, name] of [
    [{ type: 'learn-frame', label: 'mug' }, 'LEARN-FRAME'],
    [{ type: 'predict-frame', top: 3 }, 'PREDICT-FRAME'],
  ] as const) {
    let e = errorOf((await r.send(req(request, 2)))[0]);
    assert.is(e.code, ErrorCode.NOT_ALLOWED);
    assert.match(e.message, new RegExp(`${name} needs a camera: this engram watches no source \\(engram serve --watch SOURCE\\)`));
    e = errorOf((await r.send(req(request, 3, 1)))[0]);
    assert.is(e.code, ErrorCode.UNKNOWN_TYPE, 'a version 1 frame');
    assert.match(e.message, /needs header version 2/);
  }
  await r.close();

  // A camera whose frames count up: the answers say which frame was used.
  const learned: string[] = [];
  let next = 40;
  const camera = {
    async learnFrame(label: string) {
      learned.push(label);
      return { frame: next++, label, stored: 1, classes: learned.length };
    },
    async predictFrame({ top }: { top: number }) {
      return {
        frame: next++,
        label: 'mug',
        score: 0.9,
        margin: 0.4,
        top: [
          { label: 'mug', score: 0.9 },
          { label: 'cup', score: 0.5 },
        ].slice(0, top),
      };
    },
  };
  r = await rig(new FakeLearner(), { camera, key: KEY });
  [h] = await r.send(req({ type: 'hello', minVersion: 1, maxVersion: 2 }, 1, 1));
  hello = decodeAck(h.body, 1);
  if (hello.type === 'hello') assert.equal(hello.link!.allowed.slice(-2), ['learn-frame', 'predict-frame']);
  const e = errorOf((await r.send(req({ type: 'learn-frame', label: 'mug' }, 2)))[0]);
  assert.is(e.code, ErrorCode.AUTH_FAILED, 'LEARN-FRAME changes the memory');
  assert.equal(learned, []);
  const { type, body } = encodeRequest({ type: 'learn-frame', label: 'mug' });
  const signed = signRequest(KEY, r.server.session, 1, { version: 2, type, id: 3, body });
  let [f] = await r.send(encodeFrame({ version: 2, type: signed.type, id: 3, body: signed.body }));
  assert.equal(decodeAck(f.body, 2), { type: 'learn-frame', frame: 40, label: 'mug', stored: 1, classes: 1 });
  [f] = await r.send(req({ type: 'predict-frame', top: 1 }, 4));
  assert.equal(decodeAck(f.body, 2), {
    type: 'predict-frame',
    frame: 41,
    label: 'mug',
    score: 0.8999999761581421,
    margin: 0.4000000059604645,
    top: [{ label: 'mug', score: 0.8999999761581421 }],
  });
  await r.close();
});

access('with a key: untagged or wrongly tagged changes fail, a replay is refused, reads need no tag', async () => {
  const learner = new FakeLearner();
  const r = await rig(learner, { key: KEY });
  const session = r.server.session;
  const tagged = (request: Request, id: number, seq: number, key = KEY, sess = session) => {
    const { type, body } = encodeRequest(request);
    const s = signRequest(key, sess, seq, { version: 2, type, id, body });
    return encodeFrame({ version: 2, type: s.type, id, body: s.body });
  };
  const code = async (wire: Buffer) => {
    const [f] = await r.send(wire);
    return f.type === MessageType.ACK ? 'ACK' : ErrorCode[errorOf(f).code];
  };
  assert.is(await code(req(learnFeatures('a', [1]), 1)), 'AUTH_FAILED');
  assert.is(await code(tagged(learnFeatures('a', [1]), 2, 1, Buffer.alloc(32, 7))), 'AUTH_FAILED');
  assert.is(await code(tagged(learnFeatures('a', [1]), 3, 1, KEY, Buffer.alloc(8))), 'AUTH_FAILED', 'another session');
  assert.is(await code(req({ type: 'stats' }, 4)), 'ACK');
  assert.is(await code(tagged(learnFeatures('a', [1]), 5, 1)), 'ACK');
  assert.is(await code(tagged(learnFeatures('b', [2]), 6, 2)), 'ACK');
  assert.is(await code(tagged(learnFeatures('c', [3]), 7, 2)), 'STALE_SEQUENCE', 'a used sequence number');
  const recorded = tagged({ type: 'forget', label: 'a' }, 8, 10);
  assert.is(await code(recorded), 'ACK');
  // Past the retransmission record, the recorded frame is a replay.
  for (let i = 0; i < 16; i++) await code(req({ type: 'stats' }, 100 + i));
  assert.is(await code(recorded), 'STALE_SEQUENCE');
  // A request with its trailer cut off is malformed.
  const { type, body } = encodeRequest({ type: 'save' });
  assert.is(
    await code(encodeFrame({ version: 2, type: type | 0x40, id: 9, body: Buffer.concat([body, Buffer.alloc(20)]) })),
    'BAD_REQUEST',
  );
  assert.equal(
    learner.calls.filter((c) => c.op !== 'stats').map((c) => [c.op, c.args[0]]),
    [
      ['learn', 'a'],
      ['learn', 'b'],
      ['forget', 'a'],
    ],
  );
  assert.is(r.server.counters.authFailures, 5);
  await r.close();
});

access('the reference client tags its changes and follows engram through a restart', async () => {
  const learner = new FakeLearner();
  const pair = await openMockPair();
  let server = new LinkServer(learner, { key: KEY });
  let detach = server.attach(pair.a);
  const client = new LinkClient(pair.b, { timeoutMs: 2000, key: KEY });
  assert.is((await client.learn('a', Float32Array.of(1))).stored, 1, 'HELLO first, then a tagged LEARN');
  await client.learn('b', Float32Array.of(2));
  // engram restarts: a new session, sequence numbers start over.
  detach();
  server = new LinkServer(learner, { key: KEY });
  detach = server.attach(pair.a);
  assert.is((await client.forget('a')).label, 'a');
  const stranger = new LinkClient(pair.b, { timeoutMs: 2000, key: Buffer.alloc(32, 9) });
  client.close();
  const e = await stranger.learn('evil', Float32Array.of(3)).catch((err) => err);
  assert.instance(e, LinkError);
  assert.is(e.code, ErrorCode.AUTH_FAILED);
  assert.equal(
    learner.calls.filter((c) => c.op !== 'stats').map((c) => c.args[0]),
    ['a', 'b', 'a'],
  );
  stranger.close();
  detach();
  await pair.close();
});

access.run();
