// Consistent Overhead Byte Stuffing: rewrites a frame so it contains no 0x00 byte, which then
// delimits frames on the wire. Overhead is at most one byte per 254 bytes, plus one.

/**
 * Largest encoded size of `n` input bytes, exactly: each zero of the input becomes a code byte, plus one code
 * byte at the start and one per 254 non-zero bytes that are not at the end: n + 1 + floor((n - 1) / 254).
 */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.max(1, Math.ceil(n / 254));
}

/** Encodes `data`; the result contains no zero byte (the delimiter is not included). */
export function cobsEncode(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(cobsMaxEncodedLength(data.length));
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b !== 0) {
      out[o++] = b;
      code++;
    }
    // A zero ends a block; so do 254 data bytes, unless the input ends there (canonical form).
    if (b === 0 || (code === 0xff && i + 1 < data.length)) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Decodes one COBS block (without delimiter); returns null when the block is not valid COBS. */
export function cobsDecode(data: Uint8Array): Buffer | null {
  const out = Buffer.allocUnsafe(data.length);
  let o = 0;
  let i = 0;
  while (i < data.length) {
    const code = data[i];
    if (code === 0 || i + code > data.length) return null;
    for (let k = 1; k < code; k++) {
      const b = data[i + k];
      if (b === 0) return null;
      out[o++] = b;
    }
    i += code;
    // A run shorter than 254 data bytes stands for a zero, except at the very end.
    if (code !== 0xff && i < data.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
