// The learner's deterministic heart: a BinaryMemory plus the label table, refinement and open-set
// calibration. It sees only codes (never images), so replaying the journal's ops reproduces it exactly.
import type { Applied } from '../images/conventions.js';
import { BinaryMemory } from '../memory/index.js';
import { compressedBytes } from '../memory/budget.js';
import { OpenSetCalibration } from './openset.js';
import { FeatureArchive } from './archive.js';
import type { LearnerOp } from './ops.js';
import type { PrunePolicy } from './prune.js';

export interface CoreOptions {
  /** Size of the code space (quantizer neurons). */
  neurons: number;
  /** Active neurons per code. */
  active: number;
  /** Counter width beside each connection bit (0 disables counters, refinement and count pruning). */
  counterBits: 0 | 4 | 8;
  /** Refine on error at learn time: strengthen the right class, weaken a wrong winner. */
  refine: boolean;
  /** Query-time threshold: count only connections seen at least this often (1 = every connection). */
  minCount: number;
  /** Keep every learn op's feature vectors (FeatureArchive), so the codebook can be refitted later. */
  keepFeatures?: boolean;
  /**
   * What a memory column (class neuron) stands for: 'class' = one column per label, every example ORed
   * into it; 'example' = one column per stored example, read by a vote of the `vote` best columns.
   */
  units?: Units;
  /** Example units: how many best-matching columns vote for a label (weighted by their scores). */
  vote?: number;
  /**
   * How a class column is read. 'overlap' (stores before 0.2): the share of the code's active neurons
   * connected to the class. 'cosine': per code block, the cosine between the code and the class's counter
   * column (sum of the counters at the active neurons over the column's norm), blocks mixed by examples.
   */
  read?: ReadMode;
  /** Code blocks (cosine read): neuron ranges read separately; a code lists each block's k indices in turn. */
  blocks?: CodeBlock[];
  /** Cosine read: examples at which the second block weighs as much as the first (n / (n + mix)). */
  mix?: number;
}

export type ReadMode = 'overlap' | 'cosine';

export interface CodeBlock {
  begin: number;
  neurons: number;
  k: number;
}

export type Units = 'class' | 'example';

export interface ClassScore {
  label: string;
  /** Share of the code's active neurons connected to the class, 0..1. */
  score: number;
}

export interface Prediction {
  /** The best class, or null when its score is below the open-set threshold ("unknown"). */
  label: string | null;
  score: number;
  /** Best score minus the second best (0..1). */
  margin: number;
  top: ClassScore[];
  /** For an image input: the input conventions applied to it (null: none; see Backbone.embedDetailed). */
  conventions?: Applied | null;
}

export interface OpOutcome {
  stored: number;
  refined: number;
  removed: number;
}

export interface LearnOutcome {
  stored: number;
  /** Examples that were misclassified before storing and triggered refinement. */
  refined: number;
}

const SNAPSHOT_MAGIC = 'EGLS';
const SNAPSHOT_VERSION = 1;

export class LearnerCore {
  readonly memory: BinaryMemory;
  labels: string[] = [];
  /** Examples stored per class id; 0 for a forgotten class. */
  examples: number[] = [];
  openset = new OpenSetCalibration();
  /** A fixed threshold overriding calibration (null = calibrated). */
  fixedThreshold: number | null = null;
  /** Learn ops with their features, when options.keepFeatures. */
  archive: FeatureArchive | null;
  /**
   * Example units: the label id of each memory column, -1 once forgotten or evicted. Null with class units,
   * where column c is label c.
   */
  unitLabel: number[] | null;

  /** Cosine read: per class, the norm of its counter column in each block (recomputed, never stored). */
  private norms: Float64Array[] = [];

  constructor(
    readonly options: CoreOptions,
    memory?: BinaryMemory,
  ) {
    if (options.read === 'cosine') {
      const blocks = options.blocks ?? [];
      if (options.units === 'example') throw new RangeError('memory.read: the cosine read applies to class units only');
      if (options.counterBits === 0) throw new RangeError('memory.read: the cosine read needs counters (counterBits 4 or 8)');
      if (blocks.length < 1 || blocks.reduce((n, b) => n + b.k, 0) !== options.active) throw new RangeError('memory.blocks: the blocks must cover the code\'s active neurons');
    }
    this.archive = options.keepFeatures ? new FeatureArchive() : null;
    this.unitLabel = options.units === 'example' ? [] : null;
    this.memory = memory ?? new BinaryMemory({ neurons: options.neurons, counterBits: options.counterBits, active: options.active });
  }

