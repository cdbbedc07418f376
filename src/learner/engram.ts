// Engram: the learner users touch. Images (or feature vectors) in, classes learned incrementally,
// predictions out. Composes a backbone (images -> features), a quantizer (features -> sparse codes),
// the learner core (codes -> binary associative memory) and, for a store directory, durable persistence.
import { isAbsentOrEmptyDir, removeCreatedStore } from '../store/fresh.js';
import { LearnerCore, type Prediction } from './core.js';
import type { CalibrationRule } from './openset.js';
import { decodeOp, encodeOp, isPlainLearn, type LearnerOp } from './ops.js';
import { parsePrunePolicy, type PrunePolicy } from './prune.js';
import { parseMemoryOptions, parseQuantizerOptions, type MemoryOptions, type QuantizerOptions, type ResolvedQuantizer } from './config.js';
import { buildQuantizer, whiteLayoutId, coreReadOptions, rawSparse, withWhitening, type QuantizerState } from './build-quantizer.js';
import {
  CALIBRATION_ROWS,
  calibratesOwnWhitening,
  centres,
  fitDue,
  fitOwnWhitening,
  keptRows,
  nextFitAfter,
  ownLayout,
  rebuildCore,
} from './own-whitening.js';
import { SparseQuantizer } from '../quantize/sparse.js';
import { openBackbone, type BackboneHandle } from './backbone-ref.js';
import { deviceFor, profileBackbone } from './device.js';
import { checkSameBackbone, checkSameMemory, checkSameQuantizer, resolveConventions, resolveMirror, withoutPath } from './store-compat.js';
import { budgetOf, budgetPrune, type MemoryBudget } from './budget.js';
import { evaluate, type EvalItem, type EvalReport, type EvaluateOptions } from './evaluate.js';
import { openPersistence, storeFormatFor, type JournalState, type Persistence, type StoreMeta } from './persistence.js';
import type { Quantizer } from '../quantize/quantizer.js';
import type { Applied, PreparedImage } from '../backbone/index.js';
import { int, num, options, str, typeError } from '../util/validate.js';
import { checkLabel } from '../util/label.js';
import type { RawImage } from '../images/decode.js';

export type { Prediction } from './core.js';
export type { JournalState } from './persistence.js';

export type { RawImage };

/** An image file path, encoded image bytes, raw pixels, or a feature vector of the backbone's dimension. */
export type Input = string | Uint8Array | RawImage | Float32Array;

export interface EngramOptions {
  /** Store directory; omitted for an in-memory learner (Engram.memory). */
  store?: string;
  /** Catalogue name, manifest path or .onnx path; null for a learner fed feature vectors only. Default: the embedded backbone. */
  backbone?: string | null;
  quantizer?: QuantizerOptions;
  memory?: MemoryOptions;
  /**
   * Device profile (a name in devices/, or a profile .json file) for threads, execution providers, the default
   * backbone of a new learner and the memory budget. Default: the profile detected for this machine.
   */
  profile?: string;
  /** strict: acknowledge only after fsync (default); batched: group commit. */
  durability?: 'strict' | 'batched';
  /** batched: group-commit interval in ms (1..60000, default 100): the most a power cut can take. */
  batchMs?: number;
  /** Called with notes a user should see (recovered from a damaged snapshot, provider fallback, ...). */
  onWarning?: (message: string) => void;
  /** Called with notes for people that are not warnings (which execution provider runs the backbone and why). */
  onInfo?: (message: string) => void;
  /** Open the store without taking its lock; learn, forget, prune and save are refused. */
  readOnly?: boolean;
  /** Create the store if it does not exist (default true); false makes a missing store an error. */
  create?: boolean;
  /**
   * Open a store whose journal is damaged where the state needs it by keeping the history before the damage:
   * later records are given up, the damaged files are set aside as *.damaged, and onWarning says what was lost.
   * Only on the user's word (the CLI: engram repair); without it such a store is refused.
   */
  salvage?: boolean;
  /**
   * 'auto' (default for a new store): images get the backbone manifest's input conventions (inverted to the
   * model's polarity, strokes framed as its training images were); 'off': images are fed as they are. A store
   * keeps the choice it was made with (stores made before conventions existed: 'off') and refuses the other.
   */
  conventions?: 'auto' | 'off';
  /**
   * true: each image is embedded with its left-right mirror and the two features averaged (two backbone runs per
   * image; on Split-CIFAR-10 about a point of top-1, docs/learner.md). Default false. A store keeps the choice it was
   * made with and refuses the other.
   */
  mirror?: boolean;
}

