// The byte form of an Update (docs/fleet.md "Update format"): what goes on the wire, into the fleet journal and
// into an export file. Compact: a column is its neurons as LEB128 gaps plus one counter byte each.
// All integers little-endian; str = u16 byte length + UTF-8.
//   'EGFU' | u8 version 1
//   u32 tombstones: str label | u32 t | str origin
//   u32 contributions: str origin | str label | u32 t | u32 version | u32 examples | u32 columns: (u32 n | n gaps | n counts)
//   u32 calibrations: str origin | u32 version | u32 known | f64[] | u32 novel | f64[]
import type { Column } from './columns.js';
import type { Calibration, Contribution, Tombstone, Update } from './state.js';

const MAGIC = 'EGFU';
const VERSION = 1;

class Writer {
  private chunks: Buffer[] = [];
  private buf = Buffer.alloc(1 << 16);
  private at = 0;
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    this.chunks.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.alloc(Math.max(1 << 16, n));
    this.at = 0;
  }
  u8(v: number): void {
    this.room(1);
    this.at = this.buf.writeUInt8(v, this.at);
  }
  u32(v: number): void {
    this.room(4);
    this.at = this.buf.writeUInt32LE(v, this.at);
  }
  f64(v: number): void {
    this.room(8);
    this.at = this.buf.writeDoubleLE(v, this.at);
  }
  varint(v: number): void {
    this.room(5);
    while (v >= 0x80) {
      this.buf[this.at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.at++] = v;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 0xffff) throw new RangeError(`string of ${b.length} bytes is too long for an update`);
    this.room(2);
    this.at = this.buf.writeUInt16LE(b.length, this.at);
    this.bytes(b);
  }
  done(): Buffer {
    return Buffer.concat([...this.chunks, this.buf.subarray(0, this.at)]);
  }
}

class Reader {
  at = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly source: string,
  ) {}
  fail(why: string): never {
    throw new Error(`${this.source}: ${why} (at byte ${this.at})`);
  }
  need(n: number): void {
    if (this.at + n > this.buf.length) this.fail('truncated update');
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.at++);
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }
  varint(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.u8();
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    return this.fail('varint too long');
  }
  str(): string {
    this.need(2);
    const n = this.buf.readUInt16LE(this.at);
    this.at += 2;
    this.need(n);
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }
  count(what: string, minBytes: number): number {
    const n = this.u32();
    if (n * minBytes > this.buf.length - this.at) this.fail(`${what} count ${n} exceeds the update's size`);
    return n;
  }
}

export function encodeUpdate(u: Update): Buffer {
  const w = new Writer();
  w.bytes(Buffer.from(MAGIC, 'latin1'));
  w.u8(VERSION);
  w.u32(u.tombstones.length);
  for (const t of u.tombstones) {
    w.str(t.label);
    w.u32(t.stamp.t);
    w.str(t.stamp.origin);
  }
  w.u32(u.contributions.length);
  for (const c of u.contributions) {
    w.str(c.origin);
    w.str(c.label);
    w.u32(c.t);
    w.u32(c.version);
    w.u32(c.examples);
    w.u32(c.columns.length);
    for (const col of c.columns) {
      w.u32(col.neurons.length);
      let prev = 0;
      for (const n of col.neurons) {
        w.varint(n - prev);
        prev = n;
      }
      w.bytes(col.counts);
    }
  }
  w.u32(u.calibrations.length);
  for (const c of u.calibrations) {
    w.str(c.origin);
    w.u32(c.version);
    w.u32(c.known.length);
    for (const v of c.known) w.f64(v);
    w.u32(c.novel.length);
    for (const v of c.novel) w.f64(v);
  }
  return w.done();
}

/** Decodes and checks an update; anything malformed throws an Error naming `source` and the problem. */
export function decodeUpdate(bytes: Uint8Array, source = 'update'): Update {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, source);
  if (buf.length < 5 || buf.toString('latin1', 0, 4) !== MAGIC) r.fail('not an engram fleet update (bad magic)');
  r.at = 4;
  const version = r.u8();
  if (version !== VERSION) r.fail(`update format version ${version} is not supported`);
  const tombstones: Tombstone[] = [];
  for (let i = r.count('tombstone', 8); i > 0; i--) {
    const label = r.str();
    const t = r.u32();
    tombstones.push({ label, stamp: { t, origin: r.str() } });
  }
  const contributions: Contribution[] = [];
  for (let i = r.count('contribution', 20); i > 0; i--) {
    const origin = r.str();
    const label = r.str();
    const t = r.u32();
    const version = r.u32();
    const examples = r.u32();
    const columns: Column[] = [];
    for (let k = r.count('column', 4); k > 0; k--) {
      const n = r.count('neuron', 2);
      const neurons = new Uint32Array(n);
      let prev = 0;
      for (let j = 0; j < n; j++) {
        const gap = r.varint();
        if (j > 0 && gap === 0) r.fail('column neurons are not ascending');
        prev += gap;
        neurons[j] = prev;
      }
      r.need(n);
      const counts = Uint8Array.from(buf.subarray(r.at, r.at + n));
      r.at += n;
      if (counts.includes(0)) r.fail('a column holds a zero counter');
      columns.push({ neurons, counts });
    }
    contributions.push({ origin, label, t, version, examples, columns });
  }
  const calibrations: Calibration[] = [];
  for (let i = r.count('calibration', 14); i > 0; i--) {
    const origin = r.str();
    const version = r.u32();
    const known = Array.from({ length: r.count('sample', 8) }, () => r.f64());
    const novel = Array.from({ length: r.count('sample', 8) }, () => r.f64());
    if ([...known, ...novel].some((v) => !(v >= 0 && v <= 2))) r.fail('an open-set sample is out of range');
    calibrations.push({ origin, version, known, novel });
  }
  if (r.at !== buf.length) r.fail(`${buf.length - r.at} trailing bytes`);
  return { contributions, tombstones, calibrations };
}
