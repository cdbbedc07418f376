#!/usr/bin/env node
// Builds the addon with node-gyp from binding.gyp, out of tree in build/gyp (so the cmake-js build in
// build/Release is untouched), then runs the TypeScript suites against it through ENGRAM_ADDON.
//   node tools/gyp-tests.mjs [test-file regex]   (default: the memory suites, ^[01]\d\.)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stage = join(root, 'build', 'gyp');
const filter = process.argv[2] ?? '^[01]\\d\\.';

function fail(msg) {
  console.error(`test:gyp: ${msg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// binding.gyp with its paths (sources, configure-time helpers) re-rooted two levels deeper: node-gyp builds
// and runs <!(...) commands next to the .gyp file.
mkdirSync(stage, { recursive: true });
const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8')
  .replace(/"native\//g, '"../../native/')
  .replace(/node tools\//g, 'node ../../tools/');
writeFileSync(join(stage, 'binding.gyp'), gyp);

const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodeGyp = [process.env.npm_config_node_gyp, bundled].find((p) => p && existsSync(p));
if (!nodeGyp) fail('node-gyp not found (it ships with npm; or install it: npm install -g node-gyp)');
// Offline: use the headers installed with Node when they match this Node (Debian/Ubuntu nodejs packages).
const headers = join(dirname(process.execPath), '..', 'include', 'node', 'node_version.h');
const nodedir = existsSync(headers) && readFileSync(headers, 'utf8').includes(`#define NODE_MAJOR_VERSION ${process.versions.node.split('.')[0]}`)
  ? [`--nodedir=${join(dirname(process.execPath), '..')}`]
  : [];
const build = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--directory=${stage}`, ...nodedir], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_PATH: join(root, 'node_modules') },
});
if (build.status !== 0) fail(`node-gyp rebuild failed (exit ${build.status ?? build.signal})`);
const addon = join(stage, 'build', 'Release', 'engram.node');
if (!existsSync(addon)) fail(`node-gyp finished but ${addon} is missing`);

console.log(`\ntest:gyp: running ${filter} against ${addon}`);
const run = spawnSync(process.execPath, [join(root, 'tools', 'run-tests.mjs'), filter], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ENGRAM_ADDON: addon },
});
process.exit(run.status ?? 1);
