// The server's dispatch and robustness, over binding-mock ports with a stand-in learner: every
// message answered, learner failures mapped to codes, and damaged input answered with ERROR frames
// while the server keeps serving.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LinkServer } from '../src/link/server.js';
import { LinkClient, LinkError } from '../src/link/client.js';
import { FrameReader, MAX_ENCODED_BYTES, encodeFrame, type Frame } from '../src/link/frame.js';
import { ErrorCode, MessageType, decodeAck, decodeError, encodeRequest, type ErrorReply } from '../src/link/protocol.js';
import { FakeLearner } from './helpers/link-fake-learner.js';
import { openMock, openMockPair, recorded, type MockPortBinding } from './helpers/link-mock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dispatch = suite('dispatch through LinkClient');

dispatch('every request gets its ACK with the learner results', async () => {
  const learner = new FakeLearner();
  const pair = await openMockPair();
  const server = new LinkServer(learner, { featureDim: 4, images: true, device: 'test-board' });
  const detach = server.attach(pair.a);
  const client = new LinkClient(pair.b, { timeoutMs: 2000 });

  const hello = await client.hello();
  assert.equal(hello, {
    type: 'hello',
    version: 2,
    maxFrame: 65536,
    featureDim: 4,
    images: true,
    engram: hello.engram,
    device: 'test-board',
    link: {
      replyFrame: 65536,
      keyRequired: false,
      allowed: ['hello', 'learn', 'predict', 'forget', 'prune', 'stats', 'save'],
      session: server.session,
      nextSeq: 1,
      input: { width: 0, height: 0, channels: 0 },
    },
  });
  assert.match(hello.engram, /^\d+\.\d+\.\d+/);

  const v = Float32Array.from([1, 2, 3, 4]);
  assert.equal(await client.learn('cat', v), { type: 'learn', label: 'cat', stored: 1, classes: 1 });
  assert.equal(learner.calls.at(-1)!.args, ['cat', [v]]);
  await client.learn('dog', Buffer.from('jpeg bytes'));
  assert.ok(Buffer.isBuffer((learner.calls.at(-1)!.args[1] as unknown[])[0]), 'image bytes reach the learner as a Buffer');
  await client.learn('px', { data: Uint8Array.from([9, 9, 9, 9]), width: 2, height: 2, channels: 1 });
  assert.equal((learner.calls.at(-1)!.args[1] as unknown[])[0], { data: Buffer.from([9, 9, 9, 9]), width: 2, height: 2, channels: 1 });

  const p = await client.predict(v, { top: 2 });
  assert.is(p.label, 'cat');
  assert.equal(
    p.top.map((t) => t.label),
    ['cat', 'dog'],
  );
  assert.equal(learner.calls.at(-1)!.args[1], { top: 2 });

  assert.equal(await client.forget('dog'), { type: 'forget', label: 'dog', removed: 10 });
  assert.equal(await client.prune({ kind: 'count', minCount: 2 }), { type: 'prune', removed: 3, bytes: 1000, compressedBytes: 400 });
  assert.equal(learner.calls.at(-1)!.args, [{ kind: 'count', minCount: 2 }]);
  const s = await client.stats();
  assert.equal([s.classes, s.examples, s.labels], [2, 2, ['cat', 'px']]);
  await client.save();
  assert.is(learner.calls.at(-1)!.op, 'save');
  assert.is(server.counters.acks, 9);
  assert.is(server.counters.errors, 0);

  client.close();
  detach();
  await pair.close();
});

dispatch('learner failures become INVALID_ARGUMENT or INTERNAL, and the next request works', async () => {
  const learner = new FakeLearner();
  const pair = await openMockPair();
  const detach = new LinkServer(learner).attach(pair.a);
  const client = new LinkClient(pair.b, { timeoutMs: 2000 });

  learner.failNext = new RangeError('inputs[0]: expected a feature vector of length 4, got Float32Array of length 2');
  const bad = await client.learn('cat', Float32Array.from([1, 2])).catch((e) => e);
  assert.instance(bad, LinkError);
  assert.is(bad.code, ErrorCode.INVALID_ARGUMENT);
  assert.is(bad.reason, 'INVALID_ARGUMENT');
  assert.match(bad.message, /INVALID_ARGUMENT: inputs\[0\]: expected a feature vector of length 4/);

  learner.failNext = new Error('store: ENOSPC: no space left on device');
  const broken = await client.save().catch((e) => e);
  assert.is(broken.code, ErrorCode.INTERNAL);
  assert.match(broken.message, /ENOSPC/);

  assert.is((await client.learn('cat', Float32Array.from([1, 2, 3, 4]))).stored, 1);
  client.close();
  detach();
  await pair.close();
});

