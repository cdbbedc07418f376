// The deterministic op log the crash and corruption tests write, and the state it builds.
// Op `seq` is a pure function of seq, so the parent can rebuild the exact state any prefix of the
// log must produce and compare it with what a store recovered.
import { BinaryMemory } from '../../src/memory/binary-memory.js';
import { Rng } from '../../src/util/rng.js';

export const NEURONS = 512;
export const ACTIVE = 8;
export const ROWS = 3;
const LABELS = 6;

/** A prune by counter (connections seen fewer than `value` times go) or by fan-in (neurons kept to `value` classes). */
export type ModelPrune = { op: 'prune'; kind: 'minCount' | 'maxFanIn'; value: number };
export type ModelOp = { op: 'learn'; label: number; codes: Uint32Array } | { op: 'forget'; label: number } | ModelPrune;

/** Every PRUNE_EVERY-th op prunes, so crashes and damage also land in and after prunes. */
export const PRUNE_EVERY = 23;

export function opFor(seq: number): ModelOp {
  const rng = new Rng(seq * 2654435761);
  const label = rng.int(LABELS);
  if (seq % PRUNE_EVERY === 0)
    return (seq / PRUNE_EVERY) % 2 === 0 ? { op: 'prune', kind: 'minCount', value: 2 } : { op: 'prune', kind: 'maxFanIn', value: 3 };
  if (seq % 17 === 0) return { op: 'forget', label };
  const codes = new Uint32Array(ROWS * ACTIVE);
  for (let i = 0; i < codes.length; i++) codes[i] = rng.int(NEURONS);
  return { op: 'learn', label, codes };
}

export function encodeModelOp(op: ModelOp): Buffer {
  if (op.op === 'prune') return Buffer.from([3, op.kind === 'minCount' ? 0 : 1, op.value]);
  const buf = Buffer.alloc(2 + (op.op === 'learn' ? op.codes.length * 4 : 0));
  buf[0] = op.op === 'learn' ? 1 : 2;
  buf[1] = op.label;
  if (op.op === 'learn') op.codes.forEach((c, i) => buf.writeUInt32LE(c, 2 + 4 * i));
  return buf;
}

export function decodeModelOp(buf: Buffer): ModelOp {
  if (buf[0] === 2 && buf.length === 2) return { op: 'forget', label: buf[1] };
  if (buf[0] === 3 && buf.length === 3 && buf[1] <= 1) return { op: 'prune', kind: buf[1] === 0 ? 'minCount' : 'maxFanIn', value: buf[2] };
  if (buf[0] !== 1 || buf.length !== 2 + ROWS * ACTIVE * 4) throw new Error(`not a model op (${buf.length} bytes)`);
  const codes = new Uint32Array(ROWS * ACTIVE);
  for (let i = 0; i < codes.length; i++) codes[i] = buf.readUInt32LE(2 + 4 * i);
  return { op: 'learn', label: buf[1], codes };
}

/**
 * The state the ops build: a BinaryMemory (src/memory, the native memory the learner snapshots) with
 * 4-bit counters, so replaying an op twice or skipping one changes the bytes and the scores.
 */
export class ModelState {
  private constructor(private readonly memory: BinaryMemory) {}

  static empty(): ModelState {
    return new ModelState(new BinaryMemory({ neurons: NEURONS, active: ACTIVE, counterBits: 4, classes: LABELS }));
  }

  apply(op: ModelOp): void {
    if (op.op === 'forget') this.memory.clearClass(op.label);
    else if (op.op === 'prune') this.memory.prune(op.kind === 'minCount' ? { minCount: op.value } : { maxFanIn: op.value });
    else this.memory.store(op.codes, op.label);
  }

  serialize(): Buffer {
    return this.memory.serialize();
  }

  static deserialize(buf: Buffer): ModelState {
    return new ModelState(BinaryMemory.deserialize(buf, { active: ACTIVE }));
  }

  /** Scores of each probe code against every class, [probes x classes]. */
  scores(probes: Uint32Array): number[] {
    return Array.from(this.memory.score(probes));
  }
}

/** The state after ops 1..upto, built straight from the log. */
export function stateAfter(upto: number): ModelState {
  const s = ModelState.empty();
  for (let seq = 1; seq <= upto; seq++) s.apply(opFor(seq));
  return s;
}

/** The state a store recovered: its snapshot, then its records in order. */
export function stateFromRecovery(snapshot: Buffer | null, records: { payload: Buffer }[]): ModelState {
  const s = snapshot ? ModelState.deserialize(snapshot) : ModelState.empty();
  for (const r of records) s.apply(decodeModelOp(r.payload));
  return s;
}

export function probeCodes(count: number): Uint32Array {
  const rng = new Rng(777);
  const probes = new Uint32Array(count * ACTIVE);
  for (let i = 0; i < probes.length; i++) probes[i] = rng.int(NEURONS);
  return probes;
}
