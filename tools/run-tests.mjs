#!/usr/bin/env node
// Runs every compiled test file (dist/test/NN.*.js) in its own process, in reading order,
// plus the C++ core tests, and ends with one line: "N passed, N failed".
// A file that crashes or exits non-zero without a uvu summary counts as one failure.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testDir = join(root, 'dist', 'test');
const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

function count(label, result) {
  const out = stripAnsi(`${result.stdout ?? ''}\n${result.stderr ?? ''}`);
  const plain = out.match(/^(?:\w+: )?(\d+) passed, (\d+) failed/m);
  const total = out.match(/Total:\s+(\d+)/);
  const ok = out.match(/Passed:\s+(\d+)/);
  const skip = out.match(/Skipped:\s+(\d+)/);
  if (plain) {
    passed += Number(plain[1]);
    failed += Number(plain[2]);
    if (Number(plain[2]) > 0 || result.status !== 0) failures.push(label);
  } else if (total && ok) {
    const t = Number(total[1]);
    const p = Number(ok[1]);
    const s = skip ? Number(skip[1]) : 0;
    passed += p;
    skipped += s;
    const f = Math.max(0, t - p - s) + (result.status !== 0 && t - p - s === 0 ? 1 : 0);
    failed += f;
    if (f > 0) failures.push(label);
  } else if (result.status === 0 && /^SKIP\b/m.test(out)) {
    // A file whose every case needs something absent says so in one visible SKIP line.
    skipped += 1;
  } else {
    failed += 1;
    failures.push(label);
  }
}

function run(label, cmd, args, env = {}) {
  process.stdout.write(`\n# ${label}\n`);
  const result = spawnSync(cmd, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  process.stdout.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  if (result.error) process.stderr.write(`${label}: ${result.error.message}\n`);
  count(label, result);
}

if (!existsSync(testDir)) {
  console.error(`no compiled tests in ${testDir}: run "npm run build:ts" first`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (!filter || filter.test('native-core')) {
  run('native-core (C++ core tests)', process.execPath, [join(root, 'tools', 'native-tests.mjs')]);
}

const files = readdirSync(testDir)
  .filter((f) => /^\d\d\..*\.js$/.test(f))
  .filter((f) => !filter || filter.test(f))
  .sort();
for (const f of files) run(f, process.execPath, [join(testDir, f)]);

if (failures.length) console.log(`\nfailed: ${failures.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
