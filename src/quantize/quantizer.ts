// Quantizers turn a feature vector into a sparse binary code: a fixed number of active neuron indices
// out of `neurons`. The kinds are listed once, in QUANTIZER_KINDS; sparse (the default: a seeded random
// rotation, optionally whitened, whose largest outputs stay active) lives in sparse.ts, the others here:
//   pq   - product quantization: P parts, each replaced by its nearest of K anchors (plus `probes`-1
//          next-nearest with multi-probe); neuron p*K + k. The hot loop runs in the native addon.
//   topk - the indices of the k largest activations (optionally standardised by calibration statistics);
//          two-sided, also the k smallest as neurons dim + i, so a code says which way each of its
//          dimensions stands out.
//   sign - one neuron per dimension and sign: dimension i above its threshold -> 2i, else 2i+1
//          (thresholds = calibration medians, or 0 without calibration).
import { preprocess, type Codebook } from './codebook.js';
import { pqEncode } from './pq-encode.js';
import { int } from '../util/validate.js';

/** Every quantizer kind, the default first: the API, the CLI's --quantizer choices and the store use this list. */
export const QUANTIZER_KINDS = ['sparse', 'pq', 'topk', 'sign'] as const;
export type QuantizerKind = (typeof QUANTIZER_KINDS)[number];

export interface Quantizer {
  readonly kind: QuantizerKind;
  /** Feature dimension expected. */
  readonly dim: number;
  /** Size of the code space (the memory's number of code neurons). */
  readonly neurons: number;
  /** Active neurons per code. */
  readonly active: number;
  /** Encodes `rows` feature vectors (rows x dim, row-major) into rows x active neuron indices. */
  encode(features: Float32Array, rows: number): Uint32Array;
}

/** Checks a batch of feature rows for any quantizer: a whole row count, the right length, finite values. */
export function checkFeatures(q: Quantizer, features: Float32Array, rows: number): void {
  int('rows', rows);
  if (features.length !== rows * q.dim) {
    throw new RangeError(`features: expected ${rows} x ${q.dim} = ${rows * q.dim} values, got Float32Array of length ${features.length}`);
  }
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) throw new RangeError(`features: value ${i} is not finite (${features[i]})`);
  }
}

export class ProductQuantizer implements Quantizer {
  readonly kind = 'pq' as const;
  readonly dim: number;
  readonly neurons: number;
  readonly active: number;

  constructor(
    readonly codebook: Codebook,
    readonly probes = 1,
  ) {
    if (!Number.isInteger(probes) || probes < 1 || probes > codebook.anchors) {
      throw new RangeError(`probes: expected an integer in [1, ${codebook.anchors}], got number ${probes}`);
    }
    this.dim = codebook.dim;
    this.neurons = codebook.parts * codebook.anchors;
    this.active = codebook.parts * probes;
  }

  encode(features: Float32Array, rows: number): Uint32Array {
    checkFeatures(this, features, rows);
    const { mean, l2, data, parts, anchors } = this.codebook;
    const x = mean || l2 ? preprocess(features, this.dim, mean, l2) : features;
    return pqEncode(x, data, { batch: rows, dims: this.dim, parts, anchorCount: anchors, probes: this.probes });
  }
}

export class TopKQuantizer implements Quantizer {
  readonly kind = 'topk' as const;
  readonly neurons: number;

  constructor(
    readonly dim: number,
    readonly active: number,
    /** Optional per-dimension standardisation (x - mean) / std from calibration. */
    readonly stats: { mean: Float32Array; std: Float32Array } | null = null,
    readonly twoSided = false,
  ) {
    const k = twoSided ? active / 2 : active;
    if (!Number.isInteger(k) || k < 1 || k > (twoSided ? Math.floor(dim / 2) : dim)) {
      throw new RangeError(`k: expected an integer in [1, ${twoSided ? Math.floor(dim / 2) : dim}], got number ${k}`);
    }
    this.neurons = twoSided ? 2 * dim : dim;
  }

  /** A two-sided quantizer activating the k largest and the k smallest values. */
  static twoSided(dim: number, k: number, stats: { mean: Float32Array; std: Float32Array } | null = null): TopKQuantizer {
    return new TopKQuantizer(dim, 2 * k, stats, true);
  }

  encode(features: Float32Array, rows: number): Uint32Array {
    checkFeatures(this, features, rows);
    const { dim, active, stats, twoSided } = this;
    const k = twoSided ? active / 2 : active;
    const out = new Uint32Array(rows * active);
    const v = new Float32Array(dim);
    const idx = new Uint32Array(dim);
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < dim; t++) {
        const x = features[r * dim + t];
        v[t] = stats ? (x - stats.mean[t]) / stats.std[t] : x;
        idx[t] = t;
      }
      // Stable order: larger value first, lower index on ties.
      const sorted = Array.from(idx).sort((a, b) => v[b] - v[a] || a - b);
      const top = sorted.slice(0, k).sort((a, b) => a - b);
      out.set(top, r * active);
      if (twoSided) {
        // The k smallest (k <= dim / 2, so never one of the largest), in index order.
        const low = sorted
          .slice(dim - k)
          .sort((a, b) => a - b)
          .map((t) => dim + t);
        out.set(low, r * active + k);
      }
    }
    return out;
  }
}

export class SignQuantizer implements Quantizer {
  readonly kind = 'sign' as const;
  readonly neurons: number;
  readonly active: number;

  constructor(
    readonly dim: number,
    /** Per-dimension thresholds (calibration medians); zeros when absent. */
    readonly thresholds: Float32Array = new Float32Array(dim),
  ) {
    if (thresholds.length !== dim) throw new RangeError(`thresholds: expected length ${dim}, got ${thresholds.length}`);
    this.neurons = 2 * dim;
    this.active = dim;
  }

  encode(features: Float32Array, rows: number): Uint32Array {
    checkFeatures(this, features, rows);
    const { dim, thresholds } = this;
    const out = new Uint32Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < dim; t++) out[r * dim + t] = 2 * t + (features[r * dim + t] > thresholds[t] ? 0 : 1);
    }
    return out;
  }
}

/** Per-dimension mean, standard deviation and median of n rows (n x dim). */
export function featureStats(features: Float32Array, dim: number): { mean: Float32Array; std: Float32Array; median: Float32Array } {
  const n = features.length / dim;
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim);
  const median = new Float32Array(dim);
  const col = new Float32Array(n);
  for (let t = 0; t < dim; t++) {
    let s = 0;
    for (let r = 0; r < n; r++) {
      col[r] = features[r * dim + t];
      s += col[r];
    }
    const m = s / n;
    let v = 0;
    for (let r = 0; r < n; r++) v += (col[r] - m) ** 2;
    mean[t] = m;
    std[t] = Math.sqrt(v / Math.max(1, n - 1)) || 1;
    col.sort();
    median[t] = n % 2 ? col[(n - 1) / 2] : (col[n / 2 - 1] + col[n / 2]) / 2;
  }
  return { mean, std, median };
}
