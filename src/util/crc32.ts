// CRC-32 as used by Ethernet, zlib and PNG (reflected polynomial 0xEDB88320, initial value and final XOR
// 0xFFFFFFFF; "123456789" -> 0xCBF43926): the one checksum of engram's formats (store records, snapshots,
// serial frames, serialized memories) and of PNG chunks. Node's zlib computes it natively from 20.15 on,
// which is the `engines` floor, so there is no fallback; docs/protocol.md gives the table algorithm for
// firmware authors, and test/60 checks this function against that table version.
import { crc32 as zlibCrc32 } from 'node:zlib';

/** CRC-32 of `data`, as an unsigned 32-bit integer. */
export function crc32(data: Uint8Array): number {
  return zlibCrc32(data) >>> 0;
}
