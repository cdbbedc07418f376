// The serial protocol's vocabulary and message bodies (docs/protocol.md is the normative text).
// Bodies are little-endian; a string is u8 byte length + UTF-8 bytes. Requests go from the
// controller to engram; engram answers each one with ACK (result) or ERROR (code + message),
// echoing the request id.
import { int, num } from '../util/validate.js';
import type { PrunePolicy } from '../learner/prune.js';
import { LABEL_RULE, labelProblem } from '../util/label.js';

/** Highest protocol version engram speaks; it also answers version 1 frames in version 1's layouts. */
export const PROTOCOL_VERSION = 2;
export const MIN_PROTOCOL_VERSION = 1;
/** Set in a request's type byte (version 2): the body ends with a u32 sequence number and an HMAC-SHA256 tag. */
export const AUTH_FLAG = 0x40;
export const AUTH_TRAILER_BYTES = 4 + 32;
/** Smallest reply frame a controller may ask for in HELLO (header + an ERROR with a short message + CRC). */
export const MIN_REPLY_FRAME = 64;

export enum MessageType {
  HELLO = 0x01,
  LEARN = 0x02,
  PREDICT = 0x03,
  FORGET = 0x04,
  PRUNE = 0x05,
  STATS = 0x06,
  SAVE = 0x07,
  /** (v2) Learn the watched source's next frame as a label: no image on the wire. */
  LEARN_FRAME = 0x08,
  /** (v2) Predict the watched source's newest frame. */
  PREDICT_FRAME = 0x09,
  ACK = 0x80,
  ERROR = 0x81,
}

export enum ErrorCode {
  /** The bytes between two delimiters are not valid COBS or are shorter than header + CRC. */
  BAD_FRAME = 1,
  BAD_CRC = 2,
  /** More bytes than MAX_FRAME_BYTES arrived without a delimiter; dropped up to the next one. */
  TOO_LARGE = 3,
  /** A partial frame was abandoned after the idle timeout (sender stopped or cable pulled). */
  TRUNCATED = 4,
  UNSUPPORTED_VERSION = 5,
  UNKNOWN_TYPE = 6,
  /** The body does not parse for its message type. */
  BAD_REQUEST = 7,
  /** The body parsed but the learner rejected a value (dimension, label, policy...). */
  INVALID_ARGUMENT = 8,
  /** Too many requests queued; nothing was done. */
  BUSY = 9,
  /** The learner or the store failed; the request had no effect that was acknowledged. */
  INTERNAL = 10,
  /** The request type is switched off on this engram (serve --read-only or --allow). */
  NOT_ALLOWED = 11,
  /** engram holds a key and the request changes the memory but carries no valid tag (or a tag engram cannot check). */
  AUTH_FAILED = 12,
  /** The tag is valid but its sequence number is not above the last one accepted (a replay); HELLO gives the next. */
  STALE_SEQUENCE = 13,
}

export enum InputKind {
  /** An encoded image file (PNG, JPEG, WebP...): the rest of the body. */
  IMAGE = 1,
  /** A feature vector: the rest of the body as float32 little-endian. */
  FEATURES = 2,
  /** Raw pixels: u16 width, u16 height, u8 channels (1 or 3), then width*height*channels bytes. */
  PIXELS = 3,
}

/** The wire code of each prune policy kind (learner/prune.ts names the policies). */
export enum PruneKind {
  BUDGET = 1,
  FANIN = 2,
  COUNT = 3,
  CLASS = 4,
  SHARE = 5,
}

export const MAX_TOP = 32;

export type WireInput =
  | { kind: 'image'; bytes: Buffer }
  | { kind: 'features'; vector: Float32Array }
  | { kind: 'pixels'; data: Uint8Array; width: number; height: number; channels: 1 | 3 };

/** The link carries the learner's prune policies as they are (learner/prune.ts). */
export type WirePrunePolicy = PrunePolicy;

