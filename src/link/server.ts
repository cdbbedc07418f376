// The engram end of the link: reads frames from a byte stream, runs requests on the learner one
// at a time in arrival order, and answers each with ACK or ERROR. Nothing a peer sends can stop it:
// bad bytes become ERROR frames and the reader resyncs at the next delimiter.
import { FrameReader, MAX_BODY_BYTES, MAX_FRAME_BYTES, encodeFrame, type Frame, type FrameFault } from './frame.js';
import { crc32 } from './crc32.js';
import { writeChunked } from './write.js';
import { toLearnerInput, totalExamples, type LinkLearner } from './learner.js';
import {
  ErrorCode,
  MessageType,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeRequest,
  encodeAck,
  encodeError,
  errorCodeName,
  type Reply,
  type Request,
} from './protocol.js';
import { VERSION } from '../version.js';
import { int, options } from '../util/validate.js';

/** What the server needs from a port: serialport streams and Node duplex streams fit. */
export interface ByteStream {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  write(chunk: Buffer, callback: (err: Error | null | undefined) => void): boolean;
}

export interface LinkServerOptions {
  /** A partial frame with no new byte for this long is dropped and reported as TRUNCATED. */
  idleTimeoutMs?: number;
  /** Requests waiting or running at once; one more is answered BUSY. */
  maxQueue?: number;
  /** Feature vector length the learner accepts (HELLO tells the controller), 0 if none. */
  featureDim?: number;
  /** Whether a backbone is loaded, so encoded images and raw pixels are accepted. */
  images?: boolean;
  /** Device profile id reported by HELLO. */
  device?: string;
  /** One line per noteworthy event (faults, failed requests); silent by default. */
  log?: (line: string) => void;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 1000;
export const DEFAULT_MAX_QUEUE = 8;
/** A repeated frame is a retransmission only this soon after the original. */
export const RETRANSMIT_WINDOW_MS = 30_000;

export interface LinkServerCounters {
  frames: number;
  acks: number;
  errors: number;
  faults: number;
  /** Repeated frames answered from the record of the original. */
  retransmits: number;
}

export class LinkServer {
  readonly counters: LinkServerCounters = { frames: 0, acks: 0, errors: 0, faults: 0, retransmits: 0 };
  private readonly idleTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly featureDim: number;
  private readonly images: boolean;
  private readonly device: string;
  private readonly log: (line: string) => void;
  private queued = 0;
  /**
   * The last request read, on any port: a controller that heard nothing back (even across a reconnect)
   * may send the identical frame again, and must get the same answer without the request running twice.
   */
  private last: { id: number; type: number; crc: number; length: number; at: number; reply: Buffer | null } | null = null;
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly learner: LinkLearner,
    opts: LinkServerOptions = {},
  ) {
    const o = options('LinkServer options', opts, ['idleTimeoutMs', 'maxQueue', 'featureDim', 'images', 'device', 'log']);
    this.idleTimeoutMs = o.idleTimeoutMs === undefined ? DEFAULT_IDLE_TIMEOUT_MS : int('idleTimeoutMs', o.idleTimeoutMs, 1, 600_000);
    this.maxQueue = o.maxQueue === undefined ? DEFAULT_MAX_QUEUE : int('maxQueue', o.maxQueue, 1, 1024);
    this.featureDim = o.featureDim === undefined ? 0 : int('featureDim', o.featureDim, 0, 0xffff);
    this.images = Boolean(o.images);
    this.device = typeof o.device === 'string' ? o.device : '';
    this.log = typeof o.log === 'function' ? (o.log as (line: string) => void) : () => {};
  }

