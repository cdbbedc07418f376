// One fleet member on disk. The store directory DIR stays an ordinary learner store (learn, forget, predict
// work as before); DIR/fleet is a second store holding what the fleet shares:
//  - the device's own learning ("own core"): every learner op of DIR, replayed into a core of its own;
//  - the replicated FleetState (src/fleet/state.ts), every applied update journalled before it is acknowledged;
// and DIR's learner state is rewritten as the view of the merged state (plus this device's local policies:
// pruning and a fixed threshold are local, docs/fleet.md says why).
// Fleet journal records: 1 update (merged) | 2 own learner op (u32 learner seq + op) | 3 view written (u32 seq).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { JOURNAL_FILE, SNAPSHOT_FILE } from '../store/format.js';
import { join } from 'node:path';
import { Store } from '../store/index.js';
import { LearnerCore } from '../learner/core.js';
import { decodeOp, encodeOp, type LearnerOp } from '../learner/ops.js';
import type { Engram, FleetHost } from '../learner/engram.js';
import { isStoreFormat, journalWantsSnapshot, OP_RECORD, type StoreMeta } from '../learner/persistence.js';
import { CODEBOOK_FILE, WHITENING_FILE } from '../learner/build-quantizer.js';
import { parsePrunePolicy, type PrunePolicy } from '../learner/prune.js';
import { decodeUpdate, encodeUpdate } from './codec.js';
import type { FleetState, Update } from './state.js';
import { FleetMember } from './member.js';
import { loadOrCreateKey, type DeviceKey } from './sign.js';

export const FLEET_DIR = 'fleet';

/** A learner open in this process and the ops it committed that the device has not taken yet. */
interface Attached {
  host: FleetHost;
  queue: { seq: number; op: LearnerOp }[];
}
const UPDATE = 1;
const OWN_OP = 2;
const VIEW = 3;
const SNAPSHOT_MAGIC = 'EGFS';

/** What an update must agree on to be merged: everything that decides what a code means. */
export interface Space {
  /**
   * `mirror` only when set, and `conventions` only when off (images fed as they are: `--conventions off`, or a
   * store made before input conventions existed), so the ids of spaces made with the defaults stay what they were.
   */
  backbone: { name: string; sha256: string; dim: number; mirror?: true; conventions?: 'off' } | null;
  quantizer: Record<string, unknown>;
  codebookId: string;
  memory: { neurons: number; active: number; counterBits: number; units: string; read: string };
}

export interface FleetDeviceOptions {
  onWarning?: (message: string) => void;
}

