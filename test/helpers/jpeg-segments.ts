// Walks the marker segments of a JPEG header, so a test can take one kind of segment out of a file sharp wrote.

/** The JPEG without its APP2 "ICC_PROFILE" segments; everything else byte for byte. */
export function withoutIccProfile(jpeg: Uint8Array): Buffer {
  const ICC = Buffer.from('ICC_PROFILE\0', 'latin1');
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('withoutIccProfile: not a JPEG');
  const kept: Uint8Array[] = [jpeg.subarray(0, 2)];
  let at = 2;
  // Segments until start of scan (FFDA); after that comes entropy-coded data, copied as it is.
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff && jpeg[at + 1] !== 0xda) {
    const length = (jpeg[at + 2] << 8) | jpeg[at + 3];
    const end = at + 2 + length;
    if (end > jpeg.length) throw new Error(`withoutIccProfile: segment at ${at} runs past the end`);
    const payload = Buffer.from(jpeg.subarray(at + 4, end));
    const icc = jpeg[at + 1] === 0xe2 && payload.subarray(0, ICC.length).equals(ICC);
    if (!icc) kept.push(jpeg.subarray(at, end));
    at = end;
  }
  kept.push(jpeg.subarray(at));
  return Buffer.concat(kept);
}
