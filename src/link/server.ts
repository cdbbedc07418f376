// The engram end of the link: reads frames from a byte stream, runs requests on the learner one
// at a time in arrival order, and answers each with ACK or ERROR. Nothing a peer sends can stop it or make
// it grow: bad bytes become ERROR frames (dropped and counted when the peer does not read them), the reader
// resyncs at the next delimiter, and at most maxQueue requests are admitted at once.
import { randomBytes } from 'node:crypto';
import { FrameReader, HEADER_BYTES, CRC_BYTES, MAX_FRAME_BYTES, encodeFrame, type Frame, type FrameFault } from './frame.js';
import { crc32 } from '../util/crc32.js';
import { Outbox } from './outbox.js';
import { requestTag, splitTagged, tagMatches } from './auth.js';
import { toLearnerInput, totalExamples, type LinkCamera, type LinkLearner } from './learner.js';
import {
  AUTH_FLAG,
  ErrorCode,
  FRAME_REQUESTS,
  MIN_PROTOCOL_VERSION,
  MessageType,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeRequest,
  encodeAck,
  encodeError,
  errorCodeName,
  requestNameOf,
  type Reply,
  type Request,
} from './protocol.js';
import { VERSION } from '../version.js';
import { ImageError } from '../images/errors.js';
import { int, oneOf, options, typed } from '../util/validate.js';

/** What the server needs from a port: serialport streams and Node duplex streams fit. */
export interface ByteStream {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  write(chunk: Buffer, callback: (err: Error | null | undefined) => void): boolean;
}

export type RequestName = Request['type'];
export const REQUEST_NAMES: readonly RequestName[] = [
  'hello',
  'learn',
  'predict',
  'forget',
  'prune',
  'stats',
  'save',
  'learn-frame',
  'predict-frame',
];
/** Requests that change what is stored: the ones a key protects. */
export const CHANGING_REQUESTS: readonly RequestName[] = ['learn', 'forget', 'prune', 'save', 'learn-frame'];
/** What `serve --read-only` allows. */
export const READ_ONLY_REQUESTS: readonly RequestName[] = ['hello', 'predict', 'stats', 'predict-frame'];

export interface LinkServerOptions {
  /** A partial frame with no new byte for this long is dropped and reported as TRUNCATED. */
  idleTimeoutMs?: number;
  /** Requests waiting or running at once; one more is answered BUSY. */
  maxQueue?: number;
  /** Feature vector length the learner accepts (HELLO tells the controller), 0 if none. */
  featureDim?: number;
  /** Whether a backbone is loaded, so encoded images and raw pixels are accepted. */
  images?: boolean;
  /** The backbone's input size, which HELLO passes on so a client can reduce images before sending. */
  input?: { width: number; height: number; channels: number } | null;
  /** Device profile id reported by HELLO. */
  device?: string;
  /** Request types this server runs (HELLO always); others are answered NOT_ALLOWED. Default: all. */
  allow?: readonly RequestName[];
  /** Pre-shared key: requests that change the memory must carry an HMAC-SHA256 tag made with it. */
  key?: Uint8Array | null;
  /** One line per noteworthy event (faults, failed requests), at most 10 per 10 s; silent by default. */
  log?: (line: string) => void;
  /** The watched source, for LEARN-FRAME and PREDICT-FRAME; without one they are answered NOT_ALLOWED. */
  camera?: LinkCamera | null;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 1000;
export const DEFAULT_MAX_QUEUE = 8;
/** A repeated frame is a retransmission only this soon after the original. */
export const RETRANSMIT_WINDOW_MS = 30_000;
/** Log lines let through per LOG_WINDOW_MS; the rest are counted and summarised. */
const LOG_BURST = 10;
const LOG_WINDOW_MS = 10_000;

export interface LinkServerCounters {
  frames: number;
  acks: number;
  errors: number;
  faults: number;
  /** Repeated frames answered from the record of the original. */
  retransmits: number;
  /** Unsolicited frames (errors about unreadable bytes, BUSY, repeated answers) dropped because the peer was not reading. */
  dropped: number;
  /** Requests refused for a missing or wrong tag, or a replayed sequence number. */
  authFailures: number;
}

interface Record {
  id: number;
  type: number;
  crc: number;
  length: number;
  at: number;
  reply: Buffer | null;
}

export class LinkServer {
  readonly counters: LinkServerCounters = { frames: 0, acks: 0, errors: 0, faults: 0, retransmits: 0, dropped: 0, authFailures: 0 };
  private readonly idleTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly featureDim: number;
  private readonly images: boolean;
  private readonly input: { width: number; height: number; channels: number };
  private readonly device: string;
  private readonly allowed: Set<RequestName>;
  private readonly key: Buffer | null;
  private readonly log: (line: string) => void;
  private readonly camera: LinkCamera | null;
  /** Drawn at start: every tag covers it, so no recorded tag is valid in another engram process. */
  readonly session = randomBytes(8);
  private lastSeq = 0;
  /** Largest frame the controller said it can receive (HELLO), 65536 until it says. */
  private replyFrame = MAX_FRAME_BYTES;
  private queued = 0;
  /**
   * The last requests admitted, on any port: a controller that heard nothing back (even across a reconnect)
   * may send an identical frame again, and must get the same answer without the request running twice. Twice
   * the queue limit, so a pipelined controller's every outstanding request is remembered.
   */
  private history: Record[] = [];
  private work: Promise<void> = Promise.resolve();
  private readonly outboxes = new Set<Outbox>();
  private logWindowStart = 0;
  private logLines = 0;
  private logSuppressed = 0;

