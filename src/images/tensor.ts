// One image into a model's input tensor. The fast path decodes at (close to) the size the model needs and
// resizes + normalises in one pass (src/images/resample.ts): JPEG in the addon, in one job on the thread
// pool (libjpeg at a DCT scale, so a 640x480 photo is decoded at 320x240 for a 224x224 model, then EXIF
// orientation and the resize pass), small PNGs in TypeScript, mid-size PNGs through sharp without its
// resize, raw pixels without any decoder. Everything else (WebP, GIF, TIFF, large PNGs, CMYK or
// colour-managed JPEGs, damaged files, a build without libjpeg) takes the general sharp path, which also
// produces every error message, so both paths fail the same way on bad input.
import { decodeImage, decodeWhole, isRaw, validateRaw, type DecodeTarget, type ImageInput, type Pixels, type Resize } from './decode.js';
import { writeNormalized, type Affine, type NormalizeSpec } from './normalize.js';
import { decodePng, isPng, pngSize } from './png.js';
import { fitWindow, resampleInto, tapsFor, type SourceWindow } from './resample.js';
import { framed, luma, mapLevels, planInk, scaleBox, type Applied, type Conventions } from './conventions.js';
import { orient } from './orient.js';
import type { NativeBinding } from '../native/binding.js';
import { optionalBinding } from '../native/loader.js';
import { readFileChecked } from '../util/read-file.js';

/** 'fast' uses the fast path where it applies; 'sharp' always decodes and resizes with sharp. */
export type Preprocess = 'fast' | 'sharp';

/**
 * Which path an image took: 'jpeg' (the addon's libjpeg), 'png' (the TypeScript PNG decoder), 'decode'
 * (sharp decodes, engram resizes), 'raw' (pixels given), or 'sharp' (sharp decodes and resizes).
 */
export type PreparedBy = 'jpeg' | 'png' | 'decode' | 'raw' | 'sharp';

// PNGs up to this many pixels are decoded in TypeScript (zlib + row filters).
const SMALL_PNG_PIXELS = 65536;
// A larger PNG is decoded by sharp at full size and resized here, up to this many times the model's pixel
// count; beyond that libvips shrinks it as it streams the file in tiles.
const PNG_FAST_MAX_RATIO = 16;

let jpegAddon: NativeBinding | null | undefined;

/** The addon when it was built with libjpeg, else null (JPEG files then go through sharp). */
function nativeJpeg(): NativeBinding | null {
  if (jpegAddon === undefined) {
    const b = optionalBinding();
    jpegAddon = b && typeof b.jpeg === 'function' && b.jpeg().available ? b : null; // an older addon (ENGRAM_ADDON) may lack it
  }
  return jpegAddon;
}

/**
 * Where a decoded width x height image is read from, and with which kernel. Already the model's size: a
 * one-tap table, which the addon turns into a direct copy (normalising in TypeScript costs more).
 */
function resizePlan(width: number, height: number, target: DecodeTarget): { window: SourceWindow; resize: Resize } {
  if (width === target.width && height === target.height) return { window: { x: 0, y: 0, width, height }, resize: 'nearest' };
  return { window: fitWindow(width, height, target.width, target.height, target.fit ?? 'fill'), resize: target.resize };
}

/** Whether JPEG files are decoded by the addon's libjpeg (false: by sharp). */
export function fastJpegAvailable(): boolean {
  return nativeJpeg() !== null;
}

/**
 * A JPEG decoded, oriented and resampled into the tensor by the addon, in one job on the thread pool.
 * false: not handled (no libjpeg, CMYK, a colour profile other than sRGB, damaged data), use sharp.
 */
async function jpegIntoTensor(
  bytes: Buffer,
  target: DecodeTarget,
  spec: NormalizeSpec,
  affine: Affine,
  out: Float32Array,
  offset: number,
): Promise<boolean> {
  const addon = nativeJpeg();
  if (!addon) return false;
  const decodeChannels = target.channels;
  const plan = addon.jpegPlan(bytes, target.width, target.height, decodeChannels);
  if (!plan) return false;
  const { window, resize } = resizePlan(plan.width, plan.height, target);
  const { h, v } = tapsFor(plan.width, plan.height, window, target.width, target.height, resize);
  return addon.decodeJpegInto(
    bytes,
    { minWidth: target.width, minHeight: target.height, channels: decodeChannels, width: plan.width, height: plan.height },
    { h, v },
    {
      width: target.width,
      height: target.height,
      channels: spec.channels,
      nchw: spec.layout === 'NCHW',
      scale: affine.scale,
      bias: affine.bias,
      source: affine.source,
      out,
      offset,
    },
  );
}

