// BinaryMemory: the public, validated face of the native memory (native/core/memory.h).
import { loadBinding } from '../native/loader.js';
import type { NativeMemory } from '../native/binding.js';
import { int, options, rangeError, typeError, typed } from '../util/validate.js';
import { keepForBytes, keepForDensity, compressedBytes } from './budget.js';
import { MAX_CLASSES, MAX_NEURONS, normalizeCodes, normalizeLabels, type CodeBatch, type Labels } from './codes.js';
import { checkCountOptions, checkDelta, checkHalveArgs, checkMomentsArgs, checkPolicy, checkScoreOptions } from './policy.js';
import { topK } from './top-k.js';
import type { BinaryMemoryOptions, CounterBits, MemoryLike, MemoryStats, MemoryPrune, ScoreOptions, TopK } from './types.js';

const OPTION_KEYS = ['neurons', 'counterBits', 'classes', 'active'] as const;

/** Checks constructor options; shared with ReferenceMemory. */
export function checkMemoryOptions(opts: unknown): Required<Omit<BinaryMemoryOptions, 'active'>> & { active?: number } {
  if (opts === undefined) throw typeError('options', 'an object with neurons', opts);
  const o = options('options', opts, OPTION_KEYS);
  const neurons = int('neurons', o.neurons, 1, MAX_NEURONS);
  const counterBits = o.counterBits === undefined ? 0 : checkCounterBits(o.counterBits);
  const classes = o.classes === undefined ? 0 : int('classes', o.classes, 0, MAX_CLASSES);
  const active = o.active === undefined ? undefined : int('active', o.active, 1, MAX_NEURONS);
  return { neurons, counterBits, classes, active };
}

function checkCounterBits(v: unknown): CounterBits {
  if (typeof v !== 'number') throw typeError('counterBits', 'one of 0, 4, 8', v);
  if (v !== 0 && v !== 4 && v !== 8) throw rangeError('counterBits', 'one of 0, 4, 8', v);
  return v;
}

// Set just before `new BinaryMemory` when wrapping an existing native memory (clone, deserialize), so the
// public constructor signature stays (options) only.
let adopting: NativeMemory | undefined;

/**
 * The binary associative memory: code neurons x classes of connection bits, with optional counters, in the
 * native addon. Every method validates its arguments first and throws a TypeError (wrong type) or RangeError
 * (out of range) that names the parameter, what was expected and what arrived.
 * @example
 * const m = new BinaryMemory({ neurons: 1024, counterBits: 4, active: 8 });
 * m.ensureClasses(2);
 * m.store(codes, [0, 1]);                       // codes: Uint32Array of 2 x 8 neuron ids
 * const best = m.topK(m.score(query), 1);       // the best class per query code
 * const copy = BinaryMemory.deserialize(m.serialize(), { active: 8 });
 */
export class BinaryMemory implements MemoryLike {
  readonly #native: NativeMemory;
  /** Active neurons per code when codes are a bare Uint32Array. */
  readonly active: number | undefined;
  // Fixed for the memory's life: read once, not through the native getters on every call.
  readonly #neurons: number;
  readonly #counterBits: CounterBits;

  /** @throws {TypeError | RangeError} `neurons`, `counterBits` (0, 4 or 8), `classes` or `active` invalid. */
  constructor(opts: BinaryMemoryOptions) {
    const native = adopting;
    adopting = undefined;
    const o = checkMemoryOptions(opts);
    this.#native = native ?? new (loadBinding().Memory)(o.neurons, o.counterBits, o.classes);
    this.active = o.active;
    this.#neurons = this.#native.neurons;
    this.#counterBits = this.#native.counterBits as CounterBits;
  }

