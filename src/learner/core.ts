// The learner's deterministic heart: a BinaryMemory plus the label table, refinement and open-set
// calibration. It sees only codes (never images), so replaying the journal's ops reproduces it exactly.
import type { Applied } from '../images/conventions.js';
import { BinaryMemory } from '../memory/index.js';
import { MAX_CLASSES } from '../memory/codes.js';
import { CalibrationProbes, OpenSetCalibration } from './openset.js';
import { bestOf, ClassColumns, ExampleColumns } from './columns.js';
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

/** The whitening a store fits itself: the id its codes were made with; fixed once the last fit is done. */
export interface OwnWhitening {
  codebookId: string;
  fixed: boolean;
}

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
// 2: calibration probes after the archive (version 1 snapshots have none and are read as before).
const SNAPSHOT_VERSION = 2;

export class LearnerCore {
  readonly memory: BinaryMemory;
  labels: string[] = [];
  /** Examples stored per class id; 0 for a forgotten class. */
  examples: number[] = [];
  /**
   * The open-set samples as last computed; the columns observe into it while learning. Read `openset` for them
   * as the memory now is.
   */
  observed = new OpenSetCalibration();
  /**
   * A learn, prune or forget changed the memory since the samples were computed: they are computed again when
   * next read (a predict, stats, a snapshot), so a run of learns pays for one recalibration, not one each.
   */
  private stale = false;
  /** Codes of recent calibration examples, to recompute the calibration after a prune or a forget. */
  probes: CalibrationProbes;
  /** A fixed threshold overriding calibration (null = calibrated). */
  fixedThreshold: number | null = null;
  /** Learn ops with their features, when options.keepFeatures. */
  archive: FeatureArchive | null;
  /**
   * A store that fits its own whitening (docs/learner.md, "The store's own whitening"): the id of the whitening
   * the codes were made with, and whether it is final. Until it is, the archive holds every example's features,
   * so the memory can be rebuilt under a refitted whitening. Null for any other store.
   */
  ownWhitening: OwnWhitening | null = null;
  /**
   * Example units: the label id of each memory column, -1 once forgotten or evicted. Null with class units,
   * where column c is label c.
   */
  get unitLabel(): number[] | null {
    return this.columns instanceof ExampleColumns ? this.columns.unitLabel : null;
  }

  /** What a memory column stands for: one class, or one stored example (learner/columns.ts). */
  columns: ClassColumns | ExampleColumns;

  /**
   * Cosine read, per block: each class's weight (0 skips the class) and denominator (sqrt(k) times the norm of
   * its counter column in the block), kept by updateNorms so a query only multiplies and divides. Recomputed,
   * never stored.
   */
  private readWeight: Float64Array[] = [];
  private readDenominator: Float64Array[] = [];
  /** predict's scores, reused by the next call. */
  private scratch = new Float64Array(0);
  /** Cosine read: offsets splitting `rows` codes into their blocks (one scoreCounts call per query). */
  private blockOffsets: Uint32Array | null = null;

  constructor(
    readonly options: CoreOptions,
    memory?: BinaryMemory,
  ) {
    if (options.read === 'cosine') {
      const blocks = options.blocks ?? [];
      if (options.units === 'example') throw new RangeError('memory.read: the cosine read applies to class units only');
      if (options.counterBits === 0) throw new RangeError('memory.read: the cosine read needs counters (counterBits 4 or 8)');
      if (blocks.length < 1 || blocks.reduce((n, b) => n + b.k, 0) !== options.active)
        throw new RangeError("memory.blocks: the blocks must cover the code's active neurons");
    }
    this.archive = options.keepFeatures ? new FeatureArchive() : null;
    this.columns = options.units === 'example' ? new ExampleColumns(this) : new ClassColumns(this);
    this.probes = new CalibrationProbes(options.neurons);
    this.memory = memory ?? new BinaryMemory({ neurons: options.neurons, counterBits: options.counterBits, active: options.active });
  }

  /** The open-set calibration, recomputed first when the memory changed since (see recalibrate). */
  get openset(): OpenSetCalibration {
    if (this.stale) this.recalibrate();
    return this.observed;
  }

  set openset(calibration: OpenSetCalibration) {
    this.observed = calibration;
    this.stale = false;
  }

  /** Class id of a label, or -1. */
  classOf(label: string): number {
    return this.labels.indexOf(label);
  }

  /** Active (not forgotten) labels. */
  activeLabels(): string[] {
    return this.labels.filter((_, i) => this.examples[i] > 0);
  }

