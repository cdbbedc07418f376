// A backbone's input conventions applied to one image: the polarity it was trained on (light strokes on a
// dark background, or the reverse) and, for stroke models, the framing (one glyph scaled so its ink fills a
// set share of the frame, centred by its centre of mass, as MNIST frames digits). Ink on paper, photographed
// or scanned, is dark on light and small on a large page; a stroke model sees it the way it was trained.
//
// Everything is read from the image itself, on 8-bit grey pixels at a modest size:
// - the background level is the median of a ring along the border, the noise the median difference between
//   neighbouring pixels of the ring (so paper grain and JPEG ringing do not count as ink, and light falling
//   off across the page does not count as noise);
// - the ink is what departs from the background by more than the noise allows; its side (darker or lighter)
//   is the image's polarity, and the image is inverted when that is not the model's;
// - framing: each pixel's departure from its local background (a percentile on the paper's side of each cell
//   of a coarse grid, interpolated), so uneven light and shadows are not ink; the ink's bounding box (pixels
//   past 40% of the ink's level, the extreme 0.5% of them trimmed on each side, so a speck of dust does not
//   stretch it); levels stretched so background is 0 and ink 255 (the model's training images were clean);
//   the box cut out, and a window around it of the size that makes the ink fill the model's framing,
//   centred on the ink's centre of mass. Past the image's edges the window holds background.
import type { Pixels } from './decode.js';
import type { Framing, Polarity } from '../backbone/manifest.js';

/** What a manifest says about its model's inputs (both optional: a photo model has neither). */
export interface Conventions {
  polarity?: Polarity;
  framing?: Framing;
}

/** A region of an image in pixels (x, y of the top-left corner). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What was applied to one image, in the pixels of the image as displayed (full size, EXIF orientation applied). */
export interface Applied {
  /** The image's polarity as detected; null when it holds no ink (a blank or flat image). */
  polarity: Polarity | null;
  /** Whether the image was inverted to the model's polarity. */
  inverted: boolean;
  /** Framing: the ink's bounding box; null when the image was not framed (no framing asked, or no ink). */
  ink: Box | null;
  /** Framing: the region that became the model's input (it may reach past the edges: background there). */
  crop: Box | null;
}

/** The plan for one decoded image: a lookup table for its grey levels, and where to read the model's input. */
export interface InkPlan {
  polarity: Polarity | null;
  inverted: boolean;
  /**
   * Without framing: grey level -> level the model is fed (the inversion). With framing: ink depth (a pixel's
   * departure from its local background, `depth`) -> level the model is fed (the levels stretch, in its polarity).
   */
  levels: Uint8Array;
  /**
   * Framing: each pixel's departure from its local background on the ink's side, 0..255. A view of a buffer
   * reused by the next planInk: use the plan (framed) before planning another image.
   */
  depth?: Uint8Array;
  /** Framing: the ink box and the window around it, in the analysed image's pixels; null: not framed. */
  ink: Box | null;
  window: Box | null;
  /**
   * Framing: how many times more resolution the window needs for the model's input to be shrunk rather than
   * enlarged (> 1: decode the image larger, if it can be).
   */
  undersampled: number;
}

// The border ring: this share of the shorter side, at least one pixel.
const RING = 1 / 25;
// Ink departs from the background by more than this many noise deviations, and at least this many levels.
const NOISE_DEVIATIONS = 4;
const MIN_CONTRAST = 24;
// The ink box holds pixels past this share of the ink's level.
const BOX_LEVEL = 0.4;
// Share of the ink pixels trimmed from each side of the box (isolated specks).
const BOX_TRIM = 0.005;
// Fewer ink pixels than this: no ink (nothing to frame).
const MIN_INK_PIXELS = 4;

const IDENTITY = Uint8Array.from({ length: 256 }, (_, v) => v);
const INVERT = Uint8Array.from({ length: 256 }, (_, v) => 255 - v);

function percentile(hist: Uint32Array, total: number, q: number): number {
  const want = Math.max(1, Math.ceil(total * q));
  let seen = 0;
  for (let v = 0; v < hist.length; v++) {
    seen += hist[v];
    if (seen >= want) return v;
  }
  return hist.length - 1;
}

/**
 * Reads the polarity and (with framing) the ink's box from one grey image and says how to feed it:
 * `modelWidth` x `modelHeight` is the model's input size.
 */
