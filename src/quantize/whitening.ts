// A partial whitening of backbone features: the d directions of largest scatter are rescaled to unit
// variance (with shrinkage), the rest by one common factor. Fitted on the within-class scatter of labelled
// images (the nuisance directions: pose, light, background) or on the total scatter of unlabelled ones.
// Storing d x D floats instead of D x D keeps it under 1 MB for D = 1280 at d = 128 (docs/learner.md).
// A whitening of d = 0 directions is a centring, z = g (x - mean): what a store's own whitening is before it
// has examples enough to measure how a class varies (centreWhitening).
//
//   z = g (x - mean) + V ((f - g) * V^T (x - mean))     V: D x d orthonormal, f_i = 1/sqrt(e_i + s), g = 1/sqrt(s)
//
// File layout (little-endian): "EGWH" | u32 version=1 | u32 dim | u32 d | u32 flags (bit0 within-class) |
// u32 samples | f32 shrink | f32 g | f32[dim] mean | f32[d] f | f32[d * dim] basis (direction i at i * dim).
import { createHash } from 'node:crypto';
import { Rng } from '../util/rng.js';
import { int, num } from '../util/validate.js';
import { loadBinding } from '../native/loader.js';

const MAGIC = 0x48574745; // "EGWH" read as little-endian u32
const VERSION = 1;
const HEADER = 32;

export interface Whitening {
  dim: number;
  /** Directions whitened individually (0: a centring, centreWhitening). */
  d: number;
  /** True when fitted on within-class scatter (labelled images), false for total scatter. */
  withinClass: boolean;
  /** Feature rows the fit saw. */
  samples: number;
  /** Shrinkage added to every eigenvalue, as a multiple of the mean eigenvalue. */
  shrink: number;
  mean: Float32Array;
  /** Per-direction factor 1/sqrt(e_i + s). */
  f: Float32Array;
  /** Factor of the remaining directions, 1/sqrt(s). */
  g: number;
  /** d x dim, direction i at [i * dim, (i + 1) * dim). */
  basis: Float32Array;
}

export interface WhiteningFitOptions {
  /** Directions whitened individually (default 128, at most dim and samples - 1). */
  d?: number;
  /** Shrinkage as a multiple of the mean eigenvalue (default 3). */
  shrink?: number;
  seed?: number;
}

export const WHITENING_DEFAULTS = { d: 128, shrink: 3 } as const;

/** The two products a fit spends its time in: the addon's (the default) or their TypeScript references. */
export interface FitProducts {
  scatterTimes(R: Float64Array, n: number, dim: number, Q: Float64Array, l: number): Float64Array;
  orthonormalize(Q: Float64Array, l: number, dim: number): void;
}

/** The references, in TypeScript: the same values as the addon's, bit for bit (test/85). */
export const REFERENCE_FIT_PRODUCTS: FitProducts = {
  scatterTimes: (R, n, dim, Q, l) => scatterTimesReference(R, n, dim, Q, l),
  orthonormalize: (Q, l, dim) => orthonormalizeReference(Q, l, dim),
};

/** The addon's products, loaded on first use. */
export function nativeFitProducts(): FitProducts {
  const b = loadBinding();
  return { scatterTimes: (R, n, dim, Q, l) => b.scatterTimes(R, n, dim, Q, l), orthonormalize: (Q, l, dim) => b.orthonormalize(Q, l, dim) };
}

/**
 * Fits a whitening on n rows (n x dim). With labels (one per row), the scatter is within-class: each row
 * minus its label's mean; without, each row minus the overall mean. The scatter products run in the addon
 * (`products`; REFERENCE_FIT_PRODUCTS gives the same whitening, bit for bit, in TypeScript).
 */