  /**
   * Why `op` would be refused, or null: the one place that decides whether an operation is allowed (apply
   * throws what it returns; Engram checks it before journaling, so the journal never holds a refused op).
   */
  check(op: LearnerOp): Error | null {
    switch (op.op) {
      case 'learn':
        if (this.archive && !op.features) return new RangeError('op: this learner keeps features; a learn op must carry them');
        return this.columns.refuseLearn(op.label, op.rows);
      case 'forget':
        return this.checkStored(op.label);
      case 'threshold':
        return op.value === null || (typeof op.value === 'number' && op.value >= 0 && op.value <= 1)
          ? null
          : new RangeError(`threshold: expected a number in [0, 1] or null (calibrated), got ${String(op.value)}`);
      case 'prune':
        return this.checkPolicy(op.policy);
    }
  }

  /** Why `policy` cannot apply to this learner (its units, its counters, its classes), or null. */
  checkPolicy(policy: PrunePolicy): Error | null {
    const refused = this.columns.refusePolicy(policy);
    if (refused) return refused;
    switch (policy.kind) {
      case 'class':
        return this.checkStored(policy.label);
      case 'count':
      case 'share':
        return this.options.counterBits === 0 ? new RangeError(`policy: ${policy.kind} pruning needs counters (counterBits > 0)`) : null;
      case 'fanin':
        return policy.maxClasses > MAX_CLASSES
          ? new RangeError(`policy.maxClasses: expected an integer <= ${MAX_CLASSES}, got number ${policy.maxClasses}`)
          : null;
      case 'budget':
        return null;
    }
  }

  private checkStored(label: string): Error | null {
    const id = this.classOf(label);
    return id >= 0 && this.examples[id] > 0 ? null : new RangeError(`label: no class named ${JSON.stringify(label)} is stored`);
  }

  /** Applies one op (journal replay and live calls alike); a refused op (see check) changes nothing. */
  apply(op: LearnerOp): OpOutcome {
    const refused = this.check(op);
    if (refused) throw refused;
    const out: OpOutcome = { stored: 0, refined: 0, removed: 0 };
    switch (op.op) {
      case 'learn':
        Object.assign(out, this.learn(op.label, op.codes, op.rows));
        this.archive?.add(op);
        break;
      case 'forget':
        out.removed = this.forget(op.label);
        this.archive?.forget(op.label);
        break;
      case 'threshold':
        this.fixedThreshold = op.value;
        break;
      case 'prune':
        out.removed = this.prune(op.policy);
        if (op.policy.kind === 'class') this.archive?.forget(op.policy.label);
        else this.archive?.add(op);
        break;
    }
    return out;
  }

  /** Learns `rows` codes as examples of `label` (a new label becomes a new class). */
  learn(label: string, codes: Uint32Array, rows: number): LearnOutcome {
    let id = this.classOf(label);
    const isNew = id < 0 || this.examples[id] === 0;
    if (id < 0) {
      id = this.columns.newLabel();
      this.labels[id] = label;
      this.examples[id] = 0;
    }
    const outcome = this.columns.learn(id, isNew, codes, rows);
    // The samples observed while learning were scored against the memory as it was then (a class of one or two
    // examples gives its next example a low known score); scored again against the memory as it is now, known
    // samples match what held-out images of the class score (measured: 0.795 against 0.802 on Fashion photos).
    this.stale = true;
    return outcome;
  }

  /** Scores (0..1) per label id for `rows` codes: rows x labels, row-major. */
  labelScoresOf(codes: Uint32Array, rows: number): Float64Array {
    return this.scoresInto(codes, rows, new Float64Array(rows * this.labels.length));
  }

  /** labelScoresOf into `out` (rows x labels, zeroed by the caller). */
  private scoresInto(codes: Uint32Array, rows: number, out: Float64Array): Float64Array {
    const L = this.labels.length;
    if (this.memory.classCount === 0) return out;
    if (this.options.read !== 'cosine') {
      const scores = this.scoreCodes(codes);
      const C = this.memory.classCount;
      for (let r = 0; r < rows; r++) out.set(this.columns.labelScores(scores.subarray(r * C, (r + 1) * C)), r * L);
      return out;
    }
    const { active } = this.options;
    const B = this.options.blocks!.length;
    const C = this.memory.classCount;
    // One call sums every block of every row: a code lists each block's k indices in turn, so offsets split it.
    const sums = this.memory.scoreCounts({ indices: codes.subarray(0, rows * active), offsets: this.offsetsFor(rows) });
    for (let bi = 0; bi < B; bi++) {
      const weight = this.readWeight[bi];
      const denominator = this.readDenominator[bi];
      if (!weight) continue; // no class has examples yet
      const classes = Math.min(C, weight.length);
      for (let c = 0; c < classes; c++) {
        const w = weight[c];
        if (w === 0) continue;
        const d = denominator[c];
        for (let r = 0; r < rows; r++) out[r * L + c] += (w * sums[(r * B + bi) * C + c]) / d;
      }
    }
    return out;
  }

