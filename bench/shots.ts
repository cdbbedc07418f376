// Accuracy against examples per class (issue #15): engram's learner as a user gets it (the sparse quantizer,
// class columns read by cosine; its own whitening fitted on the first learn, none, and one fitted on 500
// images of the domain, unlabelled or labelled)
// against the training-free peers on the same frozen features: nearest class mean, kNN (k=5), streaming LDA
// with shrinkage and a closed-form ridge head, their regulariser chosen on a validation split of the
// training images. Split-MNIST and Split-Fashion-MNIST with both backbones, Split-CIFAR-10 with MobileNetV2
// (../shared/datasets/cifar10-dev: chosen on train/, reported on val/). Class-incremental: five tasks of two
// classes; every method here ends in the same state whatever the order, and the final accuracy is reported.
//
// Usage: node dist/bench/shots.js [--quick] [--out DIR]
// Writes shots.json, shots.md and one SVG per benchmark; prints one JSON summary as the last stdout line.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, arch, platform } from 'node:os';
import { join, resolve } from 'node:path';
import { BACKBONES, REPO, features } from './lib/features.js';
import { loadCifar } from './lib/cifar.js';
import { accuracy, pick, splitTasks, vectorsOf, type Rows } from './lib/protocol.js';
import { renderChart } from './lib/svg.js';
import { KNearest, NearestClassMean, RidgeHead, StreamingLda } from '../src/baselines/index.js';
import { SparseQuantizer, SPARSE_DEFAULTS } from '../src/quantize/sparse.js';
import { ProductQuantizer, SignQuantizer, TopKQuantizer, type Quantizer } from '../src/quantize/quantizer.js';
import { fitCodebook } from '../src/quantize/codebook.js';
import { parseMemoryOptions, QUANTIZER_DEFAULTS } from '../src/learner/config.js';
import { fitWhitening, type Whitening } from '../src/quantize/whitening.js';
import { LearnerCore } from '../src/learner/core.js';
import { coreReadOptions } from '../src/learner/build-quantizer.js';
import { Engram } from '../src/learner/engram.js';
import { Rng } from '../src/util/rng.js';

const quick = process.argv.includes('--quick');
const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(REPO, 'bench', 'results', quick ? 'quick' : '');
const log = (m: string) => process.stderr.write(`${m}\n`);
const SHOTS = quick ? [1, 5, 20, 100] : [1, 5, 20, 100, 500];
const TRAIN_PER_CLASS = quick ? 100 : 500;
const TEST_PER_CLASS = 100;
/** Random draws of the labelled examples for shot counts under 100 (one draw above). */
const DRAWS = quick ? 2 : 3;
/** Unlabelled images the whitening of engram-white is fitted on (drawn across the training images). */
const WHITEN_IMAGES = 500;
const SLDA_GRID = [0.01, 0.1, 0.3, 0.5, 0.8];
const RIDGE_GRID = [0.01, 0.1, 1, 10];
const SEED = 7;

interface Benchmark {
  backbone: string;
  dataset: string;
  train: Rows;
  test: Rows;
}