  constructor(
    private readonly learner: LinkLearner,
    opts: LinkServerOptions = {},
  ) {
    const o = options('LinkServer options', opts, [
      'idleTimeoutMs',
      'maxQueue',
      'featureDim',
      'images',
      'input',
      'device',
      'allow',
      'key',
      'log',
      'camera',
    ]);
    this.idleTimeoutMs = o.idleTimeoutMs === undefined ? DEFAULT_IDLE_TIMEOUT_MS : int('idleTimeoutMs', o.idleTimeoutMs, 1, 600_000);
    this.maxQueue = o.maxQueue === undefined ? DEFAULT_MAX_QUEUE : int('maxQueue', o.maxQueue, 1, 1024);
    this.featureDim = o.featureDim === undefined ? 0 : int('featureDim', o.featureDim, 0, 0xffff);
    this.images = Boolean(o.images);
    const inp = o.input as LinkServerOptions['input'];
    this.input = inp
      ? {
          width: int('input.width', inp.width, 1, 0xffff),
          height: int('input.height', inp.height, 1, 0xffff),
          channels: int('input.channels', inp.channels, 1, 3),
        }
      : { width: 0, height: 0, channels: 0 };
    this.device = typeof o.device === 'string' ? o.device : '';
    const allow = o.allow === undefined ? REQUEST_NAMES : (o.allow as unknown[]).map((a, i) => oneOf(`allow[${i}]`, a, REQUEST_NAMES));
    this.camera = (o.camera as LinkCamera | null | undefined) ?? null;
    // Without a watched source the frame requests cannot run: HELLO does not list them.
    this.allowed = new Set<RequestName>(['hello', ...allow.filter((n) => this.camera || !FRAME_REQUESTS.includes(n))]);
    this.key = o.key === undefined || o.key === null ? null : Buffer.from(typed('key', o.key, Uint8Array));
    if (this.key && this.key.length < 16) throw new RangeError(`key: expected at least 16 bytes, got ${this.key.length}`);
    this.log = typeof o.log === 'function' ? (o.log as (line: string) => void) : () => {};
  }

