// Byte layout of the store's files (format version 1, all integers little-endian).
// docs/store-format.md is the prose version of this file; keep the two in step.
import { crc32 } from '../util/crc32.js';

export const FORMAT_VERSION = 1;

export const SNAPSHOT_MAGIC = Buffer.from('ENGRSNAP', 'latin1');
export const SIDE_FILE_MAGIC = Buffer.from('ENGRFILE', 'latin1');
export const JOURNAL_MAGIC = Buffer.from('ENGRJRNL', 'latin1');

/** Snapshot: magic, version, meta length, upto seq, payload length, reserved, header crc. */
export const SNAPSHOT_HEADER_BYTES = 40;
/** Journal segment: magic, version, reserved, base seq, reserved, header crc. */
export const JOURNAL_HEADER_BYTES = 32;
/** Record: payload length (4), type (1), seq (8); then payload, then crc (4). */
export const RECORD_HEADER_BYTES = 13;
export const RECORD_TRAILER_BYTES = 4;
/** A length field above this is damage, not data: it keeps a flipped bit from asking for gigabytes. */
export const MAX_RECORD_PAYLOAD = 64 * 1024 * 1024;
export const MAX_META_BYTES = 1024 * 1024;

/** Record type reserved for the store's own metadata records; types 1..255 belong to the user. */
export const META_RECORD_TYPE = 0;

// Zero-padded decimal so that names sort in seq order (MAX_SAFE_INTEGER has 16 digits).
const SEQ_DIGITS = 16;
export const snapshotName = (seq: number) => `snapshot-${String(seq).padStart(SEQ_DIGITS, '0')}.egs`;
export const journalName = (baseSeq: number) => `journal-${String(baseSeq).padStart(SEQ_DIGITS, '0')}.egj`;
export const SNAPSHOT_FILE = /^snapshot-(\d{16})\.egs$/;
export const JOURNAL_FILE = /^journal-(\d{16})\.egj$/;

/** The CRC-32 of a record or snapshot body. */
export function checksum(bytes: Uint8Array): number {
  return crc32(bytes);
}

/** Why a file or a record could not be read; `at` is a byte offset in the file. */
export class FormatDamage {
  constructor(
    readonly reason: string,
    readonly at: number,
    /** Intact, but written in a format version this reader does not know (a newer engram): not damage. */
    readonly unsupportedVersion: number | null = null,
  ) {}
}

const unsupported = (version: number) =>
  new FormatDamage(`format version ${version} is not supported (this engram reads ${FORMAT_VERSION})`, 8, version);

/** A u64 that must fit in a JS number exactly (seqs and lengths), or null. No BigInt: this runs per record. */
function readSeq(buf: Buffer, at: number): number | null {
  const hi = buf.readUInt32LE(at + 4);
  return hi > 0x1fffff ? null : hi * 0x100000000 + buf.readUInt32LE(at);
}

// ---------------------------------------------------------------- snapshots

export interface SnapshotFile {
  uptoSeq: number;
  meta: Record<string, unknown>;
  payload: Buffer;
}

export function encodeSnapshot(uptoSeq: number, meta: Record<string, unknown>, payload: Uint8Array): Buffer {
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const total = SNAPSHOT_HEADER_BYTES + metaBytes.length + payload.byteLength + 4;
  const out = Buffer.alloc(total);
  SNAPSHOT_MAGIC.copy(out, 0);
  out.writeUInt32LE(FORMAT_VERSION, 8);
  out.writeUInt32LE(metaBytes.length, 12);
  out.writeBigUInt64LE(BigInt(uptoSeq), 16);
  out.writeBigUInt64LE(BigInt(payload.byteLength), 24);
  out.writeUInt32LE(checksum(out.subarray(0, 36)), 36);
  metaBytes.copy(out, SNAPSHOT_HEADER_BYTES);
  out.set(payload, SNAPSHOT_HEADER_BYTES + metaBytes.length);
  out.writeUInt32LE(checksum(out.subarray(0, total - 4)), total - 4);
  return out;
}

