// The token that every call changing the memory must carry: made at the first start, kept in a file of
// mode 0600 (by default beside the store's own files), printed once when made.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, openSync, readFileSync, statSync, writeSync, closeSync, fsyncSync } from 'node:fs';

export interface Token {
  value: string;
  file: string;
  /** Whether this start made it (then it is printed once). */
  created: boolean;
  /** Set when the file could be read by other users (it is then tightened to 0600). */
  tightened: boolean;
}

/** Reads the token from `file`, or makes one there (mode 0600) when the file does not exist. */
export function loadToken(file: string): Token {
  try {
    const fd = openSync(file, 'wx', 0o600);
    const value = randomBytes(24).toString('base64url');
    try {
      writeSync(fd, `${value}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return { value, file, created: true, tightened: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`token file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const value = readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9._~+/=-]{16,256}$/.test(value)) {
    throw new RangeError(
      `token file ${file}: expected one line of 16 to 256 token characters (letters, digits, - _ . ~ + / =); delete it to have a new one made`,
    );
  }
  const loose = (statSync(file).mode & 0o077) !== 0;
  if (loose) chmodSync(file, 0o600);
  return { value, file, created: false, tightened: loose };
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
