// Builds the quantizer a learner uses, and decides where a PQ codebook comes from, in this order:
//   1. the codebook a store already uses (codebook.egc in the store: codes are never re-mixed);
//   2. an explicit codebook file (quantizer.codebook);
//   3. the backbone manifest's shipped codebook, when its geometry matches;
//   4. fitted now (seeded, deterministic) on the backbone's shipped calibration sample.
// The chosen codebook's sha256 is recorded by the store; see docs/learner.md for why and the numbers.
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { codebookId, decodeCodebook, encodeCodebook, fitCodebook, type Codebook } from '../quantize/codebook.js';
import { ProductQuantizer, SignQuantizer, TopKQuantizer, featureStats, type Quantizer } from '../quantize/quantizer.js';
import { SPARSE_DEFAULTS, SparseQuantizer } from '../quantize/sparse.js';
import { decodeWhitening, encodeWhitening, fitWhitening, isWhitening, whiteningId, type Whitening } from '../quantize/whitening.js';
import type { ResolvedQuantizer } from './config.js';
import { MIX_DEFAULT, type CoreOptions } from './core.js';
import type { BackboneHandle } from './backbone-ref.js';
import type { Persistence } from './persistence.js';
import { readFileChecked } from '../util/read-file.js';

/** The codebook a store was built with, beside its snapshots and journal. */
export const CODEBOOK_FILE = 'codebook.egc';

export interface QuantizerState {
  kind: string;
  neurons: number;
  active: number;
  /** sha256 of the codebook (pq), or of the calibration statistics (topk/sign), or "none". */
  codebookId: string;
  /** Where the codebook came from, for people. */
  codebookSource: string;
}

export async function buildQuantizer(
  q: ResolvedQuantizer,
  dim: number,
  backbone: BackboneHandle | null,
  persistence: Persistence | null,
  /** The codebook id the store's metadata records (null for a new store). */
  recorded: string | null = null,
): Promise<{ quantizer: Quantizer; state: QuantizerState }> {
  if (q.kind === 'sparse') {
    // A store recorded without a whitening ignores a whitening file left by a first learn that never finished.
    const { whitening, source } = await resolveWhitening(q, dim, recorded === 'none' ? null : persistence);
    // The white layout is recorded by its own id (whiteLayoutId), never by an option.
    const fileId = whitening ? whiteningId(whitening) : null;
    const layout = fileId !== null && recorded === layoutId(fileId) ? 'white' : 'split';
    return sparseWith(q, dim, whitening, fileId, layout, source);
  }
  if (q.kind === 'pq') {
    const { codebook, source } = await resolveCodebook(q, dim, backbone, persistence);
    const quantizer = new ProductQuantizer(codebook, q.probes ?? 1);
    return { quantizer, state: describe(quantizer, codebookId(codebook), source) };
  }
  const calib = backbone ? loadCalibration(backbone) : null;
  if (q.kind === 'topk') {
    const stats = calib ? featureStats(calib.features, dim) : null;
    const st = stats ? { mean: stats.mean, std: stats.std } : null;
    const quantizer = q.twoSided ? TopKQuantizer.twoSided(dim, q.k ?? 32, st) : new TopKQuantizer(dim, q.k ?? 32, st);
    return {
      quantizer,
      state: describe(quantizer, calib ? calib.sha256 : 'none', calib ? 'standardised by backbone calibration sample' : 'raw activations'),
    };
  }
  const thresholds = calib ? featureStats(calib.features, dim).median : new Float32Array(dim);
  const quantizer = new SignQuantizer(dim, thresholds);
  return {
    quantizer,
    state: describe(quantizer, calib ? calib.sha256 : 'none', calib ? 'medians of backbone calibration sample' : 'zero thresholds'),
  };
}

function describe(q: Quantizer, id: string, source: string): QuantizerState {
  return { kind: q.kind, neurons: q.neurons, active: q.active, codebookId: id, codebookSource: source };
}