export type Request =
  /** `maxFrame`: largest decoded frame the controller can receive (version 2; absent = 65536). */
  | { type: 'hello'; minVersion: number; maxVersion: number; maxFrame?: number }
  | { type: 'learn'; label: string; input: WireInput }
  | { type: 'predict'; top: number; input: WireInput }
  | { type: 'forget'; label: string }
  | { type: 'prune'; policy: WirePrunePolicy }
  /**
   * `first`: index of the first label to list (version 2 paging; absent = 0). `threshold` (version 2): the
   * answer also gives the open-set threshold and how it was set.
   */
  | { type: 'stats'; first?: number; threshold?: boolean }
  | { type: 'save' }
  | { type: 'learn-frame'; label: string }
  | { type: 'predict-frame'; top: number };

/** Requests about the watched source's frames: version 2 only, and run only while engram watches a source. */
export const FRAME_REQUESTS: readonly Request['type'][] = ['learn-frame', 'predict-frame'];

/** What a version 2 HELLO answer adds: limits, what is allowed, and what authentication needs. */
export interface HelloLink {
  /** Largest decoded frame engram will send this controller (the smaller of 65536 and HELLO's maxFrame). */
  replyFrame: number;
  /** Requests that change the memory (LEARN, FORGET, PRUNE, SAVE) must carry a tag made with the key. */
  keyRequired: boolean;
  /** Request types this engram runs (HELLO is always among them). */
  allowed: Request['type'][];
  /** 8 random bytes drawn when engram started; every tag covers them, so no tag outlives the process. */
  session: Buffer;
  /** Lowest sequence number engram accepts in the next tagged request. */
  nextSeq: number;
  /** The backbone's input (0 x 0 x 0 without a backbone): a client reduces images to it before sending. */
  input: { width: number; height: number; channels: number };
}

export interface HelloReply {
  type: 'hello';
  version: number;
  /** Largest decoded frame engram accepts. */
  maxFrame: number;
  /** Feature vector length accepted (0 when feature vectors are not accepted). */
  featureDim: number;
  /** Whether encoded images and raw pixels are accepted (a backbone is loaded). */
  images: boolean;
  engram: string;
  device: string;
  /** Present when the negotiated version is 2 or more. */
  link?: HelloLink;
}

/**
 * `bytes` is the memory's resident size (version 1's only size); `compressedBytes` (version 2) is the size of
 * its connection bits when compressed, what PRUNE's maxBytes and a device's memory budget limit.
 */
export type Reply =
  | HelloReply
  | { type: 'learn'; label: string; stored: number; classes: number }
  | { type: 'predict'; label: string | null; score: number; margin: number; top: { label: string; score: number }[] }
  | { type: 'forget'; label: string; removed: number }
  | { type: 'prune'; removed: number; bytes: number; compressedBytes?: number }
  | {
      type: 'stats';
      classes: number;
      examples: number;
      bytes: number;
      compressedBytes?: number;
      density: number;
      labelsTotal: number;
      first?: number;
      labels: string[];
      threshold?: WireThreshold;
    }
  | { type: 'save' }
  /** `frame`: the index of the source's frame that was learned or predicted (frames count from 0 at start). */
  | { type: 'learn-frame'; frame: number; label: string; stored: number; classes: number }
  | { type: 'predict-frame'; frame: number; label: string | null; score: number; margin: number; top: { label: string; score: number }[] };

/** The open-set threshold as STATS gives it when asked (version 2): a best score below `value` is "unknown". */
export interface WireThreshold {
  value: number;
  /** 'fixed' by the user, or 'calibrated' while learning (and after each prune or forget). */
  source: 'calibrated' | 'fixed';
  /** Calibration samples held: scores of known examples and of novel ones. */
  known: number;
  novel: number;
}

/** Bytes a STATS answer's threshold takes: f32 value, u8 source, u16 known, u16 novel. */
const THRESHOLD_BYTES = 9;

