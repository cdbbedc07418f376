// The backbone manifest: the JSON beside an .onnx file that says how to feed it and what comes out.
// Validation is strict (unknown keys are errors) so a typo never silently changes preprocessing.
import { existsSync } from 'node:fs';
import { dirname, resolve, basename } from 'node:path';
import { int, num, oneOf, str, typeError, rangeError } from '../util/validate.js';
import { readTextChecked } from '../util/read-file.js';

export const MANIFEST_FORMAT = 'engram-backbone/1';

export type Layout = 'NCHW' | 'NHWC';
export type ColorOrder = 'RGB' | 'BGR' | 'gray';
export type ResizeMode = 'bilinear' | 'nearest' | 'bicubic' | 'lanczos';
export type FitMode = 'fill' | 'cover';
export type Precision = 'int8' | 'fp32' | 'fp16' | 'uint8';
export type Polarity = 'light-on-dark' | 'dark-on-light';

/**
 * How the training images framed their subject. 'stroke': one glyph (a digit, a letter, a sketch) scaled so
 * that the longer side of its ink box is `fill` of the input's shorter side, and centred by its centre of
 * mass ('mass', MNIST's convention) or by its box ('box').
 */
export interface Framing {
  kind: 'stroke';
  fill: number;
  centre: 'mass' | 'box';
}

export interface ManifestInput {
  name: string;
  layout: Layout;
  width: number;
  height: number;
  channels: 1 | 3;
  colorOrder: ColorOrder;
  /** What 0..255 pixel values are scaled to before mean/std. */
  range: [number, number];
  mean: number[];
  std: number[];
  resize: ResizeMode;
  dtype: 'float32';
  /** Optional: 'fill' stretches to width x height (default); 'cover' scales the short side and crops the centre. */
  fit?: FitMode;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  file: string;
  sha256: string;
  input: ManifestInput;
  output: { name: string; dim: number };
  precision: Precision;
  license: string;
  source: string;
  /** Optional: which strokes-on-background the model was trained on; images of the other kind are inverted. */
  polarity?: Polarity;
  /** Optional: how the training images framed their subject; stroke images are framed the same way. */
  framing?: Framing;
  /** Optional: free text for people. */
  description?: string;
  /** Optional: written by `engram backbone cut`: the classifier it came from and the tensor exposed. */
  cut?: { from: string; fromSha256: string; at: string };
  /** Optional, owned by the learner: only checked to be an object here. */
  codebook?: Record<string, unknown>;
  /** Optional, owned by the learner: only checked to be an object here. */
  calibration?: Record<string, unknown>;
}

/** A validated manifest plus where it was read from, so `file` can be resolved. */
export interface LoadedManifest extends Manifest {
  /** Absolute path of the manifest file (or of the folder the caller gave for an in-memory manifest). */
  readonly manifestPath: string;
  /** Absolute path of the .onnx file. */
  readonly modelPath: string;
}

const TOP_KEYS = [
  'format',
  'name',
  'file',
  'sha256',
  'input',
  'output',
  'precision',
  'license',
  'source',
  'polarity',
  'framing',
  'description',
  'cut',
  'codebook',
  'calibration',
] as const;
const INPUT_KEYS = [
  'name',
  'layout',
  'width',
  'height',
  'channels',
  'colorOrder',
  'range',
  'mean',
  'std',
  'resize',
  'dtype',
  'fit',
] as const;
const OUTPUT_KEYS = ['name', 'dim'] as const;
const CUT_KEYS = ['from', 'fromSha256', 'at'] as const;
const FRAMING_KEYS = ['kind', 'fill', 'centre'] as const;

function object(name: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw typeError(name, 'an object', value);
  return value as Record<string, unknown>;
}

function known(name: string, obj: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!keys.includes(k)) throw new RangeError(`${name}: unknown field "${k}" (known: ${keys.join(', ')})`);
  }
}

function required(name: string, obj: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of keys) {
    if (!(k in obj)) throw new TypeError(`${name}.${k}: required field is missing`);
  }
}