/** Parses a whole snapshot file; any mismatch is damage (never a partial load). */
export function decodeSnapshot(buf: Buffer): SnapshotFile | FormatDamage {
  if (buf.length < SNAPSHOT_HEADER_BYTES + 4) return new FormatDamage(`file too short (${buf.length} bytes)`, 0);
  if (!buf.subarray(0, 8).equals(SNAPSHOT_MAGIC)) return new FormatDamage('not an engram snapshot (bad magic)', 0);
  if (buf.readUInt32LE(36) !== checksum(buf.subarray(0, 36))) return new FormatDamage('header checksum mismatch', 36);
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    return unsupported(version);
  }
  const metaLength = buf.readUInt32LE(12);
  const uptoSeq = readSeq(buf, 16);
  const payloadLength = readSeq(buf, 24);
  if (uptoSeq === null || payloadLength === null || metaLength > MAX_META_BYTES) {
    return new FormatDamage('header fields out of range', 12);
  }
  const expected = SNAPSHOT_HEADER_BYTES + metaLength + payloadLength + 4;
  if (buf.length !== expected) {
    return new FormatDamage(`file is ${buf.length} bytes, header says ${expected}`, Math.min(buf.length, expected));
  }
  if (buf.readUInt32LE(expected - 4) !== checksum(buf.subarray(0, expected - 4))) {
    return new FormatDamage('body checksum mismatch', expected - 4);
  }
  const metaEnd = SNAPSHOT_HEADER_BYTES + metaLength;
  let meta: unknown;
  try {
    meta = JSON.parse(buf.toString('utf8', SNAPSHOT_HEADER_BYTES, metaEnd));
  } catch {
    return new FormatDamage('metadata is not valid JSON', SNAPSHOT_HEADER_BYTES);
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    return new FormatDamage('metadata is not a JSON object', SNAPSHOT_HEADER_BYTES);
  }
  // A copy, so the caller may keep the payload without pinning the whole file buffer.
  const payload = Buffer.from(buf.subarray(metaEnd, metaEnd + payloadLength));
  return { uptoSeq, meta: meta as Record<string, unknown>, payload };
}

// ---------------------------------------------------------------- side files

/** Side file: magic, version, reserved, payload length, header crc; then payload, then crc of all before. */
export const SIDE_FILE_HEADER_BYTES = 28;

export function encodeSideFile(payload: Uint8Array): Buffer {
  const total = SIDE_FILE_HEADER_BYTES + payload.byteLength + 4;
  const out = Buffer.alloc(total);
  SIDE_FILE_MAGIC.copy(out, 0);
  out.writeUInt32LE(FORMAT_VERSION, 8);
  out.writeBigUInt64LE(BigInt(payload.byteLength), 16);
  out.writeUInt32LE(checksum(out.subarray(0, 24)), 24);
  out.set(payload, SIDE_FILE_HEADER_BYTES);
  out.writeUInt32LE(checksum(out.subarray(0, total - 4)), total - 4);
  return out;
}

export function decodeSideFile(buf: Buffer): Buffer | FormatDamage {
  if (buf.length < SIDE_FILE_HEADER_BYTES + 4) return new FormatDamage(`file too short (${buf.length} bytes)`, 0);
  if (!buf.subarray(0, 8).equals(SIDE_FILE_MAGIC)) return new FormatDamage('not an engram store file (bad magic)', 0);
  if (buf.readUInt32LE(24) !== checksum(buf.subarray(0, 24))) return new FormatDamage('header checksum mismatch', 24);
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    return unsupported(version);
  }
  const length = readSeq(buf, 16);
  const expected = length === null ? -1 : SIDE_FILE_HEADER_BYTES + length + 4;
  if (buf.length !== expected) return new FormatDamage(`file is ${buf.length} bytes, header says ${expected}`, 16);
  if (buf.readUInt32LE(expected - 4) !== checksum(buf.subarray(0, expected - 4))) {
    return new FormatDamage('body checksum mismatch', expected - 4);
  }
  return Buffer.from(buf.subarray(SIDE_FILE_HEADER_BYTES, expected - 4));
}

// ---------------------------------------------------------------- journal segments

export function encodeJournalHeader(baseSeq: number): Buffer {
  const out = Buffer.alloc(JOURNAL_HEADER_BYTES);
  JOURNAL_MAGIC.copy(out, 0);
  out.writeUInt32LE(FORMAT_VERSION, 8);
  out.writeBigUInt64LE(BigInt(baseSeq), 16);
  out.writeUInt32LE(checksum(out.subarray(0, 28)), 28);
  return out;
}

