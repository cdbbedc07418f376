// Benchmark of the shipped default backbone (models/engram-glyph) against MobileNetV2 int8 on MNIST, which
// neither model saw in training: nearest-class-mean accuracy at 1, 5 and 10 examples per class (mean over
// seeded draws), binary-memory accuracy with 100 examples per class, size, and ms per image at batch 32, all
// measured in one run. The int8-vs-fp32 accuracy delta uses the fp32 graph the recipe quantized.
//
// The JSON's `targets` says, target by target (issue #5), what was measured and whether it passes: int8 loses
// at most 1 point against fp32, at most 1 ms per image at batch 32, and against MobileNetV2 int8: more accurate,
// at least 10x smaller and 10x faster. "Smaller" is reported against both the full MobileNetV2 file and the cut
// feature model engram actually runs, since only the first clears 10x.
//
// Usage: node dist/bench/default-backbone.js [--test N] [--draws N] [--reps N] [--no-mobilenet] [--models DIR]
// Prints progress and one PASS/FAIL line per target to stderr, and one JSON object as the last line of stdout.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Backbone, cutModel, loadManifest, sha256Hex, type Manifest, type RawImage } from '../src/backbone/index.js';
import { loadMnist, type ImageSet } from '../src/datasets/idx.js';
import { BinaryMemory } from '../src/memory/index.js';
import { ProductQuantizer } from '../src/quantize/quantizer.js';
import { fitCodebook } from '../src/quantize/codebook.js';
import { Rng } from '../src/util/rng.js';
import { machine } from './lib/machine.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = [1, 5, 10];
const MEMORY_SHOTS = 100;
const CODEBOOK_ROWS = 2000;
const PQ = { parts: 32, anchors: 256 };
const CLASSES = 10;
const BATCH = 32;

interface Args {
  test: number;
  draws: number;
  reps: number;
  mobilenet: boolean;
  models: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { test: 10000, draws: 5, reps: 30, mobilenet: true, models: join(root, 'models') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`${k}: expected a positive integer, got ${argv[i]}`);
      return n;
    };
    if (k === '--test') a.test = Math.min(10000, v());
    else if (k === '--draws') a.draws = v();
    else if (k === '--reps') a.reps = v();
    else if (k === '--no-mobilenet') a.mobilenet = false;
    else if (k === '--models' && argv[i + 1]) a.models = resolve(argv[++i]);
    else throw new RangeError(`unknown argument ${k} (known: --test N, --draws N, --reps N, --no-mobilenet, --models DIR)`);
  }
  return a;
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);

function sharedModelsDir(): string | undefined {
  const candidates = [process.env.ENGRAM_SHARED_MODELS, join(root, '..', 'shared', 'models')].filter((d): d is string => Boolean(d));
  return candidates.find((d) => existsSync(join(d, 'mobilenetv2-12-int8.onnx')));
}

/** MNIST images as raw grey pixels; `invert` gives dark strokes on light, what ImageNet models prefer. */
function raw(set: ImageSet, indices: number[], invert: boolean): RawImage[] {
  const size = set.rows * set.cols;
  return indices.map((i) => {
    const data = set.images.slice(i * size, (i + 1) * size);
    if (invert) for (let k = 0; k < size; k++) data[k] = 255 - data[k];
    return { data, width: set.cols, height: set.rows, channels: 1 };
  });
}

/** The first `per` images of each class in a seeded shuffle of the training set. */
function pool(set: ImageSet, per: number, rng: Rng, skip: Set<number>): number[][] {
  const byClass: number[][] = Array.from({ length: CLASSES }, () => []);
  for (const i of rng.shuffle(Array.from({ length: set.count }, (_, k) => k))) {
    if (!skip.has(i) && byClass[set.labels[i]].length < per) byClass[set.labels[i]].push(i);
  }
  return byClass;
}

function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  return v.map((x) => x * inv);
}

/** Cosine nearest-class-mean accuracy: class means of L2-normalised support features. */
function ncmAccuracy(support: Float32Array[][], queries: Float32Array[], labels: Uint8Array): number {
  const dim = queries[0].length;
  const means = support.map((rows) => {
    const m = new Float32Array(dim);
    for (const r of rows) {
      const n = normalize(r);
      for (let t = 0; t < dim; t++) m[t] += n[t];
    }
    return normalize(m);
  });
  let right = 0;
  queries.forEach((q, i) => {
    let best = -1;
    let bestScore = -Infinity;
    means.forEach((m, c) => {
      let s = 0;
      for (let t = 0; t < dim; t++) s += q[t] * m[t];
      if (s > bestScore) [best, bestScore] = [c, s];
    });
    if (best === labels[i]) right++;
  });
  return right / queries.length;
}

