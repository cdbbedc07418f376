// The model catalogue (models/catalogue.json): backbones engram knows by name. A downloadable entry says
// where the official file lives, its size and sha256, and how to cut it into a feature extractor; a
// built-in entry names a manifest shipped in the package's models/ folder.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { int, num, oneOf, str, typeError } from '../util/validate.js';
import { isSha256, loadManifest, type ColorOrder, type LoadedManifest, type ResizeMode } from './manifest.js';
import { readTextChecked } from '../util/read-file.js';

export const CATALOGUE_FORMAT = 'engram-catalogue/1';

export interface CutSpec {
  /** Inner tensor to expose. */
  at: string;
  /** Manifest name of the cut model. */
  name: string;
  /** File name of the cut model (its manifest is `<stem>.json`). */
  file: string;
}

export interface Preprocessing {
  colorOrder?: ColorOrder;
  range?: [number, number];
  mean?: number[];
  std?: number[];
  resize?: ResizeMode;
  fit?: 'fill' | 'cover';
}

export interface DownloadEntry {
  kind: 'download';
  name: string;
  description: string;
  url: string;
  file: string;
  sha256: string;
  size: number;
  license: string;
  /** Every downloadable model is a classifier cut into a feature extractor on pull. */
  cut: CutSpec;
  input?: Preprocessing;
}

export interface BuiltinEntry {
  kind: 'builtin';
  name: string;
  description: string;
  /** Manifest file in the package's models/ folder. */
  manifest: string;
  license?: string;
}

export type CatalogueEntry = DownloadEntry | BuiltinEntry;

export interface Catalogue {
  format: typeof CATALOGUE_FORMAT;
  models: CatalogueEntry[];
}

/** The package's models/ folder (built-in backbones and the catalogue). */
export function packageModelsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/backbone -> ../../models ; dist/src/backbone -> ../../../models
  const candidates = [join(here, '..', '..', 'models'), join(here, '..', '..', '..', 'models')];
  return candidates.find((d) => existsSync(join(d, 'catalogue.json'))) ?? candidates[candidates.length - 1];
}

/** Where pulled models go: ENGRAM_MODELS_DIR, else $XDG_CACHE_HOME/engram/models, else ~/.cache/engram/models. */
export function defaultModelsDir(): string {
  if (process.env.ENGRAM_MODELS_DIR) return resolve(process.env.ENGRAM_MODELS_DIR);
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'engram', 'models');
}

function obj(name: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw typeError(name, 'an object', v);
  return v as Record<string, unknown>;
}

function onlyKeys(name: string, o: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new RangeError(`${name}: unknown field "${k}" (known: ${keys.join(', ')})`);
}

function fileName(name: string, v: unknown): string {
  const s = str(name, v, { nonEmpty: true });
  if (s.includes('/') || s.includes('\\') || s.startsWith('.'))
    throw new RangeError(`${name}: expected a plain file name, got ${JSON.stringify(s)}`);
  return s;
}

function numberList(name: string, v: unknown): number[] {
  if (!Array.isArray(v)) throw typeError(name, 'an array of numbers', v);
  return v.map((x, i) => num(`${name}[${i}]`, x));
}

