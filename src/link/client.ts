// The controller end of the link, for hosts and tests: one request at a time (stop-and-wait),
// each matched to its ACK or ERROR by request id, each bounded by a timeout.
import { FrameReader, encodeFrame, type Frame } from './frame.js';
import {
  MAX_TOP,
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
import { int, options, str, typeError } from '../util/validate.js';

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
  /** Line rate used to add wire time to the timeout (bits per second, 10 bits per byte). */
  baudRate?: number;
}

export const DEFAULT_TIMEOUT_MS = 5000;

export type ClientInput = Buffer | Float32Array | { data: Uint8Array; width: number; height: number; channels: 1 | 3 };

interface Pending {
  id: number;
  type: MessageType;
  resolve: (reply: Reply) => void;
  reject: (err: LinkError) => void;
  timer: NodeJS.Timeout;
}

export class LinkClient {
  private readonly reader = new FrameReader();
  private readonly timeoutMs: number;
  private readonly baudRate: number;
  private nextId = 1;
  private pending: Pending | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    private readonly port: ByteStream,
    opts: LinkClientOptions = {},
  ) {
    const o = options('LinkClient options', opts, ['timeoutMs', 'baudRate']);
    this.timeoutMs = o.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : int('timeoutMs', o.timeoutMs, 1, 3_600_000);
    this.baudRate = o.baudRate === undefined ? 0 : int('baudRate', o.baudRate, 1);
    port.on('data', this.onData);
  }

  /** Negotiates the protocol version; engram answers with its limits and what it accepts. */
  async hello(): Promise<HelloReply> {
    return (await this.request({ type: 'hello', minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION })) as HelloReply;
  }

  /** Stores one example; resolves once engram has made it durable. */
  async learn(label: string, input: ClientInput): Promise<{ label: string; stored: number; classes: number }> {
    str('label', label, { nonEmpty: true });
    const r = await this.request({ type: 'learn', label, input: toWire(input) });
    return pick(r, 'learn');
  }

  async predict(input: ClientInput, opts: { top?: number } = {}): Promise<{
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

  async forget(label: string): Promise<{ label: string; removed: number }> {
    str('label', label, { nonEmpty: true });
    return pick(await this.request({ type: 'forget', label }), 'forget');
  }

  async prune(policy: WirePrunePolicy): Promise<{ removed: number; bytes: number }> {
    return pick(await this.request({ type: 'prune', policy }), 'prune');
  }

  async stats(): Promise<{ classes: number; examples: number; bytes: number; density: number; labelsTotal: number; labels: string[] }> {
    return pick(await this.request({ type: 'stats' }), 'stats');
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

  /** Stops listening; a request in flight fails with CLOSED. The port itself is the caller's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.off('data', this.onData);
    this.fail(new LinkError(null, 'CLOSED', 'link client closed'));
  }

  private exchange(req: Request): Promise<Reply> {
    if (this.closed) return Promise.reject(new LinkError(null, 'CLOSED', 'link client closed'));
    const { type, body } = encodeRequest(req);
    const id = this.nextId;
    this.nextId = this.nextId === 0xffff ? 1 : this.nextId + 1; // 0 is reserved for unattributable errors
    const bytes = encodeFrame({ version: PROTOCOL_VERSION, type, id, body });
    // Wire time both ways: the request, and a reply that may be as large as a frame.
    const wireMs = this.baudRate ? Math.ceil(((bytes.length + 300) * 10 * 1000) / this.baudRate) : 0;
    const limit = this.timeoutMs + wireMs;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        reject(new LinkError(null, 'TIMEOUT', `${req.type.toUpperCase()} (id ${id}): no answer within ${limit} ms`));
      }, limit);
      this.pending = { id, type, resolve, reject, timer };
      this.port.write(bytes, (err) => {
        if (err) this.fail(new LinkError(null, 'WRITE', `${req.type.toUpperCase()}: write failed: ${err.message}`));
      });
    });
  }

  private receive(chunk: Buffer): void {
    for (const ev of this.reader.push(chunk)) {
      // A damaged reply cannot be matched to its request: fail the one in flight rather than wait.
      if (ev.fault) this.fail(new LinkError(null, 'BAD_REPLY', `unreadable reply: ${ev.fault.message}`));
      else this.settle(ev.frame);
    }
  }

  private settle(frame: Frame): void {
    const p = this.pending;
    if (!p) return;
    // Errors with id 0 refer to a frame engram could not read: with one request in flight, it was ours.
    if (frame.id !== p.id && !(frame.type === MessageType.ERROR && frame.id === 0)) return;
    try {
      if (frame.type === MessageType.ACK) {
        const reply = decodeAck(frame.body);
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

  private done(p: Pending): void {
    clearTimeout(p.timer);
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
