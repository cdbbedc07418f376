// The learner's operations as journal records: what was acknowledged is replayed exactly on open.
// learn:  u8 1 | u16 label bytes | label utf8 | u32 rows | u32 active | u32[rows*active] codes
// learn with features (stores made with keepFeatures): u8 4 | same as learn | u32 dim | f32[rows*dim]
// forget: u8 2 | u16 label bytes | label utf8
// prune:  u8 3 | u32 json bytes | policy json
// threshold: u8 5 | u8 fixed (1) or calibrated (0) | f64 value (0 when calibrated)
import type { PrunePolicy } from './prune.js';
import { parsePrunePolicy } from './prune.js';

export type LearnerOp =
  | { op: 'learn'; label: string; codes: Uint32Array; rows: number; active: number; features?: Float32Array; dim?: number }
  | { op: 'forget'; label: string }
  | { op: 'prune'; policy: PrunePolicy }
  /** The open-set threshold fixed at `value` (0..1), or back to calibration with null. */
  | { op: 'threshold'; value: number | null };

const LEARN = 1;
const FORGET = 2;
const PRUNE = 3;
const LEARN_FEATURES = 4;
const THRESHOLD = 5;

export function encodeOp(op: LearnerOp): Buffer {
  switch (op.op) {
    case 'learn': {
      const label = Buffer.from(op.label, 'utf8');
      const withFeatures = op.features !== undefined;
      const extra = withFeatures ? 4 + 4 * op.features!.length : 0;
      const buf = Buffer.alloc(1 + 2 + label.length + 8 + 4 * op.codes.length + extra);
      let o = buf.writeUInt8(withFeatures ? LEARN_FEATURES : LEARN, 0);
      o = buf.writeUInt16LE(label.length, o);
      o += label.copy(buf, o);
      o = buf.writeUInt32LE(op.rows, o);
      o = buf.writeUInt32LE(op.active, o);
      for (const c of op.codes) o = buf.writeUInt32LE(c, o);
      if (withFeatures) {
        o = buf.writeUInt32LE(op.dim!, o);
        for (const v of op.features!) o = buf.writeFloatLE(v, o);
      }
      return buf;
    }
    case 'forget': {
      const label = Buffer.from(op.label, 'utf8');
      const buf = Buffer.alloc(3 + label.length);
      buf.writeUInt8(FORGET, 0);
      buf.writeUInt16LE(label.length, 1);
      label.copy(buf, 3);
      return buf;
    }
    case 'threshold': {
      const buf = Buffer.alloc(10);
      buf.writeUInt8(THRESHOLD, 0);
      buf.writeUInt8(op.value === null ? 0 : 1, 1);
      buf.writeDoubleLE(op.value ?? 0, 2);
      return buf;
    }
    case 'prune': {
      const json = Buffer.from(JSON.stringify(op.policy), 'utf8');
      const buf = Buffer.alloc(5 + json.length);
      buf.writeUInt8(PRUNE, 0);
      buf.writeUInt32LE(json.length, 1);
      json.copy(buf, 5);
      return buf;
    }
  }
}

/** Decodes one record; a malformed record is an error (the store's checksum already passed). */
export function decodeOp(bytes: Uint8Array): LearnerOp {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new Error(`journal record: ${why}`);
  };
  if (buf.length < 1) fail('empty');
  const type = buf.readUInt8(0);
  if (type === LEARN || type === LEARN_FEATURES || type === FORGET) {
    if (buf.length < 3) fail('truncated label');
    const n = buf.readUInt16LE(1);
    if (buf.length < 3 + n) fail('truncated label');
    const label = buf.toString('utf8', 3, 3 + n);
    if (type === FORGET) {
      if (buf.length !== 3 + n) fail('trailing bytes after forget');
      return { op: 'forget', label };
    }
    let o = 3 + n;
    if (buf.length < o + 8) fail('truncated learn header');
    const rows = buf.readUInt32LE(o);
    const active = buf.readUInt32LE(o + 4);
    o += 8;
    const codeBytes = 4 * rows * active;
    if (type === LEARN && buf.length !== o + codeBytes) fail(`learn record expects ${rows} x ${active} codes, has ${(buf.length - o) / 4}`);
    if (type === LEARN_FEATURES && buf.length < o + codeBytes + 4)
      fail(`learn record expects ${rows} x ${active} codes and a feature block`);
    const codes = new Uint32Array(rows * active);
    for (let i = 0; i < codes.length; i++) codes[i] = buf.readUInt32LE(o + 4 * i);
    if (type === LEARN) return { op: 'learn', label, codes, rows, active };
    o += codeBytes;
    const dim = buf.readUInt32LE(o);
    o += 4;
    if (buf.length !== o + 4 * rows * dim) fail(`learn record expects ${rows} x ${dim} features`);
    const features = new Float32Array(rows * dim);
    for (let i = 0; i < features.length; i++) features[i] = buf.readFloatLE(o + 4 * i);
    return { op: 'learn', label, codes, rows, active, features, dim };
  }
  if (type === PRUNE) {
    if (buf.length < 5) fail('truncated prune');
    const n = buf.readUInt32LE(1);
    if (buf.length !== 5 + n) fail('prune length mismatch');
    return { op: 'prune', policy: parsePrunePolicy(JSON.parse(buf.toString('utf8', 5))) };
  }
  if (type === THRESHOLD) {
    if (buf.length !== 10) fail('threshold record length');
    const fixed = buf.readUInt8(1);
    const value = buf.readDoubleLE(2);
    if (fixed > 1 || !(value >= 0 && value <= 1)) fail('threshold record out of range');
    return { op: 'threshold', value: fixed ? value : null };
  }
  return fail(`unknown type ${type}`);
}

/** Whether a journal record is a learn without feature vectors (a store that does not keep them). */
export function isPlainLearn(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === LEARN;
}
