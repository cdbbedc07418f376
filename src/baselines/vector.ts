// Small dense helpers shared by the baselines: checked shapes and L2 normalisation of rows.
import { int, rangeError, typed } from '../util/validate.js';

/** Rows of a row-major matrix, checking that `features` is a whole number of `dim`-long rows. */
export function rowsOf(features: unknown, dim: number): number {
  const f = typed('features', features, Float32Array);
  if (f.length % dim !== 0) throw rangeError('features', `a Float32Array whose length is a multiple of ${dim}`, f);
  return f.length / dim;
}

/** Checks labels: one integer in [0, 65535] per row. */
export function checkLabels(labels: ArrayLike<number>, rows: number): void {
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new TypeError(`labels: expected an array of integers, got ${labels === null ? 'null' : typeof labels}`);
  }
  if (labels.length !== rows) throw new RangeError(`labels: expected ${rows} labels (one per row), got ${labels.length}`);
  for (let i = 0; i < rows; i++) int(`labels[${i}]`, labels[i], 0, 65535);
}

/** A copy of the rows scaled to unit L2 norm (zero rows stay zero). */
export function normalizeRows(features: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(features.length);
  for (let o = 0; o < features.length; o += dim) {
    let s = 0;
    for (let t = 0; t < dim; t++) s += features[o + t] * features[o + t];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let t = 0; t < dim; t++) out[o + t] = features[o + t] * inv;
  }
  return out;
}

/** Dot product of a[ao..ao+n) and b[bo..bo+n); four accumulators keep the loop short and monomorphic. */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  for (; t + 3 < n; t += 4) {
    s0 += a[ao + t] * b[bo + t];
    s1 += a[ao + t + 1] * b[bo + t + 1];
    s2 += a[ao + t + 2] * b[bo + t + 2];
    s3 += a[ao + t + 3] * b[bo + t + 3];
  }
  for (; t < n; t++) s0 += a[ao + t] * b[bo + t];
  return s0 + s1 + s2 + s3;
}