export interface ErrorReply {
  /** The type of the request that failed (0 when the frame could not be read). */
  requestType: number;
  code: ErrorCode;
  message: string;
}

const TYPE_NAMES: Record<Request['type'], MessageType> = {
  hello: MessageType.HELLO,
  learn: MessageType.LEARN,
  predict: MessageType.PREDICT,
  forget: MessageType.FORGET,
  prune: MessageType.PRUNE,
  stats: MessageType.STATS,
  save: MessageType.SAVE,
  'learn-frame': MessageType.LEARN_FRAME,
  'predict-frame': MessageType.PREDICT_FRAME,
};

export function messageTypeOf(name: Request['type']): MessageType {
  return TYPE_NAMES[name];
}

export function requestNameOf(type: number): Request['type'] | null {
  for (const [name, t] of Object.entries(TYPE_NAMES)) if (t === type) return name as Request['type'];
  return null;
}

export function errorCodeName(code: number): string {
  return ErrorCode[code] ?? `UNKNOWN_ERROR_${code}`;
}

/** A body that does not parse, or a message type nobody defined; carries the ERROR code to answer with. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// ---- byte-level helpers ----

class BodyWriter {
  private parts: Buffer[] = [];

  u8(v: number): this {
    return this.put(Buffer.of(v));
  }

  u16(v: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16LE(v);
    return this.put(b);
  }

  u32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v);
    return this.put(b);
  }

  f32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeFloatLE(v);
    return this.put(b);
  }

  str(what: string, s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 255) throw new RangeError(`${what}: expected at most 255 UTF-8 bytes, got ${b.length} bytes`);
    return this.u8(b.length).put(b);
  }

  put(b: Uint8Array): this {
    this.parts.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return this;
  }

  get size(): number {
    let n = 0;
    for (const p of this.parts) n += p.length;
    return n;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class BodyReader {
  private at = 0;

  constructor(
    private readonly body: Buffer,
    private readonly what: string,
  ) {}

  get left(): number {
    return this.body.length - this.at;
  }

  private need(n: number, field: string): void {
    if (this.left < n) {
      throw new ProtocolError(
        ErrorCode.BAD_REQUEST,
        `${this.what}: ${field} needs ${n} bytes at offset ${this.at}, body has ${this.body.length}`,
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.body[this.at++];
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.body.readUInt16LE(this.at);
    this.at += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.body.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  f32(field: string): number {
    this.need(4, field);
    const v = this.body.readFloatLE(this.at);
    this.at += 4;
    return v;
  }

  str(field: string): string {
    const n = this.u8(`${field} length`);
    this.need(n, field);
    const b = this.body.subarray(this.at, this.at + n);
    this.at += n;
    const s = b.toString('utf8');
    if (!Buffer.from(s, 'utf8').equals(b)) throw new ProtocolError(ErrorCode.BAD_REQUEST, `${this.what}: ${field} is not valid UTF-8`);
    return s;
  }

  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const b = this.body.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }

  rest(): Buffer {
    const b = this.body.subarray(this.at);
    this.at = this.body.length;
    return b;
  }

  end(): void {
    if (this.left !== 0) {
      throw new ProtocolError(ErrorCode.BAD_REQUEST, `${this.what}: ${this.left} unexpected bytes after the last field`);
    }
  }

  fail(message: string): never {
    throw new ProtocolError(ErrorCode.BAD_REQUEST, `${this.what}: ${message}`);
  }
}

// ---- requests ----

function writeInput(w: BodyWriter, input: WireInput): void {
  switch (input.kind) {
    case 'image':
      w.u8(InputKind.IMAGE).put(input.bytes);
      return;
    case 'features': {
      const b = Buffer.allocUnsafe(input.vector.length * 4);
      for (let i = 0; i < input.vector.length; i++) b.writeFloatLE(input.vector[i], i * 4);
      w.u8(InputKind.FEATURES).put(b);
      return;
    }
    case 'pixels':
      w.u8(InputKind.PIXELS).u16(input.width).u16(input.height).u8(input.channels).put(input.data);
      return;
  }
}

function readInput(r: BodyReader): WireInput {
  const kind = r.u8('input kind');
  switch (kind) {
    case InputKind.IMAGE: {
      const bytes = Buffer.from(r.rest());
      if (bytes.length === 0) r.fail('image input has no bytes');
      return { kind: 'image', bytes };
    }
    case InputKind.FEATURES: {
      const bytes = r.rest();
      if (bytes.length === 0 || bytes.length % 4 !== 0) {
        r.fail(`feature vector needs a positive multiple of 4 bytes, got ${bytes.length}`);
      }
      // Copied element by element: the body need not be 4-byte aligned.
      const vector = new Float32Array(bytes.length / 4);
      for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
      return { kind: 'features', vector };
    }
    case InputKind.PIXELS: {
      const width = r.u16('width');
      const height = r.u16('height');
      const channels = r.u8('channels');
      if (width === 0 || height === 0) r.fail(`pixels need width and height >= 1, got ${width}x${height}`);
      if (channels !== 1 && channels !== 3) r.fail(`channels must be 1 or 3, got ${channels}`);
      const data = Buffer.from(r.rest());
      const want = width * height * channels;
      if (data.length !== want) r.fail(`${width}x${height}x${channels} pixels need ${want} bytes, got ${data.length}`);
      return { kind: 'pixels', data, width, height, channels: channels };
    }
    default:
      return r.fail(`unknown input kind ${kind} (1 image, 2 features, 3 pixels)`);
  }
}

/** Encodes a request body; throws RangeError/TypeError for values the wire cannot carry. */
export function encodeRequest(req: Request): { type: MessageType; body: Buffer } {
  const w = new BodyWriter();
  switch (req.type) {
    case 'hello':
      w.u8(int('minVersion', req.minVersion, 1, 255)).u8(int('maxVersion', req.maxVersion, 1, 255));
      if (req.maxFrame !== undefined) w.u32(int('maxFrame', req.maxFrame, MIN_REPLY_FRAME, 0xffffffff));
      break;
    case 'learn':
      w.str('label', req.label);
      writeInput(w, req.input);
      break;
    case 'predict':
      w.u8(int('top', req.top, 1, MAX_TOP));
      writeInput(w, req.input);
      break;
    case 'forget':
      w.str('label', req.label);
      break;
    case 'prune':
      writePolicy(w, req.policy);
      break;
    case 'stats':
      if (req.first !== undefined || req.threshold) w.u16(int('first', req.first ?? 0, 0, 0xffff));
      if (req.threshold) w.u8(1);
      break;
    case 'save':
      break;
    case 'learn-frame':
      w.str('label', req.label);
      break;
    case 'predict-frame':
      w.u8(int('top', req.top, 1, MAX_TOP));
      break;
  }
  return { type: TYPE_NAMES[req.type], body: w.done() };
}