function numbers(name: string, value: unknown, length: number, check: (n: string, v: unknown) => number): number[] {
  if (!Array.isArray(value)) throw typeError(name, `an array of ${length} numbers`, value);
  if (value.length !== length) throw rangeError(name, `an array of ${length} numbers`, value);
  return value.map((v, i) => check(`${name}[${i}]`, v));
}

export function isSha256(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}

/**
 * Checks a parsed manifest and returns a typed copy. `where` prefixes every message (the file name),
 * so an error says which manifest and which field is wrong.
 */
export function validateManifest(value: unknown, where = 'manifest'): Manifest {
  const m = object(where, value);
  known(where, m, TOP_KEYS);
  required(where, m, ['format', 'name', 'file', 'sha256', 'input', 'output', 'precision', 'license', 'source']);
  if (m.format !== MANIFEST_FORMAT) throw rangeError(`${where}.format`, `"${MANIFEST_FORMAT}"`, m.format);
  const name = str(`${where}.name`, m.name, { nonEmpty: true, maxLength: 200 });
  const file = str(`${where}.file`, m.file, { nonEmpty: true });
  if (!file.endsWith('.onnx')) throw rangeError(`${where}.file`, 'a path ending in .onnx', file);
  const sha256 = str(`${where}.sha256`, m.sha256);
  if (!isSha256(sha256)) throw rangeError(`${where}.sha256`, '64 lowercase hex digits', sha256);

  const inWhere = `${where}.input`;
  const i = object(inWhere, m.input);
  known(inWhere, i, INPUT_KEYS);
  required(
    inWhere,
    i,
    INPUT_KEYS.filter((k) => k !== 'fit'),
  );
  const channels = int(`${inWhere}.channels`, i.channels, 1, 3);
  if (channels !== 1 && channels !== 3) throw rangeError(`${inWhere}.channels`, '1 or 3', channels);
  const colorOrder = oneOf(`${inWhere}.colorOrder`, i.colorOrder, ['RGB', 'BGR', 'gray'] as const);
  if ((colorOrder === 'gray') !== (channels === 1)) {
    throw new RangeError(`${inWhere}.colorOrder: "${colorOrder}" does not match channels ${channels} (gray needs 1, RGB/BGR need 3)`);
  }
  const range = numbers(`${inWhere}.range`, i.range, 2, (n, v) => num(n, v)) as [number, number];
  if (!(range[0] < range[1])) throw new RangeError(`${inWhere}.range: expected [low, high] with low < high, got [${range.join(', ')}]`);
  const mean = numbers(`${inWhere}.mean`, i.mean, channels, (n, v) => num(n, v));
  const std = numbers(`${inWhere}.std`, i.std, channels, (n, v) => {
    const s = num(n, v);
    if (s <= 0) throw rangeError(n, 'a number > 0', v);
    return s;
  });
  const input: ManifestInput = {
    name: str(`${inWhere}.name`, i.name, { nonEmpty: true }),
    layout: oneOf(`${inWhere}.layout`, i.layout, ['NCHW', 'NHWC'] as const),
    width: int(`${inWhere}.width`, i.width, 1, 8192),
    height: int(`${inWhere}.height`, i.height, 1, 8192),
    channels,
    colorOrder,
    range,
    mean,
    std,
    resize: oneOf(`${inWhere}.resize`, i.resize, ['bilinear', 'nearest', 'bicubic', 'lanczos'] as const),
    dtype: oneOf(`${inWhere}.dtype`, i.dtype, ['float32'] as const),
  };
  if (i.fit !== undefined) input.fit = oneOf(`${inWhere}.fit`, i.fit, ['fill', 'cover'] as const);

  const outWhere = `${where}.output`;
  const o = object(outWhere, m.output);
  known(outWhere, o, OUTPUT_KEYS);
  required(outWhere, o, OUTPUT_KEYS);

  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    name,
    file,
    sha256,
    input,
    output: { name: str(`${outWhere}.name`, o.name, { nonEmpty: true }), dim: int(`${outWhere}.dim`, o.dim, 1, 1 << 20) },
    precision: oneOf(`${where}.precision`, m.precision, ['int8', 'fp32', 'fp16', 'uint8'] as const),
    license: str(`${where}.license`, m.license, { nonEmpty: true }),
    source: str(`${where}.source`, m.source, { nonEmpty: true }),
  };
  if (m.polarity !== undefined) manifest.polarity = oneOf(`${where}.polarity`, m.polarity, ['light-on-dark', 'dark-on-light'] as const);
  if (m.framing !== undefined) {
    const f = object(`${where}.framing`, m.framing);
    known(`${where}.framing`, f, FRAMING_KEYS);
    required(`${where}.framing`, f, FRAMING_KEYS);
    const fill = num(`${where}.framing.fill`, f.fill);
    if (!(fill > 0 && fill <= 1)) throw rangeError(`${where}.framing.fill`, 'a number in (0, 1]', f.fill);
    manifest.framing = {
      kind: oneOf(`${where}.framing.kind`, f.kind, ['stroke'] as const),
      fill,
      centre: oneOf(`${where}.framing.centre`, f.centre, ['mass', 'box'] as const),
    };
  }
  if (m.description !== undefined) manifest.description = str(`${where}.description`, m.description);
  if (m.cut !== undefined) {
    const c = object(`${where}.cut`, m.cut);
    known(`${where}.cut`, c, CUT_KEYS);
    required(`${where}.cut`, c, CUT_KEYS);
    const fromSha256 = str(`${where}.cut.fromSha256`, c.fromSha256);
    if (!isSha256(fromSha256)) throw rangeError(`${where}.cut.fromSha256`, '64 lowercase hex digits', fromSha256);
    manifest.cut = { from: str(`${where}.cut.from`, c.from), fromSha256, at: str(`${where}.cut.at`, c.at, { nonEmpty: true }) };
  }
  if (m.codebook !== undefined) manifest.codebook = object(`${where}.codebook`, m.codebook);
  if (m.calibration !== undefined) manifest.calibration = object(`${where}.calibration`, m.calibration);
  return manifest;
}