export function planInk(grey: Pixels, conv: Conventions, modelWidth: number, modelHeight: number): InkPlan {
  if (grey.channels !== 1) throw new RangeError(`planInk: expected grey pixels, got ${grey.channels} channels`);
  const { width: w, height: h, data } = grey;
  const ring = Math.max(1, Math.floor(Math.min(w, h) * RING));
  const border = new Uint32Array(256);
  let ringCount = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    if (y < ring || y >= h - ring) {
      for (let x = 0; x < w; x++) border[data[row + x]]++;
      ringCount += w;
    } else {
      for (let x = 0; x < Math.min(ring, w); x++) border[data[row + x]]++;
      for (let x = Math.max(ring, w - ring); x < w; x++) border[data[row + x]]++;
      ringCount += Math.min(w, 2 * ring);
    }
  }
  const background = percentile(border, ringCount, 0.5);
  // The noise from differences between neighbours along the ring's rows (light falling off across the page
  // changes little from one pixel to the next): for Gaussian grain of deviation s their median is 0.954 s.
  const steps = new Uint32Array(256);
  let stepCount = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const edge = y < ring || y >= h - ring;
    for (let x = 0; x + 1 < w; x++) {
      if (edge || x + 1 < ring || x >= w - ring) {
        steps[Math.abs(data[row + x + 1] - data[row + x])]++;
        stepCount++;
      }
    }
  }
  const noise = stepCount ? percentile(steps, stepCount, 0.5) / 0.954 : 0;
  const contrast = Math.max(MIN_CONTRAST, NOISE_DEVIATIONS * noise);

  // Which side the ink is on: the larger departure past the noise, weighted by how far it goes.
  const all = new Uint32Array(256);
  for (let i = 0; i < data.length; i++) all[data[i]]++;
  let dark = 0;
  let light = 0;
  for (let v = 0; v < 256; v++) {
    const d = v - background;
    if (d < -contrast) dark += all[v] * (-d - contrast);
    else if (d > contrast) light += all[v] * (d - contrast);
  }
  const none: InkPlan = { polarity: null, inverted: false, levels: IDENTITY, ink: null, window: null, undersampled: 1 };
  if (dark === 0 && light === 0) return none;
  const polarity: Polarity = dark > light ? 'dark-on-light' : 'light-on-dark';
  const inverted = conv.polarity !== undefined && conv.polarity !== polarity;
  if (!conv.framing) return { ...none, polarity, inverted, levels: inverted ? INVERT : IDENTITY };

  // Framing reads ink against the local background: light that falls off across a page (or a shadow) would
  // otherwise pass for ink on its dark side. `depth` is each pixel's departure from its background, ink side.
  const depth = inkDepth(data, w, h, polarity);
  const flat = new Uint32Array(256);
  for (let i = 0; i < depth.length; i++) flat[depth[i]]++;
  const floor = Math.round(contrast);
  let strongCount = 0;
  for (let d = floor + 1; d < 256; d++) strongCount += flat[d];
  const unframed = { ...none, polarity, inverted, levels: inverted ? INVERT : IDENTITY };
  if (strongCount < MIN_INK_PIXELS) return unframed;
  const strong = flat.slice();
  strong.fill(0, 0, floor + 1);
  const peak = percentile(strong, strongCount, 0.99);
  const threshold = Math.max(floor, Math.round(BOX_LEVEL * peak));

  const columns = new Uint32Array(w);
  const rows = new Uint32Array(h);
  let inkCount = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let n = 0;
    for (let x = 0; x < w; x++) {
      if (depth[row + x] > threshold) {
        columns[x]++;
        n++;
      }
    }
    rows[y] = n;
    inkCount += n;
  }
  if (inkCount < MIN_INK_PIXELS) return unframed;
  const trim = Math.floor(inkCount * BOX_TRIM);
  const [x0, x1] = trimmedSpan(columns, trim);
  const [y0, y1] = trimmedSpan(rows, trim);

  // Levels: the noise floor to 0, the ink's typical level (its median) and above to full, in the model's polarity.
  const inkLevels = flat.slice();
  inkLevels.fill(0, 0, threshold + 1);
  const lo = Math.min(Math.round(2 * noise), threshold - 1);
  const hi = Math.max(lo + 16, percentile(inkLevels, inkCount, 0.5));
  const wantLight = (conv.polarity ?? polarity) === 'light-on-dark';
  const levels = new Uint8Array(256);
  const strength = new Uint8Array(256);
  for (let d = 0; d < 256; d++) {
    strength[d] = Math.min(255, Math.max(0, Math.round(((d - lo) * 255) / (hi - lo))));
    levels[d] = wantLight ? strength[d] : 255 - strength[d];
  }

  // Centre: the ink's centre of mass (its stretched levels) inside the box, or the box's centre.
  const ink: Box = { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  let cx = x0 + ink.width / 2;
  let cy = y0 + ink.height / 2;
  if (conv.framing.centre === 'mass') {
    let m = 0,
      mx = 0,
      my = 0;
    for (let y = y0; y <= y1; y++) {
      const row = y * w;
      for (let x = x0; x <= x1; x++) {
        const v = strength[depth[row + x]];
        m += v;
        mx += v * x;
        my += v * y;
      }
    }
    if (m > 0) {
      cx = mx / m + 0.5;
      cy = my / m + 0.5;
    }
  }
  // Source pixels per model pixel: the ink's longer side fills `fill` of the model's shorter side.
  const perPixel = Math.max(ink.width, ink.height) / (conv.framing.fill * Math.min(modelWidth, modelHeight));
  const ww = modelWidth * perPixel;
  const wh = modelHeight * perPixel;
  const window: Box = { x: cx - ww / 2, y: cy - wh / 2, width: ww, height: wh };
  return { polarity, inverted, levels, depth, ink, window, undersampled: 1 / perPixel };
}

