// A durable store directory: snapshots plus an append-only journal, one writer at a time.
// Open recovers the newest trustworthy state; append acknowledges per the durability mode;
// writeSnapshot compacts the journal. See docs/store-format.md for the files and guarantees.
import { copyFile, mkdir, open, readdir, rename, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { int, oneOf, options as checkOptions, typeError, rangeError } from '../util/validate.js';
import { StoreError } from './errors.js';
import { TEMP_SUFFIX, syncDir, writeAtomic } from '../util/durable-files.js';
import {
  FormatDamage,
  JOURNAL_FILE,
  MAX_META_BYTES,
  MAX_RECORD_PAYLOAD,
  SNAPSHOT_FILE,
  decodeSideFile,
  encodeSideFile,
  META_RECORD_TYPE,
  encodeJournalHeader,
  encodeRecord,
  encodeSnapshot,
  journalName,
  snapshotName,
  type JournalRecord,
} from './format.js';
import { LOCK_FILE, StoreLock, type LockHolder } from './lock.js';
import { recover, type MetaChange, type SegmentEntry, type SnapshotEntry } from './recover.js';
import { readFileCheckedAsync } from '../util/read-file.js';

export type Durability = 'strict' | 'batched';

export interface StoreOptions {
  /** strict: append resolves after fsync. batched: fsync every `batchMs` (default strict). */
  durability?: Durability;
  /** Group-commit interval of the batched mode, in ms (default 100). */
  batchMs?: number;
  /** Told about everything recovery routed around (damaged snapshot, torn record, stale lock). */
  onWarning?: (message: string) => void;
  /** Inspect without taking the lock or repairing anything; writes throw EREADONLY. */
  readOnly?: boolean;
  /** Intact snapshots kept (the journal is kept back to the oldest of them), default 2. */
  keepSnapshots?: number;
  /**
   * Instead of refusing (ECORRUPT) a journal damaged where the state needs it, keep the history before the
   * damage, warn what is given up, and set the damaged part aside as *.damaged. Only on the user's word.
   */
  salvage?: boolean;
}

export interface Recovered {
  /** The newest intact snapshot's bytes, or null when the state starts empty. */
  snapshot: Buffer | null;
  /** The seq that snapshot covers (0 without one). */
  snapshotSeq: number;
  /** User records after the snapshot, to replay in order. */
  records: JournalRecord[];
}

export interface StoreInfo {
  dir: string;
  durability: Durability;
  batchMs: number;
  readOnly: boolean;
  /** Last seq handed out by append. */
  lastSeq: number;
  /** Last seq handed to the operating system. */
  writtenSeq: number;
  /** Last seq known to be on stable storage (fsync done). */
  durableSeq: number;
  snapshotSeq: number;
  snapshots: SnapshotEntry[];
  segments: { file: string; baseSeq: number; bytes: number }[];
  /** Total bytes of snapshots and journal segments. */
  bytes: number;
  lock: LockHolder | null;
}

export const DEFAULT_BATCH_MS = 100;
/** Batched appends wait for the disk once this many bytes are queued, so memory stays bounded. */
const BATCH_HIGH_WATER = 4 * 1024 * 1024;

interface Waiter {
  seq: number;
  /** written: handed to the OS; durable: fsync done. */
  level: 'written' | 'durable';
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

const noop = () => undefined;

export class Store {
  readonly dir: string;
  readonly durability: Durability;
  readonly batchMs: number;
  readonly readOnly: boolean;
  private readonly keepSnapshots: number;
  private readonly lock: StoreLock | null;
  private readonly warn: (message: string) => void;

  private recoveredState: Recovered | null;
  private metaBase: Record<string, unknown>;
  private metaChanges: MetaChange[];

  private seq: number;
  private writtenSeq: number;
  private durableSeq: number;
  private snapshotSeq: number;
  private snapshots: SnapshotEntry[];
  private segments: SegmentEntry[];
  private fh: FileHandle | null = null;

  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private waiters: Waiter[] = [];
  private drainQueued = false;
  private syncTimer: NodeJS.Timeout | null = null;
  /** Serialises every file operation: appends, snapshots, close. */
  private queue: Promise<unknown> = Promise.resolve();
  private failure: StoreError | null = null;
  private closed = false;

  private constructor(init: {
    dir: string;
    durability: Durability;
    batchMs: number;
    readOnly: boolean;
    keepSnapshots: number;
    lock: StoreLock | null;
    warn: (message: string) => void;
    recovery: Awaited<ReturnType<typeof recover>>;
  }) {
    const r = init.recovery;
    this.dir = init.dir;
    this.durability = init.durability;
    this.batchMs = init.batchMs;
    this.readOnly = init.readOnly;
    this.keepSnapshots = init.keepSnapshots;
    this.lock = init.lock;
    this.warn = init.warn;
    this.recoveredState = { snapshot: r.snapshot, snapshotSeq: r.snapshotSeq, records: r.records };
    this.metaBase = r.snapshotMeta;
    this.metaChanges = r.metaChanges;
    this.seq = this.writtenSeq = this.durableSeq = r.lastSeq;
    this.snapshotSeq = r.snapshotSeq;
    this.snapshots = r.snapshots;
    this.segments = r.segments;
  }

  /**
   * Opens (creating if needed) the store in `dir`, takes its lock and recovers its state.
   * Throws StoreError ELOCKED when another live process holds the store, ECORRUPT when the files
   * cannot be turned into a trustworthy state, EVERSION when they are a newer format, ENOSTORE when a
   * read-only open finds no directory.
   */
  static async open(dir: string, options?: StoreOptions): Promise<Store> {
    if (typeof dir !== 'string') throw typeError('dir', 'a directory path string', dir);
    if (dir.length === 0) throw rangeError('dir', 'a non-empty directory path', dir);
    const o = checkOptions('options', options, ['durability', 'batchMs', 'onWarning', 'readOnly', 'keepSnapshots', 'salvage']);
    const durability = o.durability === undefined ? 'strict' : oneOf('options.durability', o.durability, ['strict', 'batched'] as const);
    const batchMs = o.batchMs === undefined ? DEFAULT_BATCH_MS : int('options.batchMs', o.batchMs, 1, 60_000);
    const keepSnapshots = o.keepSnapshots === undefined ? 2 : int('options.keepSnapshots', o.keepSnapshots, 2, 100);
    if (o.onWarning !== undefined && typeof o.onWarning !== 'function') {
      throw typeError('options.onWarning', 'a function', o.onWarning);
    }
    if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') throw typeError('options.readOnly', 'a boolean', o.readOnly);
    const readOnly = o.readOnly === true;
    if (o.salvage !== undefined && typeof o.salvage !== 'boolean') throw typeError('options.salvage', 'a boolean', o.salvage);
    const warn = (message: string) => (o.onWarning as ((m: string) => void) | undefined)?.(message);

    if (!readOnly) await createDir(dir);
    const lock = readOnly ? null : StoreLock.acquire(dir, warn);
    try {
      if (!readOnly) await removeTemporaries(dir);
      const recovery = await recover(dir, { salvage: o.salvage === true });
      for (const w of recovery.warnings) warn(`store ${dir}: ${w}`);
      const store = new Store({ dir, durability, batchMs, readOnly, keepSnapshots, lock, warn, recovery });
      if (!readOnly) await store.prepareWriter([...recovery.damagedSnapshots, ...recovery.damagedSegments], recovery.tornTail, warn);
      return store;
    } catch (err) {
      lock?.release();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && readOnly) {
        throw new StoreError('ENOSTORE', `store ${dir} does not exist`, { cause: err });
      }
      throw err;
    }
  }

  // Repairs what recovery reported (so the next open is quiet) and opens the segment to append to.
  private async prepareWriter(
    damagedFiles: string[],
    tornTail: { file: string; validBytes: number; keepCopy: boolean } | null,
    warn: (m: string) => void,
  ): Promise<void> {
    for (const file of damagedFiles) {
      // Moved aside rather than deleted: it may matter to whoever investigates the damage.
      await rename(join(this.dir, file), join(this.dir, `${file}.damaged`));
      warn(`store ${this.dir}: moved the damaged file aside as ${file}.damaged`);
    }
    if (tornTail) {
      if (tornTail.keepCopy) {
        await copyFile(join(this.dir, tornTail.file), join(this.dir, `${tornTail.file}.damaged`));
        warn(`store ${this.dir}: kept a copy of the damaged journal as ${tornTail.file}.damaged`);
      }
      await truncate(join(this.dir, tornTail.file), tornTail.validBytes);
      const fh = await open(join(this.dir, tornTail.file), 'r+');
      await fh.sync().finally(() => fh.close());
    }
    const last = this.segments[this.segments.length - 1];
    if (last && last.lastSeq === this.seq) {
      this.fh = await open(join(this.dir, last.file), 'a');
    } else {
      await this.startSegment();
    }
    if (damagedFiles.length > 0 || tornTail) await syncDir(this.dir);
  }

  /** The recovered state to rebuild from; null after releaseRecovered(). */
  get recovered(): Recovered | null {
    return this.recoveredState;
  }

  /** Lets the recovered bytes be garbage-collected once the caller has rebuilt its state. */
  releaseRecovered(): void {
    this.recoveredState = null;
  }

  /** Current metadata (a copy): the latest setMeta, recovered across restarts. */
  get meta(): Record<string, unknown> {
    const latest = this.metaChanges.length ? this.metaChanges[this.metaChanges.length - 1].meta : this.metaBase;
    return structuredClone(latest);
  }

  /** Last seq handed out (the state a snapshot taken now would cover). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Replaces the metadata (a JSON object); journaled like any record, so it obeys the durability mode. */
  setMeta(meta: Record<string, unknown>): Promise<number> {
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw typeError('meta', 'a plain JSON object', meta);
    let text: string;
    try {
      text = JSON.stringify(meta);
    } catch (err) {
      throw typeError('meta', `a JSON-serialisable object (${(err as Error).message})`, meta);
    }
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > MAX_META_BYTES) throw rangeError('meta', `at most ${MAX_META_BYTES} bytes of JSON`, `${bytes.length} bytes`);
    const seq = this.appendRecord(META_RECORD_TYPE, bytes);
    this.metaChanges.push({ seq: seq.seq, meta: JSON.parse(text) as Record<string, unknown> });
    return seq.done;
  }

  /**
   * Appends one record and resolves with its seq. strict: after the record is fsynced.
   * batched: at once (or, when much is queued, after it reaches the OS); fsync follows within batchMs.
   */
  append(type: number, payload: Uint8Array): Promise<number> {
    int('type', type, 1, 255);
    if (!(payload instanceof Uint8Array)) throw typeError('payload', 'a Uint8Array or Buffer', payload);
    if (payload.byteLength > MAX_RECORD_PAYLOAD) {
      throw rangeError('payload', `at most ${MAX_RECORD_PAYLOAD} bytes`, `${payload.byteLength} bytes`);
    }
    return this.appendRecord(type, payload).done;
  }

  private appendRecord(type: number, payload: Uint8Array): { seq: number; done: Promise<number> } {
    this.checkWritable();
    const seq = ++this.seq;
    const rec = encodeRecord(seq, type, payload);
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    this.queueDrain();
    if (this.durability === 'strict') return { seq, done: this.waitFor(seq, 'durable') };
    if (this.pendingBytes > BATCH_HIGH_WATER) return { seq, done: this.waitFor(seq, 'written') };
    return { seq, done: Promise.resolve(seq) };
  }

  /**
   * Resolves once record `seq` is on stable storage, without forcing an fsync of its own: in batched mode
   * it waits for the next group commit. For acknowledging to a peer only what survives a power cut.
   */
  whenDurable(seq: number): Promise<void> {
    int('seq', seq, 0, this.seq);
    if (seq <= this.durableSeq) return Promise.resolve();
    this.checkWritable();
    const done = this.waitFor(seq, 'durable').then(noop);
    if (this.pending.length === 0 && this.writtenSeq >= seq) this.armSync();
    this.syncTimer?.ref(); // someone now waits on it
    return done;
  }

  /** Resolves once every record appended so far is on stable storage. */
  flush(): Promise<void> {
    this.checkWritable();
    return this.exclusive(() => this.drain(true));
  }

  /**
   * Writes `bytes` as a snapshot of the state after record `uptoSeq` (default: the last appended)
   * and drops journal segments no kept snapshot needs. Resolves when the snapshot is durable.
   */
  writeSnapshot(bytes: Uint8Array, uptoSeq: number = this.seq): Promise<void> {
    this.checkWritable();
    if (!(bytes instanceof Uint8Array)) throw typeError('bytes', 'a Uint8Array or Buffer', bytes);
    int('uptoSeq', uptoSeq, this.snapshotSeq, this.seq);
    const meta = this.metaAt(uptoSeq);
    const payload = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const file = encodeSnapshot(uptoSeq, meta, payload);
    return this.exclusive(async () => {
      // Another snapshot queued before this one may have moved the floor past uptoSeq.
      int('uptoSeq', uptoSeq, this.snapshotSeq, this.seq);
      await this.drain(true);
      const name = snapshotName(uptoSeq);
      await this.orUnchanged(`writing snapshot ${name}`, () => writeAtomic(this.dir, name, file));
      this.snapshots = this.snapshots.filter((s) => s.seq !== uptoSeq);
      this.snapshots.push({ file: name, seq: uptoSeq, bytes: file.length });
      this.snapshotSeq = uptoSeq;
      this.metaBase = meta;
      this.metaChanges = this.metaChanges.filter((c) => c.seq > uptoSeq);
      const current = this.segments[this.segments.length - 1];
      if (current.baseSeq !== this.writtenSeq + 1) {
        try {
          await this.startSegment();
        } catch (err) {
          // The snapshot is durable and the current segment still continues the chain: keep appending to it.
          this.warn(
            `store ${this.dir}: snapshot ${name} written, but a new journal segment could not be started (${(err as Error).message}); compaction waits for the next snapshot`,
          );
        }
      }
      await this.removeObsolete();
    });
  }

  /**
   * Writes a side file (e.g. the codebook the store was built with) atomically and durably, framed with
   * magic, version and checksums like every store file. Independent of the journal and its durability mode.
   */
  async writeFile(name: string, bytes: Uint8Array): Promise<void> {
    this.checkWritable();
    checkSideName(name);
    if (!(bytes instanceof Uint8Array)) throw typeError('bytes', 'a Uint8Array or Buffer', bytes);
    await this.orUnchanged(`writing ${name}`, () => writeAtomic(this.dir, name, encodeSideFile(bytes)));
  }

  /** Reads a side file written by writeFile; null when absent, StoreError ECORRUPT when damaged. */
  async readFile(name: string): Promise<Buffer | null> {
    checkSideName(name);
    let raw: Buffer;
    try {
      raw = await readFileCheckedAsync(join(this.dir, name), 'store file');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const decoded = decodeSideFile(raw);
    if (decoded instanceof FormatDamage) {
      throw new StoreError('ECORRUPT', `store ${this.dir}: ${name} is damaged (${decoded.reason} at byte ${decoded.at})`);
    }
    return decoded;
  }

  /** Flushes, closes the journal and releases the lock. Rejects if an earlier write had failed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.readOnly) return;
    try {
      await this.exclusive(async () => {
        if (!this.failure) await this.drain(true);
      });
    } finally {
      if (this.syncTimer) clearTimeout(this.syncTimer);
      await this.fh?.close().catch(noop);
      this.fh = null;
      this.lock?.release();
    }
    if (this.failure) throw this.failure;
  }

  info(): StoreInfo {
    const segments = this.segments.map(({ file, baseSeq, bytes }) => ({ file, baseSeq, bytes }));
    return {
      dir: this.dir,
      durability: this.durability,
      batchMs: this.batchMs,
      readOnly: this.readOnly,
      lastSeq: this.seq,
      writtenSeq: this.writtenSeq,
      durableSeq: this.durableSeq,
      snapshotSeq: this.snapshotSeq,
      snapshots: this.snapshots.map((s) => ({ ...s })),
      segments,
      bytes: this.snapshots.reduce((n, s) => n + s.bytes, 0) + segments.reduce((n, s) => n + s.bytes, 0),
      lock: this.lock ? { ...this.lock.holder } : null,
    };
  }

  // ------------------------------------------------------------ internals

  private checkWritable(): void {
    if (this.readOnly) throw new StoreError('EREADONLY', `store ${this.dir} was opened read-only`);
    if (this.closed) throw new StoreError('ECLOSED', `store ${this.dir} is closed`);
    if (this.failure) throw this.failure;
  }

  // An atomic write that failed left the old file (or none) in place: the store is as it was and usable.
  private async orUnchanged(what: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      throw new StoreError('EWRITE', `store ${this.dir}: ${what} failed (${(err as Error).message}); the store is unchanged`, {
        cause: err,
      });
    }
  }

  private metaAt(seq: number): Record<string, unknown> {
    let meta = this.metaBase;
    for (const c of this.metaChanges) if (c.seq <= seq) meta = c.meta;
    return meta;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.then(noop, noop);
    return run;
  }

  private waitFor(seq: number, level: Waiter['level']): Promise<number> {
    return new Promise((resolve, reject) => this.waiters.push({ seq, level, resolve, reject }));
  }

  private settle(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      const reached = w.level === 'durable' ? this.durableSeq : this.writtenSeq;
      if (w.seq <= reached) w.resolve(w.seq);
      else still.push(w);
    }
    this.waiters = still;
  }

  private queueDrain(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    this.exclusive(() => this.drain(this.durability === 'strict')).catch(noop);
  }

  /** Writes everything queued; with `sync`, also fsyncs. Runs inside exclusive(). */
  private async drain(sync: boolean): Promise<void> {
    this.drainQueued = false;
    if (this.failure) throw this.failure;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
        // Seqs are handed out and queued in one synchronous step, so the queue always ends at this.seq.
        const upto = this.seq;
        this.pending = [];
        this.pendingBytes = 0;
        let at = 0;
        while (at < batch.length) {
          const { bytesWritten } = await this.fh!.write(batch, at, batch.length - at);
          at += bytesWritten;
        }
        this.segments[this.segments.length - 1].bytes += batch.length;
        this.segments[this.segments.length - 1].lastSeq = upto;
        this.writtenSeq = upto;
        if (sync) {
          await this.fh!.datasync();
          this.durableSeq = this.writtenSeq;
        }
        this.settle();
      }
      if (sync && this.durableSeq < this.writtenSeq) {
        await this.fh!.datasync();
        this.durableSeq = this.writtenSeq;
        this.settle();
      }
    } catch (err) {
      this.fail(err);
      throw this.failure ?? err;
    }
    if (!sync && this.durableSeq < this.writtenSeq) this.armSync();
  }

  private armSync(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      if (this.closed || this.failure) return;
      this.exclusive(() => this.drain(true)).catch(noop);
    }, this.batchMs);
    // The timer alone must not keep a process alive (close() flushes), unless someone awaits durability.
    if (!this.waiters.some((w) => w.level === 'durable')) this.syncTimer.unref();
  }

  private fail(err: unknown): void {
    const cause = err as Error;
    this.failure = new StoreError(
      'EFAILED',
      `store ${this.dir}: writing the journal failed (${cause.message}); records after seq ${this.durableSeq} may be lost; reopen the store`,
      { cause },
    );
    this.pending = [];
    this.pendingBytes = 0;
    for (const w of this.waiters) w.reject(this.failure);
    this.waiters = [];
  }

  // New segments appear whole (header written, fsynced, renamed): a crash never leaves half a header.
  private async startSegment(): Promise<void> {
    const baseSeq = this.writtenSeq + 1;
    const name = journalName(baseSeq);
    await writeAtomic(this.dir, name, encodeJournalHeader(baseSeq));
    const fh = await open(join(this.dir, name), 'a');
    await this.fh?.close();
    this.fh = fh;
    this.segments = this.segments.filter((s) => s.file !== name);
    this.segments.push({ file: name, baseSeq, lastSeq: baseSeq - 1, bytes: encodeJournalHeader(baseSeq).length });
  }

  // Keeps the newest `keepSnapshots` snapshots and every segment holding a record after the oldest of them.
  private async removeObsolete(): Promise<void> {
    this.snapshots.sort((a, b) => a.seq - b.seq);
    const drop = this.snapshots.slice(0, Math.max(0, this.snapshots.length - this.keepSnapshots));
    this.snapshots = this.snapshots.slice(drop.length);
    const oldestKept = this.snapshots[0]?.seq ?? 0;
    const obsolete: string[] = drop.map((s) => s.file);
    const keep: SegmentEntry[] = [];
    for (let i = 0; i < this.segments.length; i++) {
      const next = this.segments[i + 1];
      if (next && next.baseSeq - 1 <= oldestKept) obsolete.push(this.segments[i].file);
      else keep.push(this.segments[i]);
    }
    this.segments = keep;
    if (obsolete.length === 0) return;
    for (const file of obsolete) await unlink(join(this.dir, file)).catch(noop);
    await syncDir(this.dir);
  }
}

// A new store's directory entry must be durable too, or a power cut could take the whole store with it.
async function createDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created === undefined) return;
  const top = dirname(resolve(created));
  for (let p = resolve(dir); p !== top;) {
    p = dirname(p);
    await syncDir(p);
  }
}

// Side files live beside the store's own files, so their names must not collide with them.
function checkSideName(name: unknown): void {
  if (typeof name !== 'string') throw typeError('name', 'a file name string', name);
  const reserved = SNAPSHOT_FILE.test(name) || JOURNAL_FILE.test(name) || name === LOCK_FILE || /\.(tmp|damaged)$|^LOCK\./.test(name);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name) || reserved) {
    throw rangeError('name', 'a plain file name (letters, digits, . _ -) not used by the store itself', name);
  }
}

async function removeTemporaries(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    // LOCK.* temporaries belong to other processes trying to take the lock right now.
    if (name.endsWith(TEMP_SUFFIX) && !name.startsWith(`${LOCK_FILE}.`)) await unlink(join(dir, name)).catch(noop);
  }
}
