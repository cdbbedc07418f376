// A store that one command creates and then fails to fill is removed again, so a failed first learn leaves
// no half-made store behind (and no backbone choice fixed by a store that holds nothing).
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** True when `dir` does not exist or is an empty directory (so a store created there is all ours). */
export function isAbsentOrEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Removes what a failed first open created: the store's own files, then the folder if it is empty. */
export function removeCreatedStore(dir: string): void {
  try {
    for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
    rmdirSync(dir);
  } catch {
    // Best effort: the error that made the open fail is the one the user needs to see.
  }
}