export interface EngramStats {
  classes: number;
  labels: string[];
  examples: Record<string, number>;
  /** Bytes the memory holds in RAM (bits and counters, class capacity included). */
  bytes: number;
  /** Entropy bound of the connection bits: what the memory's knowledge needs at the least. */
  compressedBytes: number;
  /** What the memory's columns stand for: one per label, or one per stored example (and how many vote). */
  units: { kind: 'class'; columns: number } | { kind: 'example'; columns: number; vote: number };
  /** Bytes of the memory as saved (connection bits and counters of the classes in use). */
  serializedBytes: number;
  connections: number;
  density: number;
  neurons: number;
  active: number;
  threshold: number;
  /** 'fixed' (engram threshold --set, memory.unknownThreshold) or 'calibrated' while learning. */
  thresholdSource: 'fixed' | 'calibrated';
  /**
   * Scores the calibration holds: of known examples and of novel ones (the last 512 of each), and how the
   * threshold was cut from them (learner/openset.ts).
   */
  calibration: { known: number; novel: number; rule: CalibrationRule };
  backbone: string | null;
  /** Whether each image is embedded with its left-right mirror (options.mirror). */
  mirror: boolean;
  quantizer: QuantizerState;
  /** The device profile's memory budget (compressed bytes) this learner keeps to, null without a profile. */
  budget: MemoryBudget | null;
  /**
   * The store's own whitening (docs/learner.md), null for a store that does not fit one: the examples its
   * current fit saw (0: none yet), whether that fit is a centring only (too few examples, or too little spread
   * within labels, for a whitening), the examples whose features it keeps, and when the next fit comes (null:
   * the fit is final and no features are kept for it).
   */
  ownWhitening: { fittedOn: number; centred: boolean; keptExamples: number; nextFitAt: number | null } | null;
}

export type { MemoryBudget } from './budget.js';

export interface LearnResult {
  label: string;
  stored: number;
  refined: number;
  classes: number;
  /** The journal record of this learn (0 in memory), for whenDurable. */
  seq: number;
  /** Set when this learn took the memory over the budget and it was pruned back to it. */
  pruned?: { removed: number; compressedBytes: number; budget: MemoryBudget };
}

const OPTION_KEYS = [
  'store',
  'backbone',
  'quantizer',
  'memory',
  'profile',
  'durability',
  'batchMs',
  'onWarning',
  'onInfo',
  'create',
  'readOnly',
  'salvage',
  'conventions',
  'mirror',
] as const;

/**
 * The fleet's handle on an open learner (src/fleet/device.ts, `engram serve --fleet`): the fleet reads every op
 * this learner commits and replaces the memory it answers from with the fleet's merged view, in the same process.
 */
export interface FleetHost {
  readonly dir: string;
  readonly meta: StoreMeta;
  /** The memory this learner answers from now. */
  core(): LearnerCore;
  /** Ops journalled after the store's snapshot (what opening the store replayed), with their seqs. */
  readonly pending: { seq: number; op: LearnerOp }[];
  /** The journal seq the store's snapshot covers. */
  readonly snapshotSeq: number;
  readFile(name: string): Promise<Buffer | null>;
  /** Runs `fn` between ops: no learn, forget or prune is journalled or applied meanwhile. */
  inTurn<T>(fn: () => Promise<T>): Promise<T>;
  /** Only inside inTurn: answers from `core` from now on and snapshots it as the state after the last op; returns that seq. */
  replaceCore(core: LearnerCore): Promise<number>;
}

export class Engram {
  private closed = false;
  /** Set by attachFleet: called with every op once it is journalled and applied. */
  private onOp: ((op: LearnerOp, seq: number) => void) | null = null;
  /** Ops committed since open (attachFleet must come first). */
  private commits = 0;
  /** A read-only fleet member: its store takes the fleet's changes, the learner none of its own. */
  private fleetReadOnly = false;
  /** Ops journal and apply one at a time, in journal order (see commit). */
  private turn: Promise<unknown> = Promise.resolve();
  /** The journal seq the in-memory state includes (what a snapshot of it covers). */
  private appliedSeq = 0;

  /** The quantizer options this learner was opened with (for the store's own whitening). */
  private qopts: ResolvedQuantizer | null = null;
  /** Whether the store keeps every example's features for good (memory.keepFeatures). */
  private keepFeatures = false;

  private constructor(
    public core: LearnerCore,
    public quantizer: Quantizer,
    public quantizerState: QuantizerState,
    private readonly backbone: BackboneHandle | null,
    private readonly persistence: Persistence | null,
    /** What the store records about how it was built (null in memory). */
    public storeMeta: StoreMeta | null,
    readonly readOnly: boolean,
    readonly budget: MemoryBudget | null,
  ) {}

