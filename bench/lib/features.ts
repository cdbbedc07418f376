// Frozen features for the benchmark images, extracted once per backbone and cached under bench/.cache/ so
// every method and every rerun reads the same vectors. A backbone is one entry in BACKBONES.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFashionMnist, loadMnist, indicesByClass, imageAt, type ImageSet, type Split } from '../../src/datasets/idx.js';
import { Rng } from '../../src/util/rng.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CACHE = join(REPO, 'bench', '.cache');

export type DatasetName = 'mnist' | 'fashion';

export interface BackboneEntry {
  /** Catalogue name passed to openBackbone. */
  name: string;
  /** Invert grey images first: ImageNet backbones see dark strokes on light ground better (measured +2-4). */
  invert: boolean;
}

/** The backbones compared; the default backbone joins when its model file exists. */
export const BACKBONES: BackboneEntry[] = [
  { name: 'mobilenetv2-12-int8', invert: true },
  { name: 'engram-glyph', invert: false },
];

export interface FeatureSet {
  dataset: DatasetName;
  split: Split;
  dim: number;
  count: number;
  /** Row-major count x dim. */
  features: Float32Array;
  labels: Uint8Array;
}

export interface Sample {
  train: number;
  test: number;
}

function load(dataset: DatasetName, split: Split): ImageSet {
  return dataset === 'mnist' ? loadMnist(split) : loadFashionMnist(split);
}

/** `perClass` indices of each class, drawn with a fixed seed, grouped by class 0..9. */
export function sampleIndices(set: ImageSet, perClass: number, seed: number): number[] {
  const rng = new Rng(seed);
  const byClass = indicesByClass(set);
  const out: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) out.push(...rng.shuffle([...byClass.get(c)!]).slice(0, perClass));
  return out;
}

/** Where the shared MobileNetV2 file lives (CI sets ENGRAM_SHARED_MODELS), or null. */
export function sharedModelsDir(): string | null {
  const dir = process.env.ENGRAM_SHARED_MODELS ?? join(REPO, '..', 'shared', 'models');
  return existsSync(join(dir, 'mobilenetv2-12-int8.onnx')) ? dir : null;
}

/** Opens a backbone, pulling MobileNetV2 offline from the shared folder into the bench cache if needed; null if unavailable. */
async function open(entry: BackboneEntry, log: (m: string) => void) {
  process.env.ENGRAM_MODELS_DIR ??= join(CACHE, 'models');
  const { openBackbone } = await import('../../src/learner/backbone-ref.js');
  try {
    return await openBackbone(entry.name, { onInfo: log });
  } catch (err) {
    const shared = sharedModelsDir();
    if (entry.name === 'mobilenetv2-12-int8' && shared) {
      const { pullModel } = await import('../../src/backbone/pull.js');
      await pullModel(entry.name, { from: join(shared, 'mobilenetv2-12-int8.onnx') });
      return await openBackbone(entry.name, { onInfo: log });
    }
    log(`backbone ${entry.name} unavailable, skipped: ${(err as Error).message}`);
    return null;
  }
}

// Which image preprocessing the cached features came from: bumped when it changes (2: engram's own resize
// pass instead of libvips'; 3: that pass in fixed point), so features from an older path are extracted
// again rather than reused.
const PREPROCESSING = 'p3';

function cachePath(entry: BackboneEntry, dataset: DatasetName, split: Split, perClass: number, seed: number): string {
  return join(
    CACHE,
    'features',
    `${entry.name}${entry.invert ? '-inv' : ''}.${PREPROCESSING}.${dataset}.${split}.${perClass}.s${seed}.f32`,
  );
}

function largerCache(
  entry: BackboneEntry,
  dataset: DatasetName,
  split: Split,
  perClass: number,
  seed: number,
): { path: string; perClass: number } | null {
  const dir = join(CACHE, 'features');
  if (!existsSync(dir)) return null;
  const head = `${entry.name}${entry.invert ? '-inv' : ''}.${PREPROCESSING}.${dataset}.${split}.`;
  for (const f of readdirSync(dir)) {
    const m = f.startsWith(head) ? /^(\d+)\.s(\d+)\.f32$/.exec(f.slice(head.length)) : null;
    if (m && Number(m[1]) > perClass && Number(m[2]) === seed) return { path: join(dir, f), perClass: Number(m[1]) };
  }
  return null;
}

/**
 * Features of `perClass` seeded images per class of one split; read from the cache or extracted and cached.
 * Returns null when the backbone is not available here.
 */
export async function features(
  entry: BackboneEntry,
  dataset: DatasetName,
  split: Split,
  perClass: number,
  seed: number,
  log: (m: string) => void,
): Promise<FeatureSet | null> {
  const path = cachePath(entry, dataset, split, perClass, seed);
  const set = load(dataset, split);
  const idx = sampleIndices(set, perClass, seed + (split === 'test' ? 1000 : 0));
  const labels = Uint8Array.from(idx, (i) => set.labels[i]);
  if (existsSync(path)) {
    const buf = readFileSync(path);
    const f = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const dim = f.length / idx.length;
    if (Number.isInteger(dim)) return { dataset, split, dim, count: idx.length, features: f, labels };
    log(`${path}: wrong length, extracting again`);
  }
  const larger = largerCache(entry, dataset, split, perClass, seed);
  if (larger) {
    // Each class's sample is a prefix of a larger sample with the same seed: slice it from that cache.
    const buf = readFileSync(larger.path);
    const f = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const classes = new Set(labels).size;
    const dim = f.length / (larger.perClass * classes);
    if (Number.isInteger(dim)) {
      const out = new Float32Array(idx.length * dim);
      for (let c = 0; c < classes; c++)
        out.set(f.subarray(c * larger.perClass * dim, (c * larger.perClass + perClass) * dim), c * perClass * dim);
      return { dataset, split, dim, count: idx.length, features: out, labels };
    }
  }
  const bb = await open(entry, log);
  if (!bb) return null;
  try {
    const out = new Float32Array(idx.length * bb.dim);
    const batch = 64;
    const t0 = Date.now();
    for (let s = 0; s < idx.length; s += batch) {
      const imgs = idx.slice(s, s + batch).map((i) => {
        const im = imageAt(set, i);
        return { ...im, data: entry.invert ? im.data.map((v) => 255 - v) : im.data };
      });
      out.set(await bb.embed(imgs), s * bb.dim);
      if (s % (batch * 16) === 0)
        log(`${entry.name} ${dataset} ${split}: ${s}/${idx.length} (${((Date.now() - t0) / Math.max(1, s)).toFixed(1)} ms/image)`);
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, Buffer.from(out.buffer));
    renameSync(`${path}.tmp`, path);
    return { dataset, split, dim: bb.dim, count: idx.length, features: out, labels };
  } finally {
    await bb.close();
  }
}
