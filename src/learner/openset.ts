// Open-set calibration: decides when the best score is too low to name any class.
// Honest signal, gathered while learning and never from evaluation data:
//  - "novel" samples: the best score an example of a NEW label gets against the classes already known
//    (at that moment the example truly is unknown to the memory);
//  - "known" samples: the score an example of an EXISTING label gets on its own class, before it is stored.
// The threshold maximises balanced accuracy between the two recent samples.
const KEEP = 512;
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
   * Scores below this (normalised, 0..1) are answered "unknown"; 0 until enough samples exist. Of the cuts
   * with the best balanced accuracy, the middle one: near-duplicate examples (frames of one camera) give
   * known scores near 1, and a cut at the lowest of them would turn away anything not pixel-identical.
   */
  threshold(): number {
    this.#cached ??= this.#compute();
    return this.#cached;
  }

  #compute(): number {
    if (this.known.length < MIN_SAMPLES || this.novel.length < MIN_SAMPLES) return 0;
    const values = [...new Set([...this.known, ...this.novel])].sort((a, b) => a - b);
    // Cuts: below everything, between neighbouring values, above everything.
    const cuts = [values[0] - 1e-6, ...values.slice(1).map((v, i) => (v + values[i]) / 2), values[values.length - 1] + 1e-6];
    const known = [...this.known].sort((a, b) => a - b);
    const novel = [...this.novel].sort((a, b) => a - b);
    let bestAcc = -1;
    let first = 0;
    let last = 0;
    cuts.forEach((t, i) => {
      // Accept as known when score >= t.
      const tpr = 1 - below(known, t) / known.length;
      const tnr = below(novel, t) / novel.length;
      const acc = (tpr + tnr) / 2;
      if (acc > bestAcc + 1e-12) {
        bestAcc = acc;
        first = last = i;
      } else if (Math.abs(acc - bestAcc) <= 1e-12 && last === i - 1) {
        last = i;
      }
    });
    return Math.max(0, (cuts[first] + cuts[last]) / 2);
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

/** How many of the sorted values are below t. */
function below(sorted: number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function push(a: number[], v: number): void {
  a.push(v);
  if (a.length > KEEP) a.shift();
}
