// Open-set calibration: decides when the best score is too low to name any class.
// Honest signal, gathered while learning and never from evaluation data:
//  - "novel" samples: the best score an example of a NEW label gets against the classes already known
//    (at that moment the example truly is unknown to the memory);
//  - "known" samples: the score an example of an EXISTING label gets on its own class, before it is stored.
// The threshold balances the two: where the share of known samples below it equals the share of novel samples
// above it (normal fits of the two samples), or the middle of the gap when they do not overlap.
const KEEP = 512;

/** How a calibrated threshold was cut from the samples (OpenSetCalibration.threshold). */
export type CalibrationRule = 'too few samples' | 'equal error of normal fits' | 'middle of the gap';
const MIN_SAMPLES = 5;

export class OpenSetCalibration {
  known: number[] = [];
  novel: number[] = [];
  /** threshold() until the next observation (every query asks for it). */
  #cached: number | null = null;

  observeKnown(score: number): void {
    push(this.known, score);
    this.#cached = null;
  }

  observeNovel(score: number): void {
    push(this.novel, score);
    this.#cached = null;
  }

  /**
   * Scores below this (normalised, 0..1) are answered "unknown"; 0 until enough samples exist. When the two
   * samples overlap, the equal-error point of a normal fit to each: the cut where as many known samples are
   * expected below it as novel ones above, each measured in its own spread. A smooth function of the samples'
   * means and spreads: the best cut counted sample by sample wanders across the overlap from one draw to the
   * next (measured on Fashion-MNIST photos: 57% to 90% of novel photos turned away, docs/learner.md). When they
   * separate, the middle of the gap: near-duplicate examples (frames of one camera) give known scores near 1,
   * and a cut at the lowest of them would turn away anything not pixel-identical.
   */
  threshold(): number {
    this.#cached ??= this.#compute();
    return this.#cached;
  }

  /** How the current threshold was chosen, for people (stats). */
  rule(): CalibrationRule {
    if (this.known.length < MIN_SAMPLES || this.novel.length < MIN_SAMPLES) return 'too few samples';
    return Math.min(...this.known) > Math.max(...this.novel) ? 'middle of the gap' : 'equal error of normal fits';
  }

  #compute(): number {
    if (this.known.length < MIN_SAMPLES || this.novel.length < MIN_SAMPLES) return 0;
    const lowestKnown = Math.min(...this.known);
    const highestNovel = Math.max(...this.novel);
    if (lowestKnown > highestNovel) return Math.max(0, (lowestKnown + highestNovel) / 2);
    const k = moments(this.known);
    const n = moments(this.novel);
    // (t - n.mean) / n.sd = (k.mean - t) / k.sd; equal spreads (or none) give the midpoint of the means.
    const spread = k.sd + n.sd;
    const t = spread > 0 ? (n.mean * k.sd + k.mean * n.sd) / spread : (k.mean + n.mean) / 2;
    return Math.min(1, Math.max(0, t));
  }

  /** Replaces both samples (scores recomputed after the memory changed). */
  replace(known: number[], novel: number[]): void {
    this.known = known.slice(-KEEP);
    this.novel = novel.slice(-KEEP);
    this.#cached = null;
  }

  toJSON(): { known: number[]; novel: number[] } {
    return { known: this.known, novel: this.novel };
  }

  static fromJSON(o: { known: number[]; novel: number[] }): OpenSetCalibration {
    const c = new OpenSetCalibration();
    c.known = o.known.slice(-KEEP);
    c.novel = o.novel.slice(-KEEP);
    return c;
  }
}

function moments(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  return { mean, sd };
}

function push(a: number[], v: number): void {
  a.push(v);
  if (a.length > KEEP) a.shift();
}

/** One calibration example kept so its scores can be computed again after the memory changes. */
export interface Probe {
  /** Label id of the example. */
  label: number;
  /** The memory column it was stored in (class units: the label id), -1 once that column lost it (forget, eviction). */
  column: number;
  /** It gave a novel sample when learned / a known sample. */
  novel: boolean;
  known: boolean;
}

/** Probes kept at most: 256 codes of 5120 neurons (the sparse quantizer's) take 160 KiB as bitsets. */
export const PROBES_KEEP = 256;

