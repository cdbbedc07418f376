// Pixels to model input: scale 0..255 to the model's range, subtract mean, divide by std, reorder
// channels (RGB/BGR) and lay out as NCHW or NHWC, written straight into a batch tensor.
import type { Pixels } from './decode.js';

export interface NormalizeSpec {
  layout: 'NCHW' | 'NHWC';
  channels: 1 | 3;
  colorOrder: 'RGB' | 'BGR' | 'gray';
  range: readonly [number, number];
  mean: readonly number[];
  std: readonly number[];
}

/** Per-channel affine map folded once: value = pixel * scale[c] + bias[c]. */
export interface Affine {
  scale: Float32Array;
  bias: Float32Array;
  /** For each output channel, which interleaved input channel feeds it (BGR swaps). */
  source: Uint8Array;
}

export function affineFor(spec: NormalizeSpec): Affine {
  const c = spec.channels;
  const scale = new Float32Array(c);
  const bias = new Float32Array(c);
  const source = new Uint8Array(c);
  const [lo, hi] = spec.range;
  for (let k = 0; k < c; k++) {
    scale[k] = (hi - lo) / 255 / spec.std[k];
    bias[k] = (lo - spec.mean[k]) / spec.std[k];
    source[k] = spec.colorOrder === 'BGR' ? c - 1 - k : k;
  }
  return { scale, bias, source };
}

/**
 * Writes one image into `out` starting at element `offset` (= index in batch * width*height*channels).
 * The pixels must already have the model's size and channel count.
 */
export function writeNormalized(px: Pixels, spec: NormalizeSpec, affine: Affine, out: Float32Array, offset: number): void {
  const c = spec.channels;
  const n = px.width * px.height;
  const src = px.data;
  const { scale, bias, source } = affine;
  if (spec.layout === 'NCHW') {
    for (let k = 0; k < c; k++) {
      const s = scale[k];
      const b = bias[k];
      const from = source[k];
      const base = offset + k * n;
      for (let p = 0, q = from; p < n; p++, q += c) out[base + p] = src[q] * s + b;
    }
  } else {
    for (let p = 0; p < n; p++) {
      const o = offset + p * c;
      const q = p * c;
      for (let k = 0; k < c; k++) out[o + k] = src[q + source[k]] * scale[k] + bias[k];
    }
  }
}