/**
 * The manifest for a path: a .json manifest is read as is; for `<x>.onnx` the sidecar `<x>.json` is used
 * (or `<x>.manifest.json` when that is the one present).
 */
export function manifestPathFor(path: string): string {
  str('path', path, { nonEmpty: true });
  const abs = resolve(path);
  if (!abs.endsWith('.onnx')) return abs;
  const stem = abs.slice(0, -'.onnx'.length);
  const candidates = [`${stem}.json`, `${stem}.manifest.json`];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(
      `${path}: no manifest beside the model (looked for ${candidates.map((c) => basename(c)).join(' and ')}); ` +
        `write one with "engram backbone cut" or by hand (docs/backbone.md)`,
    );
  }
  return found;
}

/** Reads and validates a manifest (or the sidecar manifest of an .onnx path); errors name the file. */
export function loadManifest(path: string): LoadedManifest {
  const manifestPath = manifestPathFor(path);
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath}: manifest file not found`);
  const text = readTextChecked(manifestPath, 'manifest');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${manifestPath}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return withPaths(validateManifest(parsed, basename(manifestPath)), manifestPath);
}

/** Attaches the manifest's location (and the model path resolved against it) to a validated manifest. */
export function withPaths(manifest: Manifest, manifestPath: string): LoadedManifest {
  const abs = resolve(manifestPath);
  return Object.freeze({ ...manifest, manifestPath: abs, modelPath: resolve(dirname(abs), manifest.file) });
}

/** The manifest as it is written to disk (without the resolved paths). */
export function manifestJson(m: Manifest): string {
  const { manifestPath: _a, modelPath: _b, ...plain } = m as LoadedManifest;
  return `${JSON.stringify(plain, null, 2)}\n`;
}