/** Checks a parsed catalogue; messages name the entry and field. */
export function validateCatalogue(value: unknown, where = 'catalogue'): Catalogue {
  const c = obj(where, value);
  onlyKeys(where, c, ['format', 'models']);
  if (c.format !== CATALOGUE_FORMAT)
    throw new RangeError(`${where}.format: expected "${CATALOGUE_FORMAT}", got ${JSON.stringify(c.format)}`);
  if (!Array.isArray(c.models)) throw typeError(`${where}.models`, 'an array', c.models);
  const seen = new Set<string>();
  const models = c.models.map((raw, idx): CatalogueEntry => {
    const w = `${where}.models[${idx}]`;
    const e = obj(w, raw);
    const name = str(`${w}.name`, e.name, { nonEmpty: true });
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name))
      throw new RangeError(`${w}.name: expected lowercase letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`);
    if (seen.has(name)) throw new RangeError(`${w}.name: duplicate model name ${JSON.stringify(name)}`);
    seen.add(name);
    const description = e.description === undefined ? '' : str(`${w}.description`, e.description);
    if (e.builtin === true) {
      onlyKeys(w, e, ['name', 'builtin', 'description', 'manifest', 'license']);
      return {
        kind: 'builtin',
        name,
        description,
        manifest: fileName(`${w}.manifest`, e.manifest),
        ...(e.license !== undefined ? { license: str(`${w}.license`, e.license) } : {}),
      };
    }
    onlyKeys(w, e, ['name', 'description', 'url', 'file', 'sha256', 'size', 'license', 'cut', 'input']);
    const url = str(`${w}.url`, e.url, { nonEmpty: true });
    if (!/^https?:\/\//.test(url)) throw new RangeError(`${w}.url: expected an http(s) URL, got ${JSON.stringify(url)}`);
    const sha256 = str(`${w}.sha256`, e.sha256);
    if (!isSha256(sha256)) throw new RangeError(`${w}.sha256: expected 64 lowercase hex digits, got ${JSON.stringify(sha256)}`);
    if (e.cut === undefined) throw new TypeError(`${w}.cut: required field is missing (which tensor to expose as the feature)`);
    const cut = obj(`${w}.cut`, e.cut);
    onlyKeys(`${w}.cut`, cut, ['at', 'name', 'file']);
    const entry: DownloadEntry = {
      kind: 'download',
      name,
      description,
      url,
      sha256,
      file: fileName(`${w}.file`, e.file),
      size: int(`${w}.size`, e.size, 1),
      license: str(`${w}.license`, e.license, { nonEmpty: true }),
      cut: {
        at: str(`${w}.cut.at`, cut.at, { nonEmpty: true }),
        name: str(`${w}.cut.name`, cut.name, { nonEmpty: true }),
        file: fileName(`${w}.cut.file`, cut.file),
      },
    };
    if (!entry.cut.file.endsWith('.onnx'))
      throw new RangeError(`${w}.cut.file: expected a name ending in .onnx, got ${JSON.stringify(entry.cut.file)}`);
    if (entry.cut.file === entry.file) throw new RangeError(`${w}.cut.file: must differ from ${w}.file`);
    if (e.input !== undefined) {
      const i = obj(`${w}.input`, e.input);
      onlyKeys(`${w}.input`, i, ['colorOrder', 'range', 'mean', 'std', 'resize', 'fit']);
      const p: Preprocessing = {};
      if (i.colorOrder !== undefined) p.colorOrder = oneOf(`${w}.input.colorOrder`, i.colorOrder, ['RGB', 'BGR', 'gray'] as const);
      if (i.range !== undefined) p.range = numberList(`${w}.input.range`, i.range) as [number, number];
      if (i.mean !== undefined) p.mean = numberList(`${w}.input.mean`, i.mean);
      if (i.std !== undefined) p.std = numberList(`${w}.input.std`, i.std);
      if (i.resize !== undefined) p.resize = oneOf(`${w}.input.resize`, i.resize, ['bilinear', 'nearest', 'bicubic', 'lanczos'] as const);
      if (i.fit !== undefined) p.fit = oneOf(`${w}.input.fit`, i.fit, ['fill', 'cover'] as const);
      entry.input = p;
    }
    return entry;
  });
  return { format: CATALOGUE_FORMAT, models };
}

/** Reads and validates a catalogue file (default: the package's models/catalogue.json). */
export function loadCatalogue(path = join(packageModelsDir(), 'catalogue.json')): Catalogue {
  let text: string;
  try {
    text = readTextChecked(path, 'catalogue');
  } catch (err) {
    throw new Error(`${path}: cannot read model catalogue (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      cause: err,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return validateCatalogue(parsed, path);
}

/** The entry called `name`, or an error that lists the names there are. */
export function findEntry(catalogue: Catalogue, name: string): CatalogueEntry {
  const e = catalogue.models.find((m) => m.name === name);
  if (!e)
    throw new RangeError(`model: unknown name ${JSON.stringify(name)} (catalogue has: ${catalogue.models.map((m) => m.name).join(', ')})`);
  return e;
}

export interface ModelStatus {
  name: string;
  kind: 'download' | 'builtin';
  description: string;
  license: string;
  /** Whether the model is ready to open (built in, or pulled into the models folder). */
  installed: boolean;
  /** Manifest to open when installed. */
  manifest?: string;
  /** For downloads: the official URL and size. */
  url?: string;
  size?: number;
}

/** Where the manifest of a catalogue entry is (or will be, once pulled). */
export function manifestLocation(entry: CatalogueEntry, dir: string, modelsDir = packageModelsDir()): string {
  if (entry.kind === 'builtin') return join(modelsDir, entry.manifest);
  return join(dir, `${entry.cut.file.slice(0, -'.onnx'.length)}.json`);
}

/**
 * Every catalogue entry with whether it is ready, plus manifests found in the package's models/ folder
 * that the catalogue does not list (they are built in too).
 */
export function listModels(catalogue: Catalogue, dir = defaultModelsDir(), modelsDir = packageModelsDir()): ModelStatus[] {
  const rows: ModelStatus[] = catalogue.models.map((e) => {
    const manifest = manifestLocation(e, dir, modelsDir);
    const installed = existsSync(manifest);
    return {
      name: e.name,
      kind: e.kind,
      description: e.description,
      license: e.license ?? '',
      installed,
      ...(installed ? { manifest } : {}),
      ...(e.kind === 'download' ? { url: e.url, size: e.size } : {}),
    };
  });
  const listed = new Set(catalogue.models.filter((e): e is BuiltinEntry => e.kind === 'builtin').map((e) => e.manifest));
  const extra = existsSync(modelsDir)
    ? readdirSync(modelsDir).filter((f) => f.endsWith('.json') && f !== 'catalogue.json' && !listed.has(f))
    : [];
  for (const f of extra.sort()) {
    let m: LoadedManifest;
    try {
      m = loadManifest(join(modelsDir, f));
    } catch {
      continue; // not a backbone manifest (e.g. a calibration description)
    }
    if (rows.some((r) => r.name === m.name)) continue;
    rows.push({
      name: m.name,
      kind: 'builtin',
      description: m.description ?? '',
      license: m.license,
      installed: true,
      manifest: join(modelsDir, f),
    });
  }
  return rows;
}
