// Resize and normalise in one pass: decoded 8-bit pixels (any size) go straight into a model's input tensor.
// A separable convolution resampler: each axis gets a table of source taps and weights, the filter widened
// by the shrink factor when shrinking (so every source pixel counts: no aliasing), the plain kernel when
// enlarging. Values are rounded and clamped to 0..255 before the affine map, so the model sees what an
// 8-bit resized image would give. This spares a second trip through libvips, whose fixed cost per call
// is several times the arithmetic for the small images engram feeds its models. The passes run in fixed
// point (weights in units of 2^-14, as PIL's resampler does), which makes them exact: the addon's vector
// loops and the TypeScript reference below agree bit for bit whatever order they add in.
import type { Pixels, Resize } from './decode.js';
import type { Affine, NormalizeSpec } from './normalize.js';
import type { NativeBinding } from '../native/binding.js';
import { optionalBinding } from '../native/loader.js';

/** A region of the source in pixels; fractional edges are allowed (centre crops of odd sizes). */
export interface SourceWindow {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Kernel {
  support: number;
  weight(t: number): number;
}

const KERNELS: Record<Exclude<Resize, 'nearest'>, Kernel> = {
  bilinear: { support: 1, weight: (t) => (t < 1 ? 1 - t : 0) },
  // Catmull-Rom (a = -0.5), the usual bicubic of image libraries.
  bicubic: {
    support: 2,
    weight: (t) => (t < 1 ? (1.5 * t - 2.5) * t * t + 1 : t < 2 ? ((-0.5 * t + 2.5) * t - 4) * t + 2 : 0),
  },
  lanczos: {
    support: 3,
    weight: (t) => {
      if (t === 0) return 1;
      if (t >= 3) return 0;
      const p = Math.PI * t;
      return (3 * Math.sin(p) * Math.sin(p / 3)) / (p * p);
    },
  },
};

/** Fixed-point weights: 1 is this many units; an output's weights add up to exactly ONE. */
export const TAP_BITS = 14;
const ONE = 1 << TAP_BITS;

/**
 * For one axis: output i reads `count[i]` source pixels from `first[i]` with weights at `i * taps`, in units
 * of 2^-TAP_BITS (zero past the count).
 */
export interface Taps {
  first: Int32Array;
  count: Int32Array;
  weights: Int16Array;
  taps: number;
}

/**
 * The fixed-point weights of one output from its real weights (already summing to 1): each rounded to the
 * nearest unit, then the rounding's total error given to the largest, so that they add up to exactly ONE and
 * a flat image stays flat.
 */
function quantize(real: Float64Array, n: number, into: Int16Array, at: number): void {
  let sum = 0;
  let largest = 0;
  for (let k = 0; k < n; k++) {
    const q = Math.round(real[k] * ONE);
    into[at + k] = q;
    sum += q;
    if (real[k] > real[largest]) largest = k;
  }
  into[at + largest] += ONE - sum;
}

const tapCache = new Map<string, Taps>();
const TAP_CACHE_MAX = 64;

function axisTaps(size: number, start: number, length: number, out: number, resize: Resize): Taps {
  const key = `${size}:${start}:${length}:${out}:${resize}`;
  const hit = tapCache.get(key);
  if (hit) return hit;
  const scale = length / out;
  const first = new Int32Array(out);
  const count = new Int32Array(out);
  let taps: Taps;
  if (resize === 'nearest') {
    const weights = new Int16Array(out).fill(ONE);
    for (let i = 0; i < out; i++) {
      first[i] = Math.min(size - 1, Math.max(0, Math.floor(start + (i + 0.5) * scale)));
      count[i] = 1;
    }
    taps = { first, count, weights, taps: 1 };
  } else {
    const kernel = KERNELS[resize];
    const stretch = Math.max(scale, 1);
    const reach = kernel.support * stretch;
    const width = Math.ceil(reach) * 2 + 1;
    const weights = new Int16Array(out * width);
    const real = new Float64Array(width);
    for (let i = 0; i < out; i++) {
      const centre = start + (i + 0.5) * scale;
      const lo = Math.max(0, Math.floor(centre - reach));
      const hi = Math.min(size, Math.ceil(centre + reach));
      let sum = 0;
      let n = 0;
      for (let j = lo; j < hi && n < width; j++, n++) {
        const w = kernel.weight(Math.abs(j + 0.5 - centre) / stretch);
        real[n] = w;
        sum += w;
      }
      if (sum === 0) {
        // The window fell between pixel centres of a 1-pixel edge: take the nearest pixel.
        real[0] = 1;
        n = 1;
        sum = 1;
      }
      for (let k = 0; k < n; k++) real[k] /= sum;
      quantize(real, n, weights, i * width);
      first[i] = lo;
      count[i] = n;
    }
    taps = { first, count, weights, taps: width };
  }
  if (tapCache.size >= TAP_CACHE_MAX) tapCache.delete(tapCache.keys().next().value as string);
  tapCache.set(key, taps);
  return taps;
}

/** The tap tables that resample `window` of a width x height source to outWidth x outHeight (cached). */
export function tapsFor(
  width: number,
  height: number,
  window: SourceWindow,
  outWidth: number,
  outHeight: number,
  resize: Resize,
): { h: Taps; v: Taps } {
  return {
    h: axisTaps(width, window.x, window.width, outWidth, resize),
    v: axisTaps(height, window.y, window.height, outHeight, resize),
  };
}

/**
 * The source window a fit takes: 'fill' uses the whole image (stretching it), 'cover' the largest centred
 * region with the output's aspect ratio (scaling the short side to fit and cropping the rest).
 */
export function fitWindow(width: number, height: number, outWidth: number, outHeight: number, fit: 'fill' | 'cover'): SourceWindow {
  if (fit === 'fill') return { x: 0, y: 0, width, height };
  const scale = Math.min(width / outWidth, height / outHeight);
  const w = outWidth * scale;
  const h = outHeight * scale;
  return { x: (width - w) / 2, y: (height - h) / 2, width: w, height: h };
}

let nativePasses: NativeBinding['resampleInto'] | null | undefined;

// No addon: the TypeScript passes give the same values, only slower.
function native(): NativeBinding['resampleInto'] | null {
  if (nativePasses === undefined) {
    const b = optionalBinding();
    nativePasses = b && typeof b.resampleInto === 'function' ? b.resampleInto.bind(b) : null;
  }
  return nativePasses;
}

/**
 * Resamples `window` of `src` to the model's width x height and writes the normalised values into `out` at
 * `offset` (one image: width*height*channels values in the spec's layout). `src` has the model's channel
 * count, or 1 channel for a 3-channel model (grey repeated). The passes run in the addon when it is there
 * ('native'), else in TypeScript ('reference'); both give bit-identical tensors.
 */
export function resampleInto(
  src: Pixels,
  window: SourceWindow,
  width: number,
  height: number,
  resize: Resize,
  spec: NormalizeSpec,
  affine: Affine,
  out: Float32Array,
  offset: number,
  impl: 'native' | 'reference' = 'native',
): void {
  const c = spec.channels;
  const sc = src.channels;
  if (sc !== c && !(sc === 1 && c === 3)) throw new RangeError(`resample: ${sc}-channel pixels cannot feed a ${c}-channel model`);
  const { h, v } = tapsFor(src.width, src.height, window, width, height, resize);
  const addon = impl === 'native' ? native() : null;
  if (addon) {
    addon(
      { data: src.data, width: src.width, height: src.height, channels: sc },
      { h, v },
      {
        width,
        height,
        channels: c,
        nchw: spec.layout === 'NCHW',
        scale: affine.scale,
        bias: affine.bias,
        source: affine.source,
        out,
        offset,
      },
    );
    return;
  }
  let x0 = h.first[0];
  let x1 = 0;
  for (let x = 0; x < width; x++) {
    x0 = Math.min(x0, h.first[x]);
    x1 = Math.max(x1, h.first[x] + h.count[x]);
  }
  const span = (x1 - x0) * sc;
  if (column.length < span) column = new Int16Array(span);
  if (row.length < width * sc) row = new Uint8Array(width * sc);
  referencePasses(src.data, src.width * sc, sc, x0, span, width, height, h, v, spec.layout === 'NCHW', c, affine, out, offset);
}

// One output row at a time: vertical taps over the source columns the horizontal taps read, then the
// horizontal taps, then the affine map of the 8-bit value. Integer sums are exact (every product and sum stays
// below 2^31: an output's weights add up to at most 2 in absolute value), the shifts floor, and the affine map
// is float32 (Math.fround): what the addon computes, bit for bit.
const f32 = Math.fround;
const COLUMN_SHIFT = 8; // a column holds value x 64
const COLUMN_ROUND = 1 << (COLUMN_SHIFT - 1);
const ROW_SHIFT = 2 * TAP_BITS - COLUMN_SHIFT;
const ROW_ROUND = 1 << (ROW_SHIFT - 1);

let column = new Int16Array(0);
let row = new Uint8Array(0);

function referencePasses(
  data: Uint8Array,
  srcRow: number,
  sc: number,
  x0: number,
  span: number,
  width: number,
  height: number,
  h: Taps,
  v: Taps,
  nchw: boolean,
  c: number,
  affine: Affine,
  out: Float32Array,
  offset: number,
): void {
  const { scale, bias, source } = affine;
  const plane = width * height;
  const levels = Array.from({ length: c }, (_, k) =>
    Float32Array.from({ length: 256 }, (_, value) => f32(f32(value * scale[k]) + bias[k])),
  );
  for (let y = 0; y < height; y++) {
    const n = v.count[y];
    const vb = y * v.taps;
    const line = v.first[y] * srcRow + x0 * sc;
    for (let i = 0; i < span; i++) {
      let a = COLUMN_ROUND;
      for (let t = 0; t < n; t++) a += data[line + t * srcRow + i] * v.weights[vb + t];
      column[i] = a >> COLUMN_SHIFT;
    }
    for (let x = 0; x < width; x++) {
      const m = h.count[x];
      const hb = x * h.taps;
      const p = (h.first[x] - x0) * sc;
      for (let k = 0; k < sc; k++) {
        let a = ROW_ROUND;
        for (let t = 0; t < m; t++) a += column[p + t * sc + k] * h.weights[hb + t];
        const value = a >> ROW_SHIFT;
        row[x * sc + k] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
    for (let k = 0; k < c; k++) {
      const from = sc === 1 ? 0 : source[k];
      const at = nchw ? offset + k * plane + y * width : offset + y * width * c + k;
      const stride = nchw ? 1 : c;
      const level = levels[k];
      for (let x = 0; x < width; x++) out[at + x * stride] = level[row[x * sc + from]];
    }
  }
}
