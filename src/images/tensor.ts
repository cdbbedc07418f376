// One image into a model's input tensor. The fast path decodes at (close to) the size the model needs and
// resizes + normalises in one pass (src/images/resample.ts): JPEG in the addon, in one job on the thread
// pool (libjpeg at a DCT scale, so a 640x480 photo is decoded at 320x240 for a 224x224 model, then EXIF
// orientation and the resize pass), small PNGs in TypeScript, mid-size PNGs through sharp without its
// resize, raw pixels without any decoder. Everything else (WebP, GIF, TIFF, large PNGs, CMYK or
// colour-managed JPEGs, damaged files, a build without libjpeg) takes the general sharp path, which also
// produces every error message, so both paths fail the same way on bad input.
import { decodeImage, isRaw, validateRaw, type DecodeTarget, type ImageInput, type Pixels, type Resize } from './decode.js';
import { writeNormalized, type Affine, type NormalizeSpec } from './normalize.js';
import { decodePng, isPng, pngSize } from './png.js';
import { fitWindow, resampleInto, tapsFor, type SourceWindow } from './resample.js';
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
async function jpegIntoTensor(bytes: Buffer, target: DecodeTarget, spec: NormalizeSpec, affine: Affine, out: Float32Array, offset: number): Promise<boolean> {
  const addon = nativeJpeg();
  if (!addon) return false;
  const decodeChannels = target.channels;
  const plan = addon.jpegPlan(bytes, target.width, target.height, decodeChannels);
  if (!plan) return false;
  const { window, resize } = resizePlan(plan.width, plan.height, target);
  const { h, v } = tapsFor(plan.width, plan.height, window, target.width, target.height, resize);
  return addon.decodeJpegInto(bytes, target.width, target.height, decodeChannels, plan.width, plan.height,
    h.first, h.count, h.weights, h.taps, v.first, v.count, v.weights, v.taps,
    target.width, target.height, spec.channels, spec.layout === 'NCHW', affine.scale, affine.bias, affine.source, out, offset);
}

const isJpeg = (b: Uint8Array) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/**
 * Pixels at about the model's size from the fast decoders, the bytes of a JPEG for the addon, or null when
 * the general path must take the input.
 */
async function fastSource(input: ImageInput, target: DecodeTarget, label: string): Promise<{ px: Pixels; by: PreparedBy } | { jpeg: Buffer } | null> {
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
      if ((info.channels !== 1 && info.channels !== target.channels) || data.length !== info.width * info.height * info.channels) return null;
      return { px: { data, width: info.width, height: info.height, channels: info.channels as 1 | 3 }, by: 'decode' };
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
export async function imageIntoTensor(input: ImageInput, target: DecodeTarget, spec: NormalizeSpec, affine: Affine,
  out: Float32Array, offset: number, label: string, preprocess: Preprocess = 'fast'): Promise<PreparedBy> {
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