  /**
   * Opens (or creates) a learner persisted in a store directory.
   * @example
   * const e = await Engram.open({ store: './mem' });                        // the embedded backbone
   * const p = await Engram.open({ store: './mem', backbone: 'mobilenetv2-12-int8', readOnly: true });
   * @throws {TypeError | RangeError} an option of the wrong type or out of range, naming it (`opts.batchMs: ...`).
   * @throws {StoreError} `ELOCKED` when another process holds the store, `ENOSTORE` for a missing store opened
   *   read-only or with `create: false`, `ECORRUPT` for damage recovery may not skip (see `salvage`),
   *   `EVERSION` for a store written by a newer engram.
   * @throws {Error} a backbone or quantizer other than the store's, or a backbone that is not installed
   *   (the message says `engram models pull ...`).
   */
  static async open(opts: EngramOptions): Promise<Engram> {
    const o = options('options', opts, OPTION_KEYS);
    const store = str('options.store', o.store, { nonEmpty: true });
    return Engram.create({ ...opts, store });
  }

  /**
   * An in-memory learner: nothing is written to disk.
   * @example
   * const e = await Engram.memory({ backbone: null, quantizer: { kind: 'topk', dim: 64, k: 8 } });  // fed feature vectors
   * @throws {TypeError | RangeError} an option of the wrong type or out of range, naming it.
   */
  static async memory(opts: Omit<EngramOptions, 'store' | 'durability' | 'batchMs' | 'create'> = {}): Promise<Engram> {
    const o = options('options', opts, OPTION_KEYS);
    if (o.store !== undefined) throw new RangeError('options.store: Engram.memory keeps nothing on disk; use Engram.open for a store');
    return Engram.create(opts);
  }