  static #adopt(native: NativeMemory, active: number | undefined): BinaryMemory {
    adopting = native;
    return new BinaryMemory({ neurons: native.neurons, counterBits: native.counterBits as CounterBits, active });
  }

  /**
   * Rebuilds a memory from serialize()'s output.
   * @throws {TypeError} `buffer` is not a Uint8Array.
   * @throws {Error} a damaged or foreign buffer (bad magic, version, length or checksum), saying which.
   */
  static deserialize(buffer: Uint8Array, opts: { active?: number } = {}): BinaryMemory {
    typed('buffer', buffer, Uint8Array);
    const o = options('options', opts, ['active'] as const);
    const native = loadBinding().Memory.deserialize(buffer);
    const active = o.active === undefined ? undefined : int('active', o.active, 1, MAX_NEURONS);
    return BinaryMemory.#adopt(native, active);
  }

  get neurons(): number {
    return this.#neurons;
  }
  get classCount(): number {
    return this.#native.classes;
  }
  get counterBits(): CounterBits {
    return this.#counterBits;
  }
  /** Largest counter value (1 without counters). */
  get counterMax(): number {
    return this.counterBits === 0 ? 1 : (1 << this.counterBits) - 1;
  }

  /** Adds one empty class and returns its id. */
  addClass(): number {
    return this.#native.addClasses(1);
  }

  /** Adds classes until classCount >= count; returns classCount. */
  ensureClasses(count: number): number {
    int('count', count, 0, MAX_CLASSES);
    if (count > this.classCount) this.#native.addClasses(count - this.classCount);
    return this.classCount;
  }

  /**
   * Connects every active neuron of each code to its label (counter +1, saturating).
   * @throws {TypeError | RangeError} codes that are not a Uint32Array batch of neuron ids below `neurons`, or
   *   labels that are not one existing class id per code.
   */
  store(codes: CodeBatch, labels: Labels): void {
    const c = normalizeCodes(codes, this.neurons, this.active);
    const l = normalizeLabels(labels, c.batch, this.classCount);
    this.#native.store(c.indices, c.offsets, c.active, l);
  }

  /**
   * Adds delta to the counters of the connections code -> label, clamped to [0, counterMax]: a counter that
   * reaches 0 removes its connection, a positive delta sets it. Without counters +delta sets and -delta clears.
   */
  adjust(codes: CodeBatch, labels: Labels, delta: number): { added: number; removed: number } {
    const c = normalizeCodes(codes, this.neurons, this.active);
    const l = normalizeLabels(labels, c.batch, this.classCount);
    return this.#native.adjust(c.indices, c.offsets, c.active, l, checkDelta(delta));
  }

  /**
   * Int32Array [batch x classCount]: how many active neurons of each code connect to each class.
   * @throws {TypeError | RangeError} codes as for store(), or `opts.minCount` above the counters' range.
   */
  score(codes: CodeBatch, opts?: ScoreOptions): Int32Array {
    const o = checkScoreOptions(opts, this.counterBits);
    const c = normalizeCodes(codes, this.neurons, this.active);
    if (o.minCount > 1) return this.#native.scoreMinCount(c.indices, c.offsets, c.active, o.minCount);
    return this.#native.score(c.indices, c.offsets, c.active, o.kernel);
  }

  /** Int32Array [batch x classCount]: the sum of each class's counters over each code's neurons (needs counters). */
  scoreCounts(codes: CodeBatch, opts?: { kernel?: 'active' | 'scalar' }): Int32Array {
    const o = checkCountOptions(opts);
    if (this.counterBits === 0) throw new RangeError('scoreCounts: the memory has no counters (counterBits 0)');
    const c = normalizeCodes(codes, this.neurons, this.active);
    return this.#native.scoreCounts(c.indices, c.offsets, c.active, o.kernel);
  }

  /** Halves every counter of a class, rounding up, so no connection disappears (needs counters). */
  halveClass(classId: number): void {
    this.#native.halveClass(checkHalveArgs(classId, this.classCount, this.counterBits));
  }

  /** Sum, sum of squares and largest of a class's counters over neurons [begin, end) (default: all; needs counters). */
  counterMoments(classId: number, begin?: number, end?: number): { sum: number; sumSq: number; max: number } {
    const a = checkMomentsArgs(classId, begin, end, this.neurons, this.classCount, this.counterBits);
    return this.#native.classCounterMoments(a.classId, a.begin, a.end);
  }

  /** The k best classes of each row of score()'s output. */
  topK(scores: Int32Array, k: number): TopK {
    return topK(scores, this.classCount, k);
  }

  /**
   * Removes connections by one policy and returns how many were removed.
   * @example
   * m.prune({ maxDensity: 0.2 });   // or { minCount: 2 }, { maxBytes: 4096 }, { maxFanIn: 3 }, { classId: 1 }
   * @throws {TypeError | RangeError} not exactly one known policy field, or its value out of range.
   */
  prune(policy: MemoryPrune): number {
    const p = checkPolicy(policy, this.classCount, this.counterBits);
    switch (p.kind) {
      case 'minCount':
        return this.#native.pruneMinCount(p.value);
      case 'minCountPerClass':
        return this.#native.pruneMinCountPerClass(p.value);
      case 'maxFanIn':
        return this.#native.pruneFanIn(p.value);
      case 'maxDensity':
        return this.#native.pruneTo(keepForDensity(this.neurons, this.classCount, p.value));
      case 'maxBytes':
        return this.#native.pruneTo(keepForBytes(this.neurons, this.classCount, this.#native.connections(), p.value));
      case 'classId':
        return this.#native.clearClass(p.value);
    }
  }

  /** Removes every connection of a class (its id stays valid) and returns how many were removed. */
  clearClass(classId: number): number {
    return this.prune({ classId });
  }

  stats(): MemoryStats {
    const n = this.#native;
    const connections = n.connections();
    const perClass = n.connectionsPerClass();
    const classes = n.classes;
    return {
      neurons: n.neurons,
      classes,
      counterBits: this.counterBits,
      connections,
      connectionsPerClass: perClass,
      density: classes === 0 ? 0 : connections / (n.neurons * classes),
      densityPerClass: perClass.map((k) => k / n.neurons),
      fanInHistogram: n.fanInHistogram(),
      bytes: n.residentBytes(),
      serializedBytes: serializedSize(n.neurons, classes, this.counterBits),
      compressedBytes: compressedBytes(n.neurons, classes, connections),
    };
  }

  /**
   * ORs other's connections into this memory and adds its counters (saturating); grows classes.
   * @throws {TypeError} `other` is not a BinaryMemory.
   * @throws {RangeError} `other` has other neurons or counterBits.
   */
  merge(other: BinaryMemory): void {
    if (!(other instanceof BinaryMemory)) throw typeError('other', 'a BinaryMemory', other);
    if (other.neurons !== this.neurons || other.counterBits !== this.counterBits) {
      throw new RangeError(
        `other: expected a memory with neurons ${this.neurons} and counterBits ${this.counterBits}, got neurons ${other.neurons} and counterBits ${other.counterBits}`,
      );
    }
    this.#native.merge(other.#native);
  }

  clone(): BinaryMemory {
    return BinaryMemory.#adopt(this.#native.clone(), this.active);
  }

  /** The versioned, checksummed byte form (docs/memory.md); BinaryMemory.deserialize reverses it. */
  serialize(): Buffer {
    return this.#native.serialize();
  }
}

/** Length of a serialized memory: 24-byte header, bit rows, counter rows, 4-byte CRC-32. */
export function serializedSize(neurons: number, classes: number, counterBits: number): number {
  return 24 + neurons * (Math.ceil(classes / 8) + Math.ceil((classes * counterBits) / 8)) + 4;
}