dispatch('the LEARN ACK is sent only after learn() resolves (durability first)', async () => {
  const learner = new FakeLearner();
  let release!: () => void;
  learner.hold = new Promise((r) => (release = r));
  const { port, binding } = await openMock();
  const detach = new LinkServer(learner).attach(port);
  const { type, body } = encodeRequest({ type: 'learn', label: 'cat', input: { kind: 'features', vector: Float32Array.from([1]) } });
  binding.emitData(encodeFrame({ version: 1, type, id: 5, body }));
  await sleep(100);
  assert.is(learner.calls.length, 1, 'learn was called');
  assert.is(binding.recording.length, 0, 'no ACK while the store has not confirmed');
  release();
  const reply = replies(await recorded(binding, 1));
  assert.is(reply.length, 1);
  assert.is(reply[0].type, MessageType.ACK);
  assert.is(reply[0].id, 5);
  assert.equal(decodeAck(reply[0].body), { type: 'learn', label: 'cat', stored: 1, classes: 1 });
  detach();
  await new Promise((r) => port.close(r));
});

dispatch('a client with nobody answering times out with TIMEOUT', async () => {
  const { port } = await openMock();
  const client = new LinkClient(port, { timeoutMs: 50, retries: 1, firstId: 1 });
  const t0 = Date.now();
  const e = await client.stats().catch((err) => err);
  assert.instance(e, LinkError);
  assert.is(e.reason, 'TIMEOUT');
  assert.match(e.message, /STATS \(id 1\): no answer within 50 ms \(sent 2 times\)/);
  assert.ok(Date.now() - t0 >= 95, 'waited for both attempts');
  client.close();
  await new Promise((r) => port.close(r));
});

dispatch('a request engram could not read is sent again and runs once', async () => {
  const learner = new FakeLearner();
  const pair = await openMockPair();
  const server = new LinkServer(learner);
  const detach = server.attach(pair.a);
  // Damage the first frame the client writes, as line noise would.
  const binding = pair.b.port as unknown as { write(b: Buffer): Promise<void> };
  const write = binding.write.bind(binding);
  let first = true;
  binding.write = async (b: Buffer) => {
    if (first) {
      first = false;
      const bad = Buffer.from(b);
      bad[6] = bad[6] === 0x01 ? 0x02 : 0x01;
      return write(bad);
    }
    return write(b);
  };
  const client = new LinkClient(pair.b, { timeoutMs: 2000 });
  const r = await client.learn('cat', Float32Array.from([1, 2, 3, 4]));
  assert.is(r.stored, 1);
  assert.is(learner.calls.filter((c) => c.op === 'learn').length, 1);
  assert.is(server.counters.faults, 1);
  client.close();
  detach();
  await pair.close();
});

dispatch.run();

// ---- raw bytes in, ERROR frames out ----

function replies(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  for (const ev of new FrameReader().push(bytes)) {
    if (ev.fault) throw new Error(`server sent an unreadable frame: ${ev.fault.message}`);
    frames.push(ev.frame);
  }
  return frames;
}

interface Rig {
  binding: MockPortBinding;
  server: LinkServer;
  learner: FakeLearner;
  /** Sends bytes and returns the frames the server wrote in answer. */
  send(bytes: Buffer, expectFrames?: number): Promise<Frame[]>;
  close(): Promise<void>;
}

async function rig(opts: ConstructorParameters<typeof LinkServer>[1] = {}): Promise<Rig> {
  const learner = new FakeLearner();
  const { port, binding } = await openMock();
  const server = new LinkServer(learner, opts);
  const detach = server.attach(port);
  let seen = 0;
  return {
    binding,
    server,
    learner,
    async send(bytes, expectFrames = 1) {
      binding.emitData(bytes);
      const t0 = Date.now();
      for (;;) {
        const frames = replies(binding.recording.subarray(seen));
        if (frames.length >= expectFrames) {
          seen = binding.recording.length;
          return frames;
        }
        if (Date.now() - t0 > 3000) throw new Error(`expected ${expectFrames} reply frames, got ${frames.length}`);
        await sleep(5);
      }
    },
    async close() {
      detach();
      await new Promise((r) => port.close(r));
    },
  };
}