  private static async create(opts: EngramOptions): Promise<Engram> {
    const warn = opts.onWarning ?? (() => {});
    const batchMs = opts.batchMs === undefined ? undefined : int('options.batchMs', opts.batchMs, 1, 60_000);
    if (batchMs !== undefined && opts.durability !== 'batched')
      throw new RangeError(
        `options.batchMs: only applies with durability 'batched', got durability ${JSON.stringify(opts.durability ?? 'strict')}`,
      );
    if (opts.salvage !== undefined && typeof opts.salvage !== 'boolean') throw typeError('options.salvage', 'a boolean', opts.salvage);
    // A store this call creates is removed again if opening it fails: a failed first learn leaves nothing.
    const fresh = opts.store !== undefined && isAbsentOrEmptyDir(opts.store);
    const persistence = opts.store
      ? await openPersistence(opts.store, {
          durability: opts.durability ?? 'strict',
          batchMs,
          create: (opts.create ?? true) && !opts.readOnly,
          readOnly: opts.readOnly ?? false,
          salvage: opts.salvage ?? false,
          onWarning: warn,
        })
      : null;
    try {
      const meta = persistence?.meta ?? null;
      const device = await deviceFor(opts.profile, warn);
      const wantBackbone = opts.backbone !== undefined;
      // An existing store keeps its backbone; a new learner takes the device profile's.
      const backboneRef = wantBackbone ? (opts.backbone ?? null) : meta ? (meta.backbone?.ref ?? null) : profileBackbone(device, warn);
      const conventions = resolveConventions(opts.conventions, meta, opts.store);
      const mirror = resolveMirror(opts.mirror, meta, opts.store);
      const backbone =
        backboneRef === null
          ? null
          : await openBackbone(backboneRef, { session: device.session, onInfo: opts.onInfo, onWarning: warn, conventions, mirror });
      if (meta) checkSameBackbone(meta, backbone, opts.store!);
      if (mirror && !backbone) throw new Error('options.mirror: mirror features need a backbone (this learner takes feature vectors)');
      // A stroke model (its manifest names the ink's polarity) reads digits and writing, which a mirror changes.
      if (mirror && !meta && backbone?.manifest.polarity !== undefined)
        warn(
          `mirror features: backbone ${backbone.name} is made for strokes (digits, symbols, writing), which mean something else in a mirror; --mirror is for photos`,
        );

      // A store's quantizer options are recorded without the codebook's path: the codebook itself is kept in the store.
      const qopts: ResolvedQuantizer =
        meta && opts.quantizer === undefined ? meta.quantizer.options : parseQuantizerOptions(opts.quantizer ?? {});
      if (meta && opts.quantizer !== undefined) checkSameQuantizer(meta, qopts, opts.store!);
      const dim = backbone ? backbone.dim : qopts.dim;
      if (dim === undefined) throw new RangeError('quantizer.dim: a learner without a backbone needs the feature dimension');
      if (backbone && qopts.dim !== undefined && qopts.dim !== backbone.dim) {
        throw new RangeError(`quantizer.dim: the backbone gives ${backbone.dim}-d features, got number ${qopts.dim}`);
      }
      let { quantizer, state } = await buildQuantizer(qopts, dim, backbone, persistence, meta?.quantizer.codebookId ?? null);

      const mem = parseMemoryOptions(meta && opts.memory === undefined ? meta.memory : (opts.memory ?? {}), qopts.kind);
      if (meta && opts.memory !== undefined) checkSameMemory(meta, mem, opts.store!);
      let core: LearnerCore;
      if (persistence?.snapshot) {
        core = LearnerCore.deserialize(persistence.snapshot, `store ${opts.store} snapshot`);
      } else {
        // A store that will fit its own whitening keeps its examples' features until the fit is final.
        // (Not a store whose journal already holds learns without features: a fleet member's, or an older engram's.)
        const calibrate =
          calibratesOwnWhitening(qopts, quantizer, mem) &&
          (!meta || meta.quantizer.codebookId === state.codebookId) &&
          !(persistence?.records ?? []).some(isPlainLearn);
        core = new LearnerCore({
          neurons: quantizer.neurons,
          active: quantizer.active,
          counterBits: mem.counterBits,
          refine: mem.refine,
          minCount: mem.minCount,
          keepFeatures: mem.keepFeatures || calibrate,
          units: mem.units,
          vote: mem.vote,
          ...coreReadOptions(quantizer, mem),
        });
        if (calibrate) core.ownWhitening = { codebookId: state.codebookId, fixed: false };
      }
      if (mem.unknownThreshold !== undefined) core.fixedThreshold = mem.unknownThreshold;
      for (const rec of persistence?.records ?? []) core.apply(decodeOp(rec));
      // A fit of the store's own whitening that a crash interrupted. The whitening file, the snapshot and the
      // metadata are written in that order: a snapshot newer than the metadata names the whitening it was coded
      // with, which is then the file's; a file newer than the snapshot is taken by rebuilding the memory from
      // the features it keeps (docs/learner.md).
      let reconciled = false;
      const own = core.ownWhitening;
      if (own && own.codebookId !== state.codebookId) {
        const again = await buildQuantizer(qopts, dim, backbone, persistence, own.codebookId);
        if (again.state.codebookId === own.codebookId) {
          ({ quantizer, state } = again);
        } else if (core.archive && !own.fixed) {
          const w = quantizer instanceof SparseQuantizer ? quantizer.whitening : null;
          const fixed = nextFitAfter(w) === null;
          // A centring's or the last fit's file: its memory is coded in the white layout, as the refit would have.
          if (w && ownLayout(w) === 'white')
            ({ quantizer, state } = await buildQuantizer(qopts, dim, backbone, persistence, whiteLayoutId(w)));
          core = rebuildCore(core, quantizer, { codebookId: state.codebookId, fixed }, mem.keepFeatures);
          reconciled = true;
        }
      }
      if (meta && meta.quantizer.codebookId !== state.codebookId && core.ownWhitening?.codebookId !== state.codebookId) {
        throw new Error(`store ${opts.store}: it was built with codebook ${meta.quantizer.codebookId}, this one is ${state.codebookId}`);
      }
      if (core.options.neurons !== quantizer.neurons || core.options.active !== quantizer.active) {
        throw new Error(
          `store ${opts.store}: memory geometry ${core.options.neurons}/${core.options.active} does not match the quantizer's ${quantizer.neurons}/${quantizer.active}`,
        );
      }
      let storeMeta = meta;
      if (persistence && meta && !opts.readOnly) {
        if (reconciled) await persistence.writeSnapshot(core.serialize(), persistence.journal().lastSeq);
        if (meta.quantizer.codebookId !== state.codebookId) {
          storeMeta = { ...meta, quantizer: { ...meta.quantizer, codebookId: state.codebookId } };
          await persistence.writeMeta(storeMeta);
        }
      }
      if (persistence && !meta) {
        storeMeta = {
          format: storeFormatFor(backbone),
          backbone: backbone
            ? {
                ref: backbone.ref,
                name: backbone.name,
                sha256: backbone.sha256,
                dim: backbone.dim,
                conventions: backbone.conventions,
                ...(backbone.mirror ? { mirror: true } : {}),
              }
            : null,
          quantizer: { options: withoutPath(qopts), codebookId: state.codebookId },
          memory: mem,
        };
        await persistence.writeMeta(storeMeta);
      }
      const budget = budgetOf(device.profile);
      const engram = new Engram(core, quantizer, state, backbone, persistence, storeMeta, opts.readOnly ?? false, budget);
      engram.qopts = qopts;
      engram.keepFeatures = mem.keepFeatures;
      engram.appliedSeq = persistence?.journal().lastSeq ?? 0;
      return engram;
    } catch (err) {
      await persistence?.close();
      if (fresh && persistence && !persistence.meta) removeCreatedStore(opts.store!);
      throw err;
    }
  }

