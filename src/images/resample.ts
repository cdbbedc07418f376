// Resize and normalise in one pass: decoded 8-bit pixels (any size) go straight into a model's input tensor.
// A separable convolution resampler: each axis gets a table of source taps and weights, the filter widened
// by the shrink factor when shrinking (so every source pixel counts: no aliasing), the plain kernel when
// enlarging. Values are rounded and clamped to 0..255 before the affine map, so the model sees what an
// 8-bit resized image would give. This spares a second trip through libvips, whose fixed cost per call
// is several times the arithmetic for the small images engram feeds its models.
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

/** For one axis: output i reads `count[i]` source pixels from `first[i]` with weights at `i * taps`. */
export interface Taps {
  first: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  taps: number;
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
    const weights = new Float32Array(out).fill(1);
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
    const weights = new Float32Array(out * width);
    for (let i = 0; i < out; i++) {
      const centre = start + (i + 0.5) * scale;
      const lo = Math.max(0, Math.floor(centre - reach));
      const hi = Math.min(size, Math.ceil(centre + reach));
      let sum = 0;
      let n = 0;
      for (let j = lo; j < hi && n < width; j++, n++) {
        const w = kernel.weight(Math.abs(j + 0.5 - centre) / stretch);
        weights[i * width + n] = w;
        sum += w;
      }
      if (sum === 0) {
        // The window fell between pixel centres of a 1-pixel edge: take the nearest pixel.
        weights[i * width] = 1;
        n = 1;
        sum = 1;
      }
      for (let k = 0; k < n; k++) weights[i * width + k] /= sum;
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
export function tapsFor(width: number, height: number, window: SourceWindow, outWidth: number, outHeight: number, resize: Resize): { h: Taps; v: Taps } {
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
export function resampleInto(src: Pixels, window: SourceWindow, width: number, height: number, resize: Resize,
  spec: NormalizeSpec, affine: Affine, out: Float32Array, offset: number, impl: 'native' | 'reference' = 'native'): void {
  const c = spec.channels;
  const sc = src.channels;
  if (sc !== c && !(sc === 1 && c === 3)) throw new RangeError(`resample: ${sc}-channel pixels cannot feed a ${c}-channel model`);
  const { h, v } = tapsFor(src.width, src.height, window, width, height, resize);
  const addon = impl === 'native' ? native() : null;
  if (addon) {
    addon(src.data, src.width, src.height, sc, h.first, h.count, h.weights, h.taps, v.first, v.count, v.weights, v.taps,
      width, height, c, spec.layout === 'NCHW', affine.scale, affine.bias, affine.source, out, offset);
    return;
  }
  let x0 = h.first[0];
  let x1 = 0;
  for (let x = 0; x < width; x++) {
    x0 = Math.min(x0, h.first[x]);
    x1 = Math.max(x1, h.first[x] + h.count[x]);
  }
  const span = (x1 - x0) * sc;
  if (scratch.length < span + width * sc) scratch = new Float32Array(span + width * sc);
  referencePasses(src.data, src.width * sc, sc, x0, span, width, height, h, v, spec.layout === 'NCHW', c, affine, out, offset, scratch);
}

// One output row at a time: vertical taps over the source columns the horizontal taps read, then the
// horizontal taps, then 8-bit rounding and the affine map. Arithmetic is float32 with every product and sum
// rounded (Math.fround), in tap order: what the addon's float loops compute, so the two agree bit for bit.
const f32 = Math.fround;

// The nearest 8-bit value as the addon computes it: clamp to 0..255, add a half in float, truncate.
const to8 = (a: number) => Math.trunc(f32((a < 0 ? 0 : a > 255 ? 255 : a) + 0.5));

let scratch = new Float32Array(0);

function referencePasses(data: Uint8Array, srcRow: number, sc: number, x0: number, span: number, width: number, height: number,
  h: Taps, v: Taps, nchw: boolean, c: number, affine: Affine, out: Float32Array, offset: number, buf: Float32Array): void {
  const { scale, bias, source } = affine;
  const plane = width * height;
  const column = buf.subarray(0, span);
  const row = buf.subarray(span, span + width * sc);
  for (let y = 0; y < height; y++) {
    const n = v.count[y];
    const vb = y * v.taps;
    let line = v.first[y] * srcRow + x0 * sc;
    const w0 = v.weights[vb];
    for (let i = 0; i < span; i++) column[i] = f32(data[line + i] * w0);
    for (let t = 1; t < n; t++) {
      line += srcRow;
      const w = v.weights[vb + t];
      for (let i = 0; i < span; i++) column[i] = f32(column[i] + f32(data[line + i] * w));
    }
    let o = 0;
    for (let x = 0; x < width; x++) {
      const m = h.count[x];
      const hb = x * h.taps;
      let p = (h.first[x] - x0) * sc;
      if (sc === 1) {
        let a = f32(column[p] * h.weights[hb]);
        for (let t = 1; t < m; t++) a = f32(a + f32(column[p + t] * h.weights[hb + t]));
        row[o++] = a;
      } else {
        const w = h.weights[hb];
        let a0 = f32(column[p] * w), a1 = f32(column[p + 1] * w), a2 = f32(column[p + 2] * w);
        for (let t = 1; t < m; t++) {
          p += 3;
          const wt = h.weights[hb + t];
          a0 = f32(a0 + f32(column[p] * wt));
          a1 = f32(a1 + f32(column[p + 1] * wt));
          a2 = f32(a2 + f32(column[p + 2] * wt));
        }
        row[o++] = a0;
        row[o++] = a1;
        row[o++] = a2;
      }
    }
    for (let k = 0; k < c; k++) {
      const from = sc === 1 ? 0 : source[k];
      const at = nchw ? offset + k * plane + y * width : offset + y * width * c + k;
      const stride = nchw ? 1 : c;
      for (let x = 0; x < width; x++) out[at + x * stride] = f32(f32(to8(row[x * sc + from]) * scale[k]) + bias[k]);
    }
  }
}