function asError(f: Frame): ErrorReply & { id: number } {
  assert.is(f.type, MessageType.ERROR, `expected an ERROR frame, got type 0x${f.type.toString(16)}`);
  return { id: f.id, ...decodeError(f.body) };
}

const statsFrame = (id: number) => encodeFrame({ version: 1, type: MessageType.STATS, id });

const robust = suite('robustness on raw bytes');

robust('garbage gets one ERROR, then the next request is answered', async () => {
  const r = await rig();
  const [e] = await r.send(Buffer.concat([Buffer.from('AT+RESET\r\n'), Buffer.of(0)]));
  const err = asError(e);
  assert.is(err.id, 0);
  assert.ok([ErrorCode.BAD_FRAME, ErrorCode.BAD_CRC].includes(err.code));
  const [ok] = await r.send(statsFrame(2));
  assert.is(ok.type, MessageType.ACK);
  assert.is(ok.id, 2);
  await r.close();
});

robust('a corrupted frame gets BAD_CRC with id 0', async () => {
  const r = await rig();
  const wire = statsFrame(3);
  wire[3] = wire[3] === 0x7f ? 0x7e : 0x7f; // the id's high byte: still non-zero, so COBS stays valid
  const err = asError((await r.send(wire))[0]);
  assert.is(err.code, ErrorCode.BAD_CRC);
  assert.is(err.id, 0);
  assert.is(r.learner.calls.length, 0, 'nothing reached the learner');
  await r.close();
});

robust('an oversized frame gets TOO_LARGE once, and the server resyncs', async () => {
  const r = await rig();
  const flood = Buffer.alloc(MAX_ENCODED_BYTES + 100, 0x41);
  const [e] = await r.send(Buffer.concat([flood, Buffer.of(0), statsFrame(4)]), 2);
  assert.is(asError(e).code, ErrorCode.TOO_LARGE);
  const frames = replies(r.binding.recording);
  assert.is(frames.length, 2);
  assert.is(frames[1].type, MessageType.ACK);
  assert.is(frames[1].id, 4);
  await r.close();
});

robust('an unknown type gets UNKNOWN_TYPE with its request id', async () => {
  const r = await rig();
  const err = asError((await r.send(encodeFrame({ version: 1, type: 0x55, id: 77, body: Buffer.from([1, 2]) })))[0]);
  assert.equal([err.code, err.id, err.requestType], [ErrorCode.UNKNOWN_TYPE, 77, 0x55]);
  assert.match(err.message, /unknown request type 0x55/);
  await r.close();
});

robust('a malformed body gets BAD_REQUEST naming the field', async () => {
  const r = await rig();
  const err = asError((await r.send(encodeFrame({ version: 1, type: MessageType.FORGET, id: 8, body: Buffer.from([9, 0x61]) })))[0]);
  assert.equal([err.code, err.id], [ErrorCode.BAD_REQUEST, 8]);
  assert.match(err.message, /FORGET: label needs 9 bytes/);
  await r.close();
});

robust('another protocol version gets UNSUPPORTED_VERSION, in the header or in HELLO', async () => {
  const r = await rig();
  const head = asError((await r.send(encodeFrame({ version: 3, type: MessageType.STATS, id: 9 })))[0]);
  assert.equal([head.code, head.id], [ErrorCode.UNSUPPORTED_VERSION, 9]);
  const { type, body } = encodeRequest({ type: 'hello', minVersion: 3, maxVersion: 4 });
  const hello = asError((await r.send(encodeFrame({ version: 1, type, id: 10, body })))[0]);
  assert.is(hello.code, ErrorCode.UNSUPPORTED_VERSION);
  assert.match(hello.message, /controller speaks versions 3..4; engram speaks 1..2/);
  await r.close();
});

robust('a frame cut off mid-way is dropped as TRUNCATED after the idle timeout', async () => {
  const r = await rig({ idleTimeoutMs: 60 });
  const wire = statsFrame(11);
  const t0 = Date.now();
  const err = asError((await r.send(wire.subarray(0, 5)))[0]);
  assert.ok(Date.now() - t0 >= 50, 'not before the idle timeout');
  assert.is(err.code, ErrorCode.TRUNCATED);
  const [ok] = await r.send(statsFrame(12));
  assert.equal([ok.type, ok.id], [MessageType.ACK, 12]);
  await r.close();
});