function writePolicy(w: BodyWriter, p: WirePrunePolicy): void {
  switch (p.kind) {
    case 'budget':
      if (p.maxBytes === undefined && p.maxDensity === undefined)
        throw new RangeError('policy: a budget policy needs maxBytes or maxDensity');
      w.u8(PruneKind.BUDGET);
      w.u32(p.maxBytes === undefined ? 0 : int('policy.maxBytes', p.maxBytes, 1, 0xffffffff));
      w.f32(p.maxDensity === undefined ? 0 : num('policy.maxDensity', p.maxDensity, Number.MIN_VALUE, 1));
      return;
    case 'fanin':
      w.u8(PruneKind.FANIN).u32(int('policy.maxClasses', p.maxClasses, 1, 0xffffffff));
      return;
    case 'count':
      w.u8(PruneKind.COUNT).u32(int('policy.minCount', p.minCount, 1, 0xffffffff));
      return;
    case 'class':
      w.u8(PruneKind.CLASS).str('policy.label', p.label);
      return;
    case 'share':
      w.u8(PruneKind.SHARE).f32(num('policy.share', p.share, Number.MIN_VALUE, 1));
      return;
    default: {
      // A policy added to learner/prune.ts needs a wire kind here: the compiler says so.
      const missing: never = p;
      throw new RangeError(`policy.kind: ${JSON.stringify((missing as { kind: unknown }).kind)} has no wire encoding`);
    }
  }
}

