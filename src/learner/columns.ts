// What a memory column stands for, as a strategy of the learner core: one column per class (every example
// ORed and counted into it; the default) or one column per stored example (read by a vote of the best
// columns). Everything that differs between the two lives here; LearnerCore holds the labels, the counts of
// examples, the open-set calibration and the memory they share.
import { compressedBytes } from '../memory/budget.js';
import { MAX_CLASSES } from '../memory/codes.js';
import type { LearnerCore, LearnOutcome } from './core.js';
import type { PrunePolicy } from './prune.js';

interface Strategy {
  readonly kind: 'class' | 'example';
  /** Why a learn of `rows` examples of `label` cannot be stored, or null. */
  refuseLearn(label: string, rows: number): Error | null;
  /** Why `policy` does not apply to these columns, or null. */
  refusePolicy(policy: PrunePolicy): Error | null;
  /** A label id for a label new to the learner. */
  newLabel(): number;
  /** Stores `rows` codes of label id `id`, observing the open-set samples and keeping calibration probes. */
  learn(id: number, isNew: boolean, codes: Uint32Array, rows: number): LearnOutcome;
  /** Scores (0..1) per label id from one row of column scores; `skip`: a column to leave out (-1: none). */
  labelScores(row: Int32Array, skip?: number): Float64Array;
  /** Clears every column of label id `id`; returns the connections removed. */
  clear(id: number): number;
  /** Entropy bound of the connection bits over live columns. */
  compressedBytes(): number;
  /** Columns the memory must have for the label table (a snapshot's check). */
  columnCount(): number;
}

export class ClassColumns implements Strategy {
  readonly kind = 'class';

  constructor(private readonly core: LearnerCore) {}

  refuseLearn(label: string): Error | null {
    const core = this.core;
    return core.classOf(label) < 0 && core.memory.classCount >= MAX_CLASSES
      ? new RangeError(`label: the memory holds its maximum of ${MAX_CLASSES} classes`)
      : null;
  }

  refusePolicy(): Error | null {
    return null;
  }

  newLabel(): number {
    return this.core.memory.addClass();
  }

  learn(id: number, isNew: boolean, codes: Uint32Array, rows: number): LearnOutcome {
    const core = this.core;
    const { active, refine, counterBits } = core.options;
    const memory = core.memory;
    let refined = 0;
    const labels = new Uint32Array(1).fill(id);
    const cosine = core.options.read === 'cosine';
    for (let r = 0; r < rows; r++) {
      const code = codes.subarray(r * active, (r + 1) * active);
      const scores = core.labelScoresOf(code, 1);
      // Every example of a label new to the memory is, at that moment, a true "unknown" for the others. With
      // the cosine read every example is: its best score among the other classes is what an image of a
      // class the memory never saw gets, so examples arriving one at a time calibrate as batches do.
      if (isNew || cosine) {
        const other = bestOf(scores, core.examples, id);
        if (other >= 0) core.observed.observeNovel(scores[other]);
      }
      core.probes.add({ label: id, column: id, novel: isNew || cosine, known: core.examples[id] > 0 }, code);
      if (core.examples[id] > 0) {
        core.observed.observeKnown(scores[id]);
        const best = bestOf(scores, core.examples, -1);
        if (refine && counterBits > 0 && best >= 0 && best !== id) {
          memory.adjust(code, best, -1);
          memory.adjust(code, id, 1);
          refined++;
        }
      }
      // A counter column that reached its ceiling is halved first, so counts keep their proportions.
      if (cosine && memory.counterMoments(id).max >= memory.counterMax) memory.halveClass(id);
      memory.store(code, labels);
      core.examples[id]++;
      if (cosine) core.updateNorms(id);
    }
    return { stored: rows, refined };
  }

  /** The column's share of the code's active neurons (the overlap read; the cosine read has its own path). */
  labelScores(row: Int32Array): Float64Array {
    const { active } = this.core.options;
    if (this.core.options.read === 'cosine') throw new Error('labelScores: the cosine read scores through labelScoresOf');
    const out = new Float64Array(this.core.labels.length);
    for (let c = 0; c < out.length; c++) out[c] = row[c] / active;
    return out;
  }

  clear(id: number): number {
    return this.core.memory.clearClass(id);
  }

  compressedBytes(): number {
    return this.core.memory.stats().compressedBytes;
  }

  columnCount(): number {
    return this.core.labels.length;
  }
}

export class ExampleColumns implements Strategy {
  readonly kind = 'example';
  /** The label id of each memory column, -1 once forgotten or evicted. */
  unitLabel: number[] = [];

  constructor(private readonly core: LearnerCore) {}

