// Frames on the wire: 0x00, COBS(header | body | CRC-32 LE), 0x00. The header is
// version (u8), type (u8), request id (u16 LE); the CRC covers header and body.
// FrameReader turns an arbitrary byte stream back into frames or framing errors, and resyncs at
// the next zero byte whatever arrived before it.
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.js';
import { crc32 } from '../util/crc32.js';
import { ErrorCode } from './protocol.js';
import { int, typed } from '../util/validate.js';

export const HEADER_BYTES = 4;
export const CRC_BYTES = 4;
/** Largest decoded frame (header + body + CRC) either side must accept. */
export const MAX_FRAME_BYTES = 65536;
export const MAX_BODY_BYTES = MAX_FRAME_BYTES - HEADER_BYTES - CRC_BYTES;
/** Largest number of bytes between two delimiters that can still be a valid frame. */
export const MAX_ENCODED_BYTES = cobsMaxEncodedLength(MAX_FRAME_BYTES);

export interface Frame {
  version: number;
  type: number;
  id: number;
  body: Buffer;
}

/** Encodes one frame with a delimiter on both sides, so a receiver drops any partial frame first. */
export function encodeFrame(frame: { version: number; type: number; id: number; body?: Uint8Array }): Buffer {
  int('frame.version', frame.version, 0, 255);
  int('frame.type', frame.type, 0, 255);
  int('frame.id', frame.id, 0, 0xffff);
  const body = frame.body === undefined ? Buffer.alloc(0) : typed('frame.body', frame.body, Uint8Array);
  if (body.length > MAX_BODY_BYTES) {
    throw new RangeError(`frame.body: expected at most ${MAX_BODY_BYTES} bytes, got ${body.length} bytes`);
  }
  const raw = Buffer.allocUnsafe(HEADER_BYTES + body.length + CRC_BYTES);
  raw[0] = frame.version;
  raw[1] = frame.type;
  raw.writeUInt16LE(frame.id, 2);
  raw.set(body, HEADER_BYTES);
  raw.writeUInt32LE(crc32(raw.subarray(0, HEADER_BYTES + body.length)), HEADER_BYTES + body.length);
  const encoded = cobsEncode(raw);
  const out = Buffer.allocUnsafe(encoded.length + 2);
  out[0] = 0;
  out.set(encoded, 1);
  out[out.length - 1] = 0;
  return out;
}

/** A framing problem: `id` is the request id when the header could be trusted, else 0. */
export interface FrameFault {
  code: ErrorCode;
  id: number;
  type: number;
  message: string;
}

export type ReadEvent = { frame: Frame; fault?: undefined } | { fault: FrameFault; frame?: undefined };

/** Decodes one delimited block (delimiters removed). */
export function decodeBlock(block: Uint8Array): ReadEvent {
  const raw = cobsDecode(block);
  if (raw === null) return fault(ErrorCode.BAD_FRAME, 0, 0, 'frame is not valid COBS');
  if (raw.length < HEADER_BYTES + CRC_BYTES) {
    return fault(ErrorCode.BAD_FRAME, 0, 0, `frame of ${raw.length} bytes is shorter than header and CRC (8 bytes)`);
  }
  if (raw.length > MAX_FRAME_BYTES) {
    return fault(ErrorCode.TOO_LARGE, 0, 0, `frame decodes to ${raw.length} bytes, more than ${MAX_FRAME_BYTES}`);
  }
  const end = raw.length - CRC_BYTES;
  const expected = raw.readUInt32LE(end);
  const actual = crc32(raw.subarray(0, end));
  if (expected !== actual) {
    return fault(ErrorCode.BAD_CRC, 0, 0, `CRC mismatch: frame says 0x${hex(expected)}, bytes give 0x${hex(actual)}`);
  }
  return { frame: { version: raw[0], type: raw[1], id: raw.readUInt16LE(2), body: raw.subarray(HEADER_BYTES, end) } };
}

function fault(code: ErrorCode, id: number, type: number, message: string): ReadEvent {
  return { fault: { code, id, type, message } };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * Streaming decoder. Feed it whatever the port delivers; it returns complete frames and faults.
 * Empty blocks (two delimiters in a row) are ignored; they are how senders flush a receiver.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(private readonly maxEncoded = MAX_ENCODED_BYTES) {}

  /** Bytes of an unfinished frame held right now (0 between frames). */
  get pending(): number {
    return this.discarding ? 1 : this.size;
  }

  push(chunk: Uint8Array): ReadEvent[] {
    const events: ReadEvent[] = [];
    let start = 0;
    for (;;) {
      const zero = chunk.indexOf(0, start);
      const stop = zero === -1 ? chunk.length : zero;
      this.append(chunk.subarray(start, stop), events);
      if (zero === -1) break;
      this.finish(events);
      start = zero + 1;
    }
    return events;
  }

  /**
   * Abandons an unfinished frame (the sender went quiet or the cable was pulled) and reports it,
   * or returns null when nothing was pending.
   */
  abandon(): FrameFault | null {
    if (this.pending === 0) return null;
    const bytes = this.size;
    const wasOversized = this.discarding;
    this.reset();
    if (wasOversized) return null; // already reported as TOO_LARGE
    return {
      code: ErrorCode.TRUNCATED,
      id: 0,
      type: 0,
      message: `incomplete frame of ${bytes} bytes abandoned (no delimiter before the timeout)`,
    };
  }

  reset(): void {
    this.chunks = [];
    this.size = 0;
    this.discarding = false;
  }

  private append(part: Uint8Array, events: ReadEvent[]): void {
    if (part.length === 0 || this.discarding) return;
    if (this.size + part.length > this.maxEncoded) {
      // Report once, then drop everything up to the next delimiter.
      events.push(
        fault(
          ErrorCode.TOO_LARGE,
          0,
          0,
          `more than ${this.maxEncoded} bytes without a delimiter (a frame decodes to at most ${MAX_FRAME_BYTES})`,
        ),
      );
      this.chunks = [];
      this.size = 0;
      this.discarding = true;
      return;
    }
    // Copy: the caller may reuse its buffer.
    this.chunks.push(Buffer.from(part));
    this.size += part.length;
  }

  private finish(events: ReadEvent[]): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    if (this.size === 0) return;
    const block = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    events.push(decodeBlock(block));
  }
}