function readPolicy(r: BodyReader): WirePrunePolicy {
  const kind = r.u8('prune kind');
  switch (kind) {
    case PruneKind.BUDGET: {
      const maxBytes = r.u32('maxBytes');
      const maxDensity = r.f32('maxDensity');
      // 0 means "not set" for both; at least one must be set.
      if (maxBytes === 0 && maxDensity === 0) r.fail('budget policy needs maxBytes or maxDensity (both are 0)');
      if (!(maxDensity >= 0 && maxDensity <= 1)) r.fail(`maxDensity must be in (0, 1] (0 = not set), got ${maxDensity}`);
      return { kind: 'budget', ...(maxBytes ? { maxBytes } : {}), ...(maxDensity ? { maxDensity } : {}) };
    }
    case PruneKind.FANIN: {
      const maxClasses = r.u32('maxClasses');
      if (maxClasses === 0) r.fail('maxClasses must be at least 1, got 0');
      return { kind: 'fanin', maxClasses };
    }
    case PruneKind.COUNT: {
      const minCount = r.u32('minCount');
      if (minCount === 0) r.fail('minCount must be at least 1, got 0');
      return { kind: 'count', minCount };
    }
    case PruneKind.CLASS:
      return { kind: 'class', label: r.str('label') };
    case PruneKind.SHARE: {
      const share = r.f32('share');
      if (!(share > 0 && share <= 1)) r.fail(`share must be in (0, 1], got ${share}`);
      // A float32 of 0.1 is 0.10000000149...: six decimals give back what the controller meant.
      return { kind: 'share', share: Math.min(1, Math.max(1e-6, Math.round(share * 1e6) / 1e6)) };
    }
    default:
      return r.fail(`unknown prune kind ${kind} (1 budget, 2 fanin, 3 count, 4 class, 5 share)`);
  }
}

/**
 * Decodes a request body of message `type` (without the authentication flag or trailer) as protocol `version`
 * lays it out; throws ProtocolError (UNKNOWN_TYPE or BAD_REQUEST).
 */