function flat(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.length * rows[0].length);
  rows.forEach((r, i) => out.set(r, i * r.length));
  return out;
}

/** engram's binary memory: PQ codes (P=32, K=256) of 100 examples per class stored, then scored. */
function memoryAccuracy(
  codebookRows: Float32Array,
  support: Float32Array[][],
  queries: Float32Array[],
  labels: Uint8Array,
): { accuracy: number; density: number } {
  const dim = queries[0].length;
  const pq = new ProductQuantizer(fitCodebook(codebookRows, dim, { ...PQ, seed: 1 }));
  const memory = new BinaryMemory({ neurons: pq.neurons, counterBits: 4, classes: CLASSES, active: pq.active });
  support.forEach((rows, c) => memory.store({ indices: pq.encode(flat(rows), rows.length), active: pq.active }, c));
  const scores = memory.score({ indices: pq.encode(flat(queries), queries.length), active: pq.active });
  let right = 0;
  for (let i = 0; i < queries.length; i++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (scores[i * CLASSES + c] > scores[i * CLASSES + best]) best = c;
    if (best === labels[i]) right++;
  }
  return { accuracy: round((100 * right) / queries.length), density: round(memory.stats().density, 3) };
}

interface Features {
  test: Float32Array[];
  support: Float32Array[][];
  codebook: Float32Array;
}