  /**
   * Learns `inputs` as examples of `label` (a new label becomes a new class). Resolves as the durability mode
   * promises (strict: fsynced); `seq` is the journal record (0 in memory), for whenDurable.
   * @example
   * const r = await e.learn('mug', ['mug1.jpg', 'mug2.jpg']);   // { label: 'mug', stored: 2, classes, seq }
   * await e.learn('cup', [{ data: pixels, width: 64, height: 64, channels: 3 }]);   // raw RGB pixels
   * @throws {RangeError} a label that breaks the label rule (1 to 255 bytes of UTF-8, no control characters),
   *   a feature vector of the wrong length, or a memory already at its class limit.
   * @throws {ImageError} an input that cannot be read or decoded as an image (the message names it).
   * @throws {StoreError} the journal could not be written (nothing was learned); `EREADONLY` / an Error for a
   *   learner opened read-only or closed.
   */
  async learn(label: string, inputs: Input[]): Promise<LearnResult> {
    this.checkWritable();
    checkLabel('label', label);
    const features = await this.features(inputs);
    const rows = inputs.length;
    // Coded in its turn: a refit of the store's own whitening by the learn before changes the quantizer.
    const { stored, refined, seq } = await this.commit(() => {
      const op: LearnerOp = { op: 'learn', label, codes: this.quantizer.encode(features, rows), rows, active: this.quantizer.active };
      if (this.core.archive) Object.assign(op, { features, dim: this.quantizer.dim });
      return op;
    });
    const result: LearnResult = { label, stored, refined, classes: this.core.activeLabels().length, seq };
    const over = budgetPrune(this.budget, this.core.compressedBytes());
    if (over) {
      const { removed, compressedBytes } = await this.prune(over);
      result.pruned = { removed, compressedBytes, budget: this.budget! };
    }
    return result;
  }

  /**
   * A store fitting its own whitening refits it when the examples it keeps reach the next fit (16, then each
   * doubling, up to CALIBRATION_ROWS), and rebuilds the memory under it from those examples' features. Runs in
   * the turn of the learn that got there. The whitening file, the snapshot, then the metadata are written:
   * open() completes a refit a crash cut short (docs/learner.md).
   */
  private async refitOwnWhitening(): Promise<void> {
    const q = this.quantizer;
    const own = this.core.ownWhitening;
    if (!own || own.fixed || !this.qopts || !(q instanceof SparseQuantizer) || this.onOp) return;
    if (!fitDue(q.whitening, this.core)) return;
    const whitening = fitOwnWhitening(this.core, q.dim, q.whitening);
    if (!whitening) {
      // A centring that no longer holds (a label has a second example): the raw codes again until the first fit.
      if (q.whitening?.d === 0 && !centres(this.core)) await this.installOwn(rawSparse(this.qopts, q.dim), false);
      // So many labels of one example each that no fit is possible yet: the features are not kept for ever.
      if (keptRows(this.core) >= CALIBRATION_ROWS) await this.endOwnWhitening();
      return;
    }
    const next = nextFitAfter(whitening);
    const fixed = next === null;
    const { quantizer, state } = await withWhitening(
      this.qopts,
      q.dim,
      whitening,
      this.persistence,
      `the store's own examples (${fixed ? 'final' : `next fit at ${next} examples`})`,
      // A centring, and the last fit, give every neuron to the white block: the raw block is there for classes
      // of few examples under a young whitening (docs/learner.md).
      ownLayout(whitening),
    );
    await this.installOwn({ quantizer, state }, fixed);
  }

  /** Codes the memory again under `next` (the store's own whitening, or none), and records it. */
  private async installOwn(next: { quantizer: SparseQuantizer; state: QuantizerState }, fixed: boolean): Promise<void> {
    const { quantizer, state } = next;
    const core = rebuildCore(this.core, quantizer, { codebookId: state.codebookId, fixed }, this.keepFeatures);
    if (this.persistence) await this.persistence.writeSnapshot(core.serialize(), this.appliedSeq);
    if (this.storeMeta && this.persistence) {
      this.storeMeta = { ...this.storeMeta, quantizer: { ...this.storeMeta.quantizer, codebookId: state.codebookId } };
      await this.persistence.writeMeta(this.storeMeta);
    }
    this.core = core;
    this.quantizer = quantizer;
    this.quantizerState = state;
  }