  /** Starts serving `port`; returns a function that stops reading from it. */
  attach(port: ByteStream): () => void {
    const reader = new FrameReader();
    let timer: NodeJS.Timeout | undefined;
    let attached = true;
    let writes: Promise<void> = Promise.resolve();

    const sendBytes = (bytes: Buffer): Promise<void> => {
      writes = writes.then(() => writeChunked(port, bytes).catch((err: Error) => this.log(`write failed: ${err.message}`)));
      return writes;
    };
    const sendError = (id: number, requestType: number, code: ErrorCode, message: string): Promise<void> => {
      this.counters.errors++;
      this.log(`ERROR ${errorCodeName(code)} (id ${id}): ${message}`);
      return sendBytes(encodeFrame({ version: PROTOCOL_VERSION, type: MessageType.ERROR, id, body: encodeError({ requestType, code, message }) }));
    };
    const onFault = (f: FrameFault) => {
      this.counters.faults++;
      void sendError(f.id, f.type, f.code, f.message);
    };
    const onFrame = (frame: Frame) => {
      this.counters.frames++;
      const crc = crc32(frame.body);
      const last = this.last;
      if (last && last.id === frame.id && last.type === frame.type && last.crc === crc && last.length === frame.body.length && Date.now() - last.at < RETRANSMIT_WINDOW_MS) {
        this.counters.retransmits++;
        // Still running: its answer is on the way. Done: send the same answer again.
        if (last.reply) void sendBytes(last.reply);
        return;
      }
      if (frame.version !== PROTOCOL_VERSION) {
        void sendError(frame.id, frame.type, ErrorCode.UNSUPPORTED_VERSION, `frame version ${frame.version}; engram speaks ${PROTOCOL_VERSION}`);
        return;
      }
      if (this.queued >= this.maxQueue) {
        void sendError(frame.id, frame.type, ErrorCode.BUSY, `${this.queued} requests already queued (limit ${this.maxQueue})`);
        return;
      }
      this.queued++;
      const entry = { id: frame.id, type: frame.type, crc, length: frame.body.length, at: Date.now(), reply: null as Buffer | null };
      this.last = entry;
      this.work = this.work.then(async () => {
        let answer: Buffer;
        try {
          const reply = await this.handle(frame);
          this.counters.acks++;
          answer = encodeFrame({ version: PROTOCOL_VERSION, type: MessageType.ACK, id: frame.id, body: encodeAck(reply, MAX_BODY_BYTES) });
        } catch (err) {
          const [code, message] = classify(err);
          this.counters.errors++;
          this.log(`ERROR ${errorCodeName(code)} (id ${frame.id}): ${message}`);
          answer = encodeFrame({ version: PROTOCOL_VERSION, type: MessageType.ERROR, id: frame.id, body: encodeError({ requestType: frame.type, code, message }) });
        }
        // The request is over once its answer exists: a controller that hears it may send the next one.
        entry.reply = answer;
        this.queued--;
        if (attached) await sendBytes(answer);
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
    };
  }

  /** Resolves when every queued request has been answered. */
  async idle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.work;
      await seen;
    } while (seen !== this.work);
  }

  /**
   * A change is acknowledged only once its journal record is on stable storage, whatever the durability mode:
   * in batched mode learn() resolves when the record is queued, so the ACK waits for the next group commit.
   */
  private async durable(seq: number | undefined): Promise<void> {
    if (seq !== undefined && seq > 0 && this.learner.whenDurable) await this.learner.whenDurable(seq);
  }

  private async handle(frame: Frame): Promise<Reply> {
    const req: Request = decodeRequest(frame.type, frame.body);
    const learner = this.learner;
    switch (req.type) {
      case 'hello': {
        if (req.minVersion > PROTOCOL_VERSION || req.maxVersion < PROTOCOL_VERSION) {
          throw new ProtocolError(
            ErrorCode.UNSUPPORTED_VERSION,
            `controller speaks versions ${req.minVersion}..${req.maxVersion}; engram speaks ${PROTOCOL_VERSION}`,
          );
        }
        return {
          type: 'hello',
          version: PROTOCOL_VERSION,
          maxFrame: MAX_FRAME_BYTES,
          featureDim: this.featureDim,
          images: this.images,
          engram: VERSION,
          device: this.device,
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
        return { type: 'prune', removed: r.removed, bytes: r.bytes };
      }
      case 'stats': {
        const s = learner.stats();
        return {
          type: 'stats',
          classes: s.classes,
          examples: totalExamples(s.examples),
          bytes: s.bytes,
          density: s.density,
          labelsTotal: s.labels.length,
          labels: s.labels,
        };
      }
      case 'save':
        await learner.save();
        return { type: 'save' };
    }
  }
}

/** Maps a failure to the ERROR code the controller sees: its fault (8) or ours (10). */
function classify(err: unknown): [ErrorCode, string] {
  if (err instanceof ProtocolError) return [err.code, err.message];
  if (err instanceof TypeError || err instanceof RangeError) return [ErrorCode.INVALID_ARGUMENT, err.message];
  // An image that does not decode is the controller's input, not our failure (matched by name so the
  // link does not load the image decoder).
  if (err instanceof Error && err.name === 'ImageError') return [ErrorCode.INVALID_ARGUMENT, err.message];
  return [ErrorCode.INTERNAL, err instanceof Error ? err.message : String(err)];
}