export function fitWhitening(
  features: Float32Array,
  dim: number,
  labels: ArrayLike<number> | null,
  opts: WhiteningFitOptions = {},
  products: FitProducts = nativeFitProducts(),
): Whitening {
  const n = features.length / dim;
  if (!Number.isInteger(n) || n < 2)
    throw new RangeError(`calibration: expected at least 2 feature rows of dimension ${dim}, got ${features.length / dim}`);
  if (labels && labels.length !== n) throw new RangeError(`labels: expected ${n} labels (one per row), got ${labels.length}`);
  const shrink = num('shrink', opts.shrink ?? WHITENING_DEFAULTS.shrink, 1e-3, 1e3);
  // Capped, not refused: the default (128) must serve a backbone of fewer dimensions too.
  const d = Math.min(int('d', opts.d ?? WHITENING_DEFAULTS.d, 1, 1 << 20), dim, n - 1);
  for (let i = 0; i < features.length; i++)
    if (!Number.isFinite(features[i])) throw new RangeError(`features: value ${i} is not finite (${features[i]})`);
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let t = 0; t < dim; t++) mean[t] += features[r * dim + t] / n;
  // Residuals: from the label's mean (within-class) or the overall mean.
  const resid = new Float64Array(n * dim);
  if (labels) {
    const sums = new Map<number, { sum: Float64Array; count: number }>();
    for (let r = 0; r < n; r++) {
      const g = sums.get(labels[r]) ?? sums.set(labels[r], { sum: new Float64Array(dim), count: 0 }).get(labels[r])!;
      for (let t = 0; t < dim; t++) g.sum[t] += features[r * dim + t];
      g.count++;
    }
    const groups = sums.size;
    if (n - groups < 1)
      throw new RangeError(`calibration: within-class scatter needs more rows than labels, got ${n} rows of ${groups} labels`);
    for (let r = 0; r < n; r++) {
      const g = sums.get(labels[r])!;
      for (let t = 0; t < dim; t++) resid[r * dim + t] = features[r * dim + t] - g.sum[t] / g.count;
    }
  } else {
    for (let r = 0; r < n; r++) for (let t = 0; t < dim; t++) resid[r * dim + t] = features[r * dim + t] - mean[t];
  }
  let trace = 0;
  for (let i = 0; i < resid.length; i++) trace += resid[i] * resid[i];
  const meanEig = trace / (n * dim);
  const { values, vectors } = topEigen(resid, n, dim, d, opts.seed ?? 1, products);
  const s = shrink * meanEig;
  const f = new Float32Array(d);
  for (let i = 0; i < d; i++) f[i] = 1 / Math.sqrt(Math.max(0, values[i]) + s);
  return {
    dim,
    d,
    withinClass: labels !== null,
    samples: n,
    shrink,
    mean: Float32Array.from(mean),
    f,
    g: 1 / Math.sqrt(s),
    basis: Float32Array.from(vectors),
  };
}

/**
 * A centring of n rows (n x dim): the whitening of no directions, z = x - mean. It needs no labels and no
 * spread, so it serves from the second example on.
 */
export function centreWhitening(features: Float32Array, dim: number): Whitening {
  const n = features.length / dim;
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`calibration: expected at least 1 feature row of dimension ${dim}, got ${features.length / dim}`);
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let t = 0; t < dim; t++) mean[t] += features[r * dim + t];
  for (let t = 0; t < dim; t++) {
    mean[t] /= n;
    if (!Number.isFinite(mean[t])) throw new RangeError(`features: column ${t} has a value that is not finite`);
  }
  return {
    dim,
    d: 0,
    withinClass: false,
    samples: n,
    shrink: 0,
    mean: Float32Array.from(mean),
    f: new Float32Array(0),
    g: 1,
    basis: new Float32Array(0),
  };
}

/** Applies the whitening to rows of features (rows x dim) into a new array. */
export function applyWhitening(w: Whitening, features: Float32Array, rows: number): Float32Array {
  const { dim, d, mean, f, g, basis } = w;
  const out = new Float32Array(rows * dim);
  const x = new Float64Array(dim);
  const proj = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < dim; t++) x[t] = features[r * dim + t] - mean[t];
    for (let i = 0; i < d; i++) {
      let p = 0;
      const o = i * dim;
      for (let t = 0; t < dim; t++) p += basis[o + t] * x[t];
      proj[i] = p * (f[i] - g);
    }
    for (let t = 0; t < dim; t++) x[t] *= g;
    for (let i = 0; i < d; i++) {
      const o = i * dim;
      const p = proj[i];
      for (let t = 0; t < dim; t++) x[t] += basis[o + t] * p;
    }
    for (let t = 0; t < dim; t++) out[r * dim + t] = x[t];
  }
  return out;
}

/**
 * The d leading eigenpairs of the scatter R^T R / n of the rows of R (n x dim), by randomized subspace
 * iteration (Halko, Martinsson & Tropp 2011) with a few oversampled directions, then Jacobi on the small
 * projected matrix. Seeded, so a fit is reproducible.
 */
