// A small PNG decoder for the common case: 8-bit grey, grey+alpha, RGB or RGBA, not interlaced, no colour
// profile and no EXIF. For small images (digits, crops, icons) a call into libvips costs far more than the
// pixels do; zlib and the row filters are cheap. Anything else, and anything damaged, is left to sharp
// (decodePng returns null), which also writes the error message a user sees.
import { inflateSync } from 'node:zlib';
import { crc32 } from '../util/crc32.js';
import type { Pixels } from './decode.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

// Larger images are left to sharp (which refuses above its own limit) rather than allocated here.
const MAX_PIXELS = 100_000_000;

/** Bytes per pixel for each colour type this decoder handles (grey, RGB, grey+alpha, RGBA). */
const BYTES_PER_PIXEL: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length > 33 && SIGNATURE.every((v, i) => bytes[i] === v);
}

/** Width and height from the IHDR chunk of a PNG (isPng must hold). */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * Decodes `bytes` to 8-bit pixels with alpha dropped (grey: 1 channel, colour: 3), or returns null when the
 * file is outside the simple case or fails any check (chunk CRC, zlib, sizes, filter type).
 */
export function decodePng(bytes: Buffer): Pixels | null {
  if (!isPng(bytes)) return null;
  let pos = 8;
  let width = 0,
    height = 0,
    colorType = -1;
  const idat: Buffer[] = [];
  let ended = false;
  while (pos + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(pos);
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    const end = pos + 12 + length;
    if (end > bytes.length) return null;
    if (crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== bytes.readUInt32BE(pos + 8 + length)) return null;
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      if (pos !== 8 || length !== 13) return null;
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (width === 0 || height === 0 || width * height > MAX_PIXELS) return null; // sharp applies its own limit
      const [depth, ct, compression, filter, interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || !(ct in BYTES_PER_PIXEL) || compression !== 0 || filter !== 0 || interlace !== 0) return null;
      colorType = ct;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      ended = true;
      break;
    } else if (type === 'iCCP' || type === 'eXIf') {
      return null; // colour management or orientation: sharp applies them
    }
    pos = end;
  }
  if (!ended || colorType < 0 || width === 0 || height === 0 || idat.length === 0) return null;
  const bpp = BYTES_PER_PIXEL[colorType];
  const stride = width * bpp;
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    raw = inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch {
    return null;
  }
  if (raw.length !== expected) return null;
  const pixels = unfilter(raw, height, stride, bpp);
  if (!pixels) return null;
  const channels = colorType === 0 || colorType === 4 ? 1 : 3;
  if (bpp === channels) return { data: pixels, width, height, channels };
  // Drop alpha (sharp's removeAlpha: the colour values as stored, not composited).
  const out = Buffer.allocUnsafe(width * height * channels);
  for (let p = 0, q = 0; q < out.length; p += bpp) {
    for (let k = 0; k < channels; k++) out[q++] = pixels[p + k];
  }
  return { data: out, width, height, channels };
}

/** Reverses the per-row filters (None, Sub, Up, Average, Paeth); null on an unknown filter type. */
function unfilter(raw: Buffer, height: number, stride: number, bpp: number): Buffer | null {
  const out = Buffer.allocUnsafe(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const up = row - stride; // previous output row (absent on the first row: read as 0)
    switch (filter) {
      case 0:
        raw.copy(out, row, src, src + stride);
        break;
      case 1:
        for (let i = 0; i < stride; i++) out[row + i] = (raw[src + i] + (i >= bpp ? out[row + i - bpp] : 0)) & 255;
        break;
      case 2:
        for (let i = 0; i < stride; i++) out[row + i] = (raw[src + i] + (y > 0 ? out[up + i] : 0)) & 255;
        break;
      case 3:
        for (let i = 0; i < stride; i++) {
          const left = i >= bpp ? out[row + i - bpp] : 0;
          const above = y > 0 ? out[up + i] : 0;
          out[row + i] = (raw[src + i] + ((left + above) >> 1)) & 255;
        }
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? out[row + i - bpp] : 0;
          const b = y > 0 ? out[up + i] : 0;
          const c = i >= bpp && y > 0 ? out[up + i - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a),
            pb = Math.abs(p - b),
            pc = Math.abs(p - c);
          out[row + i] = (raw[src + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
        }
        break;
      default:
        return null;
    }
  }
  return out;
}
