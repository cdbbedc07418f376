// Writes a frame to a port in pieces, each handed over before the next. One large write that fills the
// kernel buffer can stall in serialport until the port next becomes readable (seen on ptys while the
// other side was answering); pieces of a few KiB never wait on that.
import type { ByteStream } from './server.js';

export const WRITE_CHUNK_BYTES = 4096;

export async function writeChunked(port: ByteStream, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; at += WRITE_CHUNK_BYTES) {
    const piece = bytes.subarray(at, at + WRITE_CHUNK_BYTES);
    await new Promise<void>((resolve, reject) => {
      port.write(piece, (err) => (err ? reject(err) : resolve()));
    });
  }
}