// inkDepth's result: a new array per image costs more than computing it (its memory is allocated outside
// the JavaScript heap), so one is reused, valid until the next planInk.
let depthScratch = new Uint8Array(0);

// The background is estimated on a grid of cells about this share of the shorter side.
const CELL = 1 / 6;
// In each cell, the background is this percentile on the paper's side (a quarter of a cell may be ink).
const CELL_PAPER = 0.75;

/**
 * Each pixel's departure from its local background on the ink's side (0 on the paper's side), 0..255: the
 * background is a percentile of each grid cell on the paper's side, interpolated bilinearly between cell centres.
 */
function inkDepth(data: Uint8Array, w: number, h: number, polarity: Polarity): Uint8Array {
  const side = Math.max(8, Math.round(Math.min(w, h) * CELL));
  const gx = Math.max(1, Math.round(w / side));
  const gy = Math.max(1, Math.round(h / side));
  const dark = polarity === 'dark-on-light';
  const cells = new Float64Array(gx * gy);
  const hist = new Uint32Array(256);
  for (let j = 0; j < gy; j++) {
    const ya = Math.floor((j * h) / gy);
    const yb = Math.floor(((j + 1) * h) / gy);
    for (let i = 0; i < gx; i++) {
      const xa = Math.floor((i * w) / gx);
      const xb = Math.floor(((i + 1) * w) / gx);
      // Every other pixel of every other row: a percentile of a cell needs no more.
      hist.fill(0);
      let n = 0;
      for (let y = ya; y < yb; y += 2) {
        for (let p = y * w + xa, end = y * w + xb; p < end; p += 2) {
          hist[data[p]]++;
          n++;
        }
      }
      cells[j * gx + i] = n ? percentile(hist, n, dark ? CELL_PAPER : 1 - CELL_PAPER) : 0;
    }
  }
  // For each column, the two cells it lies between and the right one's weight in 1/256 (cell centres at
  // (i + 0.5) * w / gx); integer arithmetic from here on, in 1/256 of a grey level.
  const left = new Int32Array(w);
  const weight = new Int32Array(w);
  for (let x = 0; x < w; x++) {
    const u = Math.min(gx - 1, Math.max(0, ((x + 0.5) * gx) / w - 0.5));
    left[x] = gx === 1 ? 0 : Math.min(gx - 2, Math.floor(u));
    weight[x] = gx === 1 ? 0 : Math.round((u - left[x]) * 256);
  }
  if (depthScratch.length < w * h) depthScratch = new Uint8Array(Math.max(w * h, 2 * depthScratch.length));
  const out = depthScratch.subarray(0, w * h);
  const line = new Int32Array(gx + 1);
  for (let y = 0; y < h; y++) {
    const v = Math.min(gy - 1, Math.max(0, ((y + 0.5) * gy) / h - 0.5));
    const top = gy === 1 ? 0 : Math.min(gy - 2, Math.floor(v));
    const f = gy === 1 ? 0 : v - top;
    for (let i = 0; i < gx; i++)
      line[i] = Math.round(256 * (cells[top * gx + i] * (1 - f) + (gy === 1 ? 0 : cells[(top + 1) * gx + i] * f)));
    line[gx] = line[gx - 1];
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const l = left[x];
      const k = weight[x];
      const b = (line[l] * (256 - k) + line[l + 1] * k) >> 8;
      const level = data[row + x] << 8;
      const d = dark ? b - level : level - b;
      out[row + x] = d <= 0 ? 0 : d >= 65280 ? 255 : (d + 128) >> 8;
    }
  }
  return out;
}