const isJpeg = (b: Uint8Array) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/**
 * Pixels at about the model's size from the fast decoders, the bytes of a JPEG for the addon, or null when
 * the general path must take the input.
 */
async function fastSource(
  input: ImageInput,
  target: DecodeTarget,
  label: string,
): Promise<{ px: Pixels; by: PreparedBy } | { jpeg: Buffer } | null> {
  if (isRaw(input)) {
    const raw = validateRaw(label, input);
    if (raw.channels !== target.channels && raw.channels !== 1) return null;
    const data = Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
    return { px: { data, width: raw.width, height: raw.height, channels: raw.channels }, by: 'raw' };
  }
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) return null;
  let bytes: Buffer;
  try {
    // A synchronous read: for an image file it costs a third of the CPU of fs/promises' four thread-pool
    // round trips (open, stat, read, close). Only regular files: a FIFO could block the event loop.
    bytes = typeof input === 'string' ? readFileChecked(input, 'image') : input;
  } catch {
    return null; // the general path names the problem (missing file, a directory, no permission)
  }
  if (isJpeg(bytes)) return { jpeg: bytes };
  if (isPng(bytes)) {
    const { width, height } = pngSize(bytes);
    if (width * height <= SMALL_PNG_PIXELS) {
      const px = decodePng(bytes);
      if (px && (px.channels === target.channels || px.channels === 1)) return { px, by: 'png' };
    }
    if (width * height > PNG_FAST_MAX_RATIO * target.width * target.height) return null;
    const sharp = (await import('sharp')).default;
    try {
      const img = sharp(bytes, { failOn: 'error' }).rotate().removeAlpha();
      if (target.channels === 1) img.greyscale();
      const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      if ((info.channels !== 1 && info.channels !== target.channels) || data.length !== info.width * info.height * info.channels)
        return null;
      return { px: { data, width: info.width, height: info.height, channels: info.channels }, by: 'decode' };
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Decodes `input` and writes it, resized and normalised per `spec`, into `out` at `offset`
 * (width*height*channels values). Errors are ImageErrors whose message starts with `label`.
 */
export async function imageIntoTensor(
  input: ImageInput,
  target: DecodeTarget,
  spec: NormalizeSpec,
  affine: Affine,
  out: Float32Array,
  offset: number,
  label: string,
  preprocess: Preprocess = 'fast',
): Promise<PreparedBy> {
  const fast = preprocess === 'fast' ? await fastSource(input, target, label) : null;
  if (fast && 'jpeg' in fast && (await jpegIntoTensor(fast.jpeg, target, spec, affine, out, offset))) return 'jpeg';
  if (!fast || 'jpeg' in fast) {
    writeNormalized(await decodeImage(input, target, label), spec, affine, out, offset);
    return 'sharp';
  }
  const { px } = fast;
  const { window, resize } = resizePlan(px.width, px.height, target);
  resampleInto(px, window, target.width, target.height, resize, spec, affine, out, offset);
  return fast.by;
}

/** What one image went through on its way into the tensor. */
export interface PreparedImage {
  by: PreparedBy;
  /** The input conventions applied (null: the model has none, or they were turned off). */
  conventions: Applied | null;
}

// Images are read for their ink at no less than this many times the model's input size (where they are that
// large), so that a small glyph on a large page still has pixels enough after it is cut out.
const INK_READ_FACTOR = 4;
// Images decoded by sharp for their ink are shrunk to fit this side at most (or the read size, if larger).
const INK_MAX_SIDE = 1024;

/** An image decoded for reading its ink: pixels, the size of the whole image as displayed, and the path taken. */
interface InkSource {
  px: Pixels;
  fullWidth: number;
  fullHeight: number;
  by: PreparedBy;
  /** A JPEG decoded at a DCT scale: decode it again at least minWidth x minHeight. */
  again?: (minWidth: number, minHeight: number) => Promise<Pixels | null>;
}

async function jpegSource(bytes: Buffer, channels: 1 | 3, minWidth: number, minHeight: number): Promise<InkSource | null> {
  const addon = nativeJpeg();
  if (!addon) return null;
  const whole = addon.jpegPlan(bytes, 65535, 65535, channels);
  if (!whole) return null;
  const decode = async (mw: number, mh: number): Promise<Pixels | null> => {
    const r = await addon.decodeJpeg(bytes, Math.min(mw, 65535), Math.min(mh, 65535), channels);
    return r && orient({ data: r.data, width: r.width, height: r.height, channels: r.channels }, r.orientation);
  };
  const px = await decode(minWidth, minHeight);
  if (!px) return null;
  return { px, fullWidth: whole.width, fullHeight: whole.height, by: 'jpeg', again: px.width < whole.width ? decode : undefined };
}

/** The input decoded for reading its ink: by the fast decoders where they apply, else by sharp. */
async function inkSource(
  input: ImageInput,
  channels: 1 | 3,
  target: DecodeTarget,
  label: string,
  preprocess: Preprocess,
): Promise<InkSource> {
  const read = Math.max(target.width, target.height) * INK_READ_FACTOR;
  if (preprocess === 'fast') {
    if (isRaw(input)) {
      const raw = validateRaw(label, input);
      const px: Pixels = {
        data: Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength),
        width: raw.width,
        height: raw.height,
        channels: raw.channels,
      };
      return { px: channels === 1 ? luma(px) : px, fullWidth: raw.width, fullHeight: raw.height, by: 'raw' };
    }
    let bytes: Buffer | undefined;
    try {
      if (Buffer.isBuffer(input)) bytes = input;
      else if (typeof input === 'string') bytes = readFileChecked(input, 'image');
    } catch {
      bytes = undefined; // sharp names the problem
    }
    if (bytes && isJpeg(bytes)) {
      const s = await jpegSource(bytes, channels, read, read);
      if (s) return s;
    } else if (bytes && isPng(bytes)) {
      const { width, height } = pngSize(bytes);
      const px = width * height <= SMALL_PNG_PIXELS ? decodePng(bytes) : null;
      if (px)
        return {
          px: channels === 1 ? luma(px) : px.channels === 1 ? greyToRgb(px) : px,
          fullWidth: px.width,
          fullHeight: px.height,
          by: 'png',
        };
    }
  }
  const { px, fullWidth, fullHeight } = await decodeWhole(input, channels, Math.max(INK_MAX_SIDE, read), label);
  return { px, fullWidth, fullHeight, by: preprocess === 'fast' ? 'decode' : 'sharp' };
}

function greyToRgb(px: Pixels): Pixels {
  const n = px.width * px.height;
  const out = Buffer.allocUnsafe(n * 3);
  for (let p = 0; p < n; p++) out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = px.data[p];
  return { data: out, width: px.width, height: px.height, channels: 3 };
}

/**
 * Like imageIntoTensor, for a model with input conventions (a polarity, a framing): the image is read for
 * its ink, inverted when its polarity is not the model's, and (framing) its ink cut out and framed as the
 * model's training images were, then resized and normalised into `out` at `offset`.
 */
export async function inkIntoTensor(
  input: ImageInput,
  target: DecodeTarget,
  conv: Conventions,
  spec: NormalizeSpec,
  affine: Affine,
  out: Float32Array,
  offset: number,
  label: string,
  preprocess: Preprocess = 'fast',
): Promise<PreparedImage> {
  // Framing works on grey pixels (stroke models are grey; a 3-channel one gets the grey repeated).
  const channels: 1 | 3 = conv.framing ? 1 : target.channels;
  const source = await inkSource(input, channels, target, label, preprocess);
  let { px } = source;
  let plan = planInk(luma(px), conv, target.width, target.height);
  // The ink is too small in this decode to fill the model's input without enlarging it: decode larger.
  if (plan.window && plan.undersampled > 1 && source.again) {
    const f = Math.min(plan.undersampled, source.fullWidth / px.width);
    const larger = await source.again(Math.ceil(px.width * f), Math.ceil(px.height * f));
    if (larger && larger.width > px.width) px = larger;
    // Planned again after the await in any case: other images were planned meanwhile (plan.depth is shared).
    plan = planInk(luma(px), conv, target.width, target.height);
  }
  const sx = source.fullWidth / px.width;
  const sy = source.fullHeight / px.height;
  const applied: Applied = { polarity: plan.polarity, inverted: plan.inverted, ink: null, crop: null };
  if (plan.window && plan.ink) {
    const { px: framedPx, window } = framed(px, plan);
    resampleInto(framedPx, window, target.width, target.height, target.resize, spec, affine, out, offset);
    applied.ink = scaleBox(plan.ink, sx, sy, true);
    applied.crop = scaleBox(plan.window, sx, sy, false);
  } else {
    const fed = plan.inverted ? mapLevels(px, plan.levels) : px;
    const { window, resize } = resizePlan(fed.width, fed.height, target);
    resampleInto(fed, window, target.width, target.height, resize, spec, affine, out, offset);
  }
  return { by: source.by, conventions: applied };
}
