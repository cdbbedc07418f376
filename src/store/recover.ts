// Turns the files of a store directory into one trustworthy state: the newest intact snapshot plus
// every journal record after it. Damage that recovery may route around is reported as a warning;
// damage that would lose or reorder acknowledged records is an ECORRUPT error, never a silent load.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from './errors.js';
import {
  FORMAT_VERSION,
  FormatDamage,
  JOURNAL_FILE,
  META_RECORD_TYPE,
  SNAPSHOT_FILE,
  decodeSnapshot,
  scanSegment,
  type JournalRecord,
  type SegmentScan,
} from './format.js';
import { readFileCheckedAsync } from '../util/read-file.js';

export interface SnapshotEntry {
  file: string;
  seq: number;
  bytes: number;
}

export interface SegmentEntry {
  file: string;
  baseSeq: number;
  /** Seq of the last intact record, baseSeq - 1 when empty. */
  lastSeq: number;
  bytes: number;
}

export interface MetaChange {
  seq: number;
  meta: Record<string, unknown>;
}

export interface Recovery {
  /** Payload of the snapshot the state starts from, null when it starts empty. */
  snapshot: Buffer | null;
  snapshotSeq: number;
  /** Metadata stored in that snapshot. */
  snapshotMeta: Record<string, unknown>;
  /** Metadata records after the snapshot, in order. */
  metaChanges: MetaChange[];
  /** User records after the snapshot, in seq order. */
  records: JournalRecord[];
  /** Highest seq the state includes. */
  lastSeq: number;
  /** Intact snapshots, oldest first. */
  snapshots: SnapshotEntry[];
  damagedSnapshots: string[];
  /** Damaged segments the state does not need (they only served an older snapshot). */
  damagedSegments: string[];
  /** Segments in seq order (damaged ones not needed by the state included). */
  segments: SegmentEntry[];
  /**
   * The last segment ends in an interrupted write (or, when salvaging, in damage): where its intact part
   * ends. keepCopy: the dropped bytes may be acknowledged records, so the file is copied aside first.
   */
  tornTail: { file: string; validBytes: number; droppedBytes: number; keepCopy: boolean } | null;
  warnings: string[];
}

interface ScannedSegment {
  file: string;
  nameSeq: number;
  bytes: number;
  scan: SegmentScan | FormatDamage;
}

/**
 * salvage: instead of refusing damage in the journal the state needs, keep the history up to the damage,
 * say what is lost, and cut the rest away (copied or moved aside as *.damaged by a writable open).
 */
export async function recover(dir: string, opts: { salvage?: boolean } = {}): Promise<Recovery> {
  const names = await readdir(dir);
  const warnings: string[] = [];
  const snapshotNames = names.filter((n) => SNAPSHOT_FILE.test(n)).sort();
  const segments: ScannedSegment[] = [];
  for (const file of names.filter((n) => JOURNAL_FILE.test(n)).sort()) {
    const buf = await readFileCheckedAsync(join(dir, file), 'store file');
    let scan = scanSegment(buf);
    const nameSeq = Number(JOURNAL_FILE.exec(file)![1]);
    if (!(scan instanceof FormatDamage) && scan.baseSeq !== nameSeq) {
      scan = new FormatDamage(`header says base seq ${scan.baseSeq}, the name says ${nameSeq}`, 16);
    }
    if (scan instanceof FormatDamage) refuseNewerVersion(dir, file, scan);
    segments.push({ file, nameSeq, bytes: buf.length, scan });
  }

  const damagedSnapshots: string[] = [];
  const snapshots: SnapshotEntry[] = [];
  let chosen: { file: string; seq: number; payload: Buffer; meta: Record<string, unknown> } | null = null;
  for (const file of [...snapshotNames].reverse()) {
    const buf = await readFileCheckedAsync(join(dir, file), 'store file');
    const decoded = decodeSnapshot(buf);
    const nameSeq = Number(SNAPSHOT_FILE.exec(file)![1]);
    const damage =
      decoded instanceof FormatDamage
        ? decoded
        : decoded.uptoSeq !== nameSeq
          ? new FormatDamage(`header says seq ${decoded.uptoSeq}, the name says ${nameSeq}`, 16)
          : null;
    if (damage) {
      refuseNewerVersion(dir, file, damage);
      damagedSnapshots.push(file);
      warnings.push(
        `snapshot ${file} is damaged (${damage.reason} at byte ${damage.at}); falling back to an older snapshot and the journal`,
      );
      continue;
    }
    snapshots.unshift({ file, seq: nameSeq, bytes: buf.length });
    if (!chosen)
      chosen = {
        file,
        seq: nameSeq,
        payload: (decoded as { payload: Buffer }).payload,
        meta: (decoded as { meta: Record<string, unknown> }).meta,
      };
  }
  if (!chosen && damagedSnapshots.length > 0) {
    warnings.push(`no intact snapshot is left; rebuilding from the journal alone`);
  }

  const snapshotSeq = chosen?.seq ?? 0;
  const chain = replayChain(dir, segments, snapshotSeq + 1, damagedSnapshots, warnings, opts.salvage === true);

  const snapshotMeta = chosen?.meta ?? {};
  const metaChanges: MetaChange[] = [];
  const records: JournalRecord[] = [];
  for (const r of chain.records) {
    if (r.type !== META_RECORD_TYPE) {
      records.push(r);
      continue;
    }
    let meta: unknown;
    try {
      meta = JSON.parse(r.payload.toString('utf8'));
    } catch {
      meta = null;
    }
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
      throw new StoreError(
        'ECORRUPT',
        `store ${dir}: metadata record seq ${r.seq} is not a JSON object (the record checksum matched: written by a different program?)`,
      );
    }
    metaChanges.push({ seq: r.seq, meta: meta as Record<string, unknown> });
  }

  return {
    snapshot: chosen?.payload ?? null,
    snapshotSeq,
    snapshotMeta,
    metaChanges,
    records,
    lastSeq: Math.max(snapshotSeq, chain.lastSeq),
    snapshots,
    damagedSnapshots,
    damagedSegments: chain.damagedSegments,
    segments: chain.segments,
    tornTail: chain.tornTail,
    warnings,
  };
}

