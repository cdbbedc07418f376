// The controller end of the link, for hosts and tests: one request at a time (stop-and-wait),
// each matched to its ACK or ERROR by request id, each bounded by a timeout.
import { FrameReader, encodeFrame, type Frame } from './frame.js';
import { signRequest } from './auth.js';
import { CHANGING_REQUESTS } from './server.js';
import {
  ErrorCode,
  MAX_TOP,
  MIN_PROTOCOL_VERSION,
  MIN_REPLY_FRAME,
  MessageType,
  PROTOCOL_VERSION,
  decodeAck,
  decodeError,
  encodeRequest,
  errorCodeName,
  type HelloReply,
  type Reply,
  type Request,
  type WireInput,
  type WirePrunePolicy,
} from './protocol.js';
import type { ByteStream } from './server.js';
import type { LinkInput } from './learner.js';
import { writeChunked } from './write.js';
import { int, options, str, typed, typeError } from '../util/validate.js';

/** An ERROR frame from engram (code set), or a local failure: TIMEOUT, CLOSED, BAD_REPLY. */
export class LinkError extends Error {
  override name = 'LinkError';
  constructor(
    /** Protocol error code, or null for a local failure. */
    readonly code: number | null,
    /** Name of the code (e.g. BAD_CRC) or of the local failure (e.g. TIMEOUT). */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface LinkClientOptions {
  /** Time allowed for engram to answer, on top of the time the bytes need on the wire. */
  timeoutMs?: number;
  /** Times a request is sent again (same id, same bytes) when no answer came or engram could not read it. */
  retries?: number;
  /** First request id (default random, so a new client's request is not taken for a retransmission). */
  firstId?: number;
  /** Line rate used to add wire time to the timeout (bits per second, 10 bits per byte). */
  baudRate?: number;
  /** Largest frame this client can receive, told to engram by hello() (default 65536). */
  maxFrame?: number;
  /** Pre-shared key: requests that change the memory are tagged with it (a HELLO is sent first if none was). */
  key?: Uint8Array | null;
}

export const DEFAULT_TIMEOUT_MS = 5000;
/** SAVE writes and fsyncs a snapshot of the whole memory: it gets this long at least. */
export const SAVE_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 2;

/** What a client sends: the same inputs the link hands the learner. */
export type ClientInput = LinkInput;

interface Pending {
  id: number;
  type: MessageType;
  resolve: (reply: Reply) => void;
  reject: (err: LinkError) => void;
  /** Sends the frame again, or fails the request when the retries are spent. */
  retry: (why: string) => void;
  /** The whole request has been handed to the port. */
  written: boolean;
}

/**
 * A controller's side of the serial link (docs/protocol.md), over any duplex byte stream: requests are framed,
 * retried on silence or a damaged frame, and answered in order.
 * @example
 * const port = await openSerial({ path: '/dev/ttyUSB0', baudRate: 921600 });
 * const c = new LinkClient(port);
 * const hello = await c.hello();
 * await c.learn('mug', await readFile('mug1.jpg'));
 * const answer = await c.predict(await readFile('photo.png'), { top: 3 });
 * c.close();
 * await closeSerial(port);   // the port is the caller's
 * @throws {LinkError} from every request: an ERROR frame from engram (`code` set, e.g. BAD_REQUEST, NOT_ALLOWED),
 *   or TIMEOUT, CLOSED or BAD_REPLY on this side.
 * @throws {TypeError | RangeError} invalid options or inputs, naming them, before anything is sent.
 */
export class LinkClient {
  private readonly reader = new FrameReader();
  private readonly timeoutMs: number;
  private readonly baudRate: number;
  private readonly retries: number;
  private nextId: number;
  private readonly maxFrame: number | undefined;
  private readonly key: Buffer | null;
  /** Protocol version of the frames sent: 1 until hello() agrees on another. */
  private version = MIN_PROTOCOL_VERSION;
  /** Session and next sequence number for tagged requests, from the last HELLO. */
  private auth: { session: Buffer; nextSeq: number } | null = null;
  /** The last HELLO answer. */
  helloReply: HelloReply | null = null;
  private timer: NodeJS.Timeout | undefined;
  private pending: Pending | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    private readonly port: ByteStream,
    opts: LinkClientOptions = {},
  ) {
    const o = options('LinkClient options', opts, ['timeoutMs', 'baudRate', 'retries', 'firstId', 'maxFrame', 'key']);
    this.maxFrame = o.maxFrame === undefined ? undefined : int('maxFrame', o.maxFrame, MIN_REPLY_FRAME, 0xffffffff);
    this.key = o.key === undefined || o.key === null ? null : Buffer.from(typed('key', o.key, Uint8Array));
    this.retries = o.retries === undefined ? DEFAULT_RETRIES : int('retries', o.retries, 0, 100);
    this.nextId = o.firstId === undefined ? 1 + Math.floor(Math.random() * 0xffff) : int('firstId', o.firstId, 1, 0xffff);
    this.timeoutMs = o.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : int('timeoutMs', o.timeoutMs, 1, 3_600_000);
    this.baudRate = o.baudRate === undefined ? 0 : int('baudRate', o.baudRate, 1);
    port.on('data', this.onData);
  }

  /**
   * Negotiates the protocol version (the highest both speak) and tells engram the largest frame this client
   * can receive; engram answers with its limits, what it accepts and, in version 2, what a tag needs. An engram
   * that speaks only version 1 refuses the longer HELLO (BAD_REQUEST): the short one is sent then.
   */
  async hello(): Promise<HelloReply> {
    let reply: Reply;
    try {
      reply = await this.request({
        type: 'hello',
        minVersion: MIN_PROTOCOL_VERSION,
        maxVersion: PROTOCOL_VERSION,
        maxFrame: this.maxFrame ?? 65536,
      });
    } catch (err) {
      if (!(err instanceof LinkError && err.code === ErrorCode.BAD_REQUEST)) throw err;
      reply = await this.request({ type: 'hello', minVersion: MIN_PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION });
    }
    const hello = pick(reply, 'hello');
    this.version = hello.version;
    this.helloReply = hello;
    this.auth = hello.link ? { session: hello.link.session, nextSeq: hello.link.nextSeq } : null;
    return hello;
  }

  /** The protocol version agreed by the last hello() (1 before any). */
  get protocolVersion(): number {
    return this.version;
  }

  /** Stores one example; resolves once engram has made it durable. */
  async learn(label: string, input: ClientInput): Promise<{ label: string; stored: number; classes: number }> {
    str('label', label, { nonEmpty: true });
    const r = await this.request({ type: 'learn', label, input: toWire(input) });
    return pick(r, 'learn');
  }

  async predict(
    input: ClientInput,
    opts: { top?: number } = {},
  ): Promise<{
    label: string | null;
    score: number;
    margin: number;
    top: { label: string; score: number }[];
  }> {
    const o = options('predict options', opts, ['top']);
    const top = o.top === undefined ? 3 : int('top', o.top, 1, MAX_TOP);
    const r = await this.request({ type: 'predict', top, input: toWire(input) });
    return pick(r, 'predict');
  }

  /** Learns the frame the board's camera takes next as `label` (version 2, a board that watches a source). */
  async learnFrame(label: string): Promise<Extract<Reply, { type: 'learn-frame' }>> {
    str('label', label, { nonEmpty: true });
    this.needVersion2('learnFrame');
    return pick(await this.request({ type: 'learn-frame', label }), 'learn-frame');
  }

  /** Predicts the board camera's newest frame (version 2, a board that watches a source). */
  async predictFrame(opts: { top?: number } = {}): Promise<Extract<Reply, { type: 'predict-frame' }>> {
    const o = options('predictFrame options', opts, ['top']);
    const top = o.top === undefined ? 3 : int('top', o.top, 1, MAX_TOP);
    this.needVersion2('predictFrame');
    return pick(await this.request({ type: 'predict-frame', top }), 'predict-frame');
  }

  private needVersion2(what: string): void {
    if (this.version < 2) throw new RangeError(`${what}: needs protocol version 2 (call hello() first)`);
  }

  async forget(label: string): Promise<{ label: string; removed: number }> {
    str('label', label, { nonEmpty: true });
    return pick(await this.request({ type: 'forget', label }), 'forget');
  }

  async prune(policy: WirePrunePolicy): Promise<Extract<Reply, { type: 'prune' }>> {
    return pick(await this.request({ type: 'prune', policy }), 'prune');
  }

  /**
   * Counts and sizes, and the labels that fit in one answer from `first` on; with `threshold`, the open-set
   * threshold and how it was set (both need version 2).
   */
  async stats(opts: { first?: number; threshold?: boolean } = {}): Promise<Extract<Reply, { type: 'stats' }>> {
    const o = options('stats options', opts, ['first', 'threshold']);
    const first = o.first === undefined ? undefined : int('first', o.first, 0, 0xffff);
    if (first !== undefined && this.version < 2)
      throw new RangeError('first: paging through labels needs protocol version 2 (call hello() first)');
    if (o.threshold !== undefined && typeof o.threshold !== 'boolean')
      throw new TypeError(`threshold: expected a boolean, got ${typeof o.threshold}`);
    if (o.threshold && this.version < 2)
      throw new RangeError('threshold: reading the threshold needs protocol version 2 (call hello() first)');
    return pick(
      await this.request({ type: 'stats', ...(first !== undefined ? { first } : {}), ...(o.threshold ? { threshold: true } : {}) }),
      'stats',
    );
  }

  /** Every label, over as many STATS requests as it takes (version 2). */
  async labels(): Promise<string[]> {
    const all: string[] = [];
    for (;;) {
      const s = await this.stats(this.version >= 2 ? { first: all.length } : {});
      all.push(...s.labels);
      if (this.version < 2 || s.labels.length === 0 || all.length >= s.labelsTotal) return all;
    }
  }

  async save(): Promise<void> {
    pick(await this.request({ type: 'save' }), 'save');
  }

  /** Sends one request and waits for its answer; requests from concurrent callers go one after another. */
  request(req: Request): Promise<Reply> {
    const run = this.chain.then(() => this.exchange(req));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Discards whatever arrives until the line has been quiet for `quietMs` (at most `maxMs`): answers and error
   * frames left over from before this client (line noise, another controller) would otherwise be taken as
   * engram's reaction to the first request. Resolves with the bytes discarded.
   */
  async discardInput(quietMs = 50, maxMs = 5000): Promise<number> {
    let discarded = 0;
    let last = Date.now();
    const t0 = last;
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      last = Date.now();
    };
    this.port.off('data', this.onData);
    this.port.on('data', onData);
    try {
      while (Date.now() - last < quietMs && Date.now() - t0 < maxMs) await new Promise((r) => setTimeout(r, Math.max(5, quietMs / 5)));
    } finally {
      this.port.off('data', onData);
      if (!this.closed) this.port.on('data', this.onData);
      this.reader.reset();
    }
    return discarded;
  }

  /** Stops listening; a request in flight fails with CLOSED. The port itself is the caller's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.off('data', this.onData);
    this.fail(new LinkError(null, 'CLOSED', 'link client closed'));
  }

  private async exchange(req: Request): Promise<Reply> {
    const signed = this.key !== null && CHANGING_REQUESTS.includes(req.type);
    if (signed && !this.auth) {
      await this.exchangeOnce({
        type: 'hello',
        minVersion: MIN_PROTOCOL_VERSION,
        maxVersion: PROTOCOL_VERSION,
        maxFrame: this.maxFrame ?? 65536,
      }).then((r) => {
        const h = pick(r, 'hello');
        this.version = h.version;
        this.helloReply = h;
        this.auth = h.link ? { session: h.link.session, nextSeq: h.link.nextSeq } : null;
      });
      if (!this.auth)
        throw new LinkError(null, 'NO_AUTH', 'engram speaks protocol version 1, which has no authentication; it cannot take a key');
    }
    try {
      return await this.exchangeOnce(req);
    } catch (err) {
      // engram restarted (a new session) or another controller used sequence numbers: ask again, once.
      if (!signed || !(err instanceof LinkError) || (err.code !== ErrorCode.STALE_SEQUENCE && err.code !== ErrorCode.AUTH_FAILED))
        throw err;
      const h = pick(
        await this.exchangeOnce({
          type: 'hello',
          minVersion: MIN_PROTOCOL_VERSION,
          maxVersion: PROTOCOL_VERSION,
          maxFrame: this.maxFrame ?? 65536,
        }),
        'hello',
      );
      if (!h.link || (Buffer.compare(h.link.session, this.auth!.session) === 0 && err.code === ErrorCode.AUTH_FAILED)) throw err;
      this.auth = { session: h.link.session, nextSeq: h.link.nextSeq };
      return this.exchangeOnce(req);
    }
  }

  private exchangeOnce(req: Request): Promise<Reply> {
    if (this.closed) return Promise.reject(new LinkError(null, 'CLOSED', 'link client closed'));
    let { type, body } = encodeRequest(req);
    const id = this.nextId;
    this.nextId = this.nextId === 0xffff ? 1 : this.nextId + 1; // 0 is reserved for unattributable errors
    const version = this.version;
    if (this.key !== null && this.auth && CHANGING_REQUESTS.includes(req.type)) {
      const seq = this.auth.nextSeq++;
      ({ type, body } = signRequest(this.key, this.auth.session, seq, { version, type, id, body }));
    }
    const bytes = encodeFrame({ version, type, id, body });
    // Wire time both ways: the request, and a reply that may be as large as a frame.
    const wireMs = this.baudRate ? Math.ceil(((bytes.length + 300) * 10 * 1000) / this.baudRate) : 0;
    const limit = (req.type === 'save' ? Math.max(this.timeoutMs, SAVE_TIMEOUT_MS) : this.timeoutMs) + wireMs;
    return new Promise<Reply>((resolve, reject) => {
      let attempt = 0;
      const name = `${req.type.toUpperCase()} (id ${id})`;
      const send = () => {
        pending.written = false;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => pending.retry(`no answer within ${limit} ms`), limit);
        writeChunked(this.port, bytes).then(
          () => {
            pending.written = true;
          },
          (err: Error) => this.fail(new LinkError(null, 'WRITE', `${name}: write failed: ${err.message}`)),
        );
      };
      const pending: Pending = {
        id,
        type,
        resolve,
        reject,
        written: false,
        retry: (why) => {
          if (attempt >= this.retries) {
            this.fail(
              new LinkError(
                null,
                why.startsWith('no answer') ? 'TIMEOUT' : 'BAD_REPLY',
                `${name}: ${why} (sent ${attempt + 1} time${attempt ? 's' : ''})`,
              ),
            );
            return;
          }
          attempt++;
          send();
        },
      };
      this.pending = pending;
      send();
    });
  }

  private receive(chunk: Buffer): void {
    for (const ev of this.reader.push(chunk)) {
      // A damaged reply cannot be matched to its request; asking again gets the recorded answer.
      if (ev.fault) this.pending?.retry(`unreadable reply (${ev.fault.message})`);
      else this.settle(ev.frame);
    }
  }

  private settle(frame: Frame): void {
    const p = this.pending;
    if (!p) return;
    // An ERROR with id 0 is about a frame engram could not read. With one request in flight and fully
    // written, a damaged frame was most likely ours; a TRUNCATED is about an earlier partial frame
    // (a previous connection's), so it is not ours.
    if (frame.id !== p.id) {
      if (frame.type !== MessageType.ERROR || frame.id !== 0 || !p.written) return;
      const code = frame.body.length >= 2 ? frame.body[1] : 0;
      // Possibly ours, possibly line noise before it: sending again is safe, since engram answers a
      // repeated frame from its record instead of running it twice.
      if (code === ErrorCode.BAD_FRAME || code === ErrorCode.BAD_CRC || code === ErrorCode.TOO_LARGE)
        p.retry(`engram could not read it (${errorCodeName(code)})`);
      return;
    }
    try {
      if (frame.type === MessageType.ACK) {
        const reply = decodeAck(frame.body, frame.version);
        this.done(p);
        p.resolve(reply);
      } else if (frame.type === MessageType.ERROR) {
        const e = decodeError(frame.body);
        this.done(p);
        p.reject(new LinkError(e.code, errorCodeName(e.code), `${errorCodeName(e.code)}: ${e.message}`));
      } else {
        this.fail(new LinkError(null, 'BAD_REPLY', `unexpected reply type 0x${frame.type.toString(16)}`));
      }
    } catch (err) {
      this.fail(new LinkError(null, 'BAD_REPLY', `unreadable reply: ${(err as Error).message}`));
    }
  }

  private done(_p: Pending): void {
    clearTimeout(this.timer);
    this.pending = null;
  }

  private fail(err: LinkError): void {
    const p = this.pending;
    if (!p) return;
    this.done(p);
    p.reject(err);
  }
}

function toWire(input: ClientInput): WireInput {
  if (input instanceof Float32Array) return { kind: 'features', vector: input };
  if (Buffer.isBuffer(input)) return { kind: 'image', bytes: input };
  if (input && typeof input === 'object' && 'data' in input) {
    const o = options('input', input, ['data', 'width', 'height', 'channels']);
    const width = int('input.width', o.width, 1, 0xffff);
    const height = int('input.height', o.height, 1, 0xffff);
    const channels = int('input.channels', o.channels, 1, 3);
    if (channels === 2) throw new RangeError('input.channels: expected 1 or 3, got number 2');
    if (!(input.data instanceof Uint8Array) || input.data.length !== width * height * channels) {
      throw typeError('input.data', `a Uint8Array of ${width * height * channels} bytes`, input.data);
    }
    return { kind: 'pixels', data: input.data, width, height, channels: channels as 1 | 3 };
  }
  throw typeError('input', 'a Buffer (encoded image), a Float32Array (features) or raw pixels', input);
}

function pick<T extends Reply['type']>(reply: Reply, type: T): Extract<Reply, { type: T }> {
  if (reply.type !== type) throw new LinkError(null, 'BAD_REPLY', `expected an ACK for ${type}, got one for ${reply.type}`);
  return reply as Extract<Reply, { type: T }>;
}