async function embedAll(
  bb: Backbone,
  mnist: { train: ImageSet; test: ImageSet },
  sets: { test: number[]; support: number[][]; codebook: number[] },
  invert: boolean,
): Promise<Features> {
  const t0 = performance.now();
  const test = await bb.embed(raw(mnist.test, sets.test, invert), { batchSize: BATCH });
  const supportFlat = await bb.embed(raw(mnist.train, sets.support.flat(), invert), { batchSize: BATCH });
  const codebook = await bb.embed(raw(mnist.train, sets.codebook, invert), { batchSize: BATCH });
  const support = sets.support.map((_, c) => supportFlat.slice(c * MEMORY_SHOTS, (c + 1) * MEMORY_SHOTS));
  log(
    `  ${bb.manifest.name}: embedded ${test.length + supportFlat.length + codebook.length} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { test, support, codebook: flat(codebook) };
}

function ncmTable(f: Features, labels: Uint8Array, draws: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const shots of SHOTS) {
    let sum = 0;
    for (let d = 0; d < draws; d++) {
      const rng = new Rng(1000 * shots + d);
      sum += ncmAccuracy(
        f.support.map((rows) => rng.sample(rows.length, shots).map((i) => rows[i])),
        f.test,
        labels,
      );
    }
    out[`${shots}`] = round((100 * sum) / draws);
  }
  return out;
}

/** Median ms per image of `forward` on one prepared batch of 32, the backbones interleaved rep by rep. */
async function latencies(entries: { key: string; bb: Backbone; batch: Float32Array }[], reps: number): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(entries.map((e) => [e.key, []]));
  for (const e of entries) await e.bb.forward(e.batch, BATCH); // warm-up
  for (let r = 0; r < reps; r++) {
    for (const e of entries) {
      const t = performance.now();
      await e.bb.forward(e.batch, BATCH);
      times[e.key].push((performance.now() - t) / BATCH);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, round(median(v), 4)]));
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

interface Target {
  target: string;
  measured: number | null;
  pass: boolean | null;
  note?: string;
}

const MS_TARGET = 1;
const INT8_LOSS_TARGET = 1;
const RATIO_TARGET = 10;

/** Issue #5's targets against what this run measured; a MobileNetV2 target is null when it was not run. */
function targetsOf(results: Record<string, unknown>, ms: Record<string, number>): Record<string, Target> {
  type Side = { bytes: number; ncm: Record<string, number>; memory: { codebookFromMnistTrain: { accuracy: number } } };
  const g = results.glyph as Side;
  const g32 = results.glyphFp32 as Side;
  const m = results.mobilenet as (Side & { cutBytes: number }) | null;
  const losses = [
    ...SHOTS.map((s) => g32.ncm[`${s}`] - g.ncm[`${s}`]),
    g32.memory.codebookFromMnistTrain.accuracy - g.memory.codebookFromMnistTrain.accuracy,
  ];
  const worstLoss = round(Math.max(...losses));
  const noMobilenet = { measured: null, pass: null, note: 'MobileNetV2 not run (mobilenetv2-12-int8.onnx not found or --no-mobilenet)' };
  const ratio = (target: string, value: number | undefined, note?: string): Target =>
    value === undefined ? { target, ...noMobilenet } : { target, measured: value, pass: value >= RATIO_TARGET, ...(note ? { note } : {}) };
  const ahead = m
    ? Math.min(
        ...SHOTS.map((s) => g.ncm[`${s}`] - m.ncm[`${s}`]),
        g.memory.codebookFromMnistTrain.accuracy - m.memory.codebookFromMnistTrain.accuracy,
      )
    : undefined;
  return {
    int8LossVsFp32Points: {
      target: `<= ${INT8_LOSS_TARGET} point (worst of NCM at ${SHOTS.join(', ')} examples and memory accuracy)`,
      measured: worstLoss,
      pass: worstLoss <= INT8_LOSS_TARGET,
    },
    msPerImageBatch32: { target: `<= ${MS_TARGET} ms (engram-glyph int8, median)`, measured: ms.glyph, pass: ms.glyph <= MS_TARGET },
    beatsMobilenetPoints:
      ahead === undefined
        ? { target: 'ahead of MobileNetV2 int8 in every NCM column and in memory accuracy', ...noMobilenet }
        : {
            target: 'ahead of MobileNetV2 int8 in every NCM column and in memory accuracy (smallest lead, points)',
            measured: round(ahead),
            pass: ahead > 0,
          },
    smallerThanMobilenetFileBy: ratio(
      `>= ${RATIO_TARGET}x smaller than mobilenetv2-12-int8.onnx (the full file)`,
      m ? round(m.bytes / g.bytes, 1) : undefined,
    ),
    smallerThanMobilenetCutBy: ratio(
      `>= ${RATIO_TARGET}x smaller than the cut MobileNetV2 feature model engram runs`,
      m ? round(m.cutBytes / g.bytes, 1) : undefined,
      'stated for honesty: the 10x size target holds against the full MobileNetV2 file, not against the cut feature model',
    ),
    fasterThanMobilenetBy: ratio(
      `>= ${RATIO_TARGET}x faster per image at batch 32 (medians, interleaved in one run)`,
      ms.mobilenet === undefined ? undefined : round(ms.mobilenet / ms.glyph, 1),
    ),
  };
}

/** Calibration features shipped beside the manifest (what the learner fits its codebook on by default). */
function shippedCalibration(manifestPath: string): Float32Array {
  const m = loadManifest(manifestPath);
  const cal = m.calibration as { file: string; sha256: string };
  const bytes = readFileSync(join(dirname(manifestPath), cal.file));
  if (sha256Hex(bytes) !== cal.sha256) throw new Error(`${cal.file}: sha256 does not match the manifest`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const host = machine();
  const GLYPH = join(args.models, 'engram-glyph.json');
  const GLYPH_FP32 = join(args.models, 'engram-glyph-fp32.onnx');
  const mnist = { train: loadMnist('train'), test: loadMnist('test') };
  const rng = new Rng(7);
  const test = rng.sample(mnist.test.count, args.test).sort((a, b) => a - b);
  const testLabels = Uint8Array.from(test, (i) => mnist.test.labels[i]);
  const support = pool(mnist.train, MEMORY_SHOTS, rng, new Set());
  const codebook = rng
    .sample(mnist.train.count, CODEBOOK_ROWS * 2)
    .filter((i) => !support.flat().includes(i))
    .slice(0, CODEBOOK_ROWS);
  const sets = { test, support, codebook };
  log(`default-backbone bench: ${test.length} MNIST test images, support ${MEMORY_SHOTS}/class from train, ${args.draws} draws`);

  const glyphManifest = loadManifest(GLYPH);
  const glyph = await Backbone.open(GLYPH);
  // The fp32 graph has no manifest of its own: the shipped one with its file, hash and precision swapped.
  const { calibration: _calibration, ...shipped } = JSON.parse(readFileSync(GLYPH, 'utf8')) as Manifest;
  const fp32Manifest: Manifest = {
    ...shipped,
    name: 'engram-glyph-fp32',
    file: 'engram-glyph-fp32.onnx',
    precision: 'fp32',
    sha256: sha256Hex(readFileSync(GLYPH_FP32)),
  };
  const glyph32 = await Backbone.open(fp32Manifest, { baseDir: dirname(GLYPH) });

  const results: Record<string, unknown> = {};
  const fGlyph = await embedAll(glyph, mnist, sets, false);
  const fGlyph32 = await embedAll(glyph32, mnist, sets, false);
  const glyphNcm = ncmTable(fGlyph, testLabels, args.draws);
  const glyph32Ncm = ncmTable(fGlyph32, testLabels, args.draws);
  const calib = shippedCalibration(GLYPH);
  results.glyph = {
    file: glyphManifest.file,
    bytes: statSync(glyphManifest.modelPath).size,
    dim: glyph.dim,
    ncm: glyphNcm,
    memory: {
      codebookFromShippedCalibration: memoryAccuracy(calib, fGlyph.support, fGlyph.test, testLabels),
      codebookFromMnistTrain: memoryAccuracy(fGlyph.codebook, fGlyph.support, fGlyph.test, testLabels),
    },
  };
  results.glyphFp32 = {
    bytes: statSync(GLYPH_FP32).size,
    ncm: glyph32Ncm,
    memory: { codebookFromMnistTrain: memoryAccuracy(fGlyph32.codebook, fGlyph32.support, fGlyph32.test, testLabels) },
  };
  results.int8MinusFp32Points = Object.fromEntries(SHOTS.map((s) => [`${s}`, round(glyphNcm[`${s}`] - glyph32Ncm[`${s}`])]));

  const prepared = await glyph.prepare(raw(mnist.test, test.slice(0, BATCH), false));
  const timed = [
    { key: 'glyph', bb: glyph, batch: prepared },
    { key: 'glyphFp32', bb: glyph32, batch: prepared },
  ];

  const shared = args.mobilenet ? sharedModelsDir() : undefined;
  let tmp: string | undefined;
  let mobilenet: Backbone | undefined;
  if (!shared) {
    log(
      args.mobilenet
        ? 'SKIP: mobilenetv2-12-int8.onnx not found (set ENGRAM_SHARED_MODELS or put it in ../shared/models): no comparison'
        : 'MobileNetV2 comparison disabled (--no-mobilenet)',
    );
    results.mobilenet = null;
  } else {
    tmp = mkdtempSync(join(tmpdir(), 'engram-bench-'));
    const cut = await cutModel(join(shared, 'mobilenetv2-12-int8.onnx'), {
      at: '464_quantized',
      out: join(tmp, 'mobilenetv2-int8-features.onnx'),
      colorOrder: 'RGB',
      range: [0, 1],
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      resize: 'bilinear',
      license: 'Apache-2.0',
      source: 'ONNX Model Zoo',
    });
    mobilenet = await Backbone.open(cut.manifestPath);
    // ImageNet models see dark strokes on light paper better (science.md: +2-4 points), so MobileNet gets its better polarity.
    const fMob = await embedAll(mobilenet, mnist, sets, true);
    results.mobilenet = {
      file: 'mobilenetv2-12-int8.onnx',
      bytes: statSync(join(shared, 'mobilenetv2-12-int8.onnx')).size,
      cutBytes: cut.bytes,
      dim: mobilenet.dim,
      polarity: 'dark-on-light (inverted MNIST)',
      ncm: ncmTable(fMob, testLabels, args.draws),
      memory: { codebookFromMnistTrain: memoryAccuracy(fMob.codebook, fMob.support, fMob.test, testLabels) },
    };
    timed.push({ key: 'mobilenet', bb: mobilenet, batch: await mobilenet.prepare(raw(mnist.test, test.slice(0, BATCH), true)) });
  }

  const ms = await latencies(timed, args.reps);
  results.msPerImageBatch32 = ms;
  if (results.mobilenet) {
    const g = results.glyph as { bytes: number; ncm: Record<string, number>; memory: { codebookFromMnistTrain: { accuracy: number } } };
    const m = results.mobilenet as { bytes: number; ncm: Record<string, number>; memory: { codebookFromMnistTrain: { accuracy: number } } };
    results.versusMobilenet = {
      ncmPointsAhead: Object.fromEntries(SHOTS.map((s) => [`${s}`, round(g.ncm[`${s}`] - m.ncm[`${s}`])])),
      memoryPointsAhead: round(g.memory.codebookFromMnistTrain.accuracy - m.memory.codebookFromMnistTrain.accuracy),
      smallerBy: round(m.bytes / g.bytes, 1),
      smallerThanCutBy: round((results.mobilenet as { cutBytes: number }).cutBytes / g.bytes, 1),
      fasterBy: round(ms.mobilenet / ms.glyph, 1),
    };
  }
  for (const bb of [glyph, glyph32, mobilenet]) await bb?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  results.targets = targetsOf(results, ms);
  for (const [key, t] of Object.entries(results.targets as Record<string, Target>)) {
    log(`target ${key}: ${t.pass === null ? 'NOT MEASURED' : t.pass ? 'PASS' : 'FAIL'} (${t.measured ?? '-'}; ${t.target})`);
  }
  results.config = {
    testImages: test.length,
    draws: args.draws,
    reps: args.reps,
    pq: PQ,
    memoryShots: MEMORY_SHOTS,
    threads: glyph.sessionSummary,
    node: process.version,
    arch: process.arch,
  };
  results.machine = host;
  console.log(JSON.stringify(results));
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
