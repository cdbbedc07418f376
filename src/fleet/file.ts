// Fleet files: one self-describing, checksummed file with everything needed to merge a memory elsewhere
// (docs/fleet.md "Export file"). All integers little-endian.
//   'EGFX' | u32 version 1 | u32 head bytes | head JSON | u32 side files: (u16 name bytes | name | u32 bytes | bytes)
//   | u32 update bytes | update (codec.ts) | sha256 of every byte before it (32)
// The head names the space (backbone name and sha256, quantizer, codebook/whitening id, memory geometry), the
// store metadata a new store is created with, and a summary of the classes (labels, examples, connections,
// devices) and of the open-set calibration, for a reader who only wants to know what the file holds.
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { Store } from '../store/index.js';
import { LearnerCore, type CoreOptions } from '../learner/core.js';
import type { StoreMeta } from '../learner/persistence.js';
import { isAbsentOrEmptyDir } from '../store/fresh.js';
import { decodeUpdate, encodeUpdate } from './codec.js';
import { FLEET_DIR, FleetDevice, spaceDifference, type Space } from './device.js';
import type { Update } from './state.js';

const MAGIC = 'EGFX';
const VERSION = 1;

export interface FleetFileHead {
  format: 'engram-fleet-file/1';
  created: string;
  /** The device that wrote the file. */
  origin: string;
  space: Space;
  storeMeta: StoreMeta;
  coreOptions: CoreOptions;
  classes: { label: string; examples: number; connections: number; devices: number }[];
  forgotten: string[];
  openset: { threshold: number; known: number; novel: number };
}

export interface FleetFile {
  head: FleetFileHead;
  sideFiles: Map<string, Buffer>;
  update: Update;
}