  /** Class id of a label, or -1. */
  classOf(label: string): number {
    return this.labels.indexOf(label);
  }

  /** Active (not forgotten) labels. */
  activeLabels(): string[] {
    return this.labels.filter((_, i) => this.examples[i] > 0);
  }

  /** Applies one op (journal replay and live calls alike); a rejected op changes nothing. */
  apply(op: LearnerOp): OpOutcome {
    if (this.archive && op.op === 'learn' && !op.features) throw new RangeError('op: this learner keeps features; a learn op must carry them');
    const out: OpOutcome = { stored: 0, refined: 0, removed: 0 };
    switch (op.op) {
      case 'learn':
        Object.assign(out, this.learn(op.label, op.codes, op.rows));
        this.archive?.add(op);
        break;
      case 'forget':
        out.removed = this.forget(op.label);
        this.archive?.forget(op.label);
        this.updateAllNorms();
        break;
      case 'threshold':
        if (op.value !== null && !(op.value >= 0 && op.value <= 1)) throw new RangeError(`threshold: expected a number in [0, 1] or null, got ${op.value}`);
        this.fixedThreshold = op.value;
        break;
      case 'prune':
        out.removed = this.prune(op.policy);
        if (op.policy.kind === 'class') this.archive?.forget(op.policy.label);
        else this.archive?.add(op);
        this.updateAllNorms();
        break;
    }
    return out;
  }

  learn(label: string, codes: Uint32Array, rows: number): LearnOutcome {
    if (this.unitLabel) return this.learnExamples(this.unitLabel, label, codes, rows);
    const { active } = this.options;
    let id = this.classOf(label);
    const isNew = id < 0 || this.examples[id] === 0;
    if (id < 0) {
      id = this.memory.addClass();
      this.labels[id] = label;
      this.examples[id] = 0;
    }
    let refined = 0;
    const labels = new Uint32Array(1).fill(id);
    const cosine = this.options.read === 'cosine';
    for (let r = 0; r < rows; r++) {
      const code = codes.subarray(r * active, (r + 1) * active);
      const scores = this.labelScoresOf(code, 1);
      // Every example of a label new to the memory is, at that moment, a true "unknown" for the others. With
      // the cosine read every example is: its best score among the other classes is what an image of a
      // class the memory never saw gets, so examples arriving one at a time calibrate as batches do.
      if (isNew || cosine) {
        const other = bestOf(scores, this.examples, id);
        if (other >= 0) this.openset.observeNovel(scores[other]);
      }
      if (this.examples[id] > 0) {
        this.openset.observeKnown(scores[id]);
        const best = bestOf(scores, this.examples, -1);
        if (this.options.refine && this.options.counterBits > 0 && best >= 0 && best !== id) {
          this.memory.adjust(code, best, -1);
          this.memory.adjust(code, id, 1);
          refined++;
        }
      }
      // A counter column that reached its ceiling is halved first, so counts keep their proportions.
      if (cosine && this.memory.counterMoments(id).max >= this.memory.counterMax) this.memory.halveClass(id);
      this.memory.store(code, labels);
      this.examples[id]++;
      if (cosine) this.updateNorms(id);
    }
    return { stored: rows, refined };
  }

  /** Example units: each example gets a column of its own; the open-set statistics are kept as with classes. */
  private learnExamples(unitLabel: number[], label: string, codes: Uint32Array, rows: number): LearnOutcome {
    const { active } = this.options;
    let id = this.classOf(label);
    const isNew = id < 0 || this.examples[id] === 0;
    if (id < 0) {
      id = this.labels.length;
      this.labels[id] = label;
      this.examples[id] = 0;
    }
    for (let r = 0; r < rows; r++) {
      const code = codes.subarray(r * active, (r + 1) * active);
      if (this.memory.classCount > 0) {
        const scores = this.labelScoresOf(code, 1);
        if (isNew) {
          const other = bestOf(scores, this.examples, id);
          if (other >= 0) this.openset.observeNovel(scores[other]);
        }
        if (this.examples[id] > 0) this.openset.observeKnown(scores[id]);
      }
      const column = this.memory.addClass();
      unitLabel[column] = id;
      this.memory.store(code, Uint32Array.of(column));
      this.examples[id]++;
    }
    return { stored: rows, refined: 0 };
  }

