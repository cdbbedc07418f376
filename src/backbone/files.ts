// Durable, atomic file placement: write a temporary file in the target folder, fsync it, rename it over
// the target, fsync the folder. A reader sees the old file or the new one, never half of one.
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Fsyncs a folder so a rename inside it survives a power cut (a no-op where folders cannot be opened). */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms cannot open or fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

/** Writes `data` to `path` atomically and durably. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

/** Moves a finished, fsynced file into place atomically and fsyncs the folder. */
export async function placeFile(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDir(dirname(to));
}
