// The learner's view of a store directory (src/store): recovered snapshot + journal records to replay,
// the store's metadata (which backbone, quantizer and codebook built it), and side files such as the
// codebook, written atomically. Learner ops are journal records of one type.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Store, type Durability } from '../store/index.js';
import { JOURNAL_FILE, SNAPSHOT_FILE } from '../store/format.js';
import type { ResolvedQuantizer, MemoryOptions } from './config.js';

/** Journal record type of learner ops (type 0 is the store's own metadata). */
export const OP_RECORD = 1;
/**
 * When the journal is compacted into a snapshot (one rule for every writer: the API, `engram learn`, the
 * server): once the records since the last snapshot outgrow that snapshot, replaying them would cost more than
 * loading a new one, so one is written. Bounded below, so a small store does not snapshot on every learn, and
 * above, so a large memory still bounds the journal (and what one damaged journal can take).
 */
export const COMPACT_MIN_BYTES = 64 * 1024;
export const COMPACT_MAX_BYTES = 8 * 1024 * 1024;

/** Whether `journalBytes` of records since a snapshot of `snapshotBytes` (0: none yet) call for a new snapshot. */
export function journalWantsSnapshot(journalBytes: number, snapshotBytes: number): boolean {
  return journalBytes > Math.min(COMPACT_MAX_BYTES, Math.max(COMPACT_MIN_BYTES, snapshotBytes));
}

/**
 * Store metadata formats this engram reads. 2 is 1 with something an older engram must not ignore: a store made
 * with mirror features (`backbone.mirror`) records 2, so an engram that would embed its images without the
 * mirror refuses it instead of answering from mixed features. Every other store records 1, as before.
 */
export type StoreFormat = 'engram-store/1' | 'engram-store/2';

/** The format a new store records: 2 when its backbone embeds with the mirror, else 1. */
export function storeFormatFor(backbone: { mirror?: boolean } | null): StoreFormat {
  return backbone?.mirror ? 'engram-store/2' : 'engram-store/1';
}

/** Whether `format` is a learner store's metadata format this engram reads. */
export function isStoreFormat(format: unknown): format is StoreFormat {
  return format === 'engram-store/1' || format === 'engram-store/2';
}

export interface StoreMeta {
  format: StoreFormat;
  /**
   * `conventions`: whether images got the manifest's input conventions; absent in stores made before them (off).
   * `mirror`: whether each feature is the mean of the image's and its mirror's; absent: not.
   */
  backbone: { ref: string; name: string; sha256: string; dim: number; conventions?: 'auto' | 'off'; mirror?: boolean } | null;
  quantizer: { options: ResolvedQuantizer; codebookId: string };
  memory: MemoryOptions;
}

