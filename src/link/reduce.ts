// Reduces an image file to what the board's backbone needs before it goes over the link: a camera frame is
// hundreds of KB (more than one frame, and seconds at serial line rates) while the backbone reads, say,
// 224 x 224. The image is oriented (EXIF), scaled so it still covers the model's input with its aspect ratio
// kept (the board resizes and crops as it would have from the original), and sent as raw pixels when they fit
// in a frame, else as PNG, else as JPEG of falling quality. sharp is loaded on first use.

/** Bytes of a request body left for the input: label (up to 256), kinds and pixel header, a tag trailer. */
export const REQUEST_OVERHEAD_BYTES = 300;

export type ReducedInput =
  { kind: 'image'; bytes: Buffer } | { kind: 'pixels'; data: Buffer; width: number; height: number; channels: 1 | 3 };

export interface Reduction {
  input: ReducedInput;
  /** What was done, for the person running the client; null when the file went as it was. */
  note: string | null;
}

export class ReduceError extends Error {
  override name = 'ReduceError';
}

const JPEG_QUALITIES = [90, 80, 70, 55, 40];

/**
 * `model`: the board's backbone input (from HELLO; null or 0 x 0 when it did not say). `maxBytes`: the most
 * the input may take in one request body. `what` names the file in messages.
 */
export async function reduceImage(
  bytes: Buffer,
  model: { width: number; height: number } | null,
  maxBytes: number,
  what: string,
): Promise<Reduction> {
  const { default: sharp } = await import('sharp');
  let meta;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw new ReduceError(`${what}: not an image this client can read (${(err as Error).message})`);
  }
  if (!meta.width || !meta.height) throw new ReduceError(`${what}: not an image this client can read (no size)`);
  // EXIF orientations 5-8 swap width and height.
  const rotated = (meta.orientation ?? 1) >= 5;
  const W = rotated ? meta.height : meta.width;
  const H = rotated ? meta.width : meta.height;
  const known = model !== null && model.width > 0 && model.height > 0;
  // Scale so the image still covers the model's input; without one, only as far as a frame requires.
  const scale = known ? Math.min(1, Math.max(model.width / W, model.height / H)) : 1;
  if (scale === 1 && bytes.length <= maxBytes) return { input: { kind: 'image', bytes }, note: null };

  const size = (s: number) => ({ width: Math.max(1, Math.round(W * s)), height: Math.max(1, Math.round(H * s)) });
  const grey = meta.channels === 1 || meta.channels === 2 || meta.space === 'b-w';
  const alpha = Boolean(meta.hasAlpha);
  const why = known ? `the board's ${model.width}x${model.height} input` : 'one frame';
  // Shrink further only when nothing fits at the first size (the board did not say its input size).
  for (let s = scale; ; s *= 0.75) {
    const { width, height } = size(s);
    const pipeline = () => sharp(bytes).rotate().resize(width, height, { fit: 'fill' });
    const channels = grey ? 1 : 3;
    if (!alpha && width * height * channels <= maxBytes) {
      const data = grey ? await pipeline().toColourspace('b-w').raw().toBuffer() : await pipeline().removeAlpha().raw().toBuffer();
      if (data.length === width * height * channels) {
        return {
          input: { kind: 'pixels', data, width, height, channels },
          note: `${what}: ${W}x${H} sent as ${width}x${height} raw pixels (${data.length} bytes) for ${why}`,
        };
      }
    }
    const png = await pipeline().png({ compressionLevel: 9 }).toBuffer();
    if (png.length <= maxBytes)
      return {
        input: { kind: 'image', bytes: png },
        note: `${what}: ${W}x${H} reduced to ${width}x${height} PNG (${png.length} bytes) for ${why}`,
      };
    for (const quality of JPEG_QUALITIES) {
      const jpeg = await pipeline().flatten({ background: '#ffffff' }).jpeg({ quality }).toBuffer();
      if (jpeg.length <= maxBytes) {
        return {
          input: { kind: 'image', bytes: jpeg },
          note: `${what}: ${W}x${H} reduced to ${width}x${height} JPEG quality ${quality} (${jpeg.length} bytes) for ${why}`,
        };
      }
    }
    if (known || width <= 16 || height <= 16) {
      throw new ReduceError(
        `${what}: even as a ${width}x${height} JPEG of quality ${JPEG_QUALITIES.at(-1)} the image needs more than the ${maxBytes} bytes a request can carry`,
      );
    }
  }
}