interface MethodCurve {
  accuracy: number[];
  /** Standard deviation over draws (0 where one draw). */
  spread: number[];
  bytesPerClass: number;
  sharedBytes: number;
  /** The regulariser chosen on validation, per shot count. */
  chosen?: number[];
  /** engram: microseconds per query in the memory alone (10 classes, codes in). */
  memoryQueryMicros?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Data

async function benchmarks(): Promise<Benchmark[]> {
  const list: Benchmark[] = [];
  for (const bb of BACKBONES) {
    for (const ds of ['mnist', 'fashion'] as const) {
      const train = await features(bb, ds, 'train', TRAIN_PER_CLASS, SEED, log);
      const test = train && (await features(bb, ds, 'test', TEST_PER_CLASS, SEED, log));
      if (!train || !test) {
        log(`${bb.name}: not available here, its benchmarks skipped`);
        break;
      }
      list.push({
        backbone: bb.name,
        dataset: ds,
        train: { dim: train.dim, features: train.features, labels: train.labels },
        test: { dim: test.dim, features: test.features, labels: test.labels },
      });
    }
    // Photos only for the ImageNet backbone: the embedded one is made for grey strokes.
    if (bb.name === 'mobilenetv2-12-int8') {
      const c = await loadCifar(bb, log);
      if (c) list.push({ backbone: bb.name, dataset: 'cifar10', ...c });
      // The same photos with mirror features (engram learn --mirror), every method on them side by side.
      const m = c && (await loadCifar(bb, log, { mirror: true }));
      if (m) list.push({ backbone: bb.name, dataset: 'cifar10-mirror', ...m });
    }
  }
  return list;
}

/** Row indices of each class, in the order the rows are stored. */
function byClass(rows: Rows): number[][] {
  const out: number[][] = [];
  Array.from(rows.labels).forEach((c, i) => (out[c] ??= []).push(i));
  return out;
}

/** `shots` indices per class drawn from `pool` (per class), seeded; draw 0 takes each class's first rows. */
function draw(pool: number[][], shots: number, seed: number): number[] {
  const rng = new Rng(seed);
  const idx: number[] = [];
  for (const rows of pool) idx.push(...(seed === 0 ? rows.slice(0, shots) : rng.shuffle([...rows]).slice(0, shots)));
  return idx;
}

/** Learns classes two at a time (Split: five tasks), as the class-incremental protocol does. */
function learnSplit(m: { learn(f: Float32Array, l: ArrayLike<number>): void }, data: Rows): void {
  for (const task of splitTasks(
    [...new Set(Array.from(data.labels))].sort((a, b) => a - b),
    2,
  )) {
    const idx: number[] = [];
    Array.from(data.labels).forEach((c, i) => task.includes(c) && idx.push(i));
    const part = pick(data, idx);
    m.learn(part.features, part.labels);
  }
}

// ---------------------------------------------------------------------------------------------------------
// engram, through the product's own quantizer and learner core

class EngramLearner {
  readonly core: LearnerCore;
  queryMicros = 0;
  queries = 0;

  constructor(
    readonly q: Quantizer,
    /** Codes of every row of the benchmark's train and test sets, encoded once. */
    readonly trainCodes: Uint32Array,
    readonly testCodes: Uint32Array,
  ) {
    // The memory options a new store gets with this quantizer (parseMemoryOptions' defaults).
    const mem = parseMemoryOptions({}, q.kind);
    this.core = new LearnerCore({
      neurons: q.neurons,
      active: q.active,
      counterBits: mem.counterBits,
      refine: mem.refine,
      minCount: mem.minCount,
      ...coreReadOptions(q, mem),
    });
    this.core.fixedThreshold = 0;
  }

  learnRows(rows: number[], labels: ArrayLike<number>): void {
    const A = this.q.active;
    // One learn call per class, as `engram learn --label` would.
    const groups = new Map<number, number[]>();
    for (const r of rows) (groups.get(labels[r]) ?? groups.set(labels[r], []).get(labels[r])!).push(r);
    for (const [c, rs] of [...groups].sort((a, b) => a[0] - b[0])) {
      const codes = new Uint32Array(rs.length * A);
      rs.forEach((r, i) => codes.set(this.trainCodes.subarray(r * A, (r + 1) * A), i * A));
      this.core.apply({ op: 'learn', label: String(c), codes, rows: rs.length, active: A });
    }
  }

  predictAll(count: number): Int32Array {
    const t0 = performance.now();
    const p = this.core.predict(this.testCodes, count, 1);
    this.queryMicros += (performance.now() - t0) * 1000;
    this.queries += count;
    return Int32Array.from(p, (x) => (x.label === null ? -1 : Number(x.label)));
  }
}

function engramRun(
  q: Quantizer,
  trainCodes: Uint32Array,
  testCodes: Uint32Array,
  train: Rows,
  test: Rows,
  idx: number[],
): { acc: number; micros: number } {
  const m = new EngramLearner(q, trainCodes, testCodes);
  // Split order: tasks of two classes.
  const tasks = splitTasks(
    [...new Set(Array.from(train.labels))].sort((a, b) => a - b),
    2,
  );
  for (const task of tasks)
    m.learnRows(
      idx.filter((r) => task.includes(train.labels[r])),
      train.labels,
    );
  const acc = accuracy(m.predictAll(test.labels.length), test.labels);
  return { acc, micros: m.queryMicros / m.queries };
}

/** The learner with no options, as `engram learn` gives it: classes in Split order, one learn call each. */
async function engramDefaults(
  train: Rows,
  test: Rows,
  idx: number[],
): Promise<{ acc: number; micros: number; whitening: Whitening | null }> {
  const e = await Engram.memory({ backbone: null, quantizer: { kind: 'sparse', dim: train.dim } });
  const classes = [...new Set(Array.from(train.labels))].sort((x, y) => x - y);
  for (const c of classes)
    await e.learn(
      String(c),
      vectorsOf(
        train,
        idx.filter((r) => train.labels[r] === c),
      ),
    );
  e.core.fixedThreshold = 0;
  // The memory's own query time, on codes (as for the other engram rows).
  const n = test.labels.length;
  const codes = e.quantizer.encode(test.features, n);
  const t0 = performance.now();
  const p = e.core.predict(codes, n, 1);
  const micros = ((performance.now() - t0) * 1000) / n;
  const q = e.quantizer;
  const whitening = q instanceof SparseQuantizer ? q.whitening : null;
  await e.close();
  return {
    acc: accuracy(
      Int32Array.from(p, (x) => (x.label === null ? -1 : Number(x.label))),
      test.labels,
    ),
    micros,
    whitening,
  };
}

// ---------------------------------------------------------------------------------------------------------

function meanStd(v: number[]): [number, number] {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const s = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1));
  return [m, v.length > 1 ? s : 0];
}