  /**
   * Scores (0..1) per label id from one row of column scores. Class units: the column's share of the code's
   * active neurons. Example units: the sum of those shares over the label's columns among the `vote` best
   * live columns, divided by `vote` (a score-weighted k-nearest vote).
   */
  private labelScores(row: Int32Array): Float64Array {
    const { active } = this.options;
    if (this.options.read === 'cosine') throw new Error('labelScores: the cosine read scores through labelScoresOf');
    const out = new Float64Array(this.labels.length);
    const unitLabel = this.unitLabel;
    if (!unitLabel) {
      for (let c = 0; c < out.length; c++) out[c] = row[c] / active;
      return out;
    }
    const k = this.options.vote ?? 1;
    // The k best live columns, kept sorted best first (k is small).
    const best: number[] = [];
    for (let u = 0; u < row.length; u++) {
      if (unitLabel[u] < 0) continue;
      const s = row[u];
      if (best.length === k && s <= row[best[k - 1]]) continue;
      let i = best.length === k ? k - 1 : best.length;
      while (i > 0 && row[best[i - 1]] < s) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = u;
    }
    for (const u of best) out[unitLabel[u]] += row[u] / (active * k);
    return out;
  }

  /** Scores (0..1) per label id for `rows` codes: rows x labels, row-major. */
  labelScoresOf(codes: Uint32Array, rows: number): Float64Array {
    const L = this.labels.length;
    const out = new Float64Array(rows * L);
    if (this.memory.classCount === 0) return out;
    if (this.options.read !== 'cosine') {
      const scores = this.scoreCodes(codes);
      const C = this.memory.classCount;
      for (let r = 0; r < rows; r++) out.set(this.labelScores(scores.subarray(r * C, (r + 1) * C)), r * L);
      return out;
    }
    const { active } = this.options;
    const blocks = this.options.blocks!;
    const C = this.memory.classCount;
    let offset = 0;
    blocks.forEach((b, bi) => {
      const sub = new Uint32Array(rows * b.k);
      for (let r = 0; r < rows; r++) sub.set(codes.subarray(r * active + offset, r * active + offset + b.k), r * b.k);
      offset += b.k;
      const sums = this.memory.scoreCounts({ indices: sub, active: b.k });
      const qn = Math.sqrt(b.k);
      for (let c = 0; c < C; c++) {
        const n = this.examples[c];
        if (n === 0) continue;
        const norm = this.norms[c]?.[bi] ?? 0;
        const w = blocks.length === 1 ? 1 : mixWeight(bi, n, this.options.mix ?? MIX_DEFAULT);
        if (norm === 0 || w === 0) continue;
        for (let r = 0; r < rows; r++) out[r * L + c] += (w * sums[r * C + c]) / (qn * norm);
      }
    });
    return out;
  }

  /** Recomputes a class's column norms per block after its counters changed. */
  private updateNorms(id: number): void {
    const blocks = this.options.blocks!;
    this.norms[id] = Float64Array.from(blocks, (b) => (this.examples[id] > 0 ? Math.sqrt(this.memory.counterMoments(id, b.begin, b.begin + b.neurons).sumSq) : 0));
  }

  /** Cosine read: recomputes every class's norms (after a prune, a forget or a load). */
  private updateAllNorms(): void {
    if (this.options.read !== 'cosine') return;
    for (let c = 0; c < this.memory.classCount; c++) this.updateNorms(c);
  }

  predict(codes: Uint32Array, rows: number, top = 3): Prediction[] {
    const L = this.labels.length;
    const all = this.labelScoresOf(codes, rows);
    const threshold = this.threshold();
    const out: Prediction[] = [];
    for (let r = 0; r < rows; r++) {
      const row = all.subarray(r * L, (r + 1) * L);
      // The best max(top, 2) classes by insertion into a short sorted list: O(C * top), not a sort of all C.
      const keep = Math.max(top, 2);
      const ranked: ClassScore[] = [];
      const before = (a: ClassScore, b: ClassScore) => a.score > b.score || (a.score === b.score && a.label < b.label);
      for (let c = 0; c < row.length; c++) {
        if (this.examples[c] === 0) continue;
        const cand = { label: this.labels[c], score: row[c] };
        if (ranked.length === keep && !before(cand, ranked[keep - 1])) continue;
        let i = ranked.length === keep ? keep - 1 : ranked.length;
        while (i > 0 && before(cand, ranked[i - 1])) {
          ranked[i] = ranked[i - 1];
          i--;
        }
        ranked[i] = cand;
      }
      const first = ranked[0];
      const second = ranked[1];
      const score = first ? first.score : 0;
      out.push({
        label: first && score >= threshold && score > 0 ? first.label : null,
        score,
        margin: first ? score - (second ? second.score : 0) : 0,
        top: ranked.slice(0, top),
      });
    }
    return out;
  }

