// ReferenceMemory: the same memory in plain TypeScript, written for clarity rather than speed. Property tests
// run random operation sequences on it and on BinaryMemory and require identical scores, stats and bytes.
// One byte per (neuron, class) cell holds the counter (0/1 without a counting plane).
import { crc32 } from '../util/crc32.js';
import { int, options, typeError, typed } from '../util/validate.js';
import { checkMemoryOptions, serializedSize } from './binary-memory.js';
import { compressedBytes, keepForBytes, keepForDensity } from './budget.js';
import { MAX_CLASSES, MAX_NEURONS, normalizeCodes, normalizeLabels, type CodeBatch, type Labels, type NormalizedCodes } from './codes.js';
import { checkCountOptions, checkDelta, checkHalveArgs, checkMomentsArgs, checkPolicy, checkScoreOptions } from './policy.js';
import { topK } from './top-k.js';
import type { BinaryMemoryOptions, CounterBits, MemoryLike, MemoryStats, MemoryPrune, ScoreOptions, TopK } from './types.js';

const MAGIC = [0x45, 0x47, 0x42, 0x4d]; // "EGBM"
const FORMAT_VERSION = 1;
const MAX_BYTES = 2 ** 32; // bits + counters, as the native limit

export class ReferenceMemory implements MemoryLike {
  readonly neurons: number;
  readonly counterBits: CounterBits;
  readonly active: number | undefined;
  #classes = 0;
  /** Class capacity, a multiple of 64 that doubles like the native rows (it decides stats().bytes). */
  #capacity = 0;
  #cells: Uint8Array = new Uint8Array(0);

  constructor(opts: BinaryMemoryOptions) {
    const o = checkMemoryOptions(opts);
    this.neurons = o.neurons;
    this.counterBits = o.counterBits;
    this.active = o.active;
    this.#reserve(Math.max(o.classes, 1));
    this.#classes = o.classes;
  }

  get classCount(): number {
    return this.#classes;
  }
  get counterMax(): number {
    return this.counterBits === 0 ? 1 : (1 << this.counterBits) - 1;
  }