export function decodeRequest(type: number, body: Buffer, version = 1): Request {
  const name = requestNameOf(type);
  if (name === null) {
    throw new ProtocolError(ErrorCode.UNKNOWN_TYPE, `unknown request type 0x${type.toString(16).padStart(2, '0')}`);
  }
  const r = new BodyReader(body, name.toUpperCase());
  if (version < 2 && FRAME_REQUESTS.includes(name)) {
    throw new ProtocolError(
      ErrorCode.UNKNOWN_TYPE,
      `request type 0x${type.toString(16).padStart(2, '0')} (${name.toUpperCase()}) needs header version 2 (send HELLO first)`,
    );
  }
  let req: Request;
  switch (name) {
    case 'hello': {
      req = { type: name, minVersion: r.u8('minVersion'), maxVersion: r.u8('maxVersion') };
      // The longer form (a version 2 controller) adds the largest frame it can receive; HELLO itself always
      // travels with header version 1, so the form is told by its length.
      if (r.left === 4) {
        const maxFrame = r.u32('maxFrame');
        if (maxFrame < MIN_REPLY_FRAME) r.fail(`maxFrame must be at least ${MIN_REPLY_FRAME} bytes, got ${maxFrame}`);
        req.maxFrame = maxFrame;
      }
      break;
    }
    case 'learn': {
      const label = r.str('label');
      const problem = labelProblem(label);
      if (problem) r.fail(`label ${problem} (a label is ${LABEL_RULE})`);
      req = { type: name, label, input: readInput(r) };
      break;
    }
    case 'predict': {
      const top = r.u8('top');
      if (top < 1 || top > MAX_TOP) r.fail(`top must be in [1, ${MAX_TOP}], got ${top}`);
      req = { type: name, top, input: readInput(r) };
      break;
    }
    case 'forget': {
      const label = r.str('label');
      const problem = labelProblem(label);
      if (problem) r.fail(`label ${problem} (a label is ${LABEL_RULE})`);
      req = { type: name, label };
      break;
    }
    case 'prune':
      req = { type: name, policy: readPolicy(r) };
      break;
    case 'stats':
      if (version >= 2 && (r.left === 2 || r.left === 3)) {
        const hasFlags = r.left === 3;
        req = { type: name, first: r.u16('first') };
        if (hasFlags) {
          const flags = r.u8('flags');
          if (flags !== 1) r.fail(`STATS flags must be 1 (give the threshold), got ${flags}`);
          req.threshold = true;
        }
      } else req = { type: name };
      break;
    case 'save':
      req = { type: name };
      break;
    case 'learn-frame': {
      const label = r.str('label');
      const problem = labelProblem(label);
      if (problem) r.fail(`label ${problem} (a label is ${LABEL_RULE})`);
      req = { type: name, label };
      break;
    }
    case 'predict-frame': {
      const top = r.u8('top');
      if (top < 1 || top > MAX_TOP) r.fail(`top must be in [1, ${MAX_TOP}], got ${top}`);
      req = { type: name, top };
      break;
    }
  }
  r.end();
  return req;
}

// ---- replies ----

const ALLOWED_ORDER: Request['type'][] = ['hello', 'learn', 'predict', 'forget', 'prune', 'stats', 'save', 'learn-frame', 'predict-frame'];

/**
 * Encodes an ACK body in protocol `version`'s layout, within `maxBody` bytes: lists (PREDICT's top classes,
 * STATS's labels) are cut to fit, and an answer whose fixed part cannot fit is a TOO_LARGE ProtocolError.
 * The first byte repeats the request type so the ACK is self-describing.
 */
