// The confusion matrix of an evaluation as a self-contained SVG: rows are the true labels, columns the answers
// (unknown last); each cell shows its count, shaded by its share of the row, blue where the answer is right
// and orange where it is wrong, so the two stay apart for colour-blind readers too.
import type { EvalReport } from '../learner/evaluate.js';

const FONT = 12;
/** Average advance of a sans-serif character at FONT px: enough to size the margins without measuring text. */
const CHAR = 7.2;
const PAD = 16;
const BLUE: [number, number][] = [
  [0xf7, 0x08],
  [0xfb, 0x51],
  [0xff, 0x9c],
];
const ORANGE: [number, number][] = [
  [0xff, 0xa6],
  [0xf5, 0x36],
  [0xeb, 0x03],
];

export interface ConfusionSvgOptions {
  title: string;
  /** A second line under the title (the headline numbers). */
  subtitle?: string;
}

/** The display name of an answer column: null is "unknown" (or "(unknown)" if a class is itself named unknown). */
export function answerName(col: string | null, columns: (string | null)[]): string {
  if (col !== null) return col;
  return columns.includes('unknown') ? '(unknown)' : 'unknown';
}

export function confusionSvg(report: EvalReport, opts: ConfusionSvgOptions): string {
  const { rows, columns, counts } = report.confusion;
  const known = new Set(report.storeLabels);
  const rowNames = rows.map((r) => (known.has(r) ? r : `${r} (novel)`));
  const colNames = columns.map((c) => answerName(c, columns));
  const maxCount = Math.max(1, ...counts.flat(), ...counts.map((r) => r.reduce((a, b) => a + b, 0)));
  const cell = Math.max(30, String(maxCount).length * CHAR + 12);
  const rotate = colNames.some((n) => n.length * CHAR > cell - 4);

  const rowLabelW = Math.max(...rowNames.map((n) => n.length), 4) * CHAR + 8;
  const colLabelH = rotate ? Math.max(...colNames.map((n) => n.length)) * CHAR * Math.SQRT1_2 + FONT + 8 : FONT + 10;
  const titleH = opts.subtitle ? 46 : 28;
  const axisH = FONT + 12;
  const x0 = PAD + FONT + 12 + rowLabelW;
  const y0 = PAD + titleH + axisH + colLabelH;
  const gridW = columns.length * cell;
  const gridH = rows.length * cell;
  const totalW = cell + 8;
  const legendH = 3 * FONT;
  const legend = ["right answer (a novel label's right answer is unknown)", 'wrong answer; darker = larger share of the row (n images)'];
  // Rotated column labels run up and to the right: the last one may reach past the grid.
  const overhang = rotate ? x0 + gridW - cell / 2 + colNames[colNames.length - 1].length * CHAR * Math.SQRT1_2 + FONT : 0;
  const textW = Math.max(opts.title.length * 1.25, opts.subtitle?.length ?? 0, ...legend.map((l) => l.length + 3)) * CHAR;
  const width = Math.ceil(Math.max(x0 + gridW + totalW, overhang, textW + PAD) + PAD);
  const height = Math.ceil(y0 + gridH + PAD + legendH + PAD);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="${FONT}">`,
  );
  out.push(`<title>${esc(opts.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${PAD}" y="${PAD + 14}" font-size="15" font-weight="bold" fill="#222222">${esc(opts.title)}</text>`);
  if (opts.subtitle) out.push(`<text x="${PAD}" y="${PAD + 34}" fill="#444444">${esc(opts.subtitle)}</text>`);

  // Axis titles: answers across the top, true labels down the left.
  out.push(
    `<text x="${f(x0 + gridW / 2)}" y="${f(PAD + titleH + FONT + 2)}" text-anchor="middle" font-weight="bold" fill="#222222">answer (predicted label)</text>`,
  );
  const ay = y0 + gridH / 2;
  out.push(
    `<text x="${f(PAD + FONT)}" y="${f(ay)}" text-anchor="middle" font-weight="bold" fill="#222222" transform="rotate(-90 ${f(PAD + FONT)} ${f(ay)})">true label</text>`,
  );

  colNames.forEach((name, c) => {
    const cx = x0 + c * cell + cell / 2;
    const style = columns[c] === null ? ' font-style="italic"' : '';
    if (rotate) {
      const y = y0 - 6;
      out.push(`<text x="${f(cx)}" y="${f(y)}" fill="#222222"${style} transform="rotate(-45 ${f(cx)} ${f(y)})">${esc(name)}</text>`);
    } else {
      out.push(`<text x="${f(cx)}" y="${f(y0 - 6)}" text-anchor="middle" fill="#222222"${style}>${esc(name)}</text>`);
    }
  });
  out.push(`<text x="${f(x0 + gridW + totalW / 2)}" y="${f(y0 - 6)}" text-anchor="middle" fill="#666666" font-style="italic">n</text>`);

  rows.forEach((row, r) => {
    const y = y0 + r * cell;
    const total = counts[r].reduce((a, b) => a + b, 0);
    const rightCol = columns.indexOf(known.has(row) ? row : null);
    out.push(`<text x="${f(x0 - 6)}" y="${f(y + cell / 2 + FONT / 3)}" text-anchor="end" fill="#222222">${esc(rowNames[r])}</text>`);
    counts[r].forEach((n, c) => {
      const share = total ? n / total : 0;
      const x = x0 + c * cell;
      const fill = n === 0 ? '#ffffff' : shade(c === rightCol ? BLUE : ORANGE, 0.12 + 0.88 * share);
      const ink = n === 0 ? '#bbbbbb' : share > 0.5 ? '#ffffff' : '#222222';
      out.push(
        `<rect x="${f(x)}" y="${f(y)}" width="${f(cell)}" height="${f(cell)}" fill="${fill}" stroke="#d0d0d0" stroke-width="1"><title>${esc(`${rowNames[r]} answered ${colNames[c]}: ${n} of ${total}`)}</title></rect>`,
      );
      out.push(`<text x="${f(x + cell / 2)}" y="${f(y + cell / 2 + FONT / 3)}" text-anchor="middle" fill="${ink}">${n}</text>`);
    });
    out.push(
      `<text x="${f(x0 + gridW + totalW / 2)}" y="${f(y + cell / 2 + FONT / 3)}" text-anchor="middle" fill="#666666">${total}</text>`,
    );
  });
  // The unknown column and the novel rows are set apart by a darker line.
  const ux = x0 + (columns.length - 1) * cell;
  out.push(`<line x1="${f(ux)}" y1="${f(y0)}" x2="${f(ux)}" y2="${f(y0 + gridH)}" stroke="#555555" stroke-width="1.5"/>`);
  const firstNovel = rows.findIndex((r) => !known.has(r));
  if (firstNovel > 0) {
    const ny = y0 + firstNovel * cell;
    out.push(`<line x1="${f(x0)}" y1="${f(ny)}" x2="${f(x0 + gridW)}" y2="${f(ny)}" stroke="#555555" stroke-width="1.5"/>`);
  }
  out.push(`<rect x="${f(x0)}" y="${f(y0)}" width="${f(gridW)}" height="${f(gridH)}" fill="none" stroke="#555555" stroke-width="1"/>`);

  // Legend.
  const ly = y0 + gridH + PAD;
  out.push(`<rect x="${PAD}" y="${f(ly)}" width="${FONT}" height="${FONT}" fill="${shade(BLUE, 0.8)}"/>`);
  out.push(`<text x="${PAD + FONT + 6}" y="${f(ly + FONT - 2)}" fill="#222222">${esc(legend[0])}</text>`);
  out.push(`<rect x="${PAD}" y="${f(ly + FONT + 6)}" width="${FONT}" height="${FONT}" fill="${shade(ORANGE, 0.8)}"/>`);
  out.push(`<text x="${PAD + FONT + 6}" y="${f(ly + 2 * FONT + 4)}" fill="#222222">${esc(legend[1])}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** A colour t (0..1) of the way along a two-stop ramp given per channel as [light, dark]. */
function shade(ramp: [number, number][], t: number): string {
  const u = Math.min(1, Math.max(0, t));
  return `#${ramp
    .map(([a, b]) =>
      Math.round(a + (b - a) * u)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

function f(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/** Text safe inside an XML element or attribute; characters XML 1.0 forbids become U+FFFD. */
function esc(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex -- replacing the control characters XML forbids is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
  );
}
