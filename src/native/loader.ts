// Loads the native addon once, in a fixed order: the ENGRAM_ADDON override when set, then a build from source
// (cmake-js: build/Release; the out-of-tree node-gyp build of `npm run test:gyp`: build/gyp/build/Release), then
// the prebuilt addon the package ships for this platform (prebuilds/<platform>-<arch>/engram.node, made by
// tools/prebuild.mjs). A source build wins: it is what `npm install` makes when no prebuild fits, and what a
// developer changing native/ runs. An override that cannot be loaded is reported as a process warning when a
// later candidate is used. On failure, one error lists every path tried and how to build it.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from './binding.js';

const require = createRequire(import.meta.url);

/** Repository (package) root: this file lives in dist/src/native/. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where a built addon may be, in the order they are tried when ENGRAM_ADDON is unset. */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const built = [
    join(packageRoot, 'build', 'Release', 'engram.node'),
    join(packageRoot, 'build', 'gyp', 'build', 'Release', 'engram.node'),
    join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'engram.node'),
  ];
  return env.ENGRAM_ADDON ? [resolve(env.ENGRAM_ADDON), ...built] : built;
}

let loaded: { binding: NativeBinding; path: string } | undefined;

function looksLikeBinding(value: unknown): value is NativeBinding {
  const b = value as Partial<NativeBinding> | null;
  return !!b && typeof b.version === 'function' && typeof b.Memory === 'function' && typeof b.pqEncode === 'function';
}

/**
 * Loads (once) and returns the addon: ENGRAM_ADDON when set, else the built binary.
 * @example
 * console.log(loadBinding().simd());   // { active: 'avx2', simd: 'avx2' }
 * @throws {Error} one error listing every path tried, why each failed and how to build the addon.
 */
export function loadBinding(): NativeBinding {
  if (loaded) return loaded.binding;
  const tried: string[] = [];
  for (const path of addonCandidates()) {
    if (!existsSync(path)) {
      tried.push(`  ${path}: not found`);
      continue;
    }
    try {
      const mod: unknown = require(path);
      if (!looksLikeBinding(mod)) {
        tried.push(`  ${path}: loaded but is not the engram addon (missing version/Memory/pqEncode)`);
        continue;
      }
      loaded = { binding: mod, path };
      if (tried.length && process.env.ENGRAM_ADDON) {
        process.emitWarning(`ENGRAM_ADDON could not be used (${tried[0].trim()}); loaded ${path} instead`, 'EngramAddonWarning');
      }
      return mod;
    } catch (err) {
      tried.push(`  ${path}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    `engram: cannot load the native addon. Tried:\n${tried.join('\n')}\n` +
      'Fix: run "npm run build:native" (needs cmake and a C++17 compiler), or point ENGRAM_ADDON at a built engram.node. ' +
      'The prebuilt addons (linux-x64, linux-arm64) need glibc and libjpeg.so.62 (apt-get install libjpeg62-turbo).',
  );
}

/**
 * The addon, or null when it cannot be loaded: for callers with a slower fallback of their own (image
 * preparation). Whatever needs the addon outright reports the load error through loadBinding().
 */
export function optionalBinding(): NativeBinding | null {
  try {
    return loadBinding();
  } catch {
    return null;
  }
}

/** Path of the loaded addon (loads it if needed). */
export function bindingPath(): string {
  loadBinding();
  return loaded!.path;
}