function topEigen(
  R: Float64Array,
  n: number,
  dim: number,
  d: number,
  seed: number,
  products: FitProducts,
): { values: Float64Array; vectors: Float64Array } {
  const l = Math.min(dim, d + 10);
  const rng = new Rng(seed);
  let Q: Float64Array = new Float64Array(l * dim); // l rows of length dim
  for (let i = 0; i < Q.length; i++) Q[i] = 2 * rng.next() - 1;
  products.orthonormalize(Q, l, dim);
  for (let it = 0; it < 4; it++) {
    Q = products.scatterTimes(R, n, dim, Q, l);
    products.orthonormalize(Q, l, dim);
  }
  // B = Q S Q^T (l x l)
  const SQ = products.scatterTimes(R, n, dim, Q, l);
  const B = new Float64Array(l * l);
  for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) B[i * l + j] = dot4(Q, i * dim, SQ, j * dim, dim);
  for (let i = 0; i < l; i++) for (let j = 0; j < i; j++) B[i * l + j] = B[j * l + i] = (B[i * l + j] + B[j * l + i]) / 2;
  const { values, vectors: U } = jacobi(B, l);
  const order = [...values.keys()].sort((a, b) => values[b] - values[a] || a - b).slice(0, d);
  const vals = new Float64Array(d);
  const vecs = new Float64Array(d * dim);
  order.forEach((k, i) => {
    vals[i] = values[k];
    for (let j = 0; j < l; j++) {
      const u = U[j * l + k];
      if (u === 0) continue;
      for (let t = 0; t < dim; t++) vecs[i * dim + t] += u * Q[j * dim + t];
    }
  });
  return { values: vals, vectors: vecs };
}

/**
 * (R^T R / n) applied to each of the l rows of Q (l x dim), as rows: out_j = sum over rows r of
 * (R_r . Q_j / n) R_r. Rows of R go four at a time, so each row of Q and of the result is read once per four
 * rows of R (a last group of fewer repeats its first row with weight 0). The reference of the addon's
 * scatterTimes (native/core/whiten_fit.cc), which computes the same values in the same order.
 */
export function scatterTimesReference(R: Float64Array, n: number, dim: number, Q: Float64Array, l: number): Float64Array {
  const out = new Float64Array(l * dim);
  for (let r = 0; r < n; r += 4) {
    const rows = Math.min(4, n - r);
    const o0 = r * dim;
    const o1 = rows > 1 ? o0 + dim : o0;
    const o2 = rows > 2 ? o0 + 2 * dim : o0;
    const o3 = rows > 3 ? o0 + 3 * dim : o0;
    for (let j = 0; j < l; j++) {
      const q = j * dim;
      const c0 = dot4(R, o0, Q, q, dim) / n;
      const c1 = rows > 1 ? dot4(R, o1, Q, q, dim) / n : 0;
      const c2 = rows > 2 ? dot4(R, o2, Q, q, dim) / n : 0;
      const c3 = rows > 3 ? dot4(R, o3, Q, q, dim) / n : 0;
      for (let t = 0; t < dim; t++) out[q + t] += c0 * R[o0 + t] + c1 * R[o1 + t] + c2 * R[o2 + t] + c3 * R[o3 + t];
    }
  }
  return out;
}

/** Sum of a[ao + t] * b[bo + t] over t < len, in four lanes (t mod 4) added as (l0 + l1) + (l2 + l3). */
export function dot4(a: Float64Array, ao: number, b: Float64Array, bo: number, len: number): number {
  let l0 = 0;
  let l1 = 0;
  let l2 = 0;
  let l3 = 0;
  let t = 0;
  for (; t + 4 <= len; t += 4) {
    l0 += a[ao + t] * b[bo + t];
    l1 += a[ao + t + 1] * b[bo + t + 1];
    l2 += a[ao + t + 2] * b[bo + t + 2];
    l3 += a[ao + t + 3] * b[bo + t + 3];
  }
  if (t < len) l0 += a[ao + t] * b[bo + t];
  if (t + 1 < len) l1 += a[ao + t + 1] * b[bo + t + 1];
  if (t + 2 < len) l2 += a[ao + t + 2] * b[bo + t + 2];
  return l0 + l1 + (l2 + l3);
}

/**
 * Modified Gram-Schmidt on l rows of length dim, twice for stability; a degenerate row becomes zero. The
 * reference of the addon's orthonormalize, same values in the same order.
 */