  /**
   * Predicts each input: the best classes with scores (0..1), a margin, and null for "unknown".
   * @example
   * const [p] = await e.predict(['photo.jpg'], { top: 3 });
   * console.log(p.label ?? 'unknown', p.score, p.margin, p.top);
   * @throws {RangeError} `opts.top` out of range, or a feature vector of the wrong length.
   * @throws {ImageError} an input that cannot be read or decoded as an image.
   */
  async predict(inputs: Input[], opts: { top?: number } = {}): Promise<Prediction[]> {
    this.checkOpen();
    const o = options('options', opts, ['top']);
    const top = o.top === undefined ? 3 : (o.top as number);
    if (!Number.isInteger(top) || top < 1) throw new RangeError(`options.top: expected an integer >= 1, got ${String(o.top)}`);
    const applied: (Applied | null)[] = [];
    const feats = await this.features(inputs, applied);
    const predictions = this.core.predict(this.quantizer.encode(feats, inputs.length), inputs.length, top);
    inputs.forEach((input, i) => {
      if (!(input instanceof Float32Array)) predictions[i].conventions = applied[i] ?? null;
    });
    return predictions;
  }

  /**
   * Predicts labelled test inputs and scores the answers: closed-set top-1, open-set rates, per-class recall and
   * the confusion matrix. An input predict cannot read is listed in `failed`, not fatal (see evaluate.ts).
   * @example
   * const r = await e.evaluate([{ input: 'mug9.jpg', label: 'mug' }, { input: 'cat.jpg', label: 'cat' }]);
   * console.log(r.top1.rate, r.openSet, r.confusion);
   * @throws {TypeError | RangeError} items that are not `{ input, label }` objects, or bad options.
   */
  async evaluate(items: EvalItem<Input>[], opts: EvaluateOptions = {}): Promise<EvalReport> {
    this.checkOpen();
    return evaluate((inputs) => this.predict(inputs, { top: 1 }), this.core.activeLabels(), items, opts);
  }

  /**
   * Fixes the open-set threshold at `value` (0..1: a best score below it is answered unknown), or with null
   * returns to the threshold calibrated while learning. Journaled like a learn, so it survives a restart.
   * @example
   * await e.setThreshold(0.6);    // fixed
   * await e.setThreshold(null);   // back to calibration
   * @throws {RangeError} a value outside [0, 1] that is not null.
   */
  async setThreshold(value: number | null): Promise<{ threshold: number; source: 'fixed' | 'calibrated'; seq: number }> {
    this.checkWritable();
    if (value !== null) num('threshold', value, 0, 1);
    const { seq } = await this.commit({ op: 'threshold', value });
    return { threshold: this.core.threshold(), source: this.core.fixedThreshold === null ? 'calibrated' : 'fixed', seq };
  }

  /**
   * Removes a class and all its connections.
   * @example
   * await e.forget('mug');
   * @throws {RangeError} no class of that label is stored.
   */
  async forget(label: string): Promise<{ label: string; removed: number; seq: number }> {
    this.checkWritable();
    checkLabel('label', label);
    const { removed, seq } = await this.commit({ op: 'forget', label });
    return { label, removed, seq };
  }

  /**
   * Applies a pruning policy; returns the connections removed and the memory's size after: resident bytes
   * (fixed by neurons and class capacity, so pruning leaves them unchanged) and compressed bytes (what shrinks).
   * @example
   * await e.prune({ kind: 'budget', maxBytes: 64 * 1024 });   // keep the connection bits within 64 KiB compressed
   * await e.prune({ kind: 'share', share: 0.02 });
   * @throws {TypeError | RangeError} a policy of an unknown kind or with values out of range, naming the field;
   *   `class` of a label that is not stored; `count` / `share` on a memory without counters.
   */
  async prune(
    policy: PrunePolicy,
  ): Promise<{ removed: number; bytes: number; compressedBytes: number; connections: number; density: number; seq: number }> {
    this.checkWritable();
    const p = parsePrunePolicy(policy);
    const { removed, seq } = await this.commit({ op: 'prune', policy: p });
    const s = this.core.memory.stats();
    return { removed, bytes: s.bytes, compressedBytes: this.core.compressedBytes(), connections: s.connections, density: s.density, seq };
  }