  forget(label: string): number {
    const id = this.classOf(label);
    if (id < 0 || this.examples[id] === 0) throw new RangeError(`label: no class named ${JSON.stringify(label)} is stored`);
    let removed = 0;
    if (this.unitLabel) {
      for (let u = 0; u < this.unitLabel.length; u++) {
        if (this.unitLabel[u] !== id) continue;
        removed += this.memory.clearClass(u);
        this.unitLabel[u] = -1;
      }
    } else {
      removed = this.memory.clearClass(id);
    }
    this.examples[id] = 0;
    return removed;
  }

  /** Entropy bound of the connection bits (what the byte budget limits), over live columns only. */
  compressedBytes(): number {
    const s = this.memory.stats();
    if (!this.unitLabel) return s.compressedBytes;
    const live = this.unitLabel.reduce((n, l) => n + (l >= 0 ? 1 : 0), 0);
    return live === 0 ? 0 : compressedBytes(this.memory.neurons, live, s.connections);
  }

  /** Why `policy` does not apply to this learner's units, or null. */
  refusePolicy(policy: PrunePolicy): string | null {
    if (!this.unitLabel) return null;
    if (policy.kind === 'count' || policy.kind === 'share' || policy.kind === 'fanin') return `policy: ${policy.kind} pruning does not apply to example units (each column holds one example); use a byte budget or forget`;
    if (policy.kind === 'budget' && policy.maxDensity !== undefined) return 'policy.maxDensity: every example unit has the same density; use policy.maxBytes with example units';
    return null;
  }

  /**
   * Example units over a byte budget: evicts the oldest column of the label holding the most columns until
   * the entropy bound fits, never a label's last column. Returns the connections removed.
   */
  private evictTo(unitLabel: number[], maxBytes: number): number {
    let removed = 0;
    const columns = new Map<number, number[]>();
    unitLabel.forEach((l, u) => {
      if (l >= 0) (columns.get(l) ?? columns.set(l, []).get(l)!).push(u);
    });
    // Connections and live columns are tracked here rather than recounted by stats() after every eviction.
    let connections = this.memory.stats().connections;
    let live = [...columns.values()].reduce((n, us) => n + us.length, 0);
    while (live > 0 && compressedBytes(this.memory.neurons, live, connections) > maxBytes) {
      let label = -1;
      for (const [l, us] of columns) if (us.length > 1 && (label < 0 || us.length > columns.get(label)!.length)) label = l;
      if (label < 0) break;
      const u = columns.get(label)!.shift()!;
      const cleared = this.memory.clearClass(u);
      removed += cleared;
      connections -= cleared;
      live--;
      unitLabel[u] = -1;
      this.examples[label]--;
    }
    return removed;
  }

  prune(policy: PrunePolicy): number {
    const refused = this.refusePolicy(policy);
    if (refused) throw new RangeError(refused);
    if (this.unitLabel && policy.kind === 'budget') return this.evictTo(this.unitLabel, policy.maxBytes ?? Infinity);
    switch (policy.kind) {
      case 'class':
        return this.forget(policy.label);
      case 'count':
        if (this.options.counterBits === 0) throw new RangeError('policy: count pruning needs counters (counterBits > 0)');
        return this.memory.prune({ minCount: policy.minCount });
      case 'share': {
        if (this.options.counterBits === 0) throw new RangeError('policy: share pruning needs counters (counterBits > 0)');
        const max = this.memory.counterMax;
        // A saturated counter stands for "at least counterMax": the threshold never asks for more.
        const minCountPerClass = Uint32Array.from(this.examples, (n) => Math.min(max, Math.max(1, Math.round(policy.share * n))));
        return this.memory.prune({ minCountPerClass });
      }
      case 'fanin':
        return this.memory.prune({ maxFanIn: policy.maxClasses });
      case 'budget': {
        let removed = 0;
        if (policy.maxDensity !== undefined) removed += this.memory.prune({ maxDensity: policy.maxDensity });
        if (policy.maxBytes !== undefined) removed += this.memory.prune({ maxBytes: policy.maxBytes });
        return removed;
      }
    }
  }

