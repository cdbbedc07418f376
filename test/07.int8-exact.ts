// An int8 backbone gives the same features on every CPU. onnxruntime's int8 kernels on an x86-64 CPU without
// VNNI pair u8 x s8 products in saturating 16-bit sums, so its features differed from those of VNNI and Arm
// CPUs (MobileNetV2 int8: cosine 0.84 for the median CIFAR-10 photo). engram asks onnxruntime for exact sums
// there (session.x64quantprecision). Proved under qemu-x86_64 emulating such CPUs (Haswell: AVX2 without VNNI;
// Nehalem: no AVX, exact kernels), whatever CPU runs the test: the addon reads the emulated CPUID.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { loadBinding } from '../src/native/index.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'int8-features.js');
const QEMU = 'qemu-x86_64-static';
const test = suite('int8 features across CPUs');

interface Run {
  int8Dot: string | null;
  summary: string;
  engram: Float32Array;
  plain: Float32Array;
}

function run(cpu: string | null): Run {
  const [cmd, args] = cpu === null ? [process.execPath, [child]] : [QEMU, ['-cpu', cpu, process.execPath, child]];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000 });
  assert.is(
    r.status,
    0,
    `${cpu ?? 'native'} run failed: ${r.stderr
      .split('\n')
      .filter((l) => !/TCG doesn't support/.test(l))
      .join('\n')}`,
  );
  const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { int8Dot: string | null; summary: string; engram: string; plain: string };
  const floats = (b64: string) => {
    const b = Buffer.from(b64, 'base64');
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  return { int8Dot: o.int8Dot, summary: o.summary, engram: floats(o.engram), plain: floats(o.plain) };
}

/** The lowest cosine between matching rows of 128-d features. */
function minCosine(a: Float32Array, b: Float32Array, dim = 128): number {
  let worst = 1;
  for (let r = 0; r < a.length / dim; r++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    worst = Math.min(worst, ab / Math.sqrt(aa * bb));
  }
  return worst;
}

const qemuReady = process.arch === 'x64' && spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status === 0;
if (!qemuReady)
  console.log(
    `SKIP: ${process.arch !== 'x64' ? `${process.arch} is not x86-64` : `${QEMU} not found`}: the emulated-CPU cases are skipped`,
  );

// sha256 of the float32 features of MNIST test digits 0-15 from the shipped engram-glyph: the same on x86-64
// with VNNI, without it (exact sums), and on arm64 (npm run test:arm64 runs this file under qemu). A change
// means every store's examples and new queries would be embedded differently: if it is meant (a new
// onnxruntime, a new model), update it and say so in CHANGELOG.
const GLYPH_DIGEST = '03eaac24cc97ef0d5d321cd951b130f3ffa65f227a997d658c4fc37d6f28c775';

const native = run(null);

test(`the shipped backbone's features of 16 digits are the recorded ones, bit for bit (${process.arch})`, () => {
  assert.is(native.engram.length, 16 * 128);
  const digest = createHash('sha256')
    .update(Buffer.from(native.engram.buffer, native.engram.byteOffset, native.engram.byteLength))
    .digest('hex');
  assert.is(digest, GLYPH_DIGEST);
});

test('the addon names the int8 dot-product instructions of an x86-64 CPU, and none elsewhere', () => {
  const dot = loadBinding().int8Dot();
  if (process.arch === 'x64') assert.ok(['avx512_vnni', 'avx_vnni', 'none'].includes(dot!), `int8Dot: ${dot}`);
  else assert.is(dot, null);
});

if (qemuReady) {
  const haswell = run('Haswell');
  const nehalem = run('Nehalem');

  test('an emulated CPU without VNNI is seen as one, and its session says the sums are made exact', () => {
    assert.is(haswell.int8Dot, 'none');
    assert.is(nehalem.int8Dot, 'none');
    assert.match(haswell.summary, /int8 summed exactly \(this CPU has no VNNI/);
    if (native.int8Dot === 'none') assert.match(native.summary, /int8 summed exactly/);
    else assert.not.match(native.summary, /int8 summed exactly/, 'with VNNI the sums are exact already, and the option only costs time');
  });

  test("onnxruntime's defaults give other features on an AVX2 CPU without VNNI: the case is real", () => {
    // Without exact sums, the saturating kernels move features of these digits far from the exact ones.
    const c = minCosine(haswell.plain, nehalem.plain);
    assert.ok(c < 0.99, `plain onnxruntime, Haswell against Nehalem: lowest cosine ${c}`);
  });

  test('engram gives the same features bit for bit on this CPU, without VNNI, and without AVX', () => {
    assert.is(haswell.engram.length, 16 * 128);
    assert.equal(Array.from(haswell.engram), Array.from(native.engram), 'Haswell against this CPU');
    assert.equal(Array.from(nehalem.engram), Array.from(native.engram), 'Nehalem against this CPU');
    // And the exact features are what onnxruntime's exact kernels (no AVX) give with its defaults.
    assert.equal(Array.from(nehalem.plain), Array.from(native.engram));
  });
}

test.run();