  /** Offsets of `rows` codes cut into their blocks: rows x blocks codes for scoreCounts. */
  private offsetsFor(rows: number): Uint32Array {
    const blocks = this.options.blocks!;
    if (this.blockOffsets?.length === rows * blocks.length + 1) return this.blockOffsets;
    const offsets = new Uint32Array(rows * blocks.length + 1);
    let at = 0;
    for (let r = 0; r < rows; r++) blocks.forEach((b, bi) => (offsets[r * blocks.length + bi + 1] = at += b.k));
    this.blockOffsets = offsets;
    return offsets;
  }

  /**
   * Recomputes a class's column norms per block after its counters or its examples changed (the cosine read),
   * and with them the class's weight and denominator in each block (weight 0: the class is not read).
   */
  updateNorms(id: number): void {
    const blocks = this.options.blocks!;
    const n = this.examples[id];
    blocks.forEach((b, bi) => {
      const norm = n > 0 ? Math.sqrt(this.memory.counterMoments(id, b.begin, b.begin + b.neurons).sumSq) : 0;
      const w = blocks.length === 1 ? 1 : mixWeight(bi, n, this.options.mix ?? MIX_DEFAULT);
      this.readWeight[bi] = grown(this.readWeight[bi], id);
      this.readDenominator[bi] = grown(this.readDenominator[bi], id);
      this.readWeight[bi][id] = n === 0 || norm === 0 ? 0 : w;
      this.readDenominator[bi][id] = Math.sqrt(b.k) * norm;
    });
  }

  /** Cosine read: recomputes every class's norms (after a prune, a forget or a load). */
  private updateAllNorms(): void {
    if (this.options.read !== 'cosine') return;
    for (let c = 0; c < this.memory.classCount; c++) this.updateNorms(c);
  }