  /** Starts serving `port`; returns a function that stops reading from it and drops what waits to be written. */
  attach(port: ByteStream): () => void {
    const reader = new FrameReader();
    let timer: NodeJS.Timeout | undefined;
    let attached = true;
    const outbox = new Outbox(
      port,
      () => {
        this.counters.dropped++;
        this.note(`dropped an unsolicited frame: the controller is not reading (${this.counters.dropped} so far)`);
      },
      (err) => this.note(`write failed: ${err.message}`),
    );
    this.outboxes.add(outbox);

    // Errors about bytes, BUSY and the like are answered at once, ahead of requests still running.
    const sendError = (id: number, requestType: number, code: ErrorCode, message: string, version = MIN_PROTOCOL_VERSION) => {
      this.counters.errors++;
      this.note(`ERROR ${errorCodeName(code)} (id ${id}): ${message}`);
      outbox.offer(() => this.errorFrame(version, id, requestType, code, message));
    };
    const onFault = (f: FrameFault) => {
      this.counters.faults++;
      sendError(f.id, f.type, f.code, f.message);
    };
    const onFrame = (frame: Frame) => {
      this.counters.frames++;
      const crc = crc32(frame.body);
      const now = Date.now();
      const seen = this.history.find(
        (r) =>
          r.id === frame.id &&
          r.type === frame.type &&
          r.crc === crc &&
          r.length === frame.body.length &&
          now - r.at < RETRANSMIT_WINDOW_MS,
      );
      if (seen) {
        this.counters.retransmits++;
        // Still running: its answer is on the way. Done: send the same answer again, within the same bound
        // as answers (a replayed frame sent over and over gets its answer dropped, not stored).
        if (seen.reply) {
          if (outbox.answersWaiting < this.maxQueue) outbox.answer(seen.reply);
          else outbox.offer(seen.reply);
        }
        return;
      }
      if (frame.version < MIN_PROTOCOL_VERSION || frame.version > PROTOCOL_VERSION) {
        sendError(
          frame.id,
          frame.type,
          ErrorCode.UNSUPPORTED_VERSION,
          `frame version ${frame.version}; engram speaks ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION}`,
        );
        return;
      }
      if (frame.id === 0) {
        sendError(
          0,
          frame.type,
          ErrorCode.BAD_REQUEST,
          'request id 0 is reserved for errors about unreadable frames; use 1..65535',
          frame.version,
        );
        return;
      }
      // Answers the peer has not read count against the limit too: a controller that does not read gets BUSY.
      if (this.queued >= this.maxQueue || outbox.answersWaiting >= this.maxQueue) {
        const why =
          this.queued >= this.maxQueue ? `${this.queued} requests already queued` : `${outbox.answersWaiting} answers not yet read`;
        sendError(frame.id, frame.type, ErrorCode.BUSY, `${why} (limit ${this.maxQueue})`, frame.version);
        return;
      }
      this.queued++;
      const entry: Record = { id: frame.id, type: frame.type, crc, length: frame.body.length, at: now, reply: null };
      this.history.push(entry);
      if (this.history.length > 2 * this.maxQueue) this.history.shift();
      this.work = this.work.then(async () => {
        let answer: Buffer;
        try {
          const reply = await this.handle(frame);
          this.counters.acks++;
          answer = encodeFrame({
            version: frame.version,
            type: MessageType.ACK,
            id: frame.id,
            body: encodeAck(reply, { version: frame.version, maxBody: this.replyFrame - HEADER_BYTES - CRC_BYTES }),
          });
        } catch (err) {
          const [code, message] = classify(err);
          this.counters.errors++;
          if (code === ErrorCode.AUTH_FAILED || code === ErrorCode.STALE_SEQUENCE) this.counters.authFailures++;
          this.note(`ERROR ${errorCodeName(code)} (id ${frame.id}): ${message}`);
          answer = this.errorFrame(frame.version, frame.id, frame.type, code, message);
        }
        // The request is over once its answer exists: a controller that hears it may send the next one.
        entry.reply = answer;
        this.queued--;
        if (attached) outbox.answer(answer);
      });
    };
    const onData = (chunk: Buffer) => {
      for (const ev of reader.push(chunk)) {
        if (ev.fault) onFault(ev.fault);
        else onFrame(ev.frame);
      }
      clearTimeout(timer);
      if (reader.pending > 0) {
        timer = setTimeout(() => {
          const f = reader.abandon();
          if (f) onFault(f);
        }, this.idleTimeoutMs);
      }
    };

    port.on('data', onData);
    return () => {
      attached = false;
      clearTimeout(timer);
      port.off('data', onData);
      reader.reset();
      outbox.close();
      this.outboxes.delete(outbox);
    };
  }