// A newer engram's files are not damage: falling back or moving them aside would destroy its work.
function refuseNewerVersion(dir: string, file: string, damage: FormatDamage): void {
  if (damage.unsupportedVersion === null) return;
  throw new StoreError(
    'EVERSION',
    `store ${dir}: ${file} has format version ${damage.unsupportedVersion}, this engram reads version ${FORMAT_VERSION}; ` +
      'open the store with the engram that wrote it (or a newer one)',
  );
}

function corrupt(dir: string, what: string, damagedSnapshots: string[]): StoreError {
  const also = damagedSnapshots.length ? ` (damaged snapshots: ${damagedSnapshots.join(', ')})` : '';
  return new StoreError(
    'ECORRUPT',
    `store ${dir}: ${what}${also}; the acknowledged history cannot be rebuilt, so nothing was loaded. ` +
      `Keep a copy of the directory for inspection; to keep the history before the damage and go on, run ` +
      `"engram repair --store ${dir}" (from code: open it with { salvage: true }); records after the damage are then given up.`,
  );
}

/** Collects records from seq `from` onward across segments, demanding an unbroken sequence. */
function replayChain(
  dir: string,
  segments: ScannedSegment[],
  from: number,
  damagedSnapshots: string[],
  warnings: string[],
  salvage: boolean,
) {
  const records: JournalRecord[] = [];
  const entries: SegmentEntry[] = [];
  const damagedSegments: string[] = [];
  let tornTail: Recovery['tornTail'] = null;
  let expected = from;
  // Damage the state needs: refused, or when salvaging, the history stops here and later segments go aside.
  const stop = (what: string, i: number) => {
    if (!salvage) throw corrupt(dir, what, damagedSnapshots);
    const later = segments.slice(i + 1).map((s) => s.file);
    damagedSegments.push(...later);
    warnings.push(
      `${what}; salvaged the history up to seq ${expected - 1}, every later record is given up` +
        (later.length ? ` (also ${later.join(', ')})` : ''),
    );
  };
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const isLast = i === segments.length - 1;
    const nextBase = isLast ? Infinity : segments[i + 1].nameSeq;
    const needed = nextBase - 1 >= from;
    const scan = seg.scan;
    if (!needed) {
      // Kept only so that an older snapshot could be replayed; the chosen state does not need it.
      if (scan instanceof FormatDamage || scan.end !== 'clean') {
        const reason = scan instanceof FormatDamage ? scan.reason : scan.damage!.reason;
        warnings.push(`journal ${seg.file} is damaged (${reason}) but the recovered state does not need it`);
        damagedSegments.push(seg.file);
      } else {
        entries.push({ file: seg.file, baseSeq: scan.baseSeq, lastSeq: scan.baseSeq + scan.records.length - 1, bytes: seg.bytes });
      }
      continue;
    }
    if (scan instanceof FormatDamage) {
      damagedSegments.push(seg.file);
      stop(`journal ${seg.file} is unreadable (${scan.reason} at byte ${scan.at})`, i);
      break;
    }
    if (scan.baseSeq > expected) {
      damagedSegments.push(seg.file);
      stop(`journal records ${expected}..${scan.baseSeq - 1} are missing (next file ${seg.file})`, i);
      break;
    }
    for (const r of scan.records) {
      if (r.seq === expected) {
        records.push(r);
        expected += 1;
      }
    }
    const lastSeq = scan.baseSeq + scan.records.length - 1;
    if (scan.end === 'damaged' || (scan.end === 'torn' && !isLast)) {
      stop(`journal ${seg.file} is damaged at byte ${scan.damage!.at} (${scan.damage!.reason}) and intact records follow it`, i);
      tornTail = { file: seg.file, validBytes: scan.validBytes, droppedBytes: seg.bytes - scan.validBytes, keepCopy: true };
      entries.push({ file: seg.file, baseSeq: scan.baseSeq, lastSeq, bytes: scan.validBytes });
      break;
    }
    if (scan.end === 'torn') {
      const droppedBytes = seg.bytes - scan.validBytes;
      tornTail = { file: seg.file, validBytes: scan.validBytes, droppedBytes, keepCopy: false };
      warnings.push(
        `journal ${seg.file} ends in an interrupted write: dropped ${droppedBytes} bytes after seq ${lastSeq} (${scan.damage!.reason})`,
      );
    }
    entries.push({ file: seg.file, baseSeq: scan.baseSeq, lastSeq, bytes: tornTail?.file === seg.file ? scan.validBytes : seg.bytes });
  }
  return { records, lastSeq: expected - 1, segments: entries, damagedSegments, tornTail };
}
