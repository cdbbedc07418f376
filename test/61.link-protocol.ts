// Message bodies of the serial protocol: every request and reply round-trips, and each malformed
// body is refused with BAD_REQUEST (or UNKNOWN_TYPE) and a message naming the field.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ErrorCode,
  MessageType,
  ProtocolError,
  decodeAck,
  decodeError,
  decodeRequest,
  encodeAck,
  encodeError,
  encodeRequest,
  type Reply,
  type Request,
} from '../src/link/protocol.js';

const requests = suite('requests');

const vector = Float32Array.from([0.5, -1.25, 3e-8, 1024]);
const pixels = { kind: 'pixels' as const, data: Buffer.from([1, 2, 3, 4, 5, 6]), width: 2, height: 1, channels: 3 as const };

const every: Request[] = [
  { type: 'hello', minVersion: 1, maxVersion: 3 },
  { type: 'learn', label: 'tasse à café', input: { kind: 'image', bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]) } },
  { type: 'learn', label: 'cat', input: { kind: 'features', vector } },
  { type: 'learn', label: 'px', input: pixels },
  { type: 'predict', top: 5, input: { kind: 'features', vector } },
  { type: 'forget', label: 'cat' },
  { type: 'prune', policy: { kind: 'budget', maxBytes: 4096 } },
  { type: 'prune', policy: { kind: 'budget', maxDensity: 0.25 } },
  { type: 'prune', policy: { kind: 'budget', maxBytes: 100, maxDensity: 0.5 } },
  { type: 'prune', policy: { kind: 'fanin', maxClasses: 3 } },
  { type: 'prune', policy: { kind: 'count', minCount: 2 } },
  { type: 'prune', policy: { kind: 'class', label: 'dog' } },
  { type: 'stats' },
  { type: 'save' },
];

requests('every request survives encode then decode', () => {
  for (const req of every) {
    const { type, body } = encodeRequest(req);
    assert.equal(decodeRequest(type, body), req, `round trip of ${JSON.stringify(req.type)}`);
  }
});

requests('the learn body is laid out as documented', () => {
  const { type, body } = encodeRequest({ type: 'learn', label: 'ab', input: { kind: 'features', vector: Float32Array.from([1]) } });
  assert.is(type, MessageType.LEARN);
  // u8 label length, label, u8 input kind 2, float32 LE 1.0 = 00 00 80 3f
  assert.equal([...body], [2, 0x61, 0x62, 2, 0x00, 0x00, 0x80, 0x3f]);
});