  /**
   * Resolves once journal record `seq` (from learn, forget or prune) is on stable storage: at once in strict
   * mode, at the next group commit in batched mode, at once in memory (nothing to wait for).
   * @example
   * const { seq } = await e.learn('mug', frames);
   * await e.whenDurable(seq);   // now a power cut cannot take it
   * @throws {RangeError} a `seq` the store has not written.
   * @throws {StoreError} `EFAILED` when an earlier write or fsync failed (the store must be reopened).
   */
  whenDurable(seq: number): Promise<void> {
    int('seq', seq, 0);
    return this.persistence ? this.persistence.whenDurable(seq) : Promise.resolve();
  }

  /** Where the store's journal stands (null in memory). */
  journal(): JournalState | null {
    return this.persistence?.journal() ?? null;
  }

  /** The backbone's input size (what images are resized to), or null without a backbone. */
  get input(): { width: number; height: number; channels: 1 | 3 } | null {
    if (!this.backbone) return null;
    const { width, height, channels } = this.backbone.manifest.input;
    return { width, height, channels };
  }

  stats(): EngramStats {
    const s = this.core.memory.stats();
    const examples: Record<string, number> = {};
    for (const l of this.core.activeLabels()) examples[l] = this.core.examples[this.core.classOf(l)];
    return {
      classes: this.core.activeLabels().length,
      labels: this.core.activeLabels(),
      examples,
      bytes: s.bytes,
      compressedBytes: this.core.compressedBytes(),
      units: this.core.unitLabel
        ? { kind: 'example', columns: this.core.unitLabel.filter((l) => l >= 0).length, vote: this.core.options.vote ?? 1 }
        : { kind: 'class', columns: this.core.activeLabels().length },
      serializedBytes: s.serializedBytes,
      connections: s.connections,
      density: s.density,
      neurons: this.quantizer.neurons,
      active: this.quantizer.active,
      threshold: this.core.threshold(),
      thresholdSource: this.core.fixedThreshold === null ? 'calibrated' : 'fixed',
      calibration: { known: this.core.openset.known.length, novel: this.core.openset.novel.length, rule: this.core.openset.rule() },
      backbone: this.backbone ? this.backbone.name : null,
      mirror: this.backbone?.mirror ?? false,
      quantizer: this.quantizerState,
      budget: this.budget,
      ownWhitening: this.ownWhiteningState(),
    };
  }

  private ownWhiteningState(): EngramStats['ownWhitening'] {
    const own = this.core.ownWhitening;
    if (!own) return null;
    const w = this.quantizer instanceof SparseQuantizer ? this.quantizer.whitening : null;
    return {
      fittedOn: w?.samples ?? 0,
      centred: w?.d === 0,
      keptExamples: own.fixed ? 0 : keptRows(this.core),
      nextFitAt: own.fixed ? null : nextFitAfter(w),
    };
  }

  /**
   * Writes a snapshot and compacts the journal (a store); a no-op in memory.
   * @throws {StoreError} `EWRITE` when the snapshot could not be written (the store stays usable).
   */
  async save(): Promise<void> {
    this.checkWritable();
    await this.persistence?.writeSnapshot(this.core.serialize(), this.appliedSeq);
  }

  /**
   * Flushes what was acknowledged and releases the store lock and the backbone session. Safe to call twice.
   * @example
   * try { await e.learn('mug', files); } finally { await e.close(); }
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.persistence?.close();
    } finally {
      await this.backbone?.close();
    }
  }

  /**
   * Ends the fitting of the store's own whitening where it stands (a fleet shares one whitening: a member does
   * not refit its own, docs/fleet.md): the memory keeps its codes, the kept features are dropped, and a store
   * that has not fitted one yet keeps the raw block. A snapshot records it. A no-op for any other store.
   */
  async fixOwnWhitening(): Promise<void> {
    this.checkWritable();
    await this.inTurn(() => this.endOwnWhitening());
  }

  /** fixOwnWhitening's work, in the caller's turn. */
  private async endOwnWhitening(): Promise<void> {
    const own = this.core.ownWhitening;
    if (!own || own.fixed) return;
    const fitted = this.quantizer instanceof SparseQuantizer && this.quantizer.whitening !== null;
    this.core = rebuildCore(this.core, this.quantizer, fitted ? { codebookId: own.codebookId, fixed: true } : null, this.keepFeatures);
    await this.persistence?.writeSnapshot(this.core.serialize(), this.appliedSeq);
  }

