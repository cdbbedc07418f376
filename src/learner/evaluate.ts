// Evaluation of a learner on labelled test inputs: closed-set top-1, open-set rates, per-class recall and the
// confusion matrix. It sees only predict's public answers (label or null for unknown, and the best class), so
// it holds whatever way the learner scores and calibrates "unknown".
import type { Prediction } from './core.js';
import { int, options, str, typeError } from '../util/validate.js';

/** One labelled test input: `input` is anything predict takes (a file path, image bytes, raw pixels, features). */
export interface EvalItem<I = unknown> {
  input: I;
  label: string;
}

export interface EvaluateOptions {
  /** Inputs per predict call (default 32). */
  batch?: number;
  /** Called after each batch with the inputs answered or failed so far. */
  onProgress?: (done: number, total: number) => void;
  /** Stops between batches: evaluate then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** `count` of `of`; `rate` is their ratio, null when `of` is 0. */
export interface Rate {
  count: number;
  of: number;
  rate: number | null;
}

export interface EvalClass {
  label: string;
  /** Whether the learner knows this label (false: a novel class, whose right answer is unknown). */
  known: boolean;
  items: number;
  /** Answered right: the label itself for a known class, unknown for a novel one. */
  correct: number;
  /** Answered unknown. */
  unknown: number;
  /** Answered with another label. */
  wrong: number;
  /** correct / items: the confusion matrix's diagonal share of the row (the unknown column for a novel class). */
  recall: number | null;
  /** Closed set: share whose best class is the label, whatever the unknown threshold says (null for a novel class). */
  top1: number | null;
}

export interface EvalAnswer {
  /** Position of the item in the evaluated list. */
  index: number;
  /** The input, when it is a file path. */
  file?: string;
  /** The true label. */
  truth: string;
  /** The learner's answer: a label, or null for unknown. */
  label: string | null;
  /** The best class whatever the threshold (null when the learner holds no class). */
  best: string | null;
  score: number;
  margin: number;
}

export interface EvalFailure {
  index: number;
  file?: string;
  truth: string;
  error: string;
}

export interface EvalReport {
  /** The labels the learner knows. */
  storeLabels: string[];
  counts: {
    /** Items given. */
    items: number;
    /** Items answered (items minus failed). */
    evaluated: number;
    failed: number;
    /** Answered items whose label the learner knows / does not know. */
    known: number;
    novel: number;
    /** Distinct true labels among answered items that the learner knows / does not know. */
    knownLabels: number;
    novelLabels: number;
  };
  /** Closed set over items of known labels: the best class is the true label. */
  top1: Rate;
  openSet: {
    /** Known items answered with their label plus novel items answered unknown, over every answered item. */
    accuracy: Rate;
    /** Items of known labels: answered with their label, with another label, or unknown. */
    known: { right: Rate; wrong: Rate; unknown: Rate };
    /** Items of labels the learner does not know: answered unknown (right), or with a label (wrong). */
    novel: { unknown: Rate; labelled: Rate };
    /**
     * Area under the ROC curve of the best score, known items against novel ones: the chance that a known
     * item scores above a novel one, whatever the threshold (1 = a threshold can separate them all, 0.5 =
     * chance). Null without both kinds of items.
     */
    auroc: number | null;
  };
  /** Per true label: known labels first, then novel ones, each in natural order. */
  classes: EvalClass[];
  /**
   * counts[r][c]: items of true label rows[r] answered columns[c]. Rows are the true labels (as in `classes`);
   * columns are the known true labels in the same order, then other labels the learner answered, then null
   * (unknown), so a known row's right answers lie on the diagonal.
   */
  confusion: { rows: string[]; columns: (string | null)[]; counts: number[][] };
  /** Every answered item whose answer was wrong (a known label answered otherwise, a novel one with a label). */
  mistakes: EvalAnswer[];
  /** Items predict could not read (an undecodable or missing file), with its message. */
  failed: EvalFailure[];
}

export type Predictor<I> = (inputs: I[]) => Promise<Prediction[]>;

const OPTION_KEYS = ['batch', 'onProgress', 'signal'] as const;

/** Labels in natural order: "2" before "10", case-insensitive first. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' }) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Predicts every item in batches and scores the answers against the true labels. An item predict cannot read
 * is listed in `failed` and left out of every rate; the others are still answered.
 */
export async function evaluate<I>(
  predict: Predictor<I>,
  storeLabels: readonly string[],
  items: EvalItem<I>[],
  opts: EvaluateOptions = {},
): Promise<EvalReport> {
  const o = options('options', opts, OPTION_KEYS);
  const batch = o.batch === undefined ? 32 : int('options.batch', o.batch, 1, 1 << 20);
  const onProgress = o.onProgress as EvaluateOptions['onProgress'];
  if (onProgress !== undefined && typeof onProgress !== 'function') throw typeError('options.onProgress', 'a function', onProgress);
  const signal = o.signal as AbortSignal | undefined;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw typeError('options.signal', 'an AbortSignal', signal);
  if (!Array.isArray(items)) throw typeError('items', 'an array of { input, label }', items);
  if (items.length === 0) throw new RangeError('items: expected at least one labelled input, got an array of length 0');
  items.forEach((item, i) => {
    if (item === null || typeof item !== 'object' || !('input' in item)) throw typeError(`items[${i}]`, 'an object { input, label }', item);
    str(`items[${i}].label`, item.label, { nonEmpty: true });
  });

  const answers: EvalAnswer[] = [];
  const failed: EvalFailure[] = [];
  const fileOf = (input: unknown) => (typeof input === 'string' ? { file: input } : {});
  const record = (index: number, p: Prediction) => {
    const { input, label: truth } = items[index];
    answers.push({ index, ...fileOf(input), truth, label: p.label, best: p.top[0]?.label ?? null, score: p.score, margin: p.margin });
  };
  for (let start = 0; start < items.length; start += batch) {
    signal?.throwIfAborted();
    const end = Math.min(start + batch, items.length);
    const group = items.slice(start, end).map((it) => it.input);
    let preds: Prediction[] | null;
    try {
      preds = await predict(group);
    } catch {
      preds = null;
    }
    for (let j = 0; j < group.length; j++) {
      const p = preds?.[j];
      if (p) {
        record(start + j, p);
        continue;
      }
      // The batch failed: ask one by one, so one unreadable file costs only itself.
      try {
        const [one] = await predict([group[j]]);
        record(start + j, one);
      } catch (err) {
        failed.push({
          index: start + j,
          ...fileOf(group[j]),
          truth: items[start + j].label,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    onProgress?.(end, items.length);
  }
  return report(storeLabels, answers, failed);
}

/** The report on `answers` of a learner that knows `storeLabels`; `failed` items count in `counts` only. */
export function report(storeLabels: readonly string[], answers: EvalAnswer[], failed: EvalFailure[]): EvalReport {
  const known = new Set(storeLabels);
  const rate = (count: number, of: number): Rate => ({ count, of, rate: of === 0 ? null : count / of });

  const byTruth = new Map<string, EvalAnswer[]>();
  for (const a of answers) {
    const list = byTruth.get(a.truth);
    if (list) list.push(a);
    else byTruth.set(a.truth, [a]);
  }
  const truths = [...byTruth.keys()];
  const knownRows = truths.filter((l) => known.has(l)).sort(naturalCompare);
  const novelRows = truths.filter((l) => !known.has(l)).sort(naturalCompare);
  const rows = [...knownRows, ...novelRows];

  const answered = new Set<string>();
  for (const a of answers) if (a.label !== null) answered.add(a.label);
  const extra = [...answered].filter((l) => !knownRows.includes(l)).sort(naturalCompare);
  const columns: (string | null)[] = [...knownRows, ...extra, null];
  const col = new Map<string | null, number>(columns.map((c, i) => [c, i]));
  const counts = rows.map(() => new Array<number>(columns.length).fill(0));

  const classes: EvalClass[] = rows.map((label, r) => {
    const list = byTruth.get(label)!;
    const isKnown = known.has(label);
    let correct = 0;
    let unknown = 0;
    let top1 = 0;
    for (const a of list) {
      counts[r][col.get(a.label)!] += 1;
      if (a.label === null) unknown += 1;
      if (a.label === (isKnown ? label : null)) correct += 1;
      if (a.best === label) top1 += 1;
    }
    return {
      label,
      known: isKnown,
      items: list.length,
      correct,
      unknown,
      wrong: list.length - correct - (isKnown ? unknown : 0),
      recall: correct / list.length,
      top1: isKnown ? top1 / list.length : null,
    };
  });

  const sum = (f: (c: EvalClass) => number, which: boolean) => classes.filter((c) => c.known === which).reduce((s, c) => s + f(c), 0);
  const nKnown = sum((c) => c.items, true);
  const nNovel = sum((c) => c.items, false);
  const knownRight = sum((c) => c.correct, true);
  const knownUnknown = sum((c) => c.unknown, true);
  const novelUnknown = sum((c) => c.unknown, false);
  const top1 = answers.filter((a) => known.has(a.truth) && a.best === a.truth).length;

  return {
    storeLabels: [...storeLabels],
    counts: {
      items: answers.length + failed.length,
      evaluated: answers.length,
      failed: failed.length,
      known: nKnown,
      novel: nNovel,
      knownLabels: knownRows.length,
      novelLabels: novelRows.length,
    },
    top1: rate(top1, nKnown),
    openSet: {
      accuracy: rate(knownRight + novelUnknown, answers.length),
      known: {
        right: rate(knownRight, nKnown),
        wrong: rate(nKnown - knownRight - knownUnknown, nKnown),
        unknown: rate(knownUnknown, nKnown),
      },
      novel: { unknown: rate(novelUnknown, nNovel), labelled: rate(nNovel - novelUnknown, nNovel) },
      auroc:
        nKnown > 0 && nNovel > 0
          ? auroc(
              answers.filter((a) => known.has(a.truth)).map((a) => a.score),
              answers.filter((a) => !known.has(a.truth)).map((a) => a.score),
            )
          : null,
    },
    classes,
    confusion: { rows, columns, counts },
    mistakes: answers.filter((a) => a.label !== (known.has(a.truth) ? a.truth : null)).sort((a, b) => a.index - b.index),
    failed: failed.sort((a, b) => a.index - b.index),
  };
}

/** P(a known score > a novel one), ties counting half (the Mann-Whitney statistic), by one sort: O(n log n). */
export function auroc(known: readonly number[], novel: readonly number[]): number {
  if (known.length === 0 || novel.length === 0) throw new RangeError('auroc: needs at least one known and one novel score');
  const all = [...known.map((s) => ({ s, k: 1 })), ...novel.map((s) => ({ s, k: 0 }))].sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) j++;
    // Tied scores share the mean of their ranks (1-based).
    const rank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) if (all[t].k === 1) rankSum += rank;
    i = j;
  }
  return (rankSum - (known.length * (known.length + 1)) / 2) / (known.length * novel.length);
}