/** The regulariser with the best validation accuracy: learn on `fit` rows, score on `val` rows. */
function tune<M extends { learn(f: Float32Array, l: ArrayLike<number>): void; predict(f: Float32Array): Int32Array }>(
  make: () => M,
  set: (m: M, v: number) => void,
  grid: number[],
  fit: Rows,
  val: Rows,
): number {
  const m = make();
  learnSplit(m, fit);
  let best = grid[0];
  let bestAcc = -1;
  for (const v of grid) {
    set(m, v);
    const a = accuracy(m.predict(val.features), val.labels);
    if (a > bestAcc) {
      bestAcc = a;
      best = v;
    }
  }
  return best;
}

async function runBenchmark(
  b: Benchmark,
): Promise<{ backbone: string; dataset: string; shots: number[]; methods: Record<string, MethodCurve> }> {
  const { train, test } = b;
  const D = train.dim;
  const pool = byClass(train);
  const shots = SHOTS.filter((s) => s <= Math.min(...pool.map((p) => p.length)));
  // Validation split of the training images for choosing regularisers: the last 20% of each class.
  const fitPool = pool.map((p) => p.slice(0, Math.floor(p.length * 0.8)));
  const valIdx = pool.flatMap((p) => p.slice(Math.floor(p.length * 0.8)));
  const val = pick(train, valIdx);

  const t0 = Date.now();
  const calibIdx = draw(pool, Math.ceil(WHITEN_IMAGES / pool.length), 12345);
  const calib = pick(train, calibIdx);
  const whitening: Whitening = fitWhitening(calib.features, D, null, { seed: 1 });
  // The same images with their labels (engram codebook fit --labels-from dir): within-class scatter.
  const within: Whitening = fitWhitening(calib.features, D, calib.labels, { seed: 1 });
  const variants: [string, Quantizer][] = [
    ['engram-raw', new SparseQuantizer(D, SPARSE_DEFAULTS, null)],
    ['engram-white', new SparseQuantizer(D, SPARSE_DEFAULTS, whitening)],
    ['engram-white-labelled', new SparseQuantizer(D, SPARSE_DEFAULTS, within)],
    // The quantizers a user could pick by hand before (issue #14): the old pq default with a codebook fitted on
    // the same 500 unlabelled images (README's former photo recipe, P=32 K=64, 4 probes), two-sided top-k, sign.
    ['pq', new ProductQuantizer(fitCodebook(calib.features, D, { parts: 32, anchors: 64, center: true, l2: true, seed: 1 }), 4)],
    ['topk', TopKQuantizer.twoSided(D, QUANTIZER_DEFAULTS.topk.k, null)],
    ['sign', new SignQuantizer(D)],
  ];
  const codes = new Map<string, { train: Uint32Array; test: Uint32Array }>();
  for (const [name, q] of variants)
    codes.set(name, { train: q.encode(train.features, train.labels.length), test: q.encode(test.features, test.labels.length) });
  log(`  ${b.backbone} ${b.dataset}: whitening and codes in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  const acc: Record<string, number[][]> = {};
  const chosen: Record<string, number[]> = { slda: [], ridge: [] };
  const micros: Record<string, number[]> = {};
  let selfBytes = 0;
  const add = (name: string, si: number, a: number) => (acc[name] ??= shots.map(() => []))[si].push(a);
  for (const [si, s] of shots.entries()) {
    const t1 = Date.now();
    const fitShots = Math.min(s, Math.min(...fitPool.map((p) => p.length)));
    const fit = pick(train, draw(fitPool, fitShots, 0));
    const lambdaS = tune(
      () => new StreamingLda(D, SLDA_GRID[0]),
      (m, v) => m.setShrinkage(v),
      SLDA_GRID,
      fit,
      val,
    );
    const lambdaR = tune(
      () => new RidgeHead(D, RIDGE_GRID[0]),
      (m, v) => m.setLambda(v),
      RIDGE_GRID,
      fit,
      val,
    );
    chosen.slda.push(lambdaS);
    chosen.ridge.push(lambdaR);
    const draws = s < 100 ? DRAWS : 1;
    for (let d = 0; d < draws; d++) {
      const idx = draw(pool, s, d);
      const data = pick(train, idx);
      const peers: [string, { learn(f: Float32Array, l: ArrayLike<number>): void; predict(f: Float32Array): Int32Array }][] = [
        ['ncm', new NearestClassMean(D)],
        ['knn5', new KNearest(D, 5)],
        ['slda', new StreamingLda(D, lambdaS)],
        ['ridge', new RidgeHead(D, lambdaR)],
      ];
      for (const [name, m] of peers) {
        learnSplit(m, data);
        add(name, si, accuracy(m.predict(test.features), test.labels));
      }
      for (const [name, q] of variants) {
        const c = codes.get(name)!;
        const r = engramRun(q, c.train, c.test, train, test, idx);
        add(name, si, r.acc);
        (micros[name] ??= []).push(r.micros);
      }
      // The defaults as a user gets them: Engram fed the feature vectors, one learn per class in Split order;
      // the store fits and refits its own whitening on the examples as they arrive (docs/learner.md).
      const r = await engramDefaults(train, test, idx);
      add('engram', si, r.acc);
      (micros.engram ??= []).push(r.micros);
      if (r.whitening) selfBytes = 4 * (D + r.whitening.d + r.whitening.d * D);
    }
    log(
      `  ${b.backbone} ${b.dataset} ${s}/class: ${Object.entries(acc)
        .map(([n, a]) => `${n} ${(100 * meanStd(a[si])[0]).toFixed(1)}`)
        .join('  ')}  (${((Date.now() - t1) / 1000).toFixed(0)} s)`,
    );
  }
  const methods: Record<string, MethodCurve> = {};
  const bytes: Record<string, [number, number]> = {
    ncm: [4 * D, 0],
    knn5: [4 * D * Math.max(...shots), 0],
    slda: [4 * D, (4 * D * (D + 1)) / 2],
    ridge: [4 * D, (4 * D * (D + 1)) / 2],
    // One 8-bit counter per neuron per class; the whitening (mean, factors, d directions) is shared.
    'engram-raw': [variants[0][1].neurons, 0],
    pq: [(variants[3][1].neurons * 5) / 8, 4 * (D + 64 * D)],
    topk: [(variants[4][1].neurons * 5) / 8, 0],
    sign: [(variants[5][1].neurons * 5) / 8, 0],
    // The store's own whitening adds the white block (and its shared state); without one, the raw block alone.
    engram: [selfBytes ? variants[1][1].neurons : variants[0][1].neurons, selfBytes],
    'engram-white': [variants[1][1].neurons, 4 * (D + whitening.d + whitening.d * D)],
    'engram-white-labelled': [variants[2][1].neurons, 4 * (D + within.d + within.d * D)],
  };
  for (const [name, a] of Object.entries(acc)) {
    const ms = a.map(meanStd);
    methods[name] = {
      accuracy: ms.map(([m]) => round(100 * m)),
      spread: ms.map(([, sd]) => round(100 * sd)),
      bytesPerClass: bytes[name][0],
      sharedBytes: bytes[name][1],
      ...(chosen[name] ? { chosen: chosen[name] } : {}),
      ...(micros[name] ? { memoryQueryMicros: round(median(micros[name])) } : {}),
    };
  }
  return { backbone: b.backbone, dataset: b.dataset, shots, methods };
}

const round = (v: number) => Math.round(v * 10) / 10;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const LABELS: Record<string, string> = {
  ncm: 'nearest class mean',
  knn5: 'kNN k=5 (every example kept)',
  slda: 'streaming LDA (shrinkage on validation)',
  ridge: 'ridge head (lambda on validation)',
  engram: 'engram, defaults (own whitening fitted on the examples as they arrive)',
  'engram-raw': 'engram, raw block only (--whiten off)',
  pq: 'pq P=32 K=64, 4 probes, codebook from the 500 images (the former recipe)',
  topk: 'two-sided top-k, k=32 (--quantizer topk --two-sided)',
  sign: 'sign (--quantizer sign)',
  'engram-white': 'engram, whitening from 500 unlabelled images',
  'engram-white-labelled': 'engram, whitening from the same 500 images labelled',
};
const DATASET_NAMES: Record<string, string> = {
  mnist: 'Split-MNIST',
  fashion: 'Split-Fashion-MNIST',
  cifar10: 'Split-CIFAR-10',
  'cifar10-mirror': 'Split-CIFAR-10 with mirror features (--mirror)',
};

function markdown(results: Awaited<ReturnType<typeof runBenchmark>>[]): string {
  const lines = [
    '# Accuracy against examples per class',
    '',
    'Generated by `node dist/bench/shots.js` (`npm run bench`); final top-1 (%) after five tasks of two classes, mean over draws for fewer than 100 examples per class. Bytes: per class / shared.',
    '',
  ];
  for (const r of results) {
    lines.push(
      `## ${DATASET_NAMES[r.dataset]}, ${r.backbone}`,
      '',
      `| method | ${r.shots.map((s) => `${s}/class`).join(' | ')} | bytes per class | shared bytes |`,
      `|---|${r.shots.map(() => '---').join('|')}|---|---|`,
    );
    for (const [name, m] of Object.entries(r.methods)) {
      lines.push(
        `| ${LABELS[name] ?? name} | ${m.accuracy.map((a, i) => (m.spread[i] ? `${a.toFixed(1)} ±${m.spread[i].toFixed(1)}` : a.toFixed(1))).join(' | ')} | ${m.bytesPerClass.toLocaleString('en')} | ${m.sharedBytes.toLocaleString('en')} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** The same accuracies keyed backbone -> dataset -> method -> shots, for the figures quoted in the docs. */
export function shotsTable(
  rs: { backbone: string; dataset: string; shots: number[]; methods: Record<string, MethodCurve> }[],
): Record<string, Record<string, Record<string, Record<string, number>>>> {
  const t: Record<string, Record<string, Record<string, Record<string, number>>>> = {};
  for (const r of rs) {
    for (const [name, m] of Object.entries(r.methods)) {
      ((t[r.backbone] ??= {})[r.dataset] ??= {})[name] = Object.fromEntries(r.shots.map((s, i) => [String(s), m.accuracy[i]]));
    }
  }
  return t;
}

const t0 = Date.now();
const list = await benchmarks();
const results = [];
for (const b of list) results.push(await runBenchmark(b));
mkdirSync(OUT, { recursive: true });
const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  arch: arch(),
  platform: platform(),
  node: process.version,
};
const doc = {
  generated: new Date().toISOString(),
  quick,
  machine,
  seconds: Math.round((Date.now() - t0) / 1000),
  whitenImages: WHITEN_IMAGES,
  draws: DRAWS,
  results,
  table: shotsTable(results),
};
writeFileSync(join(OUT, 'shots.json'), `${JSON.stringify(doc, null, 1)}\n`);
writeFileSync(join(OUT, 'shots.md'), markdown(results));
for (const r of results) {
  const svg = renderChart({
    title: `${DATASET_NAMES[r.dataset]}, ${r.backbone}`,
    xLabel: 'examples per class (log scale)',
    yLabel: 'final top-1 accuracy (%)',
    xLog: true,
    series: Object.entries(r.methods).map(([name, m]) => ({
      name: LABELS[name] ?? name,
      points: r.shots.map((s, i) => [s, m.accuracy[i]] as [number, number]),
    })),
  });
  writeFileSync(join(OUT, `shots.${r.backbone}.${r.dataset}.svg`), svg);
}
console.log(
  JSON.stringify({
    bench: 'shots',
    seconds: doc.seconds,
    results: results.map((r) => ({
      backbone: r.backbone,
      dataset: r.dataset,
      shots: r.shots,
      accuracy: Object.fromEntries(Object.entries(r.methods).map(([n, m]) => [n, m.accuracy])),
    })),
  }),
);
