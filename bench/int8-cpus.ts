// bench:int8-cpus: does an int8 backbone give the same features on every CPU? MobileNetV2 int8 embeds CIFAR-10
// development photos natively and under qemu-x86_64 emulating Haswell (AVX2 without VNNI), through onnxruntime
// with its defaults and through engram's session (which asks for exact int8 sums on such a CPU). Reports the
// cosine between each photo's emulated and native features, and nearest-class-mean top-1 with examples and
// queries embedded on either CPU. Writes the JSON to --out (default: stdout only).
//   node dist/bench/int8-cpus.js [--per-class N (100)] [--out FILE]; npm run bench:int8-cpus writes bench/results/int8-cpus.json
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CIFAR_DIR } from './lib/cifar.js';
import { CACHE, sharedModelsDir } from './lib/features.js';
import { machine } from './lib/machine.js';

const QEMU = 'qemu-x86_64-static';
const argv = process.argv.slice(2);
const flag = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const perClass = Number(flag('--per-class') ?? 100);
if (!Number.isInteger(perClass) || perClass < 2)
  throw new RangeError(`--per-class: expected a whole number >= 2, got ${flag('--per-class')}`);
const outFile = flag('--out');
const child = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'int8-child.js');
const log = (m: string): void => void process.stderr.write(`${m}\n`);

function files(split: 'train' | 'val'): { paths: string[]; labels: number[] } {
  const classes = readdirSync(join(CIFAR_DIR, split))
    .filter((d) => !d.startsWith('.'))
    .sort();
  const paths: string[] = [];
  const labels: number[] = [];
  classes.forEach((c, ci) => {
    for (const f of readdirSync(join(CIFAR_DIR, split, c))
      .filter((n) => !n.startsWith('.'))
      .sort()
      .slice(0, perClass)) {
      paths.push(join(CIFAR_DIR, split, c, f));
      labels.push(ci);
    }
  });
  return { paths, labels };
}

function embed(
  work: string,
  manifest: string,
  list: string,
  mode: 'engram' | 'plain',
  cpu: string | null,
): { rows: Float32Array; summary: string; int8Dot: string | null } {
  const out = join(work, `${cpu ?? 'native'}-${mode}-${list.split('/').pop()}.f32`);
  const args = [child, manifest, list, mode, out];
  const t0 = Date.now();
  const r =
    cpu === null
      ? spawnSync(process.execPath, args, { encoding: 'utf8' })
      : spawnSync(QEMU, ['-cpu', cpu, process.execPath, ...args], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `${cpu ?? 'native'} ${mode}: ${r.stderr
        .split('\n')
        .filter((l) => !/TCG doesn't support/.test(l))
        .join('\n')}`,
    );
  const info = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { summary: string; int8Dot: string | null };
  const b = readFileSync(out);
  log(`${cpu ?? 'native'} ${mode} ${list.split('/').pop()}: ${Math.round((Date.now() - t0) / 1000)} s`);
  return { rows: new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4), ...info };
}

function unit(rows: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(rows.length);
  for (let r = 0; r < rows.length / dim; r++) {
    let n = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) n += rows[i] * rows[i];
    n = Math.sqrt(n) || 1;
    for (let i = r * dim; i < (r + 1) * dim; i++) out[i] = rows[i] / n;
  }
  return out;
}

function cosines(a: Float32Array, b: Float32Array, dim: number): number[] {
  const ua = unit(a, dim);
  const ub = unit(b, dim);
  return Array.from({ length: a.length / dim }, (_, r) => {
    let s = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) s += ua[i] * ub[i];
    return s;
  });
}

/** Top-1 (%) of cosine nearest class mean: means of the unit train rows, queries the test rows. */
function ncm(train: Float32Array, trainLabels: number[], test: Float32Array, testLabels: number[], dim: number): number {
  const classes = Math.max(...trainLabels) + 1;
  const means = new Float64Array(classes * dim);
  const ut = unit(train, dim);
  trainLabels.forEach((c, r) => {
    for (let i = 0; i < dim; i++) means[c * dim + i] += ut[r * dim + i];
  });
  const norms = Array.from({ length: classes }, (_, c) => Math.sqrt(means.subarray(c * dim, (c + 1) * dim).reduce((s, v) => s + v * v, 0)));
  let right = 0;
  testLabels.forEach((label, r) => {
    let best = -Infinity;
    let at = -1;
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s += test[r * dim + i] * means[c * dim + i];
      s /= norms[c];
      if (s > best) [best, at] = [s, c];
    }
    if (at === label) right++;
  });
  return Math.round((1000 * right) / testLabels.length) / 10;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

