// The frame checksum: CRC-32 as used by Ethernet, zlib and PNG (reflected polynomial 0xEDB88320,
// initial value and final XOR 0xFFFFFFFF; "123456789" -> 0xCBF43926). Node's zlib computes it
// natively from 20.15 on; the table version keeps older Node 20 releases working and is the reference
// a firmware author can read.
import * as zlib from 'node:zlib';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `data`, computed byte by byte with a 256-entry table. */
export function crc32Table(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 of `data` (native when available). */
export const crc32: (data: Uint8Array) => number = native ? (data) => native(data) >>> 0 : crc32Table;