robust('requests beyond the queue limit get BUSY; queued ones are all answered', async () => {
  const r = await rig({ maxQueue: 2 });
  let release!: () => void;
  r.learner.hold = new Promise((res) => (release = res));
  const learn = (id: number) => {
    const { type, body } = encodeRequest({ type: 'learn', label: `c${id}`, input: { kind: 'features', vector: Float32Array.from([id]) } });
    return encodeFrame({ version: 1, type, id, body });
  };
  const [busy] = await r.send(Buffer.concat([learn(21), learn(22), learn(23)]));
  assert.equal([asError(busy).code, busy.id], [ErrorCode.BUSY, 23]);
  release();
  const t0 = Date.now();
  while (replies(r.binding.recording).length < 3 && Date.now() - t0 < 2000) await sleep(5);
  const ids = replies(r.binding.recording)
    .filter((f) => f.type === MessageType.ACK)
    .map((f) => f.id);
  assert.equal(ids, [21, 22], 'answered in arrival order');
  await r.close();
});

robust('a burst of random damage never stops the server', async () => {
  const r = await rig({ idleTimeoutMs: 30 });
  const junk: Buffer[] = [];
  for (let i = 0; i < 50; i++) {
    const good = statsFrame(100 + i);
    junk.push(i % 3 === 0 ? good.subarray(0, 1 + (i % good.length)) : Buffer.from(`noise ${i} \x00\x01\x02`, 'latin1'));
  }
  r.binding.emitData(Buffer.concat(junk));
  await sleep(100);
  const before = r.server.counters.faults;
  assert.ok(before > 0, `faults counted: ${before}`);
  r.binding.emitData(statsFrame(999));
  const t0 = Date.now();
  const answered = () => replies(r.binding.recording).some((f) => f.type === MessageType.ACK && f.id === 999);
  while (!answered() && Date.now() - t0 < 2000) await sleep(5);
  assert.ok(answered(), 'the request after the damage is answered');
  await r.close();
});

robust('a repeated frame is answered again from the record, not run twice', async () => {
  const r = await rig();
  const { type, body } = encodeRequest({ type: 'learn', label: 'once', input: { kind: 'features', vector: Float32Array.from([1]) } });
  const wire = encodeFrame({ version: 1, type, id: 300, body });
  const [a] = await r.send(wire);
  const [b] = await r.send(wire);
  assert.equal([a.type, a.id, b.type, b.id], [MessageType.ACK, 300, MessageType.ACK, 300]);
  assert.equal(a.body, b.body);
  assert.is(r.learner.calls.length, 1, 'learn ran once');
  assert.is(r.server.counters.retransmits, 1);
  // Same id with another body is a new request.
  const other = encodeRequest({ type: 'learn', label: 'twice', input: { kind: 'features', vector: Float32Array.from([2]) } });
  const [c] = await r.send(encodeFrame({ version: 1, type: other.type, id: 300, body: other.body }));
  assert.is(c.type, MessageType.ACK);
  assert.is(r.learner.calls.length, 2);
  await r.close();
});

robust('a retransmission over a new connection is still answered from the record', async () => {
  const learner = new FakeLearner();
  const server = new LinkServer(learner);
  const { type, body } = encodeRequest({ type: 'learn', label: 'across', input: { kind: 'features', vector: Float32Array.from([3]) } });
  const wire = encodeFrame({ version: 1, type, id: 4242, body });
  const first = await openMock();
  const detachFirst = server.attach(first.port);
  first.binding.emitData(wire);
  await server.idle();
  detachFirst(); // the cable is pulled before the controller read the ACK
  await new Promise((r) => first.port.close(r));
  const second = await openMock();
  const detach = server.attach(second.port);
  second.binding.emitData(wire);
  const [again] = replies(await recorded(second.binding, 1));
  assert.equal([again.type, again.id], [MessageType.ACK, 4242]);
  assert.equal(decodeAck(again.body), { type: 'learn', label: 'across', stored: 1, classes: 1 });
  assert.is(learner.calls.length, 1, 'learned once');
  detach();
  await new Promise((r) => second.port.close(r));
});

robust.run();