async function resolveCodebook(
  q: ResolvedQuantizer,
  dim: number,
  backbone: BackboneHandle | null,
  persistence: Persistence | null,
): Promise<{ codebook: Codebook; source: string }> {
  const check = (cb: Codebook, source: string) => {
    if (cb.dim !== dim) throw new RangeError(`${source}: codebook is for ${cb.dim}-d features, the backbone gives ${dim}`);
    if (cb.parts !== q.parts || cb.anchors !== q.anchors) {
      throw new RangeError(
        `${source}: codebook has parts=${cb.parts} anchors=${cb.anchors}, quantizer asks for parts=${q.parts} anchors=${q.anchors}`,
      );
    }
    return { codebook: cb, source };
  };
  // A store keeps the codebook it was built with: its codes are never mixed with another codebook's.
  const stored = persistence ? await persistence.readFile(CODEBOOK_FILE) : null;
  if (stored) {
    const kept = check(decodeCodebook(stored, `store ${CODEBOOK_FILE}`), `store ${CODEBOOK_FILE}`);
    if (
      q.codebook &&
      codebookId(decodeCodebook(readFileChecked(resolve(q.codebook), 'codebook'), q.codebook)) !== codebookId(kept.codebook)
    ) {
      throw new RangeError(`quantizer.codebook: ${q.codebook} differs from the codebook this store was built with (${CODEBOOK_FILE})`);
    }
    return kept;
  }
  if (q.codebook) {
    const path = resolve(q.codebook);
    const given = check(decodeCodebook(readFileChecked(path, 'codebook'), path), path);
    // The store records the quantizer options: they must say what the codebook does, never the opposite.
    const centred = given.codebook.mean !== null;
    if ((q.center !== undefined && q.center !== centred) || (q.l2 !== undefined && q.l2 !== given.codebook.l2)) {
      const flags = `${centred ? '--center' : '--no-center'} ${given.codebook.l2 ? '--l2' : '--no-l2'}`;
      throw new RangeError(
        `quantizer.codebook ${q.codebook}: fitted with center=${centred} l2=${given.codebook.l2}, the options say center=${q.center ?? centred} l2=${q.l2 ?? given.codebook.l2}; leave them out or give ${flags}`,
      );
    }
    q.center = centred;
    q.l2 = given.codebook.l2;
    await persistence?.writeFile(CODEBOOK_FILE, encodeCodebook(given.codebook));
    return given;
  }

  let result: { codebook: Codebook; source: string };
  const shipped = backbone?.manifest.codebook as { file?: string; parts?: number; anchors?: number } | undefined;
  if (backbone && shipped?.file && shipped.parts === q.parts && shipped.anchors === q.anchors) {
    const path = resolve(dirname(backbone.manifestPath), shipped.file);
    result = check(decodeCodebook(readFileChecked(path, 'codebook'), path), `shipped codebook ${shipped.file}`);
  } else if (backbone) {
    const calib = loadCalibration(backbone);
    if (!calib) {
      throw new RangeError(
        `quantizer: backbone ${backbone.name} ships no calibration sample to fit a pq codebook; pass quantizer.codebook, or use kind "topk" or "sign"`,
      );
    }
    if (dim % q.parts! !== 0)
      throw new RangeError(`quantizer.parts: expected a divisor of the feature dimension ${dim}, got number ${q.parts}`);
    const codebook = fitCodebook(calib.features, dim, { parts: q.parts!, anchors: q.anchors!, center: q.center, l2: q.l2, seed: 1 });
    result = { codebook, source: `fitted on ${backbone.name} calibration sample (${calib.count} images: ${calib.description})` };
  } else {
    throw new RangeError(
      'quantizer: a pq learner without a backbone needs quantizer.codebook (a codebook file); or use kind "topk" or "sign"',
    );
  }
  if (q.center !== (result.codebook.mean !== null) || q.l2 !== result.codebook.l2) {
    throw new RangeError(
      `${result.source}: codebook was fitted with center=${result.codebook.mean !== null} l2=${result.codebook.l2}, quantizer asks for center=${q.center} l2=${q.l2}`,
    );
  }
  await persistence?.writeFile(CODEBOOK_FILE, encodeCodebook(result.codebook));
  return result;
}

/** How the memory reads a quantizer's codes: the sparse quantizer's class columns by cosine, block by block. */
export function coreReadOptions(
  quantizer: Quantizer,
  mem: { units?: string; counterBits: number },
): Pick<CoreOptions, 'read' | 'blocks' | 'mix'> {
  if (!(quantizer instanceof SparseQuantizer) || (mem.units ?? 'class') !== 'class' || mem.counterBits === 0) return {};
  return { read: 'cosine', blocks: quantizer.blocks.map(({ begin, neurons, k }) => ({ begin, neurons, k })), mix: MIX_DEFAULT };
}

/** Examples the first learn of a new store must bring for the sparse quantizer to fit its own whitening. */
export const SELF_WHITEN_MIN = 64;

/**
 * The whitening a new store fits on its first learn ('auto'): the scatter of that learn's feature vectors (one
 * label's examples: their within-class scatter, the nuisance of the domain), or null when there are too few.
 */
export function selfWhitening(features: Float32Array, rows: number, dim: number): Whitening | null {
  if (rows < SELF_WHITEN_MIN) return null;
  return fitWhitening(features, dim, null, { seed: 1 });
}

/** The sparse quantizer with a whitening added, and the state a store records for it. */
export async function withWhitening(
  q: ResolvedQuantizer,
  dim: number,
  whitening: Whitening,
  persistence: Persistence | null,
  source: string,
  layout: 'split' | 'white' = 'split',
): Promise<{ quantizer: SparseQuantizer; state: QuantizerState }> {
  await persistence?.writeFile(WHITENING_FILE, encodeWhitening(whitening));
  return sparseWith(q, dim, whitening, whiteningId(whitening), layout, describeWhitening(whitening, source));
}

/** The sparse quantizer without a whitening (the raw block alone), and its state: what a new store starts with. */
export function rawSparse(q: ResolvedQuantizer, dim: number): { quantizer: SparseQuantizer; state: QuantizerState } {
  return sparseWith(q, dim, null, null, 'split', RAW_ONLY);
}