export function decodeJournalHeader(buf: Buffer): { baseSeq: number } | FormatDamage {
  if (buf.length < JOURNAL_HEADER_BYTES) return new FormatDamage(`file too short for a header (${buf.length} bytes)`, 0);
  if (!buf.subarray(0, 8).equals(JOURNAL_MAGIC)) return new FormatDamage('not an engram journal (bad magic)', 0);
  if (buf.readUInt32LE(28) !== checksum(buf.subarray(0, 28))) return new FormatDamage('header checksum mismatch', 28);
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    return unsupported(version);
  }
  const baseSeq = readSeq(buf, 16);
  if (baseSeq === null || baseSeq < 1) return new FormatDamage('base seq out of range', 16);
  return { baseSeq };
}

export interface JournalRecord {
  seq: number;
  /** 0 = store metadata (internal), 1..255 = user records. */
  type: number;
  payload: Buffer;
}

export function encodeRecord(seq: number, type: number, payload: Uint8Array): Buffer {
  const total = RECORD_HEADER_BYTES + payload.byteLength + RECORD_TRAILER_BYTES;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32LE(payload.byteLength, 0);
  out.writeUInt8(type, 4);
  out.writeBigUInt64LE(BigInt(seq), 5);
  out.set(payload, RECORD_HEADER_BYTES);
  out.writeUInt32LE(checksum(out.subarray(0, total - 4)), total - 4);
  return out;
}

/** The record at `at`, or null when the bytes there are not a whole, intact record. */
export function readRecordAt(buf: Buffer, at: number): { record: JournalRecord; end: number } | null {
  if (buf.length - at < RECORD_HEADER_BYTES + RECORD_TRAILER_BYTES) return null;
  const length = buf.readUInt32LE(at);
  if (length > MAX_RECORD_PAYLOAD) return null;
  const end = at + RECORD_HEADER_BYTES + length + RECORD_TRAILER_BYTES;
  if (end > buf.length) return null;
  if (buf.readUInt32LE(end - 4) !== checksum(buf.subarray(at, end - 4))) return null;
  const seq = readSeq(buf, at + 5);
  if (seq === null) return null;
  // A view into the segment's buffer, not a copy: recovery hands out records once and the caller drops them.
  return { record: { seq, type: buf[at + 4], payload: buf.subarray(at + RECORD_HEADER_BYTES, end - 4) }, end };
}

export interface SegmentScan {
  baseSeq: number;
  /** The intact records in order, seq baseSeq, baseSeq + 1, ... */
  records: JournalRecord[];
  /** Bytes of the file that hold the header and those records. */
  validBytes: number;
  /**
   * clean: the file ends after the last record.
   * torn: unreadable bytes at the end and no intact record after them (an interrupted write).
   * damaged: unreadable bytes followed by intact records (the middle of the log is lost).
   */
  end: 'clean' | 'torn' | 'damaged';
  damage?: FormatDamage;
}

/** Reads a segment; `FormatDamage` when even the header cannot be trusted. */
export function scanSegment(buf: Buffer): SegmentScan | FormatDamage {
  const header = decodeJournalHeader(buf);
  if (header instanceof FormatDamage) return header;
  const records: JournalRecord[] = [];
  let at = JOURNAL_HEADER_BYTES;
  let expected = header.baseSeq;
  while (at < buf.length) {
    const next = readRecordAt(buf, at);
    if (next === null || next.record.seq !== expected) {
      const reason =
        next === null ? `unreadable record (seq ${expected} expected)` : `record seq ${next.record.seq} where ${expected} was expected`;
      const damage = new FormatDamage(reason, at);
      const end = intactRecordAfter(buf, at + 1, expected) ? 'damaged' : 'torn';
      return { baseSeq: header.baseSeq, records, validBytes: at, end, damage };
    }
    records.push(next.record);
    at = next.end;
    expected += 1;
  }
  return { baseSeq: header.baseSeq, records, validBytes: at, end: 'clean' };
}

// An interrupted append leaves garbage only after the last good record. An intact record further on,
// with a later seq, means bytes in the middle were lost: that must not pass for a torn tail.
function intactRecordAfter(buf: Buffer, from: number, minSeq: number): boolean {
  for (let at = from; at + RECORD_HEADER_BYTES + RECORD_TRAILER_BYTES <= buf.length; at++) {
    const r = readRecordAt(buf, at);
    if (r !== null && r.record.seq >= minSeq) return true;
  }
  return false;
}
