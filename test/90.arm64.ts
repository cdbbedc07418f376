// The build for this machine's architecture uses its SIMD kernels, and a whole process forced to the scalar
// kernels (ENGRAM_SIMD=scalar) computes byte-identical scores and predictions. npm run test:arm64 runs this
// file on an emulated arm64 Node against the cross-built addon, where the SIMD kernels are NEON.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '../src/native/index.js';
import { seedFor } from './helpers/memory-random.js';

const digestScript = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'arm64-kernel-digest.js');
const seed = seedFor('90.arm64');
const info = loadBinding().simd();
console.log(`90.arm64: ${process.platform}/${process.arch}, kernels: ${info.active} (SIMD available: ${info.simd})`);

interface Digest {
  kernel: string;
  digest: string;
  nonzero: number;
  correct: number;
  queries: number;
}

function digestWith(simd: string | undefined): Digest {
  const env = { ...process.env };
  if (simd === undefined) delete env.ENGRAM_SIMD;
  else env.ENGRAM_SIMD = simd;
  const r = spawnSync(process.execPath, [digestScript, String(seed)], { env, encoding: 'utf8' });
  assert.is(r.status, 0, `digest child (ENGRAM_SIMD=${simd ?? 'unset'}) failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Digest;
}

test('the addon offers the SIMD kernels of its architecture', () => {
  if (process.arch === 'arm64') assert.is(info.simd, 'neon');
  else if (process.arch === 'x64') assert.ok(info.simd === 'avx2' || info.simd === null, `x64 SIMD: ${info.simd}`);
  else assert.is(info.simd, null);
});

test('a process with SIMD kernels and one forced to scalar give identical scores and predictions', () => {
  const simd = digestWith(undefined);
  const scalar = digestWith('scalar');
  assert.is(simd.kernel, info.simd ?? 'scalar');
  assert.is(scalar.kernel, 'scalar');
  assert.ok(simd.nonzero > 1000, `the queries hit stored connections (${simd.nonzero} non-zero scores)`);
  // Well above chance (1 in 12): the learner really separates the classes, so the predictions mean something.
  assert.ok(simd.correct > simd.queries / 2, `${simd.correct} of ${simd.queries} predictions correct`);
  assert.is(scalar.digest, simd.digest);
});

test.run();