export class FleetDevice {
  private sinceSnapshot = 0;
  private snapshotBytes = 0;
  /** learnerSignature() when this device last read or wrote the store. */
  private lastSeen = '';
  /** Operations take turns: a merge never runs between an absorbed op and the change it makes. */
  private turn: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly fleet: Store,
    readonly key: DeviceKey,
    readonly member: FleetMember,
    public absorbedSeq: number,
    readonly meta: StoreMeta,
    readonly sideFiles: Map<string, Buffer>,
    private readonly warn: (m: string) => void,
    /** Set when the device shares a learner open in this process (serve --fleet) instead of the store's files. */
    private readonly attached: Attached | null = null,
  ) {}

  get origin(): string {
    return this.key.origin;
  }

  get state(): FleetState {
    return this.member.state;
  }

  get space(): Space {
    return spaceOf(this.meta, this.member.own);
  }

  /** Short id of the space, carried by every message this device signs. */
  get spaceId(): string {
    return spaceId(this.space);
  }

  /**
   * Opens DIR as a fleet member. The first time, the device's current memory becomes its own contribution
   * (every class it holds was learned here).
   */
  static async open(dir: string, opts: FleetDeviceOptions = {}): Promise<FleetDevice> {
    const warn = opts.onWarning ?? (() => undefined);
    if (!existsSync(dir))
      throw new Error(
        `store ${dir} does not exist: learn something first, or import a fleet file into it ("engram import --store ${dir} FILE")`,
      );
    if (!existsSync(join(dir, FLEET_DIR))) await snapshotFirst(dir, warn);
    const learner = await Store.open(dir, { onWarning: warn });
    try {
      const meta = learnerMeta(learner, dir);
      const lr = learner.recovered!;
      return await FleetDevice.join(
        {
          dir,
          meta,
          readFile: (name) => learner.readFile(name),
          current: () => {
            // Adopt the learner state as it is now: replay DIR's snapshot and journal into the own core.
            if (!lr.snapshot)
              throw new Error(
                `store ${dir} has no snapshot to start the fleet from: open it once with the API and save(), or learn into it with "engram learn"`,
              );
            const own = LearnerCore.deserialize(lr.snapshot, `store ${dir} snapshot`);
            for (const r of lr.records) if (r.type === OP_RECORD) own.apply(decodeOp(r.payload));
            return { own, seq: learner.lastSeq };
          },
        },
        null,
        warn,
      );
    } finally {
      await learner.close();
    }
  }

  /**
   * Joins the learner `engram` has open to its store's fleet, in this process (`engram serve --fleet`): every op
   * it commits is taken into the device's own learning at the next step(), and step() makes it answer from the
   * merged view. Call right after Engram.open, before any change.
   */
  static async attach(engram: Engram, opts: FleetDeviceOptions & { onOp?: () => void; readOnly?: boolean } = {}): Promise<FleetDevice> {
    const warn = opts.onWarning ?? (() => undefined);
    const queue: { seq: number; op: LearnerOp }[] = [];
    await engram.fixOwnWhitening();
    const host = engram.attachFleet(
      (op, seq) => {
        queue.push({ seq, op });
        opts.onOp?.();
      },
      { readOnly: opts.readOnly },
    );
    const lastSeq = Math.max(host.snapshotSeq, ...host.pending.map((p) => p.seq));
    const device = await FleetDevice.join(
      {
        dir: host.dir,
        meta: host.meta,
        readFile: (name) => host.readFile(name),
        current: () => ({ own: LearnerCore.deserialize(host.core().serialize(), `store ${host.dir}`), seq: lastSeq }),
      },
      { host, queue },
      warn,
    );
    // What was journalled after the store's snapshot and not yet shared (a crash before the fleet took it).
    if (host.snapshotSeq > device.absorbedSeq)
      warn(
        `store ${host.dir}: a snapshot at record ${host.snapshotSeq} was written outside the fleet; changes in records ${device.absorbedSeq + 1}..${host.snapshotSeq} were not shared`,
      );
    queue.unshift(...host.pending.filter((p) => p.seq > device.absorbedSeq));
    return device;
  }

  private static async join(
    learner: {
      dir: string;
      meta: StoreMeta;
      readFile: (name: string) => Promise<Buffer | null>;
      /** The store's state now and the seq it covers: what a first join adopts as its own learning. */
      current: () => { own: LearnerCore; seq: number };
    },
    attached: Attached | null,
    warn: (m: string) => void,
  ): Promise<FleetDevice> {
    const { dir, meta } = learner;
    const fleetDir = join(dir, FLEET_DIR);
    const first = !existsSync(fleetDir);
    let fleet: Store | null = null;
    try {
      if (meta.memory.keepFeatures)
        throw new Error(`store ${dir} keeps feature vectors (--keep-features): a fleet shares codes only; use a store without them`);
      const sideFiles = new Map<string, Buffer>();
      for (const name of [WHITENING_FILE, CODEBOOK_FILE]) {
        const b = await learner.readFile(name);
        if (b) sideFiles.set(name, b);
      }
      fleet = await Store.open(fleetDir, { onWarning: warn });
      const key = await loadOrCreateKey(fleet);
      const rec = fleet.recovered;
      let member: FleetMember;
      let absorbedSeq: number;
      if (!rec?.snapshot) {
        const { own, seq } = learner.current();
        member = new FleetMember(key.origin, own);
        member.fixedThreshold = own.fixedThreshold;
        own.fixedThreshold = null;
        absorbedSeq = seq;
        await writeFleetSnapshot(fleet, absorbedSeq, member);
      } else {
        const s = readFleetSnapshot(rec.snapshot, fleetDir);
        member = new FleetMember(key.origin, s.own);
        member.prunes = s.prunes;
        member.fixedThreshold = s.fixedThreshold;
        member.pendingForgets = s.pendingForgets;
        member.merge(s.update);
        member.state.clock = Math.max(member.state.clock, s.clock);
        absorbedSeq = s.absorbedSeq;
      }
      const device = new FleetDevice(dir, fleet, key, member, absorbedSeq, meta, sideFiles, warn, attached);
      for (const r of rec?.records ?? []) device.replay(r.type, r.payload);
      fleet.releaseRecovered();
      return device;
    } catch (err) {
      await fleet?.close();
      // A store that could not join stays as it was: no half-made fleet folder.
      if (first) rmSync(fleetDir, { recursive: true, force: true });
      throw err;
    }
  }

  private replay(type: number, payload: Buffer): void {
    if (type === UPDATE) this.member.merge(decodeUpdate(payload, 'fleet journal'));
    else if (type === OWN_OP) {
      this.absorbedSeq = payload.readUInt32LE(0);
      this.member.applyOwn(decodeOp(payload.subarray(4)));
    } else if (type === VIEW) this.absorbedSeq = Math.max(this.absorbedSeq, payload.readUInt32LE(0));
    else throw new Error(`fleet journal: record of unknown type ${type}`);
  }

  /**
   * One turn of this device inside one turn of the attached learner: the learner's queued ops in, this device's
   * change out (journalled), and with `view` the learner's memory replaced by the view, so no learn lands
   * between taking the ops and answering from the view.
   */
  private attachedTurn(a: Attached, view: boolean): Promise<Update | null> {
    return this.inTurn(() =>
      a.host.inTurn(async () => {
        await this.takeQueued(a);
        const u = this.member.takeChange();
        if (u) await this.journal(u);
        if (view && this.member.viewStale) await this.replaceView(a);
        return u;
      }),
    );
  }

  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn);
    this.turn = run.catch(() => undefined);
    return run;
  }

  /**
   * Takes what was learned in DIR since the last call into the own core and returns the device's change to
   * publish (null: nothing new), journalled on stable storage before it is returned.
   */
  absorb(): Promise<Update | null> {
    if (this.attached) return this.attachedTurn(this.attached, false);
    return this.inTurn(async () => {
      // The store is only opened (and its lock taken, which a learn starting that moment would meet) when its
      // files changed since this device last looked.
      const seen = learnerSignature(this.dir);
      if (seen === this.lastSeen) {
        const u = this.member.takeChange();
        if (u) await this.journal(u);
        return u;
      }
      const learner = await Store.open(this.dir, { onWarning: this.warn });
      try {
        const rec = learner.recovered!;
        if (rec.snapshotSeq > this.absorbedSeq) {
          this.warn(
            `store ${this.dir}: a snapshot at record ${rec.snapshotSeq} was written outside the fleet; changes in records ${this.absorbedSeq + 1}..${rec.snapshotSeq} were not shared`,
          );
        }
        for (const r of rec.records) {
          if (r.seq <= this.absorbedSeq || r.type !== OP_RECORD) continue;
          const op = decodeOp(r.payload);
          const head = Buffer.alloc(4);
          head.writeUInt32LE(r.seq, 0);
          await this.fleet.append(OWN_OP, Buffer.concat([head, encodeOp(op)]));
          this.member.applyOwn(op);
          this.absorbedSeq = r.seq;
        }
      } finally {
        await learner.close();
      }
      this.lastSeen = learnerSignature(this.dir);
      const u = this.member.takeChange();
      if (u) await this.journal(u);
      return u;
    });
  }

  /** Merges an update from the fleet; resolves once it is journalled on stable storage (then ack it). */
  apply(u: Update): Promise<Set<string>> {
    return this.inTurn(async () => {
      const changed = this.member.merge(u);
      if (changed.size) await this.journal(u);
      return changed;
    });
  }

  private async journal(u: Update): Promise<void> {
    const bytes = encodeUpdate(u);
    await this.fleet.append(UPDATE, bytes);
    this.sinceSnapshot += bytes.length;
    if (journalWantsSnapshot(this.sinceSnapshot, this.snapshotBytes)) {
      this.snapshotBytes = await writeFleetSnapshot(this.fleet, this.absorbedSeq, this.member);
      this.sinceSnapshot = 0;
    }
  }

  /** Rewrites DIR's learner state as the view when it changed; false when a new local op must be absorbed first. */
  writeView(force = false): Promise<boolean> {
    const a = this.attached;
    if (a)
      return this.inTurn(() =>
        a.host.inTurn(async () => {
          if (a.queue.length) return false;
          if (!this.member.viewStale && !force) return false;
          await this.replaceView(a);
          return true;
        }),
      );
    return this.inTurn(async () => {
      if (!this.member.viewStale && !force) return false;
      const learner = await Store.open(this.dir, { onWarning: this.warn });
      try {
        // A learn that arrived since absorb() must be absorbed first, or the snapshot would hide it.
        if (learner.recovered!.records.some((r) => r.seq > this.absorbedSeq && r.type === OP_RECORD)) return false;
        await learner.writeSnapshot(this.member.view().serialize(), learner.lastSeq);
        const seq = Buffer.alloc(4);
        seq.writeUInt32LE(learner.lastSeq, 0);
        await this.fleet.append(VIEW, seq);
        this.absorbedSeq = learner.lastSeq;
        this.member.viewStale = false;
        return true;
      } finally {
        await learner.close();
        this.lastSeen = learnerSignature(this.dir);
      }
    });
  }

  /** Absorbs local changes, then writes the view: what `engram sync` does on every tick. */
  async step(): Promise<Update | null> {
    if (this.attached) return this.attachedTurn(this.attached, true);
    const u = await this.absorb();
    await this.writeView();
    return u;
  }

  /** Attached: journals and takes the ops the learner committed since the last look (inside its turn). */
  private async takeQueued(a: Attached): Promise<void> {
    while (a.queue.length) {
      const { seq, op } = a.queue[0];
      const head = Buffer.alloc(4);
      head.writeUInt32LE(seq, 0);
      await this.fleet.append(OWN_OP, Buffer.concat([head, encodeOp(op)]));
      this.member.applyOwn(op);
      this.absorbedSeq = seq;
      a.queue.shift();
    }
  }

  /** Attached, inside the learner's turn with every op taken: the learner answers from the view from now on. */
  private async replaceView(a: Attached): Promise<void> {
    const seq = await a.host.replaceCore(this.member.view());
    const b = Buffer.alloc(4);
    b.writeUInt32LE(seq, 0);
    await this.fleet.append(VIEW, b);
    this.absorbedSeq = Math.max(this.absorbedSeq, seq);
    this.member.viewStale = false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.turn;
    await this.fleet.close();
  }
  private closed = false;
}

