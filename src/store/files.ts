// File-system steps whose order is what makes the store durable.
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Makes a create, rename or unlink in `dir` itself durable (the entry lives in the directory). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export const TEMP_SUFFIX = '.tmp';

/**
 * Writes `name` in `dir` so that after a crash it is either absent/old or whole and new:
 * temporary file, fsync, rename over the name, fsync of the directory.
 */
export async function writeAtomic(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dir, `${name}.${process.pid}${TEMP_SUFFIX}`);
  const fh = await open(temp, 'w', 0o644);
  try {
    let at = 0;
    while (at < bytes.byteLength) {
      const { bytesWritten } = await fh.write(bytes, at, bytes.byteLength - at);
      at += bytesWritten;
    }
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(temp, join(dir, name));
  await syncDir(dir);
}
