// Image decoding with sharp: any supported file or buffer (JPEG, PNG, WebP, ...) or raw grey/RGB pixels
// becomes interleaved 8-bit pixels of exactly the size and channel count a model wants.
// EXIF orientation is applied first, so a phone photo reaches the model the way a person sees it.
import type { Sharp, SharpOptions, KernelEnum } from 'sharp';
import { int, typeError, rangeError } from '../util/validate.js';
import { FileReadError, readFileCheckedAsync } from '../util/read-file.js';
import { ImageError } from './errors.js';

/** Raw pixels, row-major, channels interleaved (grey: 1, RGB: 3). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

/** A path to an image file, the bytes of an encoded image, or raw pixels. */
export type ImageInput = string | Buffer | RawImage;

export type Resize = 'bilinear' | 'nearest' | 'bicubic' | 'lanczos';

export interface DecodeTarget {
  width: number;
  height: number;
  channels: 1 | 3;
  resize: Resize;
  /** 'fill' stretches; 'cover' scales the short side to fit and crops the centre. */
  fit?: 'fill' | 'cover';
}

export interface Pixels {
  /** width * height * channels bytes, interleaved. */
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3;
}

export { ImageError };

const KERNELS: Record<Resize, keyof KernelEnum> = {
  bilinear: 'linear',
  nearest: 'nearest',
  bicubic: 'cubic',
  lanczos: 'lanczos3',
};

// Refuse images whose header claims more pixels than this: a decompression bomb must not take the device down.
const MAX_INPUT_PIXELS = 100_000_000;

let sharpModule: Promise<typeof import('sharp').default> | undefined;
function loadSharp(): Promise<typeof import('sharp').default> {
  sharpModule ??= import('sharp').then((m) => m.default);
  return sharpModule;
}

/** Whether `value` is raw pixels ({ data, width, height, channels }) rather than a path or encoded bytes. */
export function isRaw(value: unknown): value is RawImage {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !ArrayBuffer.isView(value) && 'data' in value;
}

/** A short name for an input, used at the start of every error about it. */
export function inputLabel(input: unknown, index?: number): string {
  const at = index === undefined ? 'input' : `input[${index}]`;
  if (typeof input === 'string') return input;
  if (Buffer.isBuffer(input)) return `${at} (buffer of ${input.length} bytes)`;
  if (isRaw(input)) return `${at} (raw ${String(input.width)}x${String(input.height)}x${String(input.channels)})`;
  return at;
}

/** Checks raw pixels: integer size, 1 or 3 channels, and a data length that matches exactly. */
export function validateRaw(label: string, raw: RawImage): RawImage {
  const keys = Object.keys(raw);
  for (const k of keys) {
    if (!['data', 'width', 'height', 'channels'].includes(k))
      throw new ImageError(label, `unknown field "${k}" in raw image (known: data, width, height, channels)`);
  }
  if (!(raw.data instanceof Uint8Array)) throw new ImageError(label, typeError('data', 'a Uint8Array (or Buffer)', raw.data).message);
  try {
    int('width', raw.width, 1, 65535);
    int('height', raw.height, 1, 65535);
    const c = int('channels', raw.channels, 1, 3);
    if (c === 2) throw rangeError('channels', '1 or 3', c);
  } catch (err) {
    throw new ImageError(label, (err as Error).message);
  }
  const want = raw.width * raw.height * raw.channels;
  if (raw.data.length !== want) {
    throw new ImageError(label, `raw data has ${raw.data.length} bytes, expected width*height*channels = ${want}`);
  }
  return raw;
}