  /**
   * Hands this learner to a fleet (src/fleet/device.ts): `onOp` is called with every op it commits from now on,
   * in journal order, and the fleet compacts the journal. Call it right after opening, before any change.
   * With `readOnly`, the learner refuses changes of its own from now on (as one opened read-only), while the
   * fleet still writes the merged memory into its store.
   * @throws {Error} a learner in memory, opened read-only, already attached, or changed since it was opened.
   */
  attachFleet(onOp: (op: LearnerOp, seq: number) => void, opts: { readOnly?: boolean } = {}): FleetHost {
    this.checkWritable();
    const p = this.persistence;
    if (!p || !this.storeMeta) throw new Error('engram: a learner in memory cannot join a fleet; open a store');
    if (this.onOp) throw new Error('engram: this learner is already in a fleet');
    if (this.commits) throw new Error('engram: attach the fleet before the first change');
    if (this.core.ownWhitening && !this.core.ownWhitening.fixed)
      throw new Error("engram: fix the store's own whitening (fixOwnWhitening) before it joins a fleet");
    this.onOp = onOp;
    this.fleetReadOnly = opts.readOnly === true;
    p.leaveCompactionToFleet();
    const pending = p.records.map((r, i) => ({ seq: p.recordSeqs[i], op: decodeOp(r) }));
    const meta = this.storeMeta;
    return {
      dir: p.dir,
      meta,
      core: () => this.core,
      pending,
      snapshotSeq: p.snapshotSeq,
      readFile: (name) => p.readFile(name),
      inTurn: (fn) => this.inTurn(fn),
      replaceCore: async (core) => {
        await p.writeSnapshot(core.serialize(), this.appliedSeq);
        this.core = core;
        return this.appliedSeq;
      },
    };
  }

  /** Feature vectors for inputs: Float32Arrays pass through, images go through the backbone. */
  async features(inputs: Input[], applied?: (Applied | null)[]): Promise<Float32Array> {
    if (!Array.isArray(inputs)) throw typeError('inputs', 'an array of images or feature vectors', inputs);
    if (inputs.length === 0) throw new RangeError('inputs: expected at least one input, got an array of length 0');
    const dim = this.quantizer.dim;
    const out = new Float32Array(inputs.length * dim);
    const images: { index: number; input: Exclude<Input, Float32Array> }[] = [];
    inputs.forEach((input, i) => {
      if (input instanceof Float32Array) {
        if (input.length !== dim)
          throw new RangeError(`inputs[${i}]: expected a feature vector of length ${dim}, got Float32Array of length ${input.length}`);
        out.set(input, i * dim);
      } else if (typeof input === 'string' || input instanceof Uint8Array || (input !== null && typeof input === 'object')) {
        images.push({ index: i, input: input });
      } else {
        throw typeError(`inputs[${i}]`, 'a file path, image bytes, raw pixels or a Float32Array', input);
      }
    });
    if (images.length) {
      if (!this.backbone)
        throw new RangeError(`inputs[${images[0].index}]: this learner has no backbone, so it takes feature vectors (Float32Array) only`);
      const prepared: PreparedImage[] = [];
      const feats = await this.backbone.embed(
        images.map(({ input }) =>
          input instanceof Uint8Array && !Buffer.isBuffer(input) ? Buffer.from(input.buffer, input.byteOffset, input.byteLength) : input,
        ),
        prepared,
      );
      images.forEach((x, j) => {
        out.set(feats.subarray(j * dim, (j + 1) * dim), x.index * dim);
        if (applied) applied[x.index] = prepared[j]?.conventions ?? null;
      });
    }
    return out;
  }

  /**
   * Journals `op`, then applies it: a journal append that fails leaves memory as it was, so memory never holds
   * a change the store did not take. Ops take turns, so each is checked against the state it applies to and
   * memory applies them in journal order. Compacts into a snapshot when the journal has grown large.
   */
  private commit(make: LearnerOp | (() => LearnerOp)): Promise<ReturnType<LearnerCore['apply']> & { seq: number }> {
    return this.inTurn(async () => {
      const op = typeof make === 'function' ? make() : make;
      // A journaled op that memory refuses would be refused by every replay too: check first.
      const refused = this.core.check(op);
      if (refused) throw refused;
      if (!this.persistence) {
        const out = this.core.apply(op);
        if (op.op === 'learn') await this.refitOwnWhitening();
        return { ...out, seq: 0 };
      }
      const { seq, done } = this.persistence.append(encodeOp(op));
      await done;
      const out = this.core.apply(op);
      this.appliedSeq = seq;
      this.commits++;
      this.onOp?.(op, seq);
      if (this.persistence.wantsSnapshot()) await this.persistence.writeSnapshot(this.core.serialize(), seq);
      if (op.op === 'learn') await this.refitOwnWhitening();
      return { ...out, seq };
    });
  }

  /** Runs `fn` after every op before it and before every op after it. */
  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn);
    this.turn = run.catch(() => undefined);
    return run;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('engram: this learner is closed');
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.readOnly || this.fleetReadOnly) throw new Error('engram: this learner was opened read-only');
  }
}
