// MNIST digits as a person would bring them: dark ink on a larger sheet of white paper, off-centre, with
// paper grain and light that falls off across the sheet, saved as real PNG and JPEG files.
import { Rng } from '../../src/util/rng.js';

export interface InkPageOptions {
  /** Page size in pixels (default 200 x 150). */
  width?: number;
  height?: number;
  /** How many times the 28x28 digit is enlarged on the page (default 2). */
  zoom?: number;
  /** Paper and ink grey levels (default 232 and 45). */
  paper?: number;
  ink?: number;
  /** Standard deviation of the paper grain in grey levels (default 6). */
  grain?: number;
  /** Brightness lost from one corner of the page to the other (default 24 levels). */
  falloff?: number;
}

/** A 28x28 light-on-dark digit drawn as dark ink on a page: grey pixels, and where the digit's frame sits. */
export function inkPage(
  digit: Uint8Array,
  seed: number,
  o: InkPageOptions = {},
): { data: Uint8Array; width: number; height: number; at: { x: number; y: number; size: number } } {
  const width = o.width ?? 200;
  const height = o.height ?? 150;
  const zoom = o.zoom ?? 2;
  const paper = o.paper ?? 232;
  const ink = o.ink ?? 45;
  const grain = o.grain ?? 6;
  const falloff = o.falloff ?? 24;
  const rng = new Rng(seed);
  const size = 28 * zoom;
  // Off-centre: anywhere on the page that keeps the digit's frame inside it, away from the middle.
  let x: number, y: number;
  do {
    x = Math.floor(rng.next() * (width - size));
    y = Math.floor(rng.next() * (height - size));
  } while (Math.abs(x + size / 2 - width / 2) < width / 8 && Math.abs(y + size / 2 - height / 2) < height / 8);
  const data = new Uint8Array(width * height);
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      const light = paper - falloff * ((px / width + py / height) / 2);
      // Bilinear sample of the digit, pixel centres aligned.
      const u = (px - x + 0.5) / zoom - 0.5;
      const v = (py - y + 0.5) / zoom - 0.5;
      let a = 0;
      if (u > -1 && v > -1 && u < 28 && v < 28) {
        const u0 = Math.floor(u),
          v0 = Math.floor(v);
        const fu = u - u0,
          fv = v - v0;
        const at = (i: number, j: number) => (i >= 0 && j >= 0 && i < 28 && j < 28 ? digit[j * 28 + i] : 0);
        a = ((at(u0, v0) * (1 - fu) + at(u0 + 1, v0) * fu) * (1 - fv) + (at(u0, v0 + 1) * (1 - fu) + at(u0 + 1, v0 + 1) * fu) * fv) / 255;
      }
      const value = light * (1 - a) + ink * a + grain * gaussian(rng);
      data[py * width + px] = Math.max(0, Math.min(255, Math.round(value)));
    }
  }
  return { data, width, height, at: { x, y, size } };
}

function gaussian(rng: Rng): number {
  const u = Math.max(1e-12, rng.next());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Writes grey pixels as a grey PNG or JPEG (quality 85) file with sharp. */
export async function writeGrey(
  path: string,
  px: { data: Uint8Array; width: number; height: number },
  format: 'png' | 'jpeg',
): Promise<void> {
  const sharp = (await import('sharp')).default;
  const img = sharp(Buffer.from(px.data.buffer, px.data.byteOffset, px.data.byteLength), {
    raw: { width: px.width, height: px.height, channels: 1 },
  }).toColourspace('b-w');
  await (format === 'png' ? img.png() : img.jpeg({ quality: 85 })).toFile(path);
}