  /** Resolves when every admitted request has been run and answered (the answers may still wait for the port). */
  async idle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.work;
      await seen;
    } while (seen !== this.work);
  }

  /** Waits until the answers queued for every port are written, or `timeoutMs`; true when all were. */
  async drain(timeoutMs: number): Promise<boolean> {
    const all = await Promise.all([...this.outboxes].map((o) => o.drained(timeoutMs)));
    return all.every(Boolean);
  }

  private errorFrame(version: number, id: number, requestType: number, code: ErrorCode, message: string): Buffer {
    const body = encodeError({ requestType, code, message }, this.replyFrame - HEADER_BYTES - CRC_BYTES);
    return encodeFrame({ version, type: MessageType.ERROR, id, body });
  }

  /** Logs at most LOG_BURST lines per window; says how many were left out when the next window opens. */
  private note(line: string): void {
    const now = Date.now();
    if (now - this.logWindowStart >= LOG_WINDOW_MS) {
      if (this.logSuppressed > 0)
        this.log(`(${this.logSuppressed} similar lines left out in the last ${Math.round((now - this.logWindowStart) / 1000)} s)`);
      this.logWindowStart = now;
      this.logLines = 0;
      this.logSuppressed = 0;
    }
    if (this.logLines < LOG_BURST) {
      this.logLines++;
      this.log(line);
    } else this.logSuppressed++;
  }

  /**
   * A change is acknowledged only once its journal record is on stable storage, whatever the durability mode:
   * in batched mode learn() resolves when the record is queued, so the ACK waits for the next group commit.
   */
  private async durable(seq: number | undefined): Promise<void> {
    if (seq !== undefined && seq > 0 && this.learner.whenDurable) await this.learner.whenDurable(seq);
  }

  /** Checks the type, what is allowed and the tag, in that order; returns the request. */
  private admit(frame: Frame): Request {
    const tagged = frame.version >= 2 && (frame.type & AUTH_FLAG) !== 0;
    const base = tagged ? frame.type & ~AUTH_FLAG : frame.type;
    const name = requestNameOf(base);
    if (name === null)
      throw new ProtocolError(ErrorCode.UNKNOWN_TYPE, `unknown request type 0x${frame.type.toString(16).padStart(2, '0')}`);
    if (FRAME_REQUESTS.includes(name) && frame.version < 2) {
      throw new ProtocolError(
        ErrorCode.UNKNOWN_TYPE,
        `request type 0x${base.toString(16).padStart(2, '0')} (${name.toUpperCase()}) needs header version 2 (send HELLO first)`,
      );
    }
    if (FRAME_REQUESTS.includes(name) && !this.camera) {
      throw new ProtocolError(
        ErrorCode.NOT_ALLOWED,
        `${name.toUpperCase()} needs a camera: this engram watches no source (engram serve --watch SOURCE)`,
      );
    }
    if (!this.allowed.has(name)) {
      throw new ProtocolError(
        ErrorCode.NOT_ALLOWED,
        `${name.toUpperCase()} is not allowed on this engram (allowed: ${[...this.allowed].join(', ')})`,
      );
    }
    let body = frame.body;
    if (tagged) {
      const parts = splitTagged(frame.body);
      if (parts === null)
        throw new ProtocolError(
          ErrorCode.BAD_REQUEST,
          `${name.toUpperCase()}: a tagged body needs a 36-byte trailer, body has ${frame.body.length} bytes`,
        );
      if (!this.key)
        throw new ProtocolError(ErrorCode.AUTH_FAILED, 'this engram has no key, so it cannot check tags; send the request without one');
      const expected = requestTag(this.key, this.session, parts.seq, frame, parts.body);
      if (!tagMatches(expected, parts.tag)) {
        throw new ProtocolError(
          ErrorCode.AUTH_FAILED,
          'the tag does not match: wrong key, or a session from before engram restarted (send HELLO)',
        );
      }
      if (parts.seq <= this.lastSeq) {
        throw new ProtocolError(
          ErrorCode.STALE_SEQUENCE,
          `sequence number ${parts.seq} is not above the last accepted, ${this.lastSeq}; HELLO gives the next`,
        );
      }
      this.lastSeq = parts.seq;
      body = parts.body;
    } else if (this.key && CHANGING_REQUESTS.includes(name)) {
      throw new ProtocolError(
        ErrorCode.AUTH_FAILED,
        `${name.toUpperCase()} changes the memory and this engram requires a tag made with its key`,
      );
    }
    return decodeRequest(base, body, frame.version);
  }

  private async handle(frame: Frame): Promise<Reply> {
    const req = this.admit(frame);
    const learner = this.learner;
    switch (req.type) {
      case 'hello': {
        if (req.minVersion > PROTOCOL_VERSION || req.maxVersion < MIN_PROTOCOL_VERSION || req.minVersion > req.maxVersion) {
          throw new ProtocolError(
            ErrorCode.UNSUPPORTED_VERSION,
            `controller speaks versions ${req.minVersion}..${req.maxVersion}; engram speaks ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}`,
          );
        }
        const version = Math.min(PROTOCOL_VERSION, req.maxVersion);
        // A new HELLO speaks for the controller now on the line: without maxFrame it takes full frames.
        this.replyFrame = Math.min(MAX_FRAME_BYTES, req.maxFrame ?? MAX_FRAME_BYTES);
        return {
          type: 'hello',
          version,
          maxFrame: MAX_FRAME_BYTES,
          featureDim: this.featureDim,
          images: this.images,
          engram: VERSION,
          device: this.device,
          ...(version >= 2
            ? {
                link: {
                  replyFrame: this.replyFrame,
                  keyRequired: this.key !== null,
                  allowed: REQUEST_NAMES.filter((n) => this.allowed.has(n)),
                  session: this.session,
                  nextSeq: Math.min(this.lastSeq + 1, 0xffffffff),
                  input: this.input,
                },
              }
            : {}),
        };
      }
      case 'learn': {
        const r = await learner.learn(req.label, [toLearnerInput(req.input)]);
        await this.durable(r.seq);
        return { type: 'learn', label: r.label, stored: r.stored, classes: r.classes };
      }
      case 'predict': {
        const [p] = await learner.predict([toLearnerInput(req.input)], { top: req.top });
        return { type: 'predict', label: p.label, score: p.score, margin: p.margin, top: p.top.slice(0, req.top) };
      }
      case 'forget': {
        const r = await learner.forget(req.label);
        await this.durable(r.seq);
        return { type: 'forget', label: r.label, removed: r.removed };
      }
      case 'prune': {
        const r = await learner.prune(req.policy);
        await this.durable(r.seq);
        return { type: 'prune', removed: r.removed, bytes: r.bytes, compressedBytes: r.compressedBytes ?? 0 };
      }
      case 'stats': {
        const s = learner.stats();
        return {
          type: 'stats',
          classes: s.classes,
          examples: totalExamples(s.examples),
          bytes: s.bytes,
          compressedBytes: s.compressedBytes ?? 0,
          density: s.density,
          labelsTotal: s.labels.length,
          first: req.first ?? 0,
          labels: s.labels,
          ...(req.threshold && s.threshold !== undefined
            ? {
                threshold: {
                  value: s.threshold,
                  source: s.thresholdSource ?? 'calibrated',
                  known: s.calibration?.known ?? 0,
                  novel: s.calibration?.novel ?? 0,
                },
              }
            : {}),
        };
      }
      case 'save':
        await learner.save();
        return { type: 'save' };
      case 'learn-frame': {
        // The camera resolves once the example is durable, like LEARN's ACK.
        const r = await this.camera!.learnFrame(req.label);
        return { type: 'learn-frame', frame: r.frame, label: r.label, stored: r.stored, classes: r.classes };
      }
      case 'predict-frame': {
        const p = await this.camera!.predictFrame({ top: req.top });
        return { type: 'predict-frame', frame: p.frame, label: p.label, score: p.score, margin: p.margin, top: p.top.slice(0, req.top) };
      }
    }
  }
}

/** Maps a failure to the ERROR code the controller sees: its fault (8) or ours (10). */
function classify(err: unknown): [ErrorCode, string] {
  if (err instanceof ProtocolError) return [err.code, err.message];
  if (err instanceof TypeError || err instanceof RangeError) return [ErrorCode.INVALID_ARGUMENT, err.message];
  // An image that does not decode is the controller's input, not our failure.
  if (err instanceof ImageError) return [ErrorCode.INVALID_ARGUMENT, err.message];
  return [ErrorCode.INTERNAL, err instanceof Error ? err.message : String(err)];
}
