// A small line/scatter chart writer: enough SVG for "accuracy vs classes learned" and "accuracy vs bytes
// per class" to be read by a person in a browser or a README, with no plotting dependency.

export interface Series {
  name: string;
  points: [number, number][];
  /** Draw markers only (a method measured at one size). */
  markersOnly?: boolean;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Logarithmic x axis (bytes span orders of magnitude). */
  xLog?: boolean;
  yRange?: [number, number];
}

// Ten colours and eight marker shapes: series i gets colour i and shape i, so no two of the first ten
// series look alike even in grey print.
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'cross', 'triangle-down', 'plus', 'star'] as const;

/** One marker of shape `shape` centred at (x, y) with radius r. */
export function marker(shape: (typeof MARKERS)[number], x: number, y: number, r: number, color: string): string {
  const p = (pts: [number, number][]) =>
    `<polygon points="${pts.map(([a, b]) => `${(x + a * r).toFixed(1)},${(y + b * r).toFixed(1)}`).join(' ')}" fill="${color}"/>`;
  switch (shape) {
    case 'circle':
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" fill="${color}"/>`;
    case 'square':
      return p([
        [-0.9, -0.9],
        [0.9, -0.9],
        [0.9, 0.9],
        [-0.9, 0.9],
      ]);
    case 'triangle':
      return p([
        [0, -1.2],
        [1.1, 0.8],
        [-1.1, 0.8],
      ]);
    case 'triangle-down':
      return p([
        [0, 1.2],
        [1.1, -0.8],
        [-1.1, -0.8],
      ]);
    case 'diamond':
      return p([
        [0, -1.3],
        [1.1, 0],
        [0, 1.3],
        [-1.1, 0],
      ]);
    case 'star':
      return p(
        Array.from({ length: 10 }, (_, i) => {
          const a = (Math.PI * i) / 5 - Math.PI / 2;
          const rr = i % 2 ? 0.55 : 1.3;
          return [rr * Math.cos(a), rr * Math.sin(a)] as [number, number];
        }),
      );
    case 'cross':
    case 'plus': {
      const d = shape === 'cross' ? 0.9 : 1.2;
      const lines =
        shape === 'cross'
          ? [
              [-d, -d, d, d],
              [-d, d, d, -d],
            ]
          : [
              [-d, 0, d, 0],
              [0, -d, 0, d],
            ];
      return lines
        .map(
          ([a, b, c, e]) =>
            `<line x1="${(x + a * r).toFixed(1)}" y1="${(y + b * r).toFixed(1)}" x2="${(x + c * r).toFixed(1)}" y2="${(y + e * r).toFixed(1)}" stroke="${color}" stroke-width="2.5"/>`,
        )
        .join('');
    }
  }
}
const W = 760;
const H = 440;
const M = { left: 64, right: 220, top: 40, bottom: 56 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** About five round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1e6) return `${v / 1e6}M`;
  if (Math.abs(v) >= 1e3) return `${v / 1e3}k`;
  return String(v);
}

export function renderChart(c: Chart): string {
  const pts = c.series.flatMap((s) => s.points);
  if (pts.length === 0) throw new RangeError(`chart "${c.title}": no points`);
  const tx = (x: number) => (c.xLog ? Math.log10(x) : x);
  let x0 = Math.min(...pts.map((p) => tx(p[0])));
  let x1 = Math.max(...pts.map((p) => tx(p[0])));
  if (c.xLog) {
    x0 = Math.floor(x0);
    x1 = Math.ceil(x1);
  }
  if (x0 === x1) x1 = x0 + 1;
  const [y0, y1] = c.yRange ?? [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((tx(x) - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => M.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(c.title)}</text>`);
  const xt = c.xLog ? Array.from({ length: x1 - x0 + 1 }, (_, i) => 10 ** (x0 + i)) : niceTicks(x0, x1);
  for (const v of xt) {
    const x = sx(v);
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle">${fmt(v)}</text>`);
  }
  for (const v of niceTicks(y0, y1)) {
    const y = sy(v);
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const p = [...s.points].sort((a, b) => a[0] - b[0]);
    if (!s.markersOnly && p.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      );
    }
    const shape = MARKERS[i % MARKERS.length];
    for (const [x, y] of p) out.push(marker(shape, sx(x), sy(y), s.markersOnly ? 5 : 4, color));
    const ly = M.top + 10 + i * 20;
    out.push(`<line x1="${W - M.right + 14}" y1="${ly}" x2="${W - M.right + 36}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    out.push(marker(shape, W - M.right + 25, ly, 4, color));
    out.push(`<text x="${W - M.right + 42}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
