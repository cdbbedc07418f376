// Pre-shared key authentication of requests (protocol version 2, docs/protocol.md section 9). A request whose
// type byte has AUTH_FLAG set ends with a u32 sequence number and a 32-byte HMAC-SHA256 tag over the session
// (8 random bytes engram draws when it starts, given by HELLO), the sequence number, the 4-byte header and the
// body before the trailer. engram accepts each sequence number once and only above the last one it accepted, so a
// recorded frame cannot be replayed, neither in the same process nor after a restart (the session changes).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { AUTH_FLAG, AUTH_TRAILER_BYTES } from './protocol.js';

export const TAG_BYTES = 32;
export const MIN_KEY_BYTES = 16;
export const MAX_KEY_BYTES = 64;

/** HMAC-SHA256(key, session | seq (u32 LE) | version | type | id (u16 LE) | body). */
export function requestTag(
  key: Uint8Array,
  session: Uint8Array,
  seq: number,
  header: { version: number; type: number; id: number },
  body: Uint8Array,
): Buffer {
  const fixed = Buffer.alloc(8 + 4 + 4);
  Buffer.from(session.buffer, session.byteOffset, session.byteLength).copy(fixed, 0, 0, 8);
  fixed.writeUInt32LE(seq >>> 0, 8);
  fixed[12] = header.version;
  fixed[13] = header.type;
  fixed.writeUInt16LE(header.id, 14);
  return createHmac('sha256', key).update(fixed).update(body).digest();
}

/** The type byte and body of a tagged request: AUTH_FLAG set, trailer (seq, tag) appended. */
export function signRequest(
  key: Uint8Array,
  session: Uint8Array,
  seq: number,
  frame: { version: number; type: number; id: number; body: Buffer },
): { type: number; body: Buffer } {
  const type = frame.type | AUTH_FLAG;
  const seqBytes = Buffer.alloc(4);
  seqBytes.writeUInt32LE(seq >>> 0);
  const tag = requestTag(key, session, seq, { version: frame.version, type, id: frame.id }, frame.body);
  return { type, body: Buffer.concat([frame.body, seqBytes, tag]) };
}

/** Splits a tagged body into the request body, sequence number and tag; null when it is too short to hold them. */
export function splitTagged(body: Buffer): { body: Buffer; seq: number; tag: Buffer } | null {
  if (body.length < AUTH_TRAILER_BYTES) return null;
  const at = body.length - AUTH_TRAILER_BYTES;
  return { body: body.subarray(0, at), seq: body.readUInt32LE(at), tag: body.subarray(at + 4) };
}

/** Compares in constant time. */
export function tagMatches(expected: Buffer, got: Buffer): boolean {
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/**
 * Reads a key file: the key as hexadecimal digits (32 to 128 of them, 16 to 64 bytes), whitespace ignored.
 * `warn` hears about a file that other users can read.
 */
export function readKeyFile(path: string, warn: (line: string) => void = () => {}): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new Error(`key file ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  if (!st.isFile()) throw new Error(`key file ${path}: not a regular file`);
  if (st.size > 4096) throw new Error(`key file ${path}: ${st.size} bytes; a key file holds at most ${MAX_KEY_BYTES * 2} hex digits`);
  if (st.mode & 0o077) warn(`key file ${path} can be read by other users (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  const text = readFileSync(path, 'utf8').replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(text) || text.length % 2 !== 0) {
    throw new Error(`key file ${path}: expected the key as an even number of hexadecimal digits (e.g. from: openssl rand -hex 32)`);
  }
  const key = Buffer.from(text, 'hex');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw new Error(
      `key file ${path}: the key has ${key.length} bytes; expected ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} (32 to 128 hex digits)`,
    );
  }
  return key;
}
