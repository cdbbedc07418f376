// CIFAR-10 dev slice features (MobileNetV2) for bench/shots.ts and bench/openset.ts: read from the cache when
// there, else extracted once. The slice lives in ../shared/datasets/cifar10-dev (or $ENGRAM_CIFAR10_DEV).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CACHE, REPO, sharedModelsDir, type BackboneEntry } from './features.js';
import type { Rows } from './protocol.js';

export const CIFAR_DIR = process.env.ENGRAM_CIFAR10_DEV ?? join(REPO, '..', 'shared', 'datasets', 'cifar10-dev');

/**
 * train/ and val/ features with class ids (classes in name order); null, said in one line, when unavailable.
 * `mirror`: each image's feature averaged with its left-right mirror's (engram learn --mirror).
 */
export async function loadCifar(
  entry: BackboneEntry,
  log: (m: string) => void,
  opts: { mirror?: boolean } = {},
): Promise<{ train: Rows; test: Rows } | null> {
  const mirror = opts.mirror ?? false;
  if (!existsSync(join(CIFAR_DIR, 'train'))) {
    log(`CIFAR-10 skipped: ${CIFAR_DIR} not found (set ENGRAM_CIFAR10_DEV to its folder)`);
    return null;
  }
  const classes = readdirSync(join(CIFAR_DIR, 'train'))
    .filter((d) => !d.startsWith('.'))
    .sort();
  const out: Record<string, Rows> = {};
  for (const split of ['train', 'val']) {
    const files: string[] = [];
    const labels: number[] = [];
    classes.forEach((c, ci) => {
      for (const f of readdirSync(join(CIFAR_DIR, split, c))
        .filter((n) => !n.startsWith('.'))
        .sort()) {
        files.push(join(CIFAR_DIR, split, c, f));
        labels.push(ci);
      }
    });
    const path = join(CACHE, 'features', `${entry.name}.p3.cifar10.${split}.${files.length}${mirror ? '.mirror' : ''}.f32`);
    let feats: Float32Array;
    if (existsSync(path)) {
      const b = readFileSync(path);
      feats = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    } else {
      process.env.ENGRAM_MODELS_DIR ??= join(CACHE, 'models');
      const { openBackbone } = await import('../../src/learner/backbone-ref.js');
      let bb;
      try {
        bb = await openBackbone(entry.name, { onInfo: log, mirror });
      } catch {
        // Not pulled yet: pull it from the shared models folder where there is one.
        const shared = sharedModelsDir();
        if (!shared) {
          log(`CIFAR-10 skipped: backbone ${entry.name} not available`);
          return null;
        }
        const { pullModel } = await import('../../src/backbone/pull.js');
        await pullModel(entry.name, { from: join(shared, 'mobilenetv2-12-int8.onnx') });
        bb = await openBackbone(entry.name, { onInfo: log, mirror });
      }
      try {
        feats = new Float32Array(files.length * bb.dim);
        for (let s = 0; s < files.length; s += 64) {
          feats.set(await bb.embed(files.slice(s, s + 64)), s * bb.dim);
          if (s % 1024 === 0) log(`${entry.name} cifar10${mirror ? ' (mirror)' : ''} ${split}: ${s}/${files.length}`);
        }
      } finally {
        await bb.close();
      }
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(`${path}.tmp`, Buffer.from(feats.buffer));
      renameSync(`${path}.tmp`, path);
    }
    out[split] = { dim: feats.length / files.length, features: feats, labels: Uint8Array.from(labels) };
  }
  return { train: out.train, test: out.val };
}
