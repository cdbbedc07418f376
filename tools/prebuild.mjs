#!/usr/bin/env node
// npm run build:prebuilds: builds the prebuilt addons a release package carries, prebuilds/<target>/engram.node for
// linux-x64 and linux-arm64, with prebuilds/manifest.json recording the sources they were built from.
//   node tools/prebuild.mjs                      build every target (the arm64 one with the cross toolchain
//                                                test:arm64 uses: tools/arm64/aarch64-linux-gnu.cmake)
//   node tools/prebuild.mjs --target linux-x64   build one target
//   node tools/prebuild.mjs --check              exit 1 unless every target is built from the current sources
//                                                (npm pack runs this first: a package never ships a stale addon)
// Built with ENGRAM_PORTABLE (CMakeLists.txt): the C++ runtime linked in, so a board needs only its C library
// and libjpeg.so.62. Build folders are kept in build/prebuild/<target>, so a second run only relinks.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { TARGETS, hostTarget, manifestPath, prebuildPath, readManifest, root, sourceHash } from './prebuilds.mjs';

const require = createRequire(join(root, 'package.json'));
const say = (line) => console.log(`prebuild: ${line}`);

function fail(what, fix) {
  console.error(`prebuild: ${what}`);
  if (fix) console.error(`prebuild: fix: ${fix}`);
  process.exit(1);
}

function usage() {
  console.log(`usage: node tools/prebuild.mjs [--target ${TARGETS.join('|')}]... [--check]`);
}

const args = process.argv.slice(2);
const targets = [];
let check = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--check') check = true;
  else if (args[i] === '--target') {
    const t = args[++i];
    if (!TARGETS.includes(t)) fail(`--target: expected one of ${TARGETS.join(', ')}, got ${t === undefined ? 'nothing' : `"${t}"`}`);
    targets.push(t);
  } else if (args[i] === '--help' || args[i] === '-h') {
    usage();
    process.exit(0);
  } else {
    usage();
    fail(`unknown argument "${args[i]}"`);
  }
}
if (!targets.length) targets.push(...TARGETS);

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

// ---- --check ----------------------------------------------------------------------------------------------------
if (check) {
  const manifest = readManifest();
  const fix = 'npm run build:prebuilds (needs cmake, g++ and g++-aarch64-linux-gnu: docs/arm64.md)';
  if (!manifest) fail(`no ${relative(root, manifestPath)}: the prebuilt addons were not built`, fix);
  if (manifest.sources !== sourceHash())
    fail('the prebuilt addons were built from other sources than these (native/ or CMakeLists.txt changed since)', fix);
  for (const t of targets) {
    const file = prebuildPath(t);
    if (!existsSync(file)) fail(`${relative(root, file)} is missing`, fix);
    if (manifest.targets?.[t]?.sha256 !== sha256(file)) fail(`${relative(root, file)} is not the file the manifest records`, fix);
  }
  say(`ok: ${targets.join(', ')} built from the current sources`);
  process.exit(0);
}

// ---- build ------------------------------------------------------------------------------------------------------
function run(what, cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...options });
  if (r.error?.code === 'ENOENT')
    fail(`${what}: "${cmd}" is not installed`, 'apt-get install cmake g++ g++-aarch64-linux-gnu (docs/arm64.md)');
  if (r.error || r.status !== 0) fail(`${what} failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`})`);
}

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Builds one target into build/prebuild/<target> and returns the path of its engram.node. */
function build(target) {
  const dir = join(root, 'build', 'prebuild', target);
  const t0 = performance.now();
  if (target === hostTarget()) {
    say(`building ${target} (this machine) in ${relative(root, dir)}`);
    const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    run(`build ${target}`, process.execPath, [cmakeJs, 'compile', '--out', dir, '--CDENGRAM_PORTABLE=ON']);
  } else if (target === 'linux-arm64' && hostTarget() === 'linux-x64') {
    say(`cross-building ${target} in ${relative(root, dir)} with aarch64-linux-gnu-g++`);
    if (!have('aarch64-linux-gnu-g++'))
      fail('the aarch64 cross compiler aarch64-linux-gnu-g++ is missing', 'apt-get install g++-aarch64-linux-gnu (docs/arm64.md)');
    // As cmake-js would configure it, with the Node-API headers from node_modules (N-API is ABI-stable, so they
    // serve for arm64 as for x64). libjpeg is looked up afresh (-U) in case the arm64 one was installed since.
    const generator = have('ninja') ? ['-G', 'Ninja'] : [];
    run(
      `configure ${target}`,
      'cmake',
      [
        '-U',
        'JPEG_*',
        '-S',
        root,
        '-B',
        dir,
        ...generator,
        '--no-warn-unused-cli',
        `-DCMAKE_TOOLCHAIN_FILE=${join(root, 'tools', 'arm64', 'aarch64-linux-gnu.cmake')}`,
        '-DCMAKE_BUILD_TYPE=Release',
        '-DENGRAM_PORTABLE=ON',
        `-DCMAKE_JS_INC=${join(root, 'node_modules', 'node-api-headers', 'include')};${require('node-addon-api').include.replace(/"/g, '')}`,
        '-DCMAKE_JS_SRC=',
        '-DCMAKE_JS_LIB=',
        '-DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION',
        `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${join(dir, 'Release')}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    run(`build ${target}`, 'cmake', ['--build', dir]);
  } else {
    fail(`cannot build ${target} on ${hostTarget()}: only this machine's target, and linux-arm64 from linux-x64`);
  }
  const built = join(dir, 'Release', 'engram.node');
  if (!existsSync(built)) fail(`${relative(root, built)} was not produced`);
  say(`built ${target} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return built;
}

/** What a board needs to load the addon: its shared libraries and the newest glibc symbol version it uses. */
function requirements(file) {
  const dyn = spawnSync('readelf', ['-dW', file], { encoding: 'utf8' });
  const ver = spawnSync('readelf', ['-VW', file], { encoding: 'utf8' });
  if (dyn.status !== 0 || ver.status !== 0) fail(`readelf could not read ${file}`, 'apt-get install binutils');
  const needs = [...dyn.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const glibc =
    [...new Set([...ver.stdout.matchAll(/Name: GLIBC_([0-9.]+)/g)].map((m) => m[1]))]
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .pop() ?? null;
  const machine = /Machine:\s+(.*)/.exec(spawnSync('readelf', ['-hW', file], { encoding: 'utf8' }).stdout)?.[1].trim();
  return { machine, needs, glibc };
}

const sources = sourceHash();
const previous = readManifest();
const manifest = { sources, targets: previous?.sources === sources ? { ...previous.targets } : {} };
for (const target of targets) {
  const built = build(target);
  const dest = prebuildPath(target);
  mkdirSync(join(dest, '..'), { recursive: true });
  copyFileSync(built, dest);
  const req = requirements(dest);
  manifest.targets[target] = { sha256: sha256(dest), bytes: statSync(dest).size, ...req };
  say(`${relative(root, dest)}: ${req.machine}, needs ${req.needs.join(', ')}, glibc >= ${req.glibc}`);
}
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
say(`wrote ${relative(root, manifestPath)}`);