/**
 * The codes of recent calibration examples (bitsets of the code space), at most PROBES_KEEP, shared evenly
 * between labels: a full store drops the oldest probe of the label holding the most. After a prune or a forget
 * the calibration scores are recomputed from them (LearnerCore.recalibrate), so "unknown" follows the memory.
 */
export class CalibrationProbes {
  probes: Probe[] = [];
  /** One bitset of `neurons` bits per probe, in probe order. */
  bits: Uint8Array[] = [];

  constructor(
    readonly neurons: number,
    readonly keep = PROBES_KEEP,
  ) {}

  add(probe: Probe, code: Uint32Array): void {
    const b = new Uint8Array(Math.ceil(this.neurons / 8));
    let n = 0;
    for (const i of code) {
      if ((b[i >> 3] & (1 << (i & 7))) === 0) n++;
      b[i >> 3] |= 1 << (i & 7);
    }
    // A code naming a neuron twice cannot be kept as a set; its example simply gives no probe.
    if (n !== code.length) return;
    this.probes.push(probe);
    this.bits.push(b);
    if (this.probes.length > this.keep) this.dropOldestOfLargestLabel();
  }

  /** Codes of every probe, rows x active: each code's neurons in ascending order (so blocks stay in turn). */
  codes(active: number): Uint32Array {
    const out = new Uint32Array(this.probes.length * active);
    this.bits.forEach((b, r) => {
      let o = r * active;
      for (let byte = 0; byte < b.length; byte++) {
        for (let v = b[byte]; v !== 0; v &= v - 1) out[o++] = byte * 8 + (31 - Math.clz32(v & -v));
      }
      if (o !== (r + 1) * active) throw new Error(`calibration probe ${r}: has ${o - r * active} active neurons, expected ${active}`);
    });
    return out;
  }

  /** The examples of label id `label` are no longer in the memory (forgotten). */
  unstoreLabel(label: number): void {
    for (const p of this.probes) if (p.label === label) p.column = -1;
  }

  /** Example units: column `column` was cleared. */
  unstoreColumn(column: number): void {
    for (const p of this.probes) if (p.column === column) p.column = -1;
  }

  private dropOldestOfLargestLabel(): void {
    const count = new Map<number, number>();
    for (const p of this.probes) count.set(p.label, (count.get(p.label) ?? 0) + 1);
    let label = this.probes[0].label;
    for (const [l, n] of count) if (n > count.get(label)!) label = l;
    const i = this.probes.findIndex((p) => p.label === label);
    this.probes.splice(i, 1);
    this.bits.splice(i, 1);
  }

  serialize(): { meta: [number, number, number][]; bytes: Buffer } {
    const meta = this.probes.map((p): [number, number, number] => [p.label, p.column, (p.novel ? 1 : 0) | (p.known ? 2 : 0)]);
    return { meta, bytes: Buffer.concat(this.bits) };
  }

  /** Reads what serialize wrote; each bitset must hold exactly `active` neurons (a flipped bit is damage). */
  static deserialize(neurons: number, active: number, meta: unknown, bytes: Uint8Array, source: string): CalibrationProbes {
    const p = new CalibrationProbes(neurons);
    const size = Math.ceil(neurons / 8);
    const ok = (m: unknown): m is [number, number, number] => Array.isArray(m) && m.length === 3 && m.every(Number.isInteger);
    if (!Array.isArray(meta) || !meta.every(ok) || meta.length * size !== bytes.length)
      throw new Error(`${source}: damaged calibration probes`);
    meta.forEach(([label, column, flags], r) => {
      const bits = Uint8Array.from(bytes.subarray(r * size, (r + 1) * size));
      let n = 0;
      for (const b of bits) for (let v = b; v !== 0; v &= v - 1) n++;
      if (n !== active || (neurons % 8 !== 0 && bits[size - 1] >> (neurons % 8) !== 0))
        throw new Error(`${source}: damaged calibration probe ${r}`);
      p.probes.push({ label, column, novel: (flags & 1) !== 0, known: (flags & 2) !== 0 });
      p.bits.push(bits);
    });
    return p;
  }
}