/** First and last index of a histogram after dropping `trim` counts from each end. */
function trimmedSpan(counts: Uint32Array, trim: number): [number, number] {
  let first = 0;
  for (let dropped = 0; first < counts.length - 1 && dropped + counts[first] <= trim; first++) dropped += counts[first];
  let last = counts.length - 1;
  for (let dropped = 0; last > first && dropped + counts[last] <= trim; last--) dropped += counts[last];
  return [first, last];
}

/** Grey levels of RGB pixels (libjpeg's and PIL's luma: 0.299 R + 0.587 G + 0.114 B, rounded). */
export function luma(px: Pixels): Pixels {
  if (px.channels === 1) return px;
  const n = px.width * px.height;
  const out = Buffer.allocUnsafe(n);
  const d = px.data;
  for (let p = 0, q = 0; p < n; p++, q += 3) out[p] = (19595 * d[q] + 38470 * d[q + 1] + 7471 * d[q + 2] + 32768) >> 16;
  return { data: out, width: px.width, height: px.height, channels: 1 };
}

/** `px` with every channel value passed through `levels` (a copy; `px` itself is left as it is). */
export function mapLevels(px: Pixels, levels: Uint8Array): Pixels {
  const out = Buffer.allocUnsafe(px.data.length);
  const d = px.data;
  for (let i = 0; i < d.length; i++) out[i] = levels[d[i]];
  return { ...px, data: out };
}

/**
 * The framed image: the ink box (with a pixel of margin), its depths through the plan's levels, on background, over
 * the plan's window; and the window in the returned image's pixels, for the resampler.
 */
export function framed(grey: Pixels, plan: InkPlan): { px: Pixels; window: Box } {
  const win = plan.window!;
  const ink = plan.ink!;
  const X0 = Math.floor(win.x);
  const Y0 = Math.floor(win.y);
  const cw = Math.max(1, Math.ceil(win.x + win.width) - X0);
  const ch = Math.max(1, Math.ceil(win.y + win.height) - Y0);
  const out = Buffer.alloc(cw * ch, plan.levels[0]);
  const { width: w, height: h } = grey;
  const data = plan.depth!;
  const xa = Math.max(0, ink.x - 1, X0);
  const xb = Math.min(w, ink.x + ink.width + 1, X0 + cw);
  const ya = Math.max(0, ink.y - 1, Y0);
  const yb = Math.min(h, ink.y + ink.height + 1, Y0 + ch);
  const levels = plan.levels;
  for (let y = ya; y < yb; y++) {
    const from = y * w;
    const to = (y - Y0) * cw - X0;
    for (let x = xa; x < xb; x++) out[to + x] = levels[data[from + x]];
  }
  return {
    px: { data: out, width: cw, height: ch, channels: 1 },
    window: { x: win.x - X0, y: win.y - Y0, width: win.width, height: win.height },
  };
}

/** A box in the analysed image's pixels, scaled to the full-size image and rounded outwards (ink) or to 0.1 px. */
export function scaleBox(b: Box, sx: number, sy: number, outwards: boolean): Box {
  if (outwards) {
    const x = Math.floor(b.x * sx);
    const y = Math.floor(b.y * sy);
    return { x, y, width: Math.ceil((b.x + b.width) * sx) - x, height: Math.ceil((b.y + b.height) * sy) - y };
  }
  const r = (v: number) => Math.round(v * 10) / 10;
  return { x: r(b.x * sx), y: r(b.y * sy), width: r(b.width * sx), height: r(b.height * sy) };
}
