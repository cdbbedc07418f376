// Real image files for end-to-end tests: MNIST digits written as PNG (and some JPEG) into
// <dir>/<split>/<digit>/<index>.png, and a runner for the engram CLI as a user would call it.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadMnist, indicesByClass, imageAt } from '../../src/datasets/idx.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'engram.js');

/** Writes `perClass` images of each digit in `digits` from MNIST `split`, starting at `offset` within the class. */
export async function writeDigits(dir: string, split: 'train' | 'test', digits: number[], perClass: number, offset = 0): Promise<string[]> {
  const set = loadMnist(split);
  const by = indicesByClass(set);
  const files: string[] = [];
  for (const d of digits) {
    const folder = join(dir, split, String(d));
    mkdirSync(folder, { recursive: true });
    for (const i of by.get(d)!.slice(offset, offset + perClass)) {
      const img = imageAt(set, i);
      const jpeg = i % 5 === 0;
      const file = join(folder, `${i}.${jpeg ? 'jpg' : 'png'}`);
      const s = sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 1 } });
      await (jpeg ? s.jpeg({ quality: 95 }) : s.png()).toFile(file);
      files.push(file);
    }
  }
  return files;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines. */
  lines: Record<string, unknown>[];
}

export function engram(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines };
}

/** Folder of ../shared/models (or ENGRAM_SHARED_MODELS) when it holds MobileNetV2 int8, else null. */
export function sharedModels(): string | null {
  const dir = process.env.ENGRAM_SHARED_MODELS ?? join(ROOT, '..', 'shared', 'models');
  return existsSync(join(dir, 'mobilenetv2-12-int8.onnx')) ? dir : null;
}