  #reserve(classes: number): void {
    if (this.#capacity >= classes) return;
    const bytes = (cap: number) => (this.neurons * cap * (1 + this.counterBits)) / 8;
    let cap = Math.max(this.#capacity * 2, Math.ceil(classes / 64) * 64);
    if (bytes(cap) > MAX_BYTES) cap = Math.ceil(classes / 64) * 64;
    if (bytes(cap) > MAX_BYTES) throw new RangeError('addClass: memory too large');
    const cells = new Uint8Array(this.neurons * cap);
    for (let n = 0; n < this.neurons; n++) {
      cells.set(this.#cells.subarray(n * this.#capacity, (n + 1) * this.#capacity), n * cap);
    }
    this.#cells = cells;
    this.#capacity = cap;
  }

  #at(n: number, c: number): number {
    return n * this.#capacity + c;
  }

  /** Counter of one connection (1/0 without counters). */
  counter(neuron: number, classId: number): number {
    return this.#cells[this.#at(neuron, classId)];
  }

  addClass(): number {
    if (this.#classes + 1 > MAX_CLASSES) throw new RangeError('addClass: memory too large');
    this.#reserve(this.#classes + 1);
    return this.#classes++;
  }

  ensureClasses(count: number): number {
    int('count', count, 0, MAX_CLASSES);
    while (this.#classes < count) this.addClass();
    return this.#classes;
  }

  store(codes: CodeBatch, labels: Labels): void {
    const c = normalizeCodes(codes, this.neurons, this.active);
    this.#apply(c, normalizeLabels(labels, c.batch, this.#classes), 1);
  }

  adjust(codes: CodeBatch, labels: Labels, delta: number): { added: number; removed: number } {
    const c = normalizeCodes(codes, this.neurons, this.active);
    const l = normalizeLabels(labels, c.batch, this.#classes);
    return this.#apply(c, l, checkDelta(delta));
  }

  #apply(c: NormalizedCodes, labels: Uint32Array, delta: number): { added: number; removed: number } {
    let added = 0;
    let removed = 0;
    for (let b = 0; b < c.batch; b++) {
      const [start, end] = bounds(c, b);
      for (let i = start; i < end; i++) {
        const at = this.#at(c.indices[i], labels[b]);
        const before = this.#cells[at];
        let after: number;
        if (this.counterBits === 0) after = delta > 0 ? 1 : delta < 0 ? 0 : before;
        else after = Math.min(this.counterMax, Math.max(0, before + delta));
        this.#cells[at] = after;
        if (before === 0 && after > 0) added++;
        if (before > 0 && after === 0) removed++;
      }
    }
    return { added, removed };
  }

  score(codes: CodeBatch, opts?: ScoreOptions): Int32Array {
    const o = checkScoreOptions(opts, this.counterBits);
    const c = normalizeCodes(codes, this.neurons, this.active);
    const min = Math.max(1, o.minCount);
    return this.#sumRows(c, (v) => (v >= min ? 1 : 0));
  }

  scoreCounts(codes: CodeBatch, opts?: { kernel?: 'active' | 'scalar' }): Int32Array {
    checkCountOptions(opts);
    if (this.counterBits === 0) throw new RangeError('scoreCounts: the memory has no counters (counterBits 0)');
    return this.#sumRows(normalizeCodes(codes, this.neurons, this.active), (v) => v);
  }

  /** out[b * classes + k] = sum over code b's neurons of value(counter of that neuron and class k). */
  #sumRows(c: NormalizedCodes, value: (counter: number) => number): Int32Array {
    const C = this.#classes;
    const out = new Int32Array(c.batch * C);
    for (let b = 0; b < c.batch; b++) {
      const [start, end] = bounds(c, b);
      for (let i = start; i < end; i++) {
        const row = c.indices[i] * this.#capacity;
        for (let k = 0; k < C; k++) out[b * C + k] += value(this.#cells[row + k]);
      }
    }
    return out;
  }

  halveClass(classId: number): void {
    const c = checkHalveArgs(classId, this.#classes, this.counterBits);
    for (let n = 0; n < this.neurons; n++) {
      const v = this.#cells[this.#at(n, c)];
      if (v > 1) this.#cells[this.#at(n, c)] = (v + 1) >> 1;
    }
  }

  counterMoments(classId: number, begin?: number, end?: number): { sum: number; sumSq: number; max: number } {
    const a = checkMomentsArgs(classId, begin, end, this.neurons, this.#classes, this.counterBits);
    let sum = 0;
    let sumSq = 0;
    let max = 0;
    for (let n = a.begin; n < a.end; n++) {
      const v = this.#cells[this.#at(n, a.classId)];
      sum += v;
      sumSq += v * v;
      max = Math.max(max, v);
    }
    return { sum, sumSq, max };
  }

  topK(scores: Int32Array, k: number): TopK {
    return topK(scores, this.#classes, k);
  }

  prune(policy: MemoryPrune): number {
    const p = checkPolicy(policy, this.#classes, this.counterBits);
    switch (p.kind) {
      case 'minCount':
        return this.#removeWhere((n, c, v) => v < p.value);
      case 'minCountPerClass': {
        const mins = p.value;
        return this.#removeWhere((n, c, v) => v < mins[c]);
      }
      case 'maxFanIn': {
        const fan = this.#fanIns();
        return this.#removeWhere((n) => fan[n] > p.value);
      }
      case 'maxDensity':
        return this.#pruneTo(keepForDensity(this.neurons, this.#classes, p.value));
      case 'maxBytes':
        return this.#pruneTo(keepForBytes(this.neurons, this.#classes, this.#connections(), p.value));
      case 'classId':
        return this.#removeWhere((n, c) => c === p.value);
    }
  }

  clearClass(classId: number): number {
    return this.prune({ classId });
  }

  #removeWhere(drop: (neuron: number, classId: number, counter: number) => boolean): number {
    let removed = 0;
    for (let n = 0; n < this.neurons; n++) {
      for (let c = 0; c < this.#classes; c++) {
        const v = this.#cells[this.#at(n, c)];
        if (v > 0 && drop(n, c, v)) {
          this.#cells[this.#at(n, c)] = 0;
          removed++;
        }
      }
    }
    return removed;
  }

  #fanIns(): Uint32Array {
    const fan = new Uint32Array(this.neurons);
    for (let n = 0; n < this.neurons; n++) {
      for (let c = 0; c < this.#classes; c++) if (this.#cells[this.#at(n, c)] > 0) fan[n]++;
    }
    return fan;
  }

  #connections(): number {
    let k = 0;
    for (let n = 0; n < this.neurons; n++) for (let c = 0; c < this.#classes; c++) if (this.#cells[this.#at(n, c)] > 0) k++;
    return k;
  }

  // Weakest first: lowest counter, then the neuron shared by most classes (fan-in before pruning),
  // then lowest neuron, then lowest class. A plain sort, as the definition reads.
  #pruneTo(keep: number): number {
    const fan = this.#fanIns();
    const all: [number, number, number][] = [];
    for (let n = 0; n < this.neurons; n++) {
      for (let c = 0; c < this.#classes; c++) {
        const v = this.#cells[this.#at(n, c)];
        if (v > 0) all.push([v, n, c]);
      }
    }
    if (all.length <= keep) return 0;
    all.sort((a, b) => a[0] - b[0] || fan[b[1]] - fan[a[1]] || a[1] - b[1] || a[2] - b[2]);
    const remove = all.length - keep;
    for (let i = 0; i < remove; i++) this.#cells[this.#at(all[i][1], all[i][2])] = 0;
    return remove;
  }

  stats(): MemoryStats {
    const C = this.#classes;
    const perClass = new Float64Array(C);
    const hist = new Float64Array(C + 1);
    let connections = 0;
    for (let n = 0; n < this.neurons; n++) {
      let f = 0;
      for (let c = 0; c < C; c++) {
        if (this.#cells[this.#at(n, c)] > 0) {
          perClass[c]++;
          f++;
        }
      }
      hist[f]++;
      connections += f;
    }
    const words = this.#capacity / 64;
    return {
      neurons: this.neurons,
      classes: C,
      counterBits: this.counterBits,
      connections,
      connectionsPerClass: perClass,
      density: C === 0 ? 0 : connections / (this.neurons * C),
      densityPerClass: perClass.map((k) => k / this.neurons),
      fanInHistogram: hist,
      bytes: this.neurons * words * 8 + (this.neurons * this.#capacity * this.counterBits) / 8,
      serializedBytes: serializedSize(this.neurons, C, this.counterBits),
      compressedBytes: compressedBytes(this.neurons, C, connections),
    };
  }

  merge(other: ReferenceMemory): void {
    if (!(other instanceof ReferenceMemory)) throw typeError('other', 'a ReferenceMemory', other);
    if (other.neurons !== this.neurons || other.counterBits !== this.counterBits) {
      throw new RangeError(
        `other: expected a memory with neurons ${this.neurons} and counterBits ${this.counterBits}, got neurons ${other.neurons} and counterBits ${other.counterBits}`,
      );
    }
    while (this.#classes < other.#classes) this.addClass();
    for (let n = 0; n < this.neurons; n++) {
      for (let c = 0; c < other.#classes; c++) {
        const at = this.#at(n, c);
        this.#cells[at] = Math.min(this.counterMax, this.#cells[at] + other.#cells[other.#at(n, c)]);
      }
    }
  }

  clone(): ReferenceMemory {
    const copy = new ReferenceMemory({ neurons: this.neurons, counterBits: this.counterBits, active: this.active });
    copy.#classes = this.#classes;
    copy.#capacity = this.#capacity;
    copy.#cells = this.#cells.slice();
    return copy;
  }

  serialize(): Buffer {
    const C = this.#classes;
    const bitRow = Math.ceil(C / 8);
    const counterRow = Math.ceil((C * this.counterBits) / 8);
    const out = Buffer.alloc(serializedSize(this.neurons, C, this.counterBits));
    out.set(MAGIC, 0);
    out.writeUInt16LE(FORMAT_VERSION, 4);
    out.writeUInt8(this.counterBits, 6);
    out.writeUInt32LE(this.neurons, 8);
    out.writeUInt32LE(C, 12);
    out.writeBigUInt64LE(BigInt(this.neurons * (bitRow + counterRow)), 16);
    let p = 24;
    for (let n = 0; n < this.neurons; n++, p += bitRow) {
      for (let c = 0; c < C; c++) if (this.#cells[this.#at(n, c)] > 0) out[p + (c >> 3)] |= 1 << (c & 7);
    }
    for (let n = 0; n < this.neurons && counterRow > 0; n++, p += counterRow) {
      for (let c = 0; c < C; c++) {
        const v = this.#cells[this.#at(n, c)];
        if (this.counterBits === 8) out[p + c] = v;
        else out[p + (c >> 1)] |= c & 1 ? v << 4 : v;
      }
    }
    out.writeUInt32LE(crc32(out.subarray(0, p)), p);
    return out;
  }

  /** Parses the same format as BinaryMemory.deserialize, with the same checks in the same order. */
  static deserialize(buffer: Uint8Array, opts: { active?: number } = {}): ReferenceMemory {
    typed('buffer', buffer, Uint8Array);
    const o = options('options', opts, ['active'] as const);
    const active = o.active === undefined ? undefined : int('active', o.active, 1, MAX_NEURONS);
    const buf = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const fail = (what: string): never => {
      throw new Error(`buffer: ${what}`);
    };
    if (buf.length < 4 || MAGIC.some((m, i) => buf[i] !== m)) fail('not a serialized engram memory (bad magic)');
    if (buf.length < 28) fail('buffer length does not match its header (truncated or padded)');
    if (buf.readUInt16LE(4) !== FORMAT_VERSION) fail('unsupported format version');
    const counterBits = buf[6];
    const neurons = buf.readUInt32LE(8);
    const classes = buf.readUInt32LE(12);
    const payload = buf.readBigUInt64LE(16);
    if (buf.readUInt32LE(buf.length - 4) !== crc32(buf.subarray(0, buf.length - 4))) fail('checksum mismatch (damaged buffer)');
    if (buf[7] !== 0) fail('content breaks an invariant (bits, counters or padding)');
    if ((counterBits !== 0 && counterBits !== 4 && counterBits !== 8) || neurons < 1 || neurons > MAX_NEURONS || classes > MAX_CLASSES) {
      fail('geometry out of range');
    }
    const bitRow = Math.ceil(classes / 8);
    const counterRow = Math.ceil((classes * counterBits) / 8);
    if (payload !== BigInt(neurons * (bitRow + counterRow)) || buf.length !== 28 + neurons * (bitRow + counterRow)) {
      fail('buffer length does not match its header (truncated or padded)');
    }
    const m = new ReferenceMemory({ neurons, counterBits: counterBits as CounterBits, classes, active });
    const bad = 'content breaks an invariant (bits, counters or padding)';
    let p = 24;
    for (let n = 0; n < neurons; n++, p += bitRow) {
      for (let c = 0; c < classes; c++) m.#cells[m.#at(n, c)] = (buf[p + (c >> 3)] >> (c & 7)) & 1;
      if (bitRow > 0 && classes % 8 && buf[p + bitRow - 1] >> (classes % 8)) fail(bad);
    }
    for (let n = 0; n < neurons && counterRow > 0; n++, p += counterRow) {
      if (counterBits === 4 && classes % 2 && buf[p + counterRow - 1] & 0xf0) fail(bad);
      for (let c = 0; c < classes; c++) {
        const v = counterBits === 8 ? buf[p + c] : (buf[p + (c >> 1)] >> (c & 1 ? 4 : 0)) & 15;
        if (v > 0 !== m.#cells[m.#at(n, c)] > 0) fail(bad);
        m.#cells[m.#at(n, c)] = v;
      }
    }
    return m;
  }
}

function bounds(c: NormalizedCodes, b: number): [number, number] {
  return c.offsets ? [c.offsets[b], c.offsets[b + 1]] : [b * c.active, (b + 1) * c.active];
}