export function encodeAck(reply: Reply, opts: { version?: number; maxBody?: number } = {}): Buffer {
  const version = opts.version ?? 1;
  const maxBody = opts.maxBody ?? Infinity;
  const w = new BodyWriter().u8(TYPE_NAMES[reply.type]);
  switch (reply.type) {
    case 'hello':
      w.u8(reply.version)
        .u32(reply.maxFrame)
        .u16(reply.featureDim)
        .u8(reply.images ? 1 : 0);
      w.str('engram', reply.engram).str('device', reply.device);
      if (reply.version >= 2) {
        const l = reply.link;
        if (!l) throw new TypeError('reply.link: a version 2 HELLO answer needs its link fields');
        // Types 1..8 in the first mask, 9..16 in the second (appended after the input size).
        let mask = 0;
        for (const t of l.allowed) mask |= 1 << (TYPE_NAMES[t] - 1);
        if (l.session.length !== 8) throw new RangeError(`reply.link.session: expected 8 bytes, got ${l.session.length}`);
        w.u32(l.replyFrame)
          .u8(l.keyRequired ? 1 : 0)
          .u8(mask & 0xff)
          .put(l.session)
          .u32(l.nextSeq);
        w.u16(l.input.width).u16(l.input.height).u8(l.input.channels);
        w.u8((mask >> 8) & 0xff);
      }
      break;
    case 'learn':
      w.str('label', reply.label).u32(reply.stored).u32(reply.classes);
      break;
    case 'predict':
      writePrediction(w, reply, maxBody);
      break;
    case 'forget':
      w.str('label', reply.label).u32(reply.removed);
      break;
    case 'prune':
      w.u32(reply.removed);
      if (version >= 2) w.u32(reply.compressedBytes ?? 0);
      w.u32(reply.bytes);
      break;
    case 'stats': {
      w.u32(reply.classes).u32(reply.examples);
      if (version >= 2) w.u32(reply.compressedBytes ?? 0);
      w.u32(reply.bytes).f32(reply.density);
      const first = version >= 2 ? Math.min(reply.first ?? 0, reply.labels.length) : 0;
      // As many labels as fit in one frame; labelsTotal tells the controller when the list is cut.
      const withThreshold = version >= 2 && reply.threshold !== undefined;
      let size = w.size + (version >= 2 ? 6 : 4) + (withThreshold ? THRESHOLD_BYTES : 0);
      const fit: Buffer[] = [];
      for (const label of reply.labels.slice(first, 0xffff)) {
        const b = Buffer.from(label, 'utf8');
        if (b.length > 255 || size + 1 + b.length > maxBody) break;
        size += 1 + b.length;
        fit.push(b);
      }
      w.u16(Math.min(reply.labelsTotal, 0xffff));
      if (version >= 2) w.u16(first);
      w.u16(fit.length);
      for (const b of fit) w.u8(b.length).put(b);
      if (withThreshold) {
        const t = reply.threshold!;
        w.f32(t.value)
          .u8(t.source === 'fixed' ? 1 : 0)
          .u16(Math.min(t.known, 0xffff))
          .u16(Math.min(t.novel, 0xffff));
      }
      break;
    }
    case 'save':
      break;
    case 'learn-frame':
      w.u32(reply.frame).str('label', reply.label).u32(reply.stored).u32(reply.classes);
      break;
    case 'predict-frame':
      w.u32(reply.frame);
      writePrediction(w, reply, maxBody);
      break;
  }
  if (w.size > maxBody) {
    throw new ProtocolError(
      ErrorCode.TOO_LARGE,
      `the ${reply.type.toUpperCase()} answer needs ${w.size + 8} bytes, more than the ${maxBody + 8}-byte frame the controller accepts`,
    );
  }
  return w.done();
}

type WirePrediction = { label: string | null; score: number; margin: number; top: { label: string; score: number }[] };

/** PREDICT's answer fields; as many of the best classes as fit in maxBody, n telling how many came. */
function writePrediction(w: BodyWriter, p: WirePrediction, maxBody: number): void {
  w.u8(p.label === null ? 0 : 1)
    .str('label', p.label ?? '')
    .f32(p.score)
    .f32(p.margin);
  let size = w.size + 1;
  const fit: { label: string; score: number }[] = [];
  for (const t of p.top) {
    const n = 1 + Buffer.byteLength(t.label, 'utf8') + 4;
    if (size + n > maxBody) break;
    size += n;
    fit.push(t);
  }
  w.u8(fit.length);
  for (const t of fit) w.str('top.label', t.label).f32(t.score);
}

function readPrediction(r: BodyReader): WirePrediction {
  const known = r.u8('known') === 1;
  const label = r.str('label');
  const score = r.f32('score');
  const margin = r.f32('margin');
  const n = r.u8('top count');
  const top: { label: string; score: number }[] = [];
  for (let i = 0; i < n; i++) top.push({ label: r.str('top.label'), score: r.f32('top.score') });
  return { label: known ? label : null, score, margin, top };
}