export interface Persistence {
  readonly dir: string;
  /** Null for a store nothing was written to yet. */
  readonly meta: StoreMeta | null;
  readonly snapshot: Buffer | null;
  readonly records: Buffer[];
  /** The journal seq of each of `records`, and the seq the snapshot covers. */
  readonly recordSeqs: number[];
  readonly snapshotSeq: number;
  /** A fleet member's journal is compacted by the fleet (src/fleet/device.ts): wantsSnapshot() stays false. */
  leaveCompactionToFleet(): void;
  writeMeta(meta: StoreMeta): Promise<void>;
  /**
   * Queues the op as the journal's next record and returns its seq at once; `done` resolves when the op is
   * as durable as the store's mode promises (strict: fsynced; batched: queued) and rejects if it failed.
   */
  append(op: Uint8Array): { seq: number; done: Promise<void> };
  /** Resolves once record `seq` is on stable storage (batched: at the next group commit). */
  whenDurable(seq: number): Promise<void>;
  journal(): JournalState;
  /** Whether the journal has grown enough that a snapshot should be written. */
  wantsSnapshot(): boolean;
  /** Writes `bytes` as the state after record `uptoSeq`. */
  writeSnapshot(bytes: Uint8Array, uptoSeq: number): Promise<void>;
  readFile(name: string): Promise<Buffer | null>;
  writeFile(name: string, bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface JournalState {
  durability: Durability;
  /** Group-commit interval of the batched mode, in ms. */
  batchMs: number;
  /** Last record seq handed out. */
  lastSeq: number;
  /** Last record seq known to be on stable storage. */
  durableSeq: number;
}

export async function openPersistence(
  dir: string,
  opts: { durability: Durability; batchMs?: number; create: boolean; readOnly: boolean; salvage?: boolean; onWarning: (m: string) => void },
): Promise<Persistence> {
  if (!opts.create && !existsSync(dir)) {
    throw new Error(`store ${dir} does not exist: create it with "engram learn --store ${dir} ..."`);
  }
  refuseForeignDir(dir);
  // Read-only opens take no lock, so predict and stats work while a server holds the store.
  const store = await Store.open(dir, {
    durability: opts.durability,
    ...(opts.batchMs === undefined ? {} : { batchMs: opts.batchMs }),
    onWarning: opts.onWarning,
    readOnly: opts.readOnly,
    salvage: opts.salvage === true,
  });
  const rawMeta = store.meta;
  const meta = Object.keys(rawMeta).length ? checkMeta(rawMeta, dir) : null;
  if (!meta && !opts.create) {
    await store.close();
    throw new Error(`store ${dir} holds nothing yet: learn something first ("engram learn --store ${dir} ...")`);
  }
  const recovered = store.recovered;
  const ops = (recovered?.records ?? []).filter((r) => r.type === OP_RECORD);
  const records = ops.map((r) => r.payload);
  const recordSeqs = ops.map((r) => r.seq);
  const snapshotSeq = recovered?.snapshotSeq ?? 0;
  const unknown = (recovered?.records ?? []).filter((r) => r.type !== OP_RECORD);
  if (unknown.length)
    throw new Error(
      `store ${dir}: journal holds ${unknown.length} records of unknown type ${unknown[0].type} (written by a newer engram?)`,
    );
  const snapshot = recovered?.snapshot ?? null;
  store.releaseRecovered();
  let sinceSnapshot = records.reduce((n, r) => n + r.length, 0);
  // A fleet member's journal is compacted by the fleet (src/fleet/device.ts), which reads every op first.
  let fleetMember = existsSync(join(dir, 'fleet'));
  let snapshotBytes = snapshot?.length ?? 0;

  return {
    dir,
    meta,
    snapshot,
    records,
    recordSeqs,
    snapshotSeq,
    leaveCompactionToFleet() {
      fleetMember = true;
    },
    async writeMeta(m) {
      await store.setMeta(m as unknown as Record<string, unknown>);
    },
    append(op) {
      const done = store.append(OP_RECORD, op).then(() => undefined);
      // Seqs are handed out synchronously, so the last one is this record's.
      const seq = store.lastSeq;
      sinceSnapshot += op.byteLength;
      return { seq, done };
    },
    whenDurable: (seq) => store.whenDurable(seq),
    journal() {
      const i = store.info();
      return { durability: i.durability, batchMs: i.batchMs, lastSeq: i.lastSeq, durableSeq: i.durableSeq };
    },
    wantsSnapshot: () => !fleetMember && journalWantsSnapshot(sinceSnapshot, snapshotBytes),
    async writeSnapshot(bytes, uptoSeq) {
      await store.writeSnapshot(bytes, uptoSeq);
      sinceSnapshot = 0;
      snapshotBytes = bytes.byteLength;
    },
    readFile: (name) => store.readFile(name),
    writeFile: (name, bytes) => store.writeFile(name, bytes),
    close: () => store.close(),
  };
}

function checkMeta(m: Record<string, unknown>, dir: string): StoreMeta {
  if (typeof m.format === 'string' && /^engram-store\/\d+$/.test(m.format) && !isStoreFormat(m.format)) {
    throw new Error(
      `store ${dir}: metadata format ${m.format} was written by a newer engram (this one reads engram-store/1 and /2): upgrade engram`,
    );
  }
  if (!isStoreFormat(m.format) || typeof m.quantizer !== 'object' || m.quantizer === null) {
    throw new Error(`store ${dir}: metadata is not an engram learner's (format ${JSON.stringify(m.format)})`);
  }
  return m as unknown as StoreMeta;
}

// A directory that holds files but none of a store's is someone else's (a typo, --store /etc): it is neither
// read as an empty store nor written into, and nobody is told to learn into it.
function refuseForeignDir(dir: string): void {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is a file, not an engram store (a store is a directory)`);
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((err as NodeJS.ErrnoException).code)
      throw new Error(`${dir}: cannot read it as an engram store (${(err as NodeJS.ErrnoException).code})`, { cause: err });
    throw err;
  }
  const own = (n: string) => JOURNAL_FILE.test(n) || SNAPSHOT_FILE.test(n) || n === 'LOCK' || n.endsWith('.egc') || n.endsWith('.damaged');
  if (names.length === 0 || names.some(own)) return;
  throw new Error(
    `${dir} is not an engram store: it holds ${names.length} other entr${names.length === 1 ? 'y' : 'ies'} and no journal or snapshot (a store is a directory engram created; give --store a new or empty one)`,
  );
}
