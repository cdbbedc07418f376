// Where prebuilt addons live in the package, and the fingerprint of the sources they were built from.
// Shared by tools/prebuild.mjs (builds them), tools/install.mjs (npm's install step) and test 83; the loader
// (src/native/loader.ts) looks in the same folder.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const prebuildsDir = join(root, 'prebuilds');
export const manifestPath = join(prebuildsDir, 'manifest.json');

/** The targets a release package carries: Linux on x86-64 (PCs, servers) and on 64-bit Arm (Raspberry Pi 4/5). */
export const TARGETS = ['linux-x64', 'linux-arm64'];

/** "linux-x64" for this process: the prebuild the loader and the install step look for. */
export const hostTarget = () => `${process.platform}-${process.arch}`;

/** prebuilds/<target>/engram.node */
export const prebuildPath = (target) => join(prebuildsDir, target, 'engram.node');

/** The files an addon is built from: every source under native/core, native/addon, native/image and CMakeLists.txt. */
export function sourceFiles() {
  const files = [join(root, 'CMakeLists.txt')];
  for (const dir of ['core', 'addon', 'image']) {
    for (const name of readdirSync(join(root, 'native', dir)).sort()) files.push(join(root, 'native', dir, name));
  }
  return files;
}

/** sha256 over the relative path and content of every source file: changes when any source does. */
export function sourceHash() {
  const h = createHash('sha256');
  for (const file of sourceFiles()) {
    h.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return h.digest('hex');
}

/** The manifest tools/prebuild.mjs wrote, or null when there is none. */
export function readManifest() {
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return null;
  }
}