async function open(input: ImageInput, label: string): Promise<Sharp> {
  const sharp = await loadSharp();
  const base: SharpOptions = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' };
  if (typeof input === 'string') {
    let bytes: Buffer;
    try {
      bytes = await readFileCheckedAsync(input, 'image');
    } catch (err) {
      if (!(err instanceof FileReadError)) throw err;
      throw new ImageError(
        label,
        err.code === 'ENOENT' ? 'file not found' : err.code === 'ENOTREG' ? `not a file: ${err.detail}` : err.detail,
      );
    }
    if (bytes.length === 0) throw new ImageError(label, 'empty file (0 bytes)');
    return sharp(bytes, base);
  }
  if (Buffer.isBuffer(input)) {
    if (input.length === 0) throw new ImageError(label, 'empty buffer (0 bytes)');
    return sharp(input, base);
  }
  if (isRaw(input)) {
    const raw = validateRaw(label, input);
    return sharp(raw.data, { ...base, raw: { width: raw.width, height: raw.height, channels: raw.channels } });
  }
  throw new ImageError(
    label,
    typeError('image', 'a file path, a Buffer of an encoded image, or { data, width, height, channels }', input).message,
  );
}

/**
 * Decodes one input to `target` size and channels: EXIF orientation, alpha dropped, grey <-> RGB as needed,
 * resize with the named kernel. Errors are ImageErrors whose message starts with `label`.
 */
export async function decodeImage(input: ImageInput, target: DecodeTarget, label = inputLabel(input)): Promise<Pixels> {
  const raw = isRaw(input) ? validateRaw(label, input) : undefined;
  // Already the right size and channels: no resampling, no copy through libvips.
  if (raw && raw.width === target.width && raw.height === target.height && raw.channels === target.channels) {
    return {
      data: Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength),
      width: raw.width,
      height: raw.height,
      channels: target.channels,
    };
  }
  const img = await open(input, label);
  img.rotate().removeAlpha();
  // sharp already converts grey, CMYK and 16-bit sources to 8-bit sRGB for raw output.
  if (target.channels === 1) img.greyscale();
  img.resize(target.width, target.height, {
    fit: target.fit === 'cover' ? 'cover' : 'fill',
    position: 'centre',
    kernel: KERNELS[target.resize],
  });
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    out = await img.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageError(label, `cannot decode image (${(err as Error).message.replace(/\s+/g, ' ').trim()})`);
  }
  const { info } = out;
  if (info.width !== target.width || info.height !== target.height || info.channels !== target.channels) {
    throw new ImageError(
      label,
      `decoded to ${info.width}x${info.height}x${info.channels}, expected ${target.width}x${target.height}x${target.channels}`,
    );
  }
  return { data: out.data, width: info.width, height: info.height, channels: target.channels };
}

/**
 * Decodes one input at its own size (EXIF orientation applied, alpha dropped, grey when `channels` is 1),
 * shrunk to fit `maxSide` x `maxSide` when larger; with the displayed size of the whole image. For reading
 * an image before deciding what part of it a model sees (src/images/conventions.ts).
 */
export async function decodeWhole(
  input: ImageInput,
  channels: 1 | 3,
  maxSide: number,
  label = inputLabel(input),
): Promise<{ px: Pixels; fullWidth: number; fullHeight: number }> {
  const img = await open(input, label);
  let meta;
  try {
    meta = await img.metadata();
  } catch (err) {
    throw new ImageError(label, `cannot decode image (${(err as Error).message.replace(/\s+/g, ' ').trim()})`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  const fullWidth = (swap ? meta.height : meta.width) ?? 0;
  const fullHeight = (swap ? meta.width : meta.height) ?? 0;
  img.rotate().removeAlpha();
  if (channels === 1) img.greyscale();
  img.resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true, kernel: 'linear' });
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    out = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageError(label, `cannot decode image (${(err as Error).message.replace(/\s+/g, ' ').trim()})`);
  }
  const { info } = out;
  if (info.channels !== channels) throw new ImageError(label, `decoded to ${info.channels} channels, expected ${channels}`);
  return {
    px: { data: out.data, width: info.width, height: info.height, channels },
    fullWidth: fullWidth || info.width,
    fullHeight: fullHeight || info.height,
  };
}
