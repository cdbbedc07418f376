// EXIF orientation applied to decoded pixels: the stored image turned or mirrored the way a person sees it.
import type { Pixels } from './decode.js';

/**
 * Returns `px` as displayed under EXIF `orientation` (1 = as stored, 2 mirrored, 3 turned 180 degrees,
 * 4 flipped, 5 transposed, 6 turned 90 degrees clockwise, 7 transversed, 8 turned 90 degrees anticlockwise).
 */
export function orient(px: Pixels, orientation: number): Pixels {
  if (orientation === 1) return px;
  if (!Number.isInteger(orientation) || orientation < 1 || orientation > 8)
    throw new RangeError(`orientation: expected an EXIF orientation 1..8, got ${orientation}`);
  const { width: w, height: h, channels: c, data } = px;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = Buffer.allocUnsafe(data.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // The stored pixel shown at (x, y).
      let sx: number, sy: number;
      switch (orientation) {
        case 2:
          sx = w - 1 - x;
          sy = y;
          break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4:
          sx = x;
          sy = h - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        default:
          sx = w - 1 - y;
          sy = x;
          break;
      }
      const from = (sy * w + sx) * c;
      const to = (y * ow + x) * c;
      for (let k = 0; k < c; k++) out[to + k] = data[from + k];
    }
  }
  return { data: out, width: ow, height: oh, channels: c };
}