export function orthonormalizeReference(Q: Float64Array, l: number, dim: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < l; i++) {
      for (let j = 0; j < i; j++) {
        const p = dot4(Q, i * dim, Q, j * dim, dim);
        for (let t = 0; t < dim; t++) Q[i * dim + t] -= p * Q[j * dim + t];
      }
      const norm = Math.sqrt(dot4(Q, i * dim, Q, i * dim, dim));
      for (let t = 0; t < dim; t++) Q[i * dim + t] = norm > 1e-300 ? Q[i * dim + t] / norm : 0;
    }
  }
}

/** Cyclic Jacobi eigen-decomposition of a symmetric l x l matrix; vectors are columns of the result. */
function jacobi(A0: Float64Array, l: number): { values: Float64Array; vectors: Float64Array } {
  const A = new Float64Array(A0);
  const V = new Float64Array(l * l);
  for (let i = 0; i < l; i++) V[i * l + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < l; p++) for (let q = p + 1; q < l; q++) off += A[p * l + q] * A[p * l + q];
    if (off < 1e-30) break;
    for (let p = 0; p < l; p++) {
      for (let q = p + 1; q < l; q++) {
        const apq = A[p * l + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * l + q] - A[p * l + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < l; k++) {
          const akp = A[k * l + p];
          const akq = A[k * l + q];
          A[k * l + p] = c * akp - s * akq;
          A[k * l + q] = s * akp + c * akq;
        }
        for (let k = 0; k < l; k++) {
          const apk = A[p * l + k];
          const aqk = A[q * l + k];
          A[p * l + k] = c * apk - s * aqk;
          A[q * l + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < l; k++) {
          const vkp = V[k * l + p];
          const vkq = V[k * l + q];
          V[k * l + p] = c * vkp - s * vkq;
          V[k * l + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(l);
  for (let i = 0; i < l; i++) values[i] = A[i * l + i];
  return { values, vectors: V };
}

export function encodeWhitening(w: Whitening): Buffer {
  const floats = w.dim + w.d + w.d * w.dim;
  const buf = Buffer.alloc(HEADER + 4 * floats);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(VERSION, 4);
  buf.writeUInt32LE(w.dim, 8);
  buf.writeUInt32LE(w.d, 12);
  buf.writeUInt32LE(w.withinClass ? 1 : 0, 16);
  buf.writeUInt32LE(w.samples, 20);
  buf.writeFloatLE(w.shrink, 24);
  buf.writeFloatLE(w.g, 28);
  let o = HEADER;
  for (const arr of [w.mean, w.f, w.basis]) for (const v of arr) o = buf.writeFloatLE(v, o);
  return buf;
}

/** True when the bytes start like a whitening file (so a caller can tell it from a PQ codebook). */
export function isWhitening(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32LE(0) === MAGIC;
}

export function decodeWhitening(bytes: Uint8Array, source = 'whitening'): Whitening {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC) throw new Error(`${source}: not an engram whitening file (expected "EGWH")`);
  const version = buf.readUInt32LE(4);
  if (version !== VERSION) throw new Error(`${source}: whitening version ${version} is not supported`);
  const dim = buf.readUInt32LE(8);
  const d = buf.readUInt32LE(12);
  const flags = buf.readUInt32LE(16);
  if (dim < 1 || dim > 1 << 20 || d > dim || flags > 1) throw new Error(`${source}: damaged whitening header`);
  const floats = dim + d + d * dim;
  if (buf.length !== HEADER + 4 * floats)
    throw new Error(`${source}: expected ${HEADER + 4 * floats} bytes for dim ${dim} and d ${d}, got ${buf.length}`);
  const read = (offset: number, count: number) => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(offset + 4 * i);
    return out;
  };
  const w: Whitening = {
    dim,
    d,
    withinClass: flags === 1,
    samples: buf.readUInt32LE(20),
    shrink: buf.readFloatLE(24),
    g: buf.readFloatLE(28),
    mean: read(HEADER, dim),
    f: read(HEADER + 4 * dim, d),
    basis: read(HEADER + 4 * (dim + d), d * dim),
  };
  const finite = (a: Float32Array) => a.every((v) => Number.isFinite(v));
  if (!Number.isFinite(w.g) || w.g <= 0 || !finite(w.mean) || !finite(w.f) || !finite(w.basis))
    throw new Error(`${source}: whitening holds values that are not finite`);
  return w;
}

/** The identity a store records: sha256 of the file bytes. */
export function whiteningId(w: Whitening): string {
  return createHash('sha256').update(encodeWhitening(w)).digest('hex');
}