/** Decodes an ACK body laid out as protocol `version` (client side). */
export function decodeAck(body: Buffer, version = 1): Reply {
  const r = new BodyReader(body, 'ACK');
  const type = r.u8('request type');
  const name = requestNameOf(type);
  if (name === null) r.fail(`acknowledges unknown request type ${type}`);
  let reply: Reply;
  switch (name) {
    case 'hello': {
      const hello: HelloReply = {
        type: name,
        version: r.u8('version'),
        maxFrame: r.u32('maxFrame'),
        featureDim: r.u16('featureDim'),
        images: r.u8('images') === 1,
        engram: r.str('engram'),
        device: r.str('device'),
      };
      if (hello.version >= 2) {
        const replyFrame = r.u32('replyFrame');
        const keyRequired = r.u8('keyRequired') === 1;
        const mask = r.u8('allowed');
        const session = Buffer.from(r.bytes(8, 'session'));
        const nextSeq = r.u32('nextSeq');
        const input = { width: r.u16('input width'), height: r.u16('input height'), channels: r.u8('input channels') };
        // The second mask (types 9..16) came with LEARN-FRAME and PREDICT-FRAME; an older engram ends before it.
        const high = r.left > 0 ? r.u8('allowed (types 9..16)') : 0;
        const bits = mask | (high << 8);
        const allowed = ALLOWED_ORDER.filter((t) => bits & (1 << (TYPE_NAMES[t] - 1)));
        hello.link = { replyFrame, keyRequired, allowed, session, nextSeq, input };
      }
      reply = hello;
      break;
    }
    case 'learn':
      reply = { type: name, label: r.str('label'), stored: r.u32('stored'), classes: r.u32('classes') };
      break;
    case 'predict':
      reply = { type: name, ...readPrediction(r) };
      break;
    case 'forget':
      reply = { type: name, label: r.str('label'), removed: r.u32('removed') };
      break;
    case 'prune':
      reply =
        version >= 2
          ? { type: name, removed: r.u32('removed'), compressedBytes: r.u32('compressedBytes'), bytes: r.u32('bytes') }
          : { type: name, removed: r.u32('removed'), bytes: r.u32('bytes') };
      break;
    case 'stats': {
      const classes = r.u32('classes');
      const examples = r.u32('examples');
      const compressedBytes = version >= 2 ? r.u32('compressedBytes') : undefined;
      const bytes = r.u32('bytes');
      const density = r.f32('density');
      const labelsTotal = r.u16('labelsTotal');
      const first = version >= 2 ? r.u16('first') : undefined;
      const n = r.u16('labels count');
      const labels: string[] = [];
      for (let i = 0; i < n; i++) labels.push(r.str('label'));
      reply = { type: name, classes, examples, bytes, density, labelsTotal, labels };
      if (compressedBytes !== undefined) reply.compressedBytes = compressedBytes;
      if (first !== undefined) reply.first = first;
      if (version >= 2 && r.left === THRESHOLD_BYTES) {
        const value = r.f32('threshold');
        const source = r.u8('threshold source');
        if (source > 1) r.fail(`threshold source must be 0 (calibrated) or 1 (fixed), got ${source}`);
        reply.threshold = {
          value,
          source: source === 1 ? 'fixed' : 'calibrated',
          known: r.u16('calibration known'),
          novel: r.u16('calibration novel'),
        };
      }
      break;
    }
    case 'save':
      reply = { type: name };
      break;
    case 'learn-frame':
      reply = { type: name, frame: r.u32('frame'), label: r.str('label'), stored: r.u32('stored'), classes: r.u32('classes') };
      break;
    case 'predict-frame':
      reply = { type: name, frame: r.u32('frame'), ...readPrediction(r) };
      break;
    default:
      return r.fail('unreachable');
  }
  r.end();
  return reply;
}

/** Encodes an ERROR body; the message is cut (at a character boundary) to 255 bytes and to `maxBody`. */
export function encodeError(e: ErrorReply, maxBody = Infinity): Buffer {
  const room = Math.max(0, Math.min(255, maxBody - 3));
  let msg = Buffer.from(e.message, 'utf8');
  if (msg.length > room) {
    let cut = room;
    while (cut > 0 && (msg[cut] & 0xc0) === 0x80) cut--;
    msg = msg.subarray(0, cut);
  }
  return new BodyWriter().u8(e.requestType).u8(e.code).u8(msg.length).put(msg).done();
}

export function decodeError(body: Buffer): ErrorReply {
  const r = new BodyReader(body, 'ERROR');
  const requestType = r.u8('request type');
  const code = r.u8('code');
  const message = r.str('message');
  r.end();
  return { requestType, code, message };
}