/** Names, sizes and times of the store's journal and snapshot files: changes whenever anything is written. */
function learnerSignature(dir: string): string {
  try {
    return readdirSync(dir)
      .filter((n) => JOURNAL_FILE.test(n) || SNAPSHOT_FILE.test(n))
      .sort()
      .map((n) => {
        const st = statSync(join(dir, n));
        return `${n}:${st.size}:${st.mtimeMs}`;
      })
      .join('|');
  } catch {
    return '';
  }
}

/** A store about to join holds its state as a snapshot, so the own core can start from it. */
async function snapshotFirst(dir: string, warn: (m: string) => void): Promise<void> {
  const probe = await Store.open(dir, { onWarning: warn, readOnly: true });
  const has = probe.recovered?.snapshot !== null && probe.recovered?.snapshot !== undefined;
  const meta = probe.meta;
  await probe.close();
  if (!isStoreFormat(meta.format)) return;
  const { Engram } = await import('../learner/engram.js');
  const engram = await Engram.open({ store: dir, create: false, onWarning: warn });
  try {
    // A fleet shares one whitening: a store still fitting its own stops where it stands (and writes a snapshot).
    await engram.fixOwnWhitening();
    if (!has) await engram.save();
  } finally {
    await engram.close();
  }
}

export function spaceOf(meta: StoreMeta, core: LearnerCore): Space {
  const o = core.options;
  const { codebook: _path, ...quantizer } = meta.quantizer.options as unknown as Record<string, unknown>;
  return {
    backbone: meta.backbone
      ? {
          name: meta.backbone.name,
          sha256: meta.backbone.sha256,
          dim: meta.backbone.dim,
          ...(meta.backbone.mirror ? { mirror: true as const } : {}),
          ...((meta.backbone.conventions ?? 'off') === 'off' ? { conventions: 'off' as const } : {}),
        }
      : null,
    quantizer,
    codebookId: meta.quantizer.codebookId,
    memory: { neurons: o.neurons, active: o.active, counterBits: o.counterBits, units: o.units ?? 'class', read: o.read ?? 'overlap' },
  };
}

