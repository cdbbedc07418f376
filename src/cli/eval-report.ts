// The text a person reads after `engram eval`: the headline rates, a per-class table, the confusion matrix,
// the first wrong answers and the files that could not be read.
import type { EvalReport, Rate } from '../learner/evaluate.js';
import { answerName } from './confusion-svg.js';

export function pct(r: Rate): string {
  return r.rate === null ? '-' : `${(100 * r.rate).toFixed(1)}%`;
}

function share(x: number | null): string {
  return x === null ? '-' : `${(100 * x).toFixed(1)}%`;
}

/** Columns padded to their widest cell: the first `left` left-aligned (text), the rest right-aligned (numbers). */
function table(rows: string[][], left = 1): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd(),
  );
}

export function evalText(report: EvalReport, opts: { store: string; mistakes: number }): string {
  const { counts: n, openSet } = report;
  const lines: string[] = [];
  const plural = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;
  const parts = [
    n.known ? `${n.known} of ${plural(n.knownLabels, 'known label')}` : '',
    n.novel ? `${n.novel} of ${plural(n.novelLabels, 'novel label')}` : '',
  ];
  if (n.failed) parts.push(`${n.failed} could not be read`);
  lines.push(
    `store ${opts.store} (${plural(report.storeLabels.length, 'class', 'classes')}): ${plural(n.evaluated, 'image')} answered${parts.some(Boolean) ? `: ${parts.filter(Boolean).join(', ')}` : ''}`,
  );
  lines.push('');
  const summary: string[][] = [];
  const of = (r: Rate) => `${r.count} of ${r.of}`;
  if (n.known) {
    summary.push(['top-1 (closed set: the best class, known labels)', pct(report.top1), of(report.top1)]);
    summary.push(['known labels answered right', pct(openSet.known.right), of(openSet.known.right)]);
    summary.push(['known labels answered with a wrong label', pct(openSet.known.wrong), of(openSet.known.wrong)]);
    summary.push(['known labels answered unknown', pct(openSet.known.unknown), of(openSet.known.unknown)]);
  }
  if (n.novel) {
    summary.push(['novel labels answered unknown (right)', pct(openSet.novel.unknown), of(openSet.novel.unknown)]);
    summary.push(['novel labels answered with a label', pct(openSet.novel.labelled), of(openSet.novel.labelled)]);
  }
  summary.push(['open set (known right + novel unknown)', pct(openSet.accuracy), of(openSet.accuracy)]);
  if (openSet.auroc !== null) summary.push(['AUROC of the best score (known vs novel; 0.5 = chance)', openSet.auroc.toFixed(3), '']);
  lines.push(...table(summary));

  lines.push('');
  const per = [['class', 'images', 'recall', 'top-1', 'unknown', 'wrong label']];
  for (const c of report.classes) {
    per.push([
      c.known ? c.label : `${c.label} (novel)`,
      String(c.items),
      share(c.recall),
      share(c.top1),
      String(c.unknown),
      String(c.wrong),
    ]);
  }
  lines.push(...table(per));
  lines.push("recall: answered right (a novel label's right answer is unknown); top-1: the best class, ignoring the unknown threshold");

  lines.push('');
  lines.push('confusion matrix (rows: true label, columns: answer, . for none)');
  const { rows, columns, counts } = report.confusion;
  const known = new Set(report.storeLabels);
  const matrix = [['', ...columns.map((c) => answerName(c, columns)), 'n']];
  rows.forEach((r, i) => {
    matrix.push([
      known.has(r) ? r : `${r} (novel)`,
      ...counts[i].map((k) => (k ? String(k) : '.')),
      String(counts[i].reduce((a, b) => a + b, 0)),
    ]);
  });
  lines.push(...table(matrix));

  if (report.mistakes.length && opts.mistakes > 0) {
    const shown = report.mistakes.slice(0, opts.mistakes);
    lines.push('');
    lines.push(
      `wrong answers (${shown.length} of ${report.mistakes.length}${shown.length < report.mistakes.length ? '; --mistakes N shows more, --json lists all' : ''}):`,
    );
    const rowsOut = shown.map((m) => [
      m.file ?? `#${m.index}`,
      `true ${m.truth}`,
      `answered ${m.label ?? `unknown${m.best !== null ? ` (best ${m.best})` : ''}`}`,
      `score ${m.score.toFixed(3)}`,
    ]);
    lines.push(...table(rowsOut, 3).map((l) => `  ${l}`));
  }
  if (report.failed.length) {
    lines.push('');
    lines.push(`could not be read (${report.failed.length}, left out of every rate):`);
    for (const f of report.failed) lines.push(`  ${f.error}`);
  }
  return lines.join('\n');
}
