// The error of an input that cannot become an image. In its own small module so that code which only needs
// to recognise it (the serial link's error mapping) does not load the image decoders.

/** Thrown for an input that cannot become an image; the message starts with the input's label. */
export class ImageError extends Error {
  override name = 'ImageError';
  constructor(
    readonly label: string,
    message: string,
  ) {
    super(`${label}: ${message}`);
  }
}