/** A short id of a memory space: the first 16 hex digits of the sha256 of its canonical JSON. */
export function spaceId(space: Space): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
        )
      : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(space)))
    .digest('hex')
    .slice(0, 16);
}

/** Why two spaces cannot share memories, naming every difference; null when they agree. */
export function spaceDifference(file: Space, store: Space, fileName: string, storeName: string): string | null {
  const diffs: string[] = [];
  const fb = file.backbone;
  const sb = store.backbone;
  if (
    (fb === null) !== (sb === null) ||
    (fb && sb && (fb.sha256 !== sb.sha256 || fb.dim !== sb.dim || !!fb.mirror !== !!sb.mirror || fb.conventions !== sb.conventions))
  ) {
    diffs.push(`backbone: ${describeBackbone(fb)} in ${fileName}, ${describeBackbone(sb)} in ${storeName}`);
  }
  const keys = [...new Set([...Object.keys(file.quantizer), ...Object.keys(store.quantizer)])].sort();
  for (const k of keys) {
    if (JSON.stringify(file.quantizer[k]) !== JSON.stringify(store.quantizer[k]))
      diffs.push(
        `quantizer ${k}: ${JSON.stringify(file.quantizer[k])} in ${fileName}, ${JSON.stringify(store.quantizer[k])} in ${storeName}`,
      );
  }
  if (file.codebookId !== store.codebookId)
    diffs.push(`codebook/whitening: ${file.codebookId} in ${fileName}, ${store.codebookId} in ${storeName}`);
  for (const k of Object.keys(file.memory) as (keyof Space['memory'])[]) {
    if (file.memory[k] !== store.memory[k]) diffs.push(`memory ${k}: ${file.memory[k]} in ${fileName}, ${store.memory[k]} in ${storeName}`);
  }
  return diffs.length ? diffs.join('; ') : null;
}

