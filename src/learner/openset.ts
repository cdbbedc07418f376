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

  observeKnown(score: number): void {
    push(this.known, score);
  }

  observeNovel(score: number): void {
    push(this.novel, score);
  }

  /** Scores below this (normalised, 0..1) are answered "unknown"; 0 until enough samples exist. */
  threshold(): number {
    if (this.known.length < MIN_SAMPLES || this.novel.length < MIN_SAMPLES) return 0;
    const candidates = [...new Set([...this.known, ...this.novel])].sort((a, b) => a - b);
    let best = 0;
    let bestAcc = -1;
    for (const t of candidates) {
      // Accept as known when score >= t.
      const tpr = this.known.filter((s) => s >= t).length / this.known.length;
      const tnr = this.novel.filter((s) => s < t).length / this.novel.length;
      const acc = (tpr + tnr) / 2;
      if (acc > bestAcc) {
        bestAcc = acc;
        best = t;
      }
    }
    return best;
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

function push(a: number[], v: number): void {
  a.push(v);
  if (a.length > KEEP) a.shift();
}
