// One writer per store directory: a LOCK file, created exclusively, that names its holder.
// A lock left by a process that died on this host is stale and is taken over.
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StoreError } from './errors.js';
import { readTextChecked } from '../util/read-file.js';

export const LOCK_FILE = 'LOCK';

export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the holder took the lock. */
  startedAt: string;
  /** Kernel start time of the holder process (Linux), so a recycled pid is not mistaken for the holder. */
  processStart: string | null;
}

/** A lock file that cannot be parsed is someone else's business until it is this old (then it is stale). */
const UNREADABLE_STALE_MS = 5000;

function processStartOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 22 (starttime); the command name in field 2 may hold spaces, so count from its closing paren.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const o = JSON.parse(text) as Partial<LockHolder>;
    // pid 0 or -1 would make kill(pid, 0) probe a whole process group: such a file is not a lock we wrote.
    const pid = o.pid;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1) return null;
    if (typeof o.hostname !== 'string' || typeof o.startedAt !== 'string') return null;
    return { pid, hostname: o.hostname, startedAt: o.startedAt, processStart: o.processStart ?? null };
  } catch {
    return null;
  }
}

/** Why the holder no longer holds the lock, or null when it may still be alive. */
function staleReason(holder: LockHolder): string | null {
  if (holder.hostname !== hostname()) return null; // another machine's process cannot be checked from here
  if (!pidAlive(holder.pid)) return `pid ${holder.pid} is no longer running`;
  const start = processStartOf(holder.pid);
  if (holder.processStart !== null && start !== null && start !== holder.processStart) {
    return `pid ${holder.pid} now belongs to another process`;
  }
  return null;
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on host ${h.hostname} since ${h.startedAt}`;
}

export class StoreLock {
  private constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {}

  /** Takes the lock of `dir` or throws a StoreError (code ELOCKED) naming the current holder. */
  static acquire(dir: string, warn: (message: string) => void): StoreLock {
    const path = join(dir, LOCK_FILE);
    const me: LockHolder = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
      processStart: processStartOf(process.pid),
    };
    const body = `${JSON.stringify(me)}\n`;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (createExclusive(path, body)) return new StoreLock(path, me);
      let text: string;
      try {
        text = readTextChecked(path, 'lock file');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
        throw err;
      }
      const holder = parseHolder(text);
      let reason: string | null;
      if (holder) {
        reason = staleReason(holder);
        if (reason === null) {
          throw new StoreError(
            'ELOCKED',
            `store ${dir} is locked by ${describeHolder(holder)}; close that process first` +
              (holder.hostname === hostname() ? '' : ` (or, if it is gone, delete ${path})`),
          );
        }
      } else {
        if (Date.now() - mtimeOf(path) < UNREADABLE_STALE_MS) {
          throw new StoreError(
            'ELOCKED',
            `store ${dir} has an unreadable lock file ${path} (damaged, or not engram's); ` +
              `it is taken over once it is ${UNREADABLE_STALE_MS / 1000} s old, or delete it`,
          );
        }
        reason = 'the lock file is unreadable';
      }
      if (breakLock(path, text)) warn(`took over a stale lock on ${dir}: ${reason}`);
    }
    throw new StoreError('ELOCKED', `store ${dir}: could not take the lock ${path} (other processes keep taking it)`);
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    try {
      if (parseHolder(readTextChecked(this.path, 'lock file'))?.pid !== this.holder.pid) return;
      unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

// The lock appears whole: its content is written and fsynced under a private name, then hard-linked to
// LOCK, which fails if LOCK exists (the same guarantee as O_EXCL, without a window where LOCK is empty).
function createExclusive(path: string, body: string): boolean {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(temp, 'wx', 0o644);
  try {
    writeSync(fd, body);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Already gone; only the link matters.
    }
  }
}

// Two processes may judge the same lock stale at once. Each moves it aside under a private name and
// checks that what it moved is what it judged; if a fresh lock was moved by mistake, it is put back.
function breakLock(path: string, staleText: string): boolean {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const moved = readTextChecked(aside, 'lock file');
  if (moved !== staleText) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone created a new lock meanwhile; theirs wins.
    }
    unlinkSync(aside);
    return false;
  }
  unlinkSync(aside);
  return true;
}