export function encodeFleetFile(f: FleetFile): Buffer {
  const head = Buffer.from(JSON.stringify(f.head), 'utf8');
  const parts: Buffer[] = [Buffer.from(MAGIC, 'latin1'), u32(VERSION), u32(head.length), head, u32(f.sideFiles.size)];
  for (const [name, bytes] of f.sideFiles) {
    const n = Buffer.from(name, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16LE(n.length, 0);
    parts.push(len, n, u32(bytes.length), bytes);
  }
  const update = encodeUpdate(f.update);
  parts.push(u32(update.length), update);
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Parses and checks a fleet file; anything wrong throws an Error naming `source` and what is wrong. */
export function decodeFleetFile(buf: Buffer, source: string): FleetFile {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  if (buf.length < 48 || buf.toString('latin1', 0, 4) !== MAGIC) fail('not an engram fleet file (made by "engram export")');
  const version = buf.readUInt32LE(4);
  if (version !== VERSION) fail(`fleet file version ${version} is not supported (this engram reads version ${VERSION})`);
  const body = buf.subarray(0, buf.length - 32);
  if (
    !createHash('sha256')
      .update(body)
      .digest()
      .equals(buf.subarray(buf.length - 32))
  )
    fail('checksum mismatch: the file is damaged or was cut short');
  let at = 8;
  const take = (n: number) => {
    if (at + n > body.length) fail('truncated');
    const b = body.subarray(at, at + n);
    at += n;
    return b;
  };
  const headLen = take(4).readUInt32LE(0);
  let head: FleetFileHead;
  try {
    head = JSON.parse(take(headLen).toString('utf8')) as FleetFileHead;
  } catch {
    return fail('damaged header');
  }
  if (head.format !== 'engram-fleet-file/1') fail(`unknown format ${JSON.stringify(head.format)}`);
  const sideFiles = new Map<string, Buffer>();
  for (let k = take(4).readUInt32LE(0); k > 0; k--) {
    const name = take(take(2).readUInt16LE(0)).toString('utf8');
    if (!/^[a-z0-9.-]+$/i.test(name)) fail(`side file name ${JSON.stringify(name)} is not allowed`);
    sideFiles.set(name, Buffer.from(take(take(4).readUInt32LE(0))));
  }
  const n = take(4).readUInt32LE(0);
  const update = decodeUpdate(take(n), `${source} content`);
  if (at !== body.length) fail(`${body.length - at} trailing bytes`);
  return { head, sideFiles, update };
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}

export interface ExportOptions {
  /** Only these classes (and their forgets); default every class. */
  labels?: string[];
  onWarning?: (m: string) => void;
}

/** The fleet file of a store: every class it answers from (or the ones named), with the forgets it knows. */
export async function exportStore(dir: string, opts: ExportOptions = {}): Promise<{ bytes: Buffer; head: FleetFileHead }> {
  const device = await FleetDevice.open(dir, { onWarning: opts.onWarning });
  try {
    await device.step();
    const all = device.state.all();
    const view = device.member.view();
    if (opts.labels) {
      const missing = opts.labels.filter((l) => !view.activeLabels().includes(l));
      if (missing.length)
        throw new RangeError(
          `--class: no class named ${missing.map((l) => JSON.stringify(l)).join(', ')} in ${dir} (it holds ${
            view.activeLabels().length
              ? view
                  .activeLabels()
                  .map((l) => JSON.stringify(l))
                  .join(', ')
              : 'no classes'
          })`,
        );
    }
    const keep = (label: string) => !opts.labels || opts.labels.includes(label);
    const update: Update = {
      contributions: all.contributions.filter((c) => keep(c.label)),
      tombstones: all.tombstones.filter((t) => keep(t.label)),
      calibrations: all.calibrations,
    };
    const stats = view.memory.stats();
    const head: FleetFileHead = {
      format: 'engram-fleet-file/1',
      created: new Date().toISOString(),
      origin: device.origin,
      space: device.space,
      storeMeta: device.meta,
      coreOptions: device.member.own.options,
      classes: view.labels
        .map((label, id) => ({ label, id }))
        .filter(({ label, id }) => view.examples[id] > 0 && keep(label))
        .map(({ label, id }) => ({
          label,
          examples: view.examples[id],
          connections: view.unitLabel
            ? view.unitLabel.reduce((n, l, u) => n + (l === id ? stats.connectionsPerClass[u] : 0), 0)
            : stats.connectionsPerClass[id],
          devices: update.contributions.filter((c) => c.label === label).length,
        })),
      forgotten: update.tombstones.map((t) => t.label),
      openset: { threshold: view.threshold(), known: view.openset.known.length, novel: view.openset.novel.length },
    };
    return { bytes: encodeFleetFile({ head, sideFiles: device.sideFiles, update }), head };
  } finally {
    await device.close();
  }
}

export interface ImportResult {
  /** Whether the store was created from the file. */
  created: boolean;
  /** Classes whose memory changed. */
  changed: string[];
  /** Classes the store answers from after the import. */
  classes: string[];
}

/**
 * Merges a fleet file into a store (a join: importing twice, or files in any order, gives the same memory). A
 * store that does not exist yet is created with the file's backbone, quantizer and codebook. A file made for
 * another space is refused with every difference named.
 */
export async function importFile(dir: string, file: string, opts: { onWarning?: (m: string) => void } = {}): Promise<ImportResult> {
  const f = decodeFleetFile(await readFile(file), file);
  const created = isAbsentOrEmptyDir(dir);
  if (created) await createStore(dir, f);
  else if (!existsSync(dir)) throw new Error(`store ${dir} does not exist`);
  const joining = !existsSync(join(dir, FLEET_DIR));
  const device = await FleetDevice.open(dir, { onWarning: opts.onWarning });
  try {
    const why = spaceDifference(f.head.space, device.space, file, dir);
    if (why) {
      await device.close();
      // Refused: a store that was not a fleet member does not become one.
      if (joining) rmSync(join(dir, FLEET_DIR), { recursive: true, force: true });
      throw new Error(`${file} was made for another memory space than store ${dir}: ${why}`);
    }
    await device.absorb();
    const changed = await device.apply(f.update);
    await device.writeView(created);
    return { created, changed: [...changed].filter((l) => l !== '').sort(), classes: device.member.view().activeLabels() };
  } finally {
    await device.close();
  }
}

/** A new store made from a fleet file's metadata and side files, holding nothing yet. */
async function createStore(dir: string, f: FleetFile): Promise<void> {
  const store = await Store.open(dir);
  try {
    for (const [name, bytes] of f.sideFiles) await store.writeFile(name, bytes);
    await store.setMeta(f.head.storeMeta as unknown as Record<string, unknown>);
    await store.writeSnapshot(new LearnerCore(f.head.coreOptions).serialize(), store.lastSeq);
  } finally {
    await store.close();
  }
}
