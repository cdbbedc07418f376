// The one way engram reads a whole file (codebook, model, manifest, profile, calibration, image, store files,
// file lists). Before reading it checks, on the open descriptor, that the path is a regular file (not a
// directory, a FIFO that would block forever, or a device such as /dev/zero that never ends) and that its size
// is within the limit for its kind; it stops reading if the file grows past the limit meanwhile. Every error
// names the file and the kind, and carries the system error code when there is one.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

const MiB = 1024 * 1024;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** The kinds of file engram reads, with the largest size it accepts for each. */
export const FILE_LIMITS = {
  codebook: 256 * MiB,
  model: 2048 * MiB - 1,
  manifest: 4 * MiB,
  profile: 1 * MiB,
  calibration: 256 * MiB,
  image: 256 * MiB,
  'store file': 2048 * MiB - 1,
  'file list': 64 * MiB,
  catalogue: 4 * MiB,
  dataset: 512 * MiB,
  'lock file': 64 * 1024,
} as const;

export type FileKind = keyof typeof FILE_LIMITS;

/** A file that cannot be read as asked: `path` and `kind` say which; `code` is the system error code, if any. */
export class FileReadError extends Error {
  override name = 'FileReadError';
  /** The message without the path in front. */
  readonly detail: string;
  constructor(
    readonly path: string,
    readonly kind: string,
    message: string,
    readonly code?: string,
  ) {
    super(`${path}: ${message}`);
    this.detail = message;
  }
}

function typeName(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function systemError(path: string, kind: string, err: unknown): FileReadError {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'is a directory, not a file',
    ELOOP: 'too many levels of symbolic links (a symlink loop)',
    ENAMETOOLONG: 'the path is too long',
    ENOTDIR: 'a part of the path is not a directory',
    EIO: 'input/output error (a failing disk or card?)',
  };
  const text = (e.code && why[e.code]) || e.message;
  return new FileReadError(path, kind, `cannot read this ${kind}: ${text}`, e.code);
}

function check(path: string, kind: FileKind, st: Stats, limit: number): number {
  if (!st.isFile()) throw new FileReadError(path, kind, `expected a regular file (${kind}), got ${typeName(st)}`, 'ENOTREG');
  if (st.size > limit) {
    throw new FileReadError(path, kind, `the ${kind} is ${st.size} bytes, more than the ${limit}-byte limit for a ${kind}`, 'EFBIG');
  }
  return st.size;
}

function grew(path: string, kind: FileKind, limit: number): FileReadError {
  return new FileReadError(path, kind, `the ${kind} grew past the ${limit}-byte limit for a ${kind} while being read`, 'EFBIG');
}

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before fstat could refuse it.
const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** Reads a whole regular file of the given kind (see FILE_LIMITS), synchronously. */
export function readFileChecked(path: string, kind: FileKind, limit: number = FILE_LIMITS[kind]): Buffer {
  let fd: number;
  try {
    fd = openSync(path, FLAGS);
  } catch (err) {
    throw systemError(path, kind, err);
  }
  try {
    const size = check(path, kind, fstatSync(fd), limit);
    // One byte more than announced: a file that grew is read to its end, within the limit.
    let buf = Buffer.allocUnsafe(Math.min(size + 1, limit + 1));
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (buf.length > limit) throw grew(path, kind, limit);
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, limit + 1));
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
      }
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    if (got > limit) throw grew(path, kind, limit);
    return buf.subarray(0, got);
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    throw systemError(path, kind, err);
  } finally {
    closeSync(fd);
  }
}

/** As readFileChecked, without blocking the event loop. */
export async function readFileCheckedAsync(path: string, kind: FileKind, limit: number = FILE_LIMITS[kind]): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, FLAGS);
  } catch (err) {
    throw systemError(path, kind, err);
  }
  try {
    const size = check(path, kind, await fh.stat(), limit);
    let buf = Buffer.allocUnsafe(Math.min(size + 1, limit + 1));
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (buf.length > limit) throw grew(path, kind, limit);
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, limit + 1));
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > limit) throw grew(path, kind, limit);
    return buf.subarray(0, got);
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    throw systemError(path, kind, err);
  } finally {
    await fh.close();
  }
}

/** A whole file of the given kind as UTF-8 text. */
export function readTextChecked(path: string, kind: FileKind, limit?: number): string {
  return readFileChecked(path, kind, limit).toString('utf8');
}

/**
 * Everything on standard input, up to `limit` bytes (for `--files-from -`): standard input may be a pipe or a
 * terminal, so only the size is checked, as it arrives.
 */
export function readStdinChecked(kind: FileKind, limit: number = FILE_LIMITS[kind]): Buffer {
  const parts: Buffer[] = [];
  let got = 0;
  const chunk = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, chunk, 0, chunk.length, null);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 10); // a non-blocking pipe with nothing yet: wait a little, then read again
        continue;
      }
      if (e.code === 'EOF') break;
      throw systemError('standard input', kind, err);
    }
    if (n === 0) break;
    got += n;
    if (got > limit)
      throw new FileReadError('standard input', kind, `the ${kind} is more than the ${limit}-byte limit for a ${kind}`, 'EFBIG');
    parts.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(parts);
}