function describeBackbone(b: Space['backbone']): string {
  if (!b) return 'none (feature vectors)';
  const how = [
    `sha256 ${b.sha256.slice(0, 12)}`,
    `${b.dim}-d`,
    ...(b.mirror ? ['mirror features'] : []),
    `input conventions ${b.conventions ?? 'auto'}`,
  ];
  return `${b.name} (${how.join(', ')})`;
}

function learnerMeta(learner: Store, dir: string): StoreMeta {
  const m = learner.meta;
  if (!isStoreFormat(m.format)) throw new Error(`store ${dir} holds nothing yet: learn something first, or import a fleet file into it`);
  return m as unknown as StoreMeta;
}

// Fleet snapshot: 'EGFS' | u32 head bytes | head JSON | own core | state (encoded update).
async function writeFleetSnapshot(fleet: Store, absorbedSeq: number, m: FleetMember): Promise<number> {
  const core = m.own.serialize();
  const head = Buffer.from(
    JSON.stringify({
      absorbedSeq,
      prunes: m.prunes,
      fixedThreshold: m.fixedThreshold,
      pendingForgets: m.pendingForgets,
      clock: m.state.clock,
      coreBytes: core.length,
    }),
    'utf8',
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length, 0);
  const bytes = Buffer.concat([Buffer.from(SNAPSHOT_MAGIC, 'latin1'), len, head, core, encodeUpdate(m.state.all())]);
  await fleet.writeSnapshot(bytes, fleet.lastSeq);
  return bytes.length;
}

interface FleetSnapshot {
  absorbedSeq: number;
  prunes: PrunePolicy[];
  fixedThreshold: number | null;
  pendingForgets: string[];
  clock: number;
  own: LearnerCore;
  update: Update;
}

function readFleetSnapshot(bytes: Buffer, source: string): FleetSnapshot {
  if (bytes.length < 8 || bytes.toString('latin1', 0, 4) !== SNAPSHOT_MAGIC) throw new Error(`${source}: not a fleet snapshot`);
  const n = bytes.readUInt32LE(4);
  const head = JSON.parse(bytes.toString('utf8', 8, 8 + n)) as Omit<FleetSnapshot, 'own' | 'update'> & { coreBytes: number };
  const own = LearnerCore.deserialize(bytes.subarray(8 + n, 8 + n + head.coreBytes), `${source} own memory`);
  const update = decodeUpdate(bytes.subarray(8 + n + head.coreBytes), `${source} state`);
  return { ...head, prunes: head.prunes.map((p) => parsePrunePolicy(p)), own, update };
}