/** The sparse quantizer in `layout`, and its state: the id of the whitening file (`fileId`), or of its white layout. */
function sparseWith(
  q: ResolvedQuantizer,
  dim: number,
  whitening: Whitening | null,
  fileId: string | null,
  layout: 'split' | 'white',
  source: string,
): { quantizer: SparseQuantizer; state: QuantizerState } {
  const quantizer = new SparseQuantizer(dim, { ...SPARSE_DEFAULTS, neurons: q.neurons!, k: q.k!, layout }, whitening);
  const id = fileId === null ? 'none' : layout === 'white' ? layoutId(fileId) : fileId;
  return { quantizer, state: describe(quantizer, id, layout === 'white' ? `${source}; white layout` : source) };
}

/**
 * The id a store records for a whitening coded in the 'white' layout (every neuron in one white block: the
 * store's own whitening after its last fit). Another id than the whitening file's, so that codes of the two
 * layouts never meet: a fleet refuses the other layout's messages as another codebook, and an engram that
 * predates the layout refuses the store (its codebook id does not match the file) instead of misreading it.
 */
export function whiteLayoutId(w: Whitening): string {
  return layoutId(whiteningId(w));
}

/** whiteLayoutId from the whitening file's id (hex), without hashing the whitening again. */
function layoutId(fileId: string): string {
  return createHash('sha256').update('engram sparse white layout\n').update(fileId).digest('hex');
}

const RAW_ONLY = 'raw block only (no whitening: fit one with "engram codebook fit")';

/** The whitening a store was built with, beside its snapshots and journal (sparse quantizer). */
export const WHITENING_FILE = 'whitening.egw';

/**
 * The sparse quantizer's whitening: the one a store keeps (its codes are never mixed with another's), else
 * the file given (written into the store), else none: the raw block alone, which needs no data at all.
 */
async function resolveWhitening(
  q: ResolvedQuantizer,
  dim: number,
  persistence: Persistence | null,
): Promise<{ whitening: Whitening | null; source: string }> {
  const check = (w: Whitening, source: string) => {
    if (w.dim !== dim) throw new RangeError(`${source}: whitening was fitted on ${w.dim}-d features, the backbone gives ${dim}`);
    return w;
  };
  const stored = persistence ? await persistence.readFile(WHITENING_FILE) : null;
  if (stored) {
    const kept = check(decodeWhitening(stored, `store ${WHITENING_FILE}`), `store ${WHITENING_FILE}`);
    if (q.codebook && whiteningId(readWhiteningFile(q.codebook)) !== whiteningId(kept)) {
      throw new RangeError(
        `--codebook ${q.codebook}: differs from the whitening this store was built with (${WHITENING_FILE}); a store never mixes codes of two whitenings`,
      );
    }
    return { whitening: kept, source: describeWhitening(kept, `store ${WHITENING_FILE}`) };
  }
  if (q.codebook) {
    const given = check(readWhiteningFile(q.codebook), q.codebook);
    await persistence?.writeFile(WHITENING_FILE, encodeWhitening(given));
    return { whitening: given, source: describeWhitening(given, resolve(q.codebook)) };
  }
  return { whitening: null, source: RAW_ONLY };
}

function readWhiteningFile(path: string): Whitening {
  if (!existsSync(path))
    throw new RangeError(`--codebook ${path}: no such file (make one with "engram codebook fit --out ${path} <images>")`);
  const bytes = readFileChecked(resolve(path), 'codebook');
  if (!isWhitening(bytes))
    throw new RangeError(
      `--codebook ${path}: not a whitening file; the sparse quantizer takes the output of "engram codebook fit" (a pq codebook needs --quantizer pq)`,
    );
  return decodeWhitening(bytes, path);
}

function describeWhitening(w: Whitening, where: string): string {
  if (w.d === 0) return `centred block from ${where} (the mean of ${w.samples} images)`;
  return `whitened block from ${where} (${w.withinClass ? 'within-class' : 'total'} scatter of ${w.samples} images, ${w.d} directions)`;
}

interface Calibration {
  features: Float32Array;
  count: number;
  sha256: string;
  description: string;
}

/** The backbone's shipped calibration sample: raw little-endian float32 [count x dim]. */
export function loadCalibration(backbone: BackboneHandle): Calibration | null {
  const c = backbone.manifest.calibration as { file?: string; sha256?: string; count?: number; dim?: number; source?: string } | undefined;
  if (!c || typeof c.file !== 'string') return null;
  const path = resolve(dirname(backbone.manifestPath), c.file);
  const bytes = readFileChecked(path, 'calibration');
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (c.sha256 && c.sha256 !== sha) throw new Error(`${path}: sha256 ${sha} does not match the manifest's ${c.sha256}`);
  const dim = backbone.dim;
  if (bytes.length % (4 * dim) !== 0) throw new Error(`${path}: ${bytes.length} bytes is not a whole number of ${dim}-d float32 rows`);
  const features = new Float32Array(bytes.length / 4);
  for (let i = 0; i < features.length; i++) features[i] = bytes.readFloatLE(4 * i);
  return { features, count: features.length / dim, sha256: sha, description: c.source ?? 'unspecified' };
}