async function main(): Promise<void> {
  const host = machine();
  if (process.arch !== 'x64') return log(`int8-cpus skipped: ${process.arch} is not x86-64 (the emulated CPUs are x86-64)`);
  if (spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status !== 0)
    return log(`int8-cpus skipped: ${QEMU} not found (apt-get install qemu-user-static)`);
  if (!existsSync(join(CIFAR_DIR, 'train'))) return log(`int8-cpus skipped: ${CIFAR_DIR} not found (set ENGRAM_CIFAR10_DEV)`);
  process.env.ENGRAM_MODELS_DIR ??= join(CACHE, 'models');
  const { resolveBackboneRef } = await import('../src/learner/backbone-ref.js');
  let manifest: string;
  try {
    manifest = resolveBackboneRef('mobilenetv2-12-int8').manifestPath;
  } catch {
    const shared = sharedModelsDir();
    if (!shared) return log('int8-cpus skipped: mobilenetv2-12-int8 not installed and no shared models folder (ENGRAM_SHARED_MODELS)');
    const { pullModel } = await import('../src/backbone/pull.js');
    await pullModel('mobilenetv2-12-int8', { from: join(shared, 'mobilenetv2-12-int8.onnx') });
    manifest = resolveBackboneRef('mobilenetv2-12-int8').manifestPath;
  }
  const work = mkdtempSync(join(tmpdir(), 'engram-int8-cpus-'));
  try {
    const train = files('train');
    const test = files('val');
    const lists = { train: join(work, 'train'), test: join(work, 'test') };
    writeFileSync(lists.train, train.paths.join('\n'));
    writeFileSync(lists.test, test.paths.join('\n'));
    const dim = 1280;
    const native = { train: embed(work, manifest, lists.train, 'engram', null), test: embed(work, manifest, lists.test, 'engram', null) };
    const plain = {
      train: embed(work, manifest, lists.train, 'plain', 'Haswell'),
      test: embed(work, manifest, lists.test, 'plain', 'Haswell'),
    };
    const exact = embed(work, manifest, lists.test, 'engram', 'Haswell');
    const plainCos = cosines(plain.test.rows, native.test.rows, dim);
    const exactCos = cosines(exact.rows, native.test.rows, dim);
    let identical = exact.rows.length === native.test.rows.length;
    for (let i = 0; identical && i < exact.rows.length; i++) identical = exact.rows[i] === native.test.rows[i];
    const result = {
      bench: 'int8-cpus',
      model: 'mobilenetv2-12-int8 (1280-d features)',
      data: `CIFAR-10 development slice, ${perClass} train and ${perClass} val photos per class`,
      machine: host,
      native: { int8Dot: native.test.int8Dot, session: native.test.summary },
      emulated: { cpu: 'Haswell (qemu-x86_64: AVX2, no VNNI)', int8Dot: exact.int8Dot, session: exact.summary },
      onnxruntimeDefaults: {
        cosineToNative: { median: r4(quantile(plainCos, 0.5)), p5: r4(quantile(plainCos, 0.05)), min: r4(Math.min(...plainCos)) },
        ncmTop1: {
          nativeOnNative: ncm(native.train.rows, train.labels, native.test.rows, test.labels, dim),
          emulatedOnEmulated: ncm(plain.train.rows, train.labels, plain.test.rows, test.labels, dim),
          nativeExamplesEmulatedQueries: ncm(native.train.rows, train.labels, plain.test.rows, test.labels, dim),
          emulatedExamplesNativeQueries: ncm(plain.train.rows, train.labels, native.test.rows, test.labels, dim),
        },
      },
      engram: { cosineToNativeMin: r4(Math.min(...exactCos)), identicalToNative: identical },
    };
    const text = JSON.stringify(result, null, 2);
    if (outFile) writeFileSync(outFile, `${text}\n`);
    console.log(JSON.stringify(result));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
