#!/usr/bin/env node
// npm's install step for engram: use the prebuilt addon when one fits this machine, else build from source.
// A prebuild fits when prebuilds/<platform>-<arch>/engram.node exists, was built from the sources in this
// package (prebuilds/manifest.json) and loads in a child Node (the C library and libjpeg.so.62 it needs are
// there). Then nothing is compiled: no compiler, cmake or make is needed. Otherwise cmake-js builds
// build/Release/engram.node, which the loader tries before the prebuild.
// ENGRAM_BUILD_FROM_SOURCE=1 (or npm install --build-from-source) always builds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { hostTarget, prebuildPath, readManifest, root, sourceHash } from './prebuilds.mjs';

const say = (line) => console.log(`engram: ${line}`);

/** Why the prebuild cannot be used, or null when it can. */
function prebuildProblem() {
  const env = process.env;
  if (env.ENGRAM_BUILD_FROM_SOURCE === '1' || env.npm_config_build_from_source === 'true') return 'a build from source was asked for';
  const file = prebuildPath(hostTarget());
  if (!existsSync(file)) return `no prebuilt addon for ${hostTarget()} in this package`;
  if (readManifest()?.sources !== sourceHash()) return 'the prebuilt addons were built from other sources than this package holds';
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const b = require(${JSON.stringify(file)}); if (typeof b.version !== 'function') throw new Error('not the engram addon'); b.version();`,
    ],
    { encoding: 'utf8' },
  );
  if (probe.status !== 0) {
    const why =
      (probe.stderr || probe.error?.message || `exit ${probe.status}`).split('\n').find((l) => /Error|error:/.test(l)) ??
      probe.stderr.trim().split('\n')[0];
    return `${relative(root, file)} does not load here (${why?.trim()})`;
  }
  return null;
}

const problem = prebuildProblem();
if (problem === null) {
  say(`using the prebuilt addon ${relative(root, prebuildPath(hostTarget()))}; nothing to compile`);
  process.exit(0);
}

say(`${problem}: building the addon from source (needs cmake and a C++17 compiler; libjpeg-dev for the JPEG fast path)`);
const require = createRequire(join(root, 'package.json'));
let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  console.error('engram: cmake-js is not installed; cannot build the addon from source');
  process.exit(1);
}
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    `engram: the source build failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`}).\n` +
      'engram: fix: apt-get install cmake g++ make libjpeg-dev, then npm rebuild engram; ' +
      'or on linux-x64/linux-arm64 with glibc, install libjpeg62-turbo so the prebuilt addon loads.',
  );
  process.exit(1);
}
