#!/usr/bin/env node
// Configures, builds and runs the C++ core tests (native/CMakeLists.txt) with cmake + ninja.
//   node tools/native-tests.mjs             -> build/native-tests
//   node tools/native-tests.mjs --sanitize  -> build/native-tests-asan, AddressSanitizer + UBSan + leak check
// The test binary prints "N passed, N failed" last; a configure or build failure prints "0 passed, 1 failed".
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sanitize = process.argv.includes('--sanitize');
const filter = process.argv.slice(2).find((a) => !a.startsWith('--'));
const buildDir = join(root, 'build', sanitize ? 'native-tests-asan' : 'native-tests');
const label = sanitize ? 'native-core (ASan/UBSan)' : 'native-core';

function step(what, cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.error || r.status !== 0) {
    console.error(`${label}: ${what} failed${r.error ? `: ${r.error.message}` : ` (exit ${r.status ?? r.signal})`}`);
    if (r.error && r.error.code === 'ENOENT') console.error(`${label}: "${cmd}" is not installed (apt-get install cmake ninja-build g++)`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const generator = spawnSync('ninja', ['--version']).status === 0 ? ['-G', 'Ninja'] : [];
if (!existsSync(join(buildDir, 'CMakeCache.txt'))) {
  step('configure', 'cmake', [
    '-S',
    join(root, 'native'),
    '-B',
    buildDir,
    ...generator,
    '-DCMAKE_BUILD_TYPE=Release',
    `-DENGRAM_SANITIZE=${sanitize ? 'ON' : 'OFF'}`,
  ]);
}
step('build', 'cmake', ['--build', buildDir]);

const env = sanitize
  ? {
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=23',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    }
  : {};
const bin = join(buildDir, 'engram-core-tests');
const r = spawnSync(bin, filter ? [filter] : [], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
process.stdout.write(r.stdout ?? '');
process.stderr.write(r.stderr ?? '');
const summary = (r.stdout ?? '').match(/^(\d+) passed, (\d+) failed\s*$/m);
if (r.status !== 0 && (!summary || Number(summary[2]) === 0)) {
  // Crashed or the sanitizer stopped the run (e.g. a leak found at exit): count it as a failure.
  console.error(`${label}: test binary exited with ${r.status ?? r.signal}`);
  console.log(`${summary ? summary[1] : 0} passed, 1 failed`);
  process.exit(1);
}
process.exit(r.status === 0 ? 0 : 1);
