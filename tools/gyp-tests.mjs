#!/usr/bin/env node
// Builds the addon with node-gyp from binding.gyp, out of tree in build/gyp (so the cmake-js build in
// build/Release is untouched), then runs the TypeScript suites against it through ENGRAM_ADDON.
//   node tools/gyp-tests.mjs [test-file regex]   (default: DEFAULT_SUITES below)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stage = join(root, 'build', 'gyp');
// Every suite that loads the addon and runs in well under a minute, plus the learner crash test (real kills
// of a process writing a store through this build): memory and loader (0x, 1x), images and backbone through
// the native resampler and JPEG decoder (21-27), quantizers and the learner (3x), the demo and open set end
// to end (43, 44), crash and native fuzzing (54, 55), the bench's engram method (82). Left out: the CLI
// end-to-end suites 40-42 (a minute or more each), the serial link (6x: a fake learner, or socat with a pty
// and minutes of serial traffic) and the default-backbone and arm64 suites (70s, 90s: minutes).
const DEFAULT_SUITES = '^(0\\d|1\\d|2[1-7]|3\\d|4[34]|5[45]|82)\\.';
const filter = process.argv[2] ?? DEFAULT_SUITES;

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
  .replace(/node tools\//g, 'node ../../tools/')
  .replace(/\.\/package\.json/g, '../../package.json');
writeFileSync(join(stage, 'binding.gyp'), gyp);

const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodeGyp = [process.env.npm_config_node_gyp, bundled].find((p) => p && existsSync(p));
if (!nodeGyp) fail('node-gyp not found (it ships with npm; or install it: npm install -g node-gyp)');
// Offline: use the headers installed with Node when they match this Node (Debian/Ubuntu nodejs packages).
const headers = join(dirname(process.execPath), '..', 'include', 'node', 'node_version.h');
const nodedir =
  existsSync(headers) && readFileSync(headers, 'utf8').includes(`#define NODE_MAJOR_VERSION ${process.versions.node.split('.')[0]}`)
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
