// A product-quantizer codebook: P parts x K anchors of length D/P, plus the preprocessing it was fitted
// with (optional mean-centring and L2 normalisation). Its identity is the sha256 of its file bytes, which a
// store records so that codes from two codebooks are never mixed.
//
// File layout (little-endian): "EGCB" | u32 version=1 | u32 parts | u32 anchors | u32 dim | u32 flags
// (bit0 centre, bit1 l2) | f32[dim] mean (only if centred) | f32[parts*anchors*dim/parts] anchors.
import { createHash } from 'node:crypto';
import { kmeans } from './kmeans.js';
import { int } from '../util/validate.js';

const MAGIC = 0x42434745; // "EGCB" read as little-endian u32
const VERSION = 1;
const HEADER = 24;

export interface Codebook {
  parts: number;
  anchors: number;
  dim: number;
  l2: boolean;
  /** Mean subtracted before encoding, or null when not centred. */
  mean: Float32Array | null;
  /** parts * anchors * (dim / parts) floats: anchor k of part p starts at (p*anchors + k) * (dim/parts). */
  data: Float32Array;
}

export interface FitOptions {
  parts: number;
  anchors: number;
  center?: boolean;
  l2?: boolean;
  iterations?: number;
  seed?: number;
}

/** Applies the codebook's preprocessing to rows of `features` (B x dim), returning a new array. */
export function preprocess(features: Float32Array, dim: number, mean: Float32Array | null, l2: boolean): Float32Array {
  const out = new Float32Array(features);
  const rows = out.length / dim;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    if (mean) for (let t = 0; t < dim; t++) out[o + t] -= mean[t];
    if (l2) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += out[o + t] * out[o + t];
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let t = 0; t < dim; t++) out[o + t] *= inv;
    }
  }
  return out;
}

/** Fits a codebook on n calibration feature rows (n x dim), seeded and deterministic. */
export function fitCodebook(features: Float32Array, dim: number, opts: FitOptions): Codebook {
  const parts = int('parts', opts.parts, 1, dim);
  const anchors = int('anchors', opts.anchors, 2, 65536);
  if (dim % parts !== 0) throw new RangeError(`parts: expected a divisor of the feature dimension ${dim}, got number ${parts}`);
  const n = features.length / dim;
  if (!Number.isInteger(n) || n < anchors) {
    throw new RangeError(`calibration: expected at least ${anchors} feature rows of dimension ${dim}, got ${features.length / dim}`);
  }
  const center = opts.center ?? false;
  const l2 = opts.l2 ?? false;
  let mean: Float32Array | null = null;
  if (center) {
    mean = new Float32Array(dim);
    for (let r = 0; r < n; r++) for (let t = 0; t < dim; t++) mean[t] += features[r * dim + t] / n;
  }
  const x = preprocess(features, dim, mean, l2);
  const sub = dim / parts;
  const data = new Float32Array(parts * anchors * sub);
  const part = new Float32Array(n * sub);
  for (let p = 0; p < parts; p++) {
    for (let r = 0; r < n; r++) part.set(x.subarray(r * dim + p * sub, r * dim + (p + 1) * sub), r * sub);
    const c = kmeans(part, n, sub, { k: anchors, iterations: opts.iterations ?? 15, seed: (opts.seed ?? 1) + p });
    data.set(c, p * anchors * sub);
  }
  return { parts, anchors, dim, l2, mean, data };
}

export function encodeCodebook(cb: Codebook): Buffer {
  const meanLen = cb.mean ? cb.dim : 0;
  const buf = Buffer.alloc(HEADER + 4 * (meanLen + cb.data.length));
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(VERSION, 4);
  buf.writeUInt32LE(cb.parts, 8);
  buf.writeUInt32LE(cb.anchors, 12);
  buf.writeUInt32LE(cb.dim, 16);
  buf.writeUInt32LE((cb.mean ? 1 : 0) | (cb.l2 ? 2 : 0), 20);
  let o = HEADER;
  if (cb.mean) for (const v of cb.mean) o = buf.writeFloatLE(v, o);
  for (const v of cb.data) o = buf.writeFloatLE(v, o);
  return buf;
}

/** Reads a codebook file's bytes; a foreign or damaged buffer is an error naming `source`. */
export function decodeCodebook(buf: Uint8Array, source = 'codebook'): Codebook {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < HEADER || b.readUInt32LE(0) !== MAGIC) throw new Error(`${source}: not an engram codebook (bad magic)`);
  const version = b.readUInt32LE(4);
  if (version !== VERSION) throw new Error(`${source}: codebook format version ${version} is not supported (expected ${VERSION})`);
  const parts = b.readUInt32LE(8);
  const anchors = b.readUInt32LE(12);
  const dim = b.readUInt32LE(16);
  const flags = b.readUInt32LE(20);
  if (parts < 1 || anchors < 2 || dim < 1 || dim % parts !== 0 || flags > 3) {
    throw new Error(`${source}: inconsistent codebook header (parts ${parts}, anchors ${anchors}, dim ${dim})`);
  }
  const meanLen = flags & 1 ? dim : 0;
  const expected = HEADER + 4 * (meanLen + anchors * dim);
  if (b.length !== expected) throw new Error(`${source}: expected ${expected} bytes for its geometry, got ${b.length}`);
  const floats = new Float32Array(meanLen + anchors * dim);
  for (let i = 0; i < floats.length; i++) floats[i] = b.readFloatLE(HEADER + 4 * i);
  for (const v of floats) if (!Number.isFinite(v)) throw new Error(`${source}: contains non-finite values`);
  return {
    parts,
    anchors,
    dim,
    l2: (flags & 2) !== 0,
    mean: meanLen ? floats.slice(0, dim) : null,
    data: floats.slice(meanLen),
  };
}

/** Identity of a codebook: sha256 of its encoded bytes. */
export function codebookId(cb: Codebook): string {
  return createHash('sha256').update(encodeCodebook(cb)).digest('hex');
}