  /** Normalised threshold below which predict answers unknown. */
  threshold(): number {
    return this.fixedThreshold ?? this.openset.threshold();
  }

  private scoreCodes(codes: Uint32Array): Int32Array {
    // minCount 1 counts every connection: the plain (SIMD) kernel gives the same answer faster.
    return this.options.minCount > 1 ? this.memory.score(codes, { minCount: this.options.minCount }) : this.memory.score(codes);
  }

  serialize(): Buffer {
    const mem = this.memory.serialize();
    const archive = this.archive ? this.archive.serialize() : Buffer.alloc(0);
    const head = Buffer.from(
      JSON.stringify({
        options: this.options,
        labels: this.labels,
        examples: this.examples,
        openset: this.openset.toJSON(),
        fixedThreshold: this.fixedThreshold,
        ...(this.unitLabel ? { unitLabel: this.unitLabel } : {}),
        memoryBytes: mem.length,
        archiveBytes: archive.length,
      }),
      'utf8',
    );
    return Buffer.concat([Buffer.from(SNAPSHOT_MAGIC, 'latin1'), u32(SNAPSHOT_VERSION), u32(head.length), head, mem, archive]);
  }

  static deserialize(bytes: Uint8Array, source = 'snapshot'): LearnerCore {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length < 12 || buf.toString('latin1', 0, 4) !== SNAPSHOT_MAGIC) throw new Error(`${source}: not an engram learner snapshot`);
    const version = buf.readUInt32LE(4);
    if (version !== SNAPSHOT_VERSION) throw new Error(`${source}: learner snapshot version ${version} is not supported`);
    const n = buf.readUInt32LE(8);
    if (12 + n > buf.length) throw new Error(`${source}: truncated learner snapshot`);
    let head: {
      options: CoreOptions;
      labels: string[];
      examples: number[];
      openset: { known: number[]; novel: number[] };
      fixedThreshold: number | null;
      unitLabel?: number[];
      memoryBytes: number;
      archiveBytes: number;
    };
    try {
      head = JSON.parse(buf.toString('utf8', 12, 12 + n)) as typeof head;
    } catch {
      throw new Error(`${source}: damaged learner snapshot header`);
    }
    const memEnd = 12 + n + head.memoryBytes;
    if (!Number.isInteger(head.memoryBytes) || !Number.isInteger(head.archiveBytes) || memEnd + head.archiveBytes !== buf.length) {
      throw new Error(`${source}: truncated learner snapshot (sizes do not add up)`);
    }
    const memory = BinaryMemory.deserialize(buf.subarray(12 + n, memEnd), { active: head.options.active });
    const core = new LearnerCore(head.options, memory);
    core.labels = head.labels;
    core.examples = head.examples;
    core.openset = OpenSetCalibration.fromJSON(head.openset);
    core.fixedThreshold = head.fixedThreshold;
    if (core.archive) core.archive = FeatureArchive.deserialize(buf.subarray(memEnd), source);
    if (core.unitLabel) {
      const units = head.unitLabel;
      if (!Array.isArray(units) || units.some((l) => !Number.isInteger(l) || l < -1 || l >= core.labels.length)) throw new Error(`${source}: damaged example-unit table`);
      core.unitLabel = units;
    }
    const columns = core.unitLabel ? core.unitLabel.length : core.labels.length;
    if (memory.classCount !== columns) throw new Error(`${source}: memory has ${memory.classCount} columns, the ${core.unitLabel ? 'unit' : 'label'} table ${columns}`);
    core.updateAllNorms();
    return core;
  }
}

/** Cosine read: examples at which the white block weighs as much as the raw one (docs/learner.md). */
export const MIX_DEFAULT = 30;

/** Weight of block `block` for a class of n examples: the raw block (0) gives way to the next as n grows. */
function mixWeight(block: number, n: number, mix: number): number {
  const a = n / (n + mix);
  return block === 0 ? 1 - a : a;
}

/** The label id with the best score, skipping `exclude` and labels with no examples; -1 if none. */
function bestOf(scores: Float64Array, examples: number[], exclude: number): number {
  let id = -1;
  for (let c = 0; c < scores.length; c++) {
    if (c === exclude || examples[c] === 0) continue;
    if (id < 0 || scores[c] > scores[id]) id = c;
  }
  return id;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}
