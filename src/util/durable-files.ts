// File-system steps whose order is what makes writes durable: fsync, rename, fsync of the directory.
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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

/** Writes `data` to `path` atomically and durably (writeAtomic for a full path). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await writeAtomic(dirname(path), basename(path), typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
}

/** Moves a finished, fsynced file into place atomically and fsyncs the folder. */
export async function placeFile(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDir(dirname(to));
}