  predict(codes: Uint32Array, rows: number, top = 3): Prediction[] {
    const L = this.labels.length;
    // Scores go into a buffer kept between calls (a query allocates no array of the class count).
    if (this.scratch.length < rows * L) this.scratch = new Float64Array(Math.max(rows * L, 2 * this.scratch.length));
    const all = this.scoresInto(codes, rows, this.scratch.fill(0, 0, rows * L));
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
        // Most classes do not make the list: test the score before making a candidate (as before() would).
        if (ranked.length === keep) {
          const last = ranked[keep - 1];
          if (!(row[c] > last.score || (row[c] === last.score && this.labels[c] < last.label))) continue;
        }
        const cand = { label: this.labels[c], score: row[c] };
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

  /** Removes a class and its connections; the calibration follows. Returns the connections removed. */
  forget(label: string): number {
    const refused = this.checkStored(label);
    if (refused) throw refused;
    const removed = this.clearLabel(this.classOf(label));
    this.memoryChanged();
    return removed;
  }

  private clearLabel(id: number): number {
    const removed = this.columns.clear(id);
    this.examples[id] = 0;
    this.probes.unstoreLabel(id);
    return removed;
  }

  /** After connections went away: the cosine read's norms and the open-set calibration follow the memory. */
  private memoryChanged(): void {
    this.updateAllNorms();
    this.stale = true;
  }

  /** Entropy bound of the connection bits (what the byte budget limits), over live columns only. */
  compressedBytes(): number {
    return this.columns.compressedBytes();
  }

  /** Applies a prune policy (refused as checkPolicy says); the calibration follows. Returns the connections removed. */
  prune(policy: PrunePolicy): number {
    const refused = this.checkPolicy(policy);
    if (refused) throw refused;
    const removed = this.pruneMemory(policy);
    this.memoryChanged();
    return removed;
  }

  private pruneMemory(policy: PrunePolicy): number {
    if (this.columns instanceof ExampleColumns && policy.kind === 'budget') return this.columns.evictTo(policy.maxBytes ?? Infinity);
    switch (policy.kind) {
      case 'class':
        return this.clearLabel(this.classOf(policy.label));
      case 'count':
        return this.memory.prune({ minCount: policy.minCount });
      case 'share': {
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

  /**
   * Recomputes the open-set calibration from the kept probes against the memory as it is now (after a prune or
   * a forget changed what scores look like). A novel sample is a probe's best score among the other live
   * labels; a known sample its score on its own label as if it had never been stored (leave-one-out): with
   * counters its own counts are taken away from the column (cosine: sums and norm exactly; overlap: connections
   * seen by at least one other example), with example units its own column is left out. Without counters a
   * stored example cannot be taken away, so class units without counters keep their known samples.
   */
  recalibrate(): void {
    this.stale = false;
    const probes = this.probes.probes;
    if (probes.length === 0) return;
    const { active } = this.options;
    const rows = probes.length;
    const L = this.labels.length;
    const codes = this.probes.codes(active);
    const scores = this.labelScoresOf(codes, rows);
    const cosine = this.options.read === 'cosine';
    const novel: number[] = [];
    const known: number[] = [];
    const loo = this.heldOutScores(codes, rows);
    probes.forEach((p, r) => {
      const row = scores.subarray(r * L, (r + 1) * L);
      if (p.novel || cosine) {
        const other = bestOf(row, this.examples, p.label);
        if (other >= 0) novel.push(row[other]);
      }
      if ((p.known || cosine) && this.examples[p.label] > 0 && loo) {
        const s = p.column < 0 ? row[p.label] : loo(r, p);
        if (s !== null) known.push(s);
      }
    });
    this.observed.replace(loo ? known : this.observed.known, novel);
  }

  /** Leave-one-out scorer of stored probes on their own label, or null where none can be computed. */
  private heldOutScores(codes: Uint32Array, rows: number): ((r: number, p: { label: number; column: number }) => number | null) | null {
    const { active } = this.options;
    const columns = this.columns;
    if (columns instanceof ExampleColumns) {
      const C = this.memory.classCount;
      const all = this.scoreCodes(codes);
      return (r, p) => columns.labelScores(all.subarray(r * C, (r + 1) * C), p.column)[p.label];
    }
    if (this.options.counterBits === 0) return null;
    if (this.options.read !== 'cosine') {
      const counted = this.memory.score(codes, { minCount: this.options.minCount + 1 });
      const C = this.memory.classCount;
      return (r, p) => counted[r * C + p.label] / active;
    }
    const blocks = this.options.blocks!;
    const C = this.memory.classCount;
    // Per block: counter sums and connections present at each probe's neurons, per class.
    let offset = 0;
    const perBlock = blocks.map((b) => {
      const sub = new Uint32Array(rows * b.k);
      for (let r = 0; r < rows; r++) sub.set(codes.subarray(r * active + offset, r * active + offset + b.k), r * b.k);
      offset += b.k;
      return { sums: this.memory.scoreCounts({ indices: sub, active: b.k }), present: this.memory.score({ indices: sub, active: b.k }) };
    });
    const moments = new Map<number, { sum: number; sumSq: number }[]>();
    return (r, p) => {
      const n = this.examples[p.label] - 1;
      if (n < 1) return null;
      let m = moments.get(p.label);
      if (!m) moments.set(p.label, (m = blocks.map((b) => this.memory.counterMoments(p.label, b.begin, b.begin + b.neurons))));
      let score = 0;
      blocks.forEach((b, bi) => {
        const i = r * C + p.label;
        const sum = perBlock[bi].sums[i];
        const present = perBlock[bi].present[i];
        // Taking one count away from each counter this example set: (c - 1)^2 = c^2 - 2c + 1.
        const sq = m[bi].sumSq - 2 * sum + present;
        const w = blocks.length === 1 ? 1 : mixWeight(bi, n, this.options.mix ?? MIX_DEFAULT);
        if (sq > 0 && w > 0) score += (w * (sum - present)) / (Math.sqrt(b.k) * Math.sqrt(sq));
      });
      return score;
    };
  }

  /** Normalised threshold below which predict answers unknown. */
  threshold(): number {
    return this.fixedThreshold ?? this.openset.threshold();
  }

  scoreCodes(codes: Uint32Array): Int32Array {
    // minCount 1 counts every connection: the plain (SIMD) kernel gives the same answer faster.
    return this.options.minCount > 1 ? this.memory.score(codes, { minCount: this.options.minCount }) : this.memory.score(codes);
  }

  serialize(): Buffer {
    const mem = this.memory.serialize();
    const archive = this.archive ? this.archive.serialize() : Buffer.alloc(0);
    const probes = this.probes.serialize();
    const head = Buffer.from(
      JSON.stringify({
        options: this.options,
        labels: this.labels,
        examples: this.examples,
        openset: this.openset.toJSON(),
        fixedThreshold: this.fixedThreshold,
        ...(this.unitLabel ? { unitLabel: this.unitLabel } : {}),
        ...(this.ownWhitening ? { ownWhitening: this.ownWhitening } : {}),
        memoryBytes: mem.length,
        archiveBytes: archive.length,
        probes: probes.meta,
        probeBytes: probes.bytes.length,
      }),
      'utf8',
    );
    return Buffer.concat([
      Buffer.from(SNAPSHOT_MAGIC, 'latin1'),
      u32(SNAPSHOT_VERSION),
      u32(head.length),
      head,
      mem,
      archive,
      probes.bytes,
    ]);
  }

  static deserialize(bytes: Uint8Array, source = 'snapshot'): LearnerCore {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length < 12 || buf.toString('latin1', 0, 4) !== SNAPSHOT_MAGIC) throw new Error(`${source}: not an engram learner snapshot`);
    const version = buf.readUInt32LE(4);
    if (version !== SNAPSHOT_VERSION && version !== 1) throw new Error(`${source}: learner snapshot version ${version} is not supported`);
    const n = buf.readUInt32LE(8);
    if (12 + n > buf.length) throw new Error(`${source}: truncated learner snapshot`);
    let head: {
      options: CoreOptions;
      labels: string[];
      examples: number[];
      openset: { known: number[]; novel: number[] };
      fixedThreshold: number | null;
      unitLabel?: number[];
      ownWhitening?: OwnWhitening;
      memoryBytes: number;
      archiveBytes: number;
      probes?: unknown;
      probeBytes?: number;
    };
    try {
      head = JSON.parse(buf.toString('utf8', 12, 12 + n)) as typeof head;
    } catch {
      throw new Error(`${source}: damaged learner snapshot header`);
    }
    const memEnd = 12 + n + head.memoryBytes;
    const probeBytes = version === 1 ? 0 : head.probeBytes;
    const archiveEnd = memEnd + head.archiveBytes;
    if (
      !Number.isInteger(head.memoryBytes) ||
      !Number.isInteger(head.archiveBytes) ||
      !Number.isInteger(probeBytes) ||
      archiveEnd + probeBytes! !== buf.length
    ) {
      throw new Error(`${source}: truncated learner snapshot (sizes do not add up)`);
    }
    const memory = BinaryMemory.deserialize(buf.subarray(12 + n, memEnd), { active: head.options.active });
    const core = new LearnerCore(head.options, memory);
    core.labels = head.labels;
    core.examples = head.examples;
    core.openset = OpenSetCalibration.fromJSON(head.openset);
    core.fixedThreshold = head.fixedThreshold;
    if (head.ownWhitening !== undefined) {
      const w = head.ownWhitening;
      if (typeof w?.codebookId !== 'string' || typeof w.fixed !== 'boolean' || (!w.fixed && !core.archive))
        throw new Error(`${source}: damaged whitening record (a store still fitting its whitening keeps its features)`);
      core.ownWhitening = { codebookId: w.codebookId, fixed: w.fixed };
    }
    if (core.archive) core.archive = FeatureArchive.deserialize(buf.subarray(memEnd, archiveEnd), source);
    if (version > 1)
      core.probes = CalibrationProbes.deserialize(head.options.neurons, head.options.active, head.probes, buf.subarray(archiveEnd), source);
    if (core.columns instanceof ExampleColumns) {
      const units = head.unitLabel;
      if (!Array.isArray(units) || units.some((l) => !Number.isInteger(l) || l < -1 || l >= core.labels.length))
        throw new Error(`${source}: damaged example-unit table`);
      core.columns.unitLabel = units;
    }
    const columns = core.columns.columnCount();
    if (memory.classCount !== columns)
      throw new Error(
        `${source}: memory has ${memory.classCount} columns, the ${core.columns.kind === 'example' ? 'unit' : 'label'} table ${columns}`,
      );
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

/** `a` (a new array when undefined), grown by doubling until index `id` fits; new entries are 0. */
function grown(a: Float64Array | undefined, id: number): Float64Array {
  if (a && id < a.length) return a;
  let size = Math.max(16, a?.length ?? 0);
  while (size <= id) size *= 2;
  const out = new Float64Array(size);
  if (a) out.set(a);
  return out;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}