  refuseLearn(_label: string, rows: number): Error | null {
    return this.core.memory.classCount + rows > MAX_CLASSES
      ? new RangeError(`label: the memory holds at most ${MAX_CLASSES} example units`)
      : null;
  }

  refusePolicy(policy: PrunePolicy): Error | null {
    if (policy.kind === 'count' || policy.kind === 'share' || policy.kind === 'fanin')
      return new RangeError(
        `policy: ${policy.kind} pruning does not apply to example units (each column holds one example); use a byte budget or forget`,
      );
    if (policy.kind === 'budget' && policy.maxDensity !== undefined)
      return new RangeError('policy.maxDensity: every example unit has the same density; use policy.maxBytes with example units');
    return null;
  }

  newLabel(): number {
    return this.core.labels.length;
  }

  /** Each example gets a column of its own; the open-set statistics are kept as with classes. */
  learn(id: number, isNew: boolean, codes: Uint32Array, rows: number): LearnOutcome {
    const core = this.core;
    const { active } = core.options;
    for (let r = 0; r < rows; r++) {
      const code = codes.subarray(r * active, (r + 1) * active);
      if (core.memory.classCount > 0) {
        const scores = core.labelScoresOf(code, 1);
        if (isNew) {
          const other = bestOf(scores, core.examples, id);
          if (other >= 0) core.observed.observeNovel(scores[other]);
        }
        if (core.examples[id] > 0) core.observed.observeKnown(scores[id]);
      }
      const column = core.memory.addClass();
      core.probes.add({ label: id, column, novel: isNew, known: core.examples[id] > 0 }, code);
      this.unitLabel[column] = id;
      core.memory.store(code, Uint32Array.of(column));
      core.examples[id]++;
    }
    return { stored: rows, refined: 0 };
  }

  /**
   * The sum of the column shares over the label's columns among the `vote` best live columns, divided by
   * `vote` (a score-weighted k-nearest vote).
   */
  labelScores(row: Int32Array, skip = -1): Float64Array {
    const { active } = this.core.options;
    const unitLabel = this.unitLabel;
    const out = new Float64Array(this.core.labels.length);
    const k = this.core.options.vote ?? 1;
    // The k best live columns, kept sorted best first (k is small).
    const best: number[] = [];
    for (let u = 0; u < row.length; u++) {
      if (unitLabel[u] < 0 || u === skip) continue;
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

  clear(id: number): number {
    let removed = 0;
    for (let u = 0; u < this.unitLabel.length; u++) {
      if (this.unitLabel[u] !== id) continue;
      removed += this.core.memory.clearClass(u);
      this.unitLabel[u] = -1;
    }
    return removed;
  }

  compressedBytes(): number {
    const s = this.core.memory.stats();
    const live = this.unitLabel.reduce((n, l) => n + (l >= 0 ? 1 : 0), 0);
    return live === 0 ? 0 : compressedBytes(this.core.memory.neurons, live, s.connections);
  }

  columnCount(): number {
    return this.unitLabel.length;
  }

  /**
   * Over a byte budget: evicts the oldest column of the label holding the most columns until the entropy
   * bound fits, never a label's last column. Returns the connections removed.
   */
  evictTo(maxBytes: number): number {
    const core = this.core;
    const unitLabel = this.unitLabel;
    let removed = 0;
    const columns = new Map<number, number[]>();
    unitLabel.forEach((l, u) => {
      if (l >= 0) (columns.get(l) ?? columns.set(l, []).get(l)!).push(u);
    });
    // Connections and live columns are tracked here rather than recounted by stats() after every eviction.
    let connections = core.memory.stats().connections;
    let live = [...columns.values()].reduce((n, us) => n + us.length, 0);
    while (live > 0 && compressedBytes(core.memory.neurons, live, connections) > maxBytes) {
      let label = -1;
      for (const [l, us] of columns) if (us.length > 1 && (label < 0 || us.length > columns.get(label)!.length)) label = l;
      if (label < 0) break;
      const u = columns.get(label)!.shift()!;
      const cleared = core.memory.clearClass(u);
      removed += cleared;
      connections -= cleared;
      live--;
      unitLabel[u] = -1;
      core.probes.unstoreColumn(u);
      core.examples[label]--;
    }
    return removed;
  }
}

/** The label id with the best score, skipping `exclude` and labels with no examples; -1 if none. */
export function bestOf(scores: Float64Array, examples: number[], exclude: number): number {
  let id = -1;
  for (let c = 0; c < scores.length; c++) {
    if (c === exclude || examples[c] === 0) continue;
    if (id < 0 || scores[c] > scores[id]) id = c;
  }
  return id;
}
