// Shared fixtures for the backbone tests: the CC0 photos, the shared MobileNetV2 model (when present),
// temporary folders, and manifests written for a model file.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const imagesDir = join(repoRoot, 'test', 'fixtures', 'images');
export const chelsea = join(imagesDir, 'chelsea.png');
export const coffee = join(imagesDir, 'coffee.png');

/** ImageNet classes a correct MobileNetV2 gives the fixtures: chelsea is a tabby/tiger/Egyptian cat, coffee an espresso. */
export const CHELSEA_CLASSES = [281, 282, 285];
export const COFFEE_CLASS = 967;

/**
 * The folder holding mobilenetv2-12-int8.onnx: $ENGRAM_SHARED_MODELS, else ../shared/models beside the repo.
 * When neither has it, prints one visible line (once per process) and returns undefined.
 */
let warned = false;
export function sharedModels(): string | undefined {
  const candidates = [process.env.ENGRAM_SHARED_MODELS, join(repoRoot, '..', 'shared', 'models')].filter((x): x is string => Boolean(x));
  const found = candidates.find((d) => existsSync(join(d, 'mobilenetv2-12-int8.onnx')));
  if (!found && !warned) {
    warned = true;
    console.log(
      `SKIP: mobilenetv2-12-int8.onnx not found (set ENGRAM_SHARED_MODELS; looked in ${candidates.join(', ')}): cases needing it are skipped`,
    );
  }
  return found ? resolve(found) : undefined;
}

export function mobilenetPath(): string | undefined {
  const d = sharedModels();
  return d ? join(d, 'mobilenetv2-12-int8.onnx') : undefined;
}

export const MOBILENET_SHA256 = 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f';

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const temps: string[] = [];
/** A fresh temporary folder, removed at process exit. */
export function tempDir(prefix = 'engram-bb-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
process.on('exit', () => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

export const IMAGENET_INPUT = {
  name: 'input',
  layout: 'NCHW',
  width: 224,
  height: 224,
  channels: 3,
  colorOrder: 'RGB',
  range: [0, 1],
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  resize: 'bilinear',
  dtype: 'float32',
};

/** Writes `<dir>/<name>.json` describing `modelFile` (sha256 computed) and returns its path. */
export function writeManifest(dir: string, name: string, modelFile: string, fields: Record<string, unknown> = {}): string {
  const manifest = {
    format: 'engram-backbone/1',
    name,
    file: modelFile,
    sha256: sha256(readFileSync(resolve(dir, modelFile))),
    input: IMAGENET_INPUT,
    output: { name: 'output', dim: 1000 },
    precision: 'int8',
    license: 'Apache-2.0',
    source: 'test',
    ...fields,
  };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return path;
}

/** Index of the largest value. */
export function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