function refused(type: number, body: number[] | Buffer, code: ErrorCode, pattern: RegExp): void {
  try {
    decodeRequest(type, Buffer.from(body));
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.is((err as ProtocolError).code, code, `code for ${pattern}`);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${pattern} to be refused`);
}

requests('malformed bodies are refused with the field named', () => {
  refused(0x3e, [], ErrorCode.UNKNOWN_TYPE, /unknown request type 0x3e/);
  refused(MessageType.ACK, [], ErrorCode.UNKNOWN_TYPE, /unknown request type 0x80/);
  refused(MessageType.HELLO, [1], ErrorCode.BAD_REQUEST, /HELLO: maxVersion needs 1 bytes/);
  refused(MessageType.LEARN, [0, 2, 0, 0, 0x80, 0x3f], ErrorCode.BAD_REQUEST, /LEARN: label is empty/);
  refused(MessageType.LEARN, [5, 0x61], ErrorCode.BAD_REQUEST, /LEARN: label needs 5 bytes/);
  refused(MessageType.LEARN, [1, 0x61, 2, 1, 2, 3], ErrorCode.BAD_REQUEST, /positive multiple of 4 bytes, got 3/);
  refused(MessageType.LEARN, [1, 0x61, 1], ErrorCode.BAD_REQUEST, /image input has no bytes/);
  refused(MessageType.LEARN, [1, 0x61, 9, 1], ErrorCode.BAD_REQUEST, /unknown input kind 9/);
  refused(MessageType.LEARN, [1, 0xff, 1, 1], ErrorCode.BAD_REQUEST, /label is not valid UTF-8/);
  refused(MessageType.LEARN, [1, 0x61, 3, 2, 0, 2, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8], ErrorCode.BAD_REQUEST, /channels must be 1 or 3, got 2/);
  refused(MessageType.LEARN, [1, 0x61, 3, 2, 0, 2, 0, 1, 1, 2, 3], ErrorCode.BAD_REQUEST, /2x2x1 pixels need 4 bytes, got 3/);
  refused(MessageType.PREDICT, [0, 2, 0, 0, 0x80, 0x3f], ErrorCode.BAD_REQUEST, /top must be in \[1, 32\], got 0/);
  refused(MessageType.PRUNE, [7], ErrorCode.BAD_REQUEST, /unknown prune kind 7/);
  refused(MessageType.PRUNE, [1, 0, 0, 0, 0, 0, 0, 0, 0], ErrorCode.BAD_REQUEST, /needs maxBytes or maxDensity/);
  refused(MessageType.STATS, [0], ErrorCode.BAD_REQUEST, /STATS: 1 unexpected bytes after the last field/);
  refused(MessageType.FORGET, [0], ErrorCode.BAD_REQUEST, /FORGET: label is empty/);
});

requests('values the wire cannot carry are refused when encoding', () => {
  assert.throws(() => encodeRequest({ type: 'forget', label: 'x'.repeat(256) }), /label: expected at most 255 UTF-8 bytes, got 256 bytes/);
  assert.throws(
    () => encodeRequest({ type: 'prune', policy: { kind: 'fanin', maxClasses: -1 } }),
    /policy.maxClasses: expected an integer in \[1, 4294967295\], got number -1/,
  );
  assert.throws(
    () => encodeRequest({ type: 'prune', policy: { kind: 'budget', maxDensity: 2 } }),
    /policy.maxDensity: expected a finite number in/,
  );
  assert.throws(() => encodeRequest({ type: 'prune', policy: { kind: 'budget' } }), /a budget policy needs maxBytes or maxDensity/);
  assert.throws(
    () => encodeRequest({ type: 'predict', top: 40, input: { kind: 'features', vector } }),
    /top: expected an integer in \[1, 32\], got number 40/,
  );
});

requests.run();

const replies = suite('replies');

const acks: Reply[] = [
  { type: 'hello', version: 1, maxFrame: 65536, featureDim: 1280, images: true, engram: '0.1.0', device: 'raspberry-pi-5' },
  { type: 'learn', label: 'cat', stored: 1, classes: 4 },
  {
    type: 'predict',
    label: 'cat',
    score: 0.75,
    margin: 0.25,
    top: [
      { label: 'cat', score: 0.75 },
      { label: 'dog', score: 0.5 },
    ],
  },
  { type: 'predict', label: null, score: 0.125, margin: 0, top: [] },
  { type: 'forget', label: 'cat', removed: 77 },
  { type: 'prune', removed: 12, bytes: 2048 },
  { type: 'stats', classes: 2, examples: 9, bytes: 4096, density: 0.5, labelsTotal: 2, labels: ['cat', 'dog'] },
  { type: 'save' },
];

replies('every ACK survives encode then decode', () => {
  for (const reply of acks) assert.equal(decodeAck(encodeAck(reply)), reply, `round trip of ${reply.type}`);
});

replies('a long label list is cut to fit the frame, and says so', () => {
  const labels = Array.from({ length: 3000 }, (_, i) => `class-${String(i).padStart(5, '0')}-${'x'.repeat(20)}`);
  const body = encodeAck(
    { type: 'stats', classes: 3000, examples: 3000, bytes: 1, density: 0.1, labelsTotal: 3000, labels },
    { maxBody: 65528 },
  );
  assert.ok(body.length <= 65528, `body of ${body.length} bytes fits`);
  const back = decodeAck(body);
  assert.ok(back.type === 'stats');
  if (back.type !== 'stats') return;
  assert.is(back.labelsTotal, 3000);
  assert.ok(back.labels.length > 1000 && back.labels.length < 3000, `${back.labels.length} labels included`);
  assert.equal(back.labels, labels.slice(0, back.labels.length));
});

replies('ERROR bodies carry the request type, the code and a message cut at 255 bytes', () => {
  const e = decodeError(encodeError({ requestType: MessageType.LEARN, code: ErrorCode.INVALID_ARGUMENT, message: 'é'.repeat(200) }));
  assert.is(e.requestType, MessageType.LEARN);
  assert.is(e.code, ErrorCode.INVALID_ARGUMENT);
  assert.ok(Buffer.byteLength(e.message) <= 255);
  assert.is(e.message, 'é'.repeat(127), 'cut on a character boundary');
});

replies('an ACK for an unknown request type is refused', () => {
  assert.throws(() => decodeAck(Buffer.from([0x33])), /ACK: acknowledges unknown request type 51/);
});

replies.run();
