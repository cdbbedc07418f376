// `npm run bench`: engram's memory against the methods users would pick instead, on identical frozen
// features (issue #6). For each available backbone and for MNIST and Fashion-MNIST: class-incremental
// Split (5 tasks of 2 classes), a 10-class stream with 1/5/10/50/all examples per class, accuracy against
// memory budget when pruning, then N-way k-shot episodes over the 20 classes of both, and end-to-end
// timings with the real backbone. Writes bench/results/results.json, results.md and SVG plots.
//
// Usage: node dist/bench/all.js [--quick] [--out DIR] [--backbones name,name]
// Prints progress on stderr and one JSON summary as the last line of stdout.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, arch, platform } from 'node:os';
import { execSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { BACKBONES, REPO, features, type BackboneEntry, type FeatureSet } from './lib/features.js';
import { sizes } from './lib/config.js';
import { accuracy, episodes, meanCi, pick, runIncremental, select, splitTasks, type IncrementalResult, type Rows } from './lib/protocol.js';
import {
  ENGRAM_CODEBOOK,
  ENGRAM_MIN_COUNT,
  ENGRAM_RELATIVE,
  TINY_RELATIVE,
  engramCodebook,
  methodSpecs,
  tinyCodebook,
  unitsCodebook,
  UNITS_PROBES,
  UNITS_VOTE,
  TINY_SHARE,
  LINEAR,
  type Codebooks,
  type MethodSpec,
} from './lib/methods.js';
import { featureStats } from '../src/quantize/quantizer.js';
import { codebookFor, EngramMethod } from './lib/engram-method.js';
import { renderChart, type Series } from './lib/svg.js';
import { markdownReport } from './lib/report.js';
import { measureEndToEnd } from './lib/end-to-end.js';
import { KNearest, LinearSoftmax, NearestClassMean } from '../src/baselines/index.js';

const quick = process.argv.includes('--quick');
const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? process.argv[outArg + 1] : join(REPO, 'bench', 'results', quick ? 'quick' : '');
const S = sizes(quick);
const bbArg = process.argv.indexOf('--backbones');
const ONLY = bbArg > 0 ? process.argv[bbArg + 1].split(',') : null;
const log = (m: string) => process.stderr.write(`${m}\n`);
const DATASETS = ['mnist', 'fashion'] as const;
const CLASSES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const STREAM_SHOTS = [1, 5, 10, 50, S.train];
const BUDGETS = [2048, 1024, 512, 256, 128, 64, 32];

export interface MethodResult {
  name: string;
  codebook?: string;
  split: IncrementalResult & { bytesPerClass: number; compressedBytesPerClass?: number; sharedBytes?: number };
  stream: Record<string, number>;
}

const rowsOf = (f: FeatureSet): Rows => ({ dim: f.dim, features: f.features, labels: f.labels });

function calibration(rows: Rows, n: number): Float32Array {
  // Every k-th row, so all classes of the calibration set contribute.
  const step = Math.max(1, Math.floor(rows.labels.length / n));
  const idx = Array.from({ length: Math.min(n, Math.floor(rows.labels.length / step)) }, (_, i) => i * step);
  return pick(rows, idx).features;
}

async function benchDataset(bb: BackboneEntry, ds: (typeof DATASETS)[number], train: Rows, test: Rows, other: Rows) {
  const tasks = splitTasks(CLASSES, 2);
  const first = select(train, tasks[0]).features;
  const cbs: Codebooks = {
    in: codebookFor(`${bb.name}/${ds}/task0`, first, train.dim, engramCodebook(train.dim), 1),
    ood: codebookFor(`${bb.name}/${ds}/ood`, calibration(other, 2000), train.dim, engramCodebook(train.dim), 1),
    tinyIn: codebookFor(`${bb.name}/${ds}/task0`, first, train.dim, tinyCodebook(train.dim), 1),
    tinyOod: codebookFor(`${bb.name}/${ds}/ood`, calibration(other, 2000), train.dim, tinyCodebook(train.dim), 1),
    unitsIn: codebookFor(`${bb.name}/${ds}/task0`, first, train.dim, unitsCodebook(train.dim), 1),
    unitsOod: codebookFor(`${bb.name}/${ds}/ood`, calibration(other, 2000), train.dim, unitsCodebook(train.dim), 1),
    statsIn: featureStats(first, train.dim),
    statsOod: featureStats(calibration(other, 2000), train.dim),
  };
  const results: MethodResult[] = [];
  for (const spec of methodSpecs()) {
    const t0 = Date.now();
    const split = runSplit(spec, train, test, tasks, cbs);
    const stream: Record<string, number> = {};
    for (const n of STREAM_SHOTS) {
      // Order-free methods end the full stream in the same state as the Split run: reuse its accuracy.
      if (n === S.train && spec.orderFree) {
        stream.all = split.finalAccuracy;
        continue;
      }
      const m = spec.make(train.dim, cbs);
      if (spec.joint) m.learn(select(train, CLASSES, n).features, select(train, CLASSES, n).labels);
      else for (const c of CLASSES) m.learn(select(train, [c], n).features, select(train, [c], n).labels);
      stream[n === S.train ? 'all' : String(n)] = accuracy(m.predict(test.features), test.labels);
    }
    results.push({ name: spec.name, codebook: spec.codebook, split, stream });
    log(
      `  ${bb.name} ${ds} ${spec.name}: split ${(100 * split.finalAccuracy).toFixed(1)}  stream ${Object.values(stream)
        .map((a) => (100 * a).toFixed(1))
        .join('/')}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }
  return { results, budget: budgetCurve(train, test, cbs.in), geometry: geometrySweep(bb, ds, train, test, tasks) };
}

function runSplit(
  spec: MethodSpec,
  train: Rows,
  test: Rows,
  tasks: number[][],
  cbs: Parameters<MethodSpec['make']>[1],
): MethodResult['split'] {
  const m = spec.make(train.dim, cbs);
  let r: IncrementalResult;
  if (spec.joint) {
    // The offline upper bound sees every class at once; its single evaluation fills the last row.
    const t0 = performance.now();
    m.learn(train.features, train.labels);
    const learnMicros = (1000 * (performance.now() - t0)) / train.labels.length;
    const t1 = performance.now();
    const a = accuracy(m.predict(test.features), test.labels);
    const predictMicros = (1000 * (performance.now() - t1)) / test.labels.length;
    r = { taskAccuracy: [], seenAccuracy: tasks.map(() => NaN), finalAccuracy: a, forgetting: 0, learnMicros, predictMicros };
    r.seenAccuracy[tasks.length - 1] = a;
  } else {
    r = runIncremental(m, train, test, tasks);
  }
  const out: MethodResult['split'] = { ...r, bytesPerClass: m.bytesPerClass() };
  if (m.compressedBytesPerClass) out.compressedBytesPerClass = m.compressedBytesPerClass();
  if (m instanceof EngramMethod) {
    // Memory alone: the learner core on codes, no encoding.
    const mm = m.memoryMicros;
    Object.assign(out, {
      memoryLearnMicros: mm.learn / mm.learnRows,
      memoryPredictMicros: mm.predict / mm.predictRows,
      density: m.density(),
    });
  }
  if ('sharedBytes' in m && typeof m.sharedBytes === 'function') out.sharedBytes = m.sharedBytes();
  return out;
}

/** Learn all ten classes with counters, then prune to shrinking byte budgets: accuracy vs compressed bytes per class. */
function budgetCurve(train: Rows, test: Rows, cb: Parameters<typeof codebookFor> extends never ? never : ReturnType<typeof codebookFor>) {
  const points: { budgetBytesPerClass: number; compressedBytesPerClass: number; density: number; accuracy: number }[] = [];
  const m = new EngramMethod(cb, { deployment: 'counters', probes: 1, minCount: 1, refine: false });
  for (const c of CLASSES) m.learn(select(train, [c]).features, select(train, [c]).labels);
  for (const b of BUDGETS) {
    m.core.prune({ kind: 'budget', maxBytes: b * CLASSES.length });
    points.push({
      budgetBytesPerClass: b,
      compressedBytesPerClass: m.compressedBytesPerClass(),
      density: m.density(),
      accuracy: accuracy(m.predict(test.features), test.labels),
    });
  }
  return points;
}

/** Split accuracy of the pruned deployment for several code sizes (raw N/8 bytes per class). */
function geometrySweep(bb: BackboneEntry, ds: string, train: Rows, test: Rows, tasks: number[][]) {
  const out: { parts: number; anchors: number; bytesPerClass: number; compressedBytesPerClass: number; accuracy: number }[] = [];
  const shapes = quick
    ? [
        [128, 16],
        [256, 64],
      ]
    : [
        [64, 16],
        [128, 16],
        [128, 32],
        [256, 16],
        [256, 32],
        [256, 64],
        [640, 32],
        [256, 128],
      ];
  for (const [parts, anchors] of shapes) {
    if (parts > train.dim / 2 || train.dim % parts !== 0) continue;
    const cb = codebookFor(
      `${bb.name}/${ds}/task0`,
      select(train, tasks[0]).features,
      train.dim,
      { ...ENGRAM_CODEBOOK, parts, anchors },
      1,
    );
    const m = new EngramMethod(cb, { deployment: 'pruned', probes: 1, minCount: ENGRAM_MIN_COUNT, refine: false });
    const r = runIncremental(m, train, test, tasks);
    out.push({
      parts,
      anchors,
      bytesPerClass: m.bytesPerClass(),
      compressedBytesPerClass: m.compressedBytesPerClass(),
      accuracy: r.finalAccuracy,
    });
  }
  return out;
}

/** N-way k-shot over the 20 classes of MNIST (0-9) and Fashion-MNIST (10-19). */
function benchEpisodes(bb: BackboneEntry, mnist: { train: Rows; test: Rows }, fashion: { train: Rows; test: Rows }) {
  const shift = (r: Rows, by: number): Rows => ({ ...r, labels: Int32Array.from(r.labels, (c) => c + by) });
  const cat = (a: Rows, b: Rows): Rows => {
    const f = new Float32Array(a.features.length + b.features.length);
    f.set(a.features);
    f.set(b.features, a.features.length);
    return { dim: a.dim, features: f, labels: Int32Array.from([...Array.from(a.labels), ...Array.from(b.labels)]) };
  };
  const train = cat(mnist.train, shift(fashion.train, 10));
  const test = cat(mnist.test, shift(fashion.test, 10));
  // An episode's classes are new: the codebook comes from the other dataset when all classes are from one,
  // and from unlabelled training images of both (disjoint from every episode image) for mixed episodes.
  const cbM = codebookFor(`${bb.name}/mnist/ood-episodes`, calibration(fashion.train, 2000), train.dim, engramCodebook(train.dim), 1);
  const cbF = codebookFor(`${bb.name}/fashion/ood-episodes`, calibration(mnist.train, 2000), train.dim, engramCodebook(train.dim), 1);
  const half = (r: Rows, keepFirst: boolean) =>
    pick(
      r,
      Array.from({ length: r.labels.length }, (_, i) => i).filter((i) => i % S.train < S.train / 2 === keepFirst),
    );
  const pool = calibration(cat(half(mnist.train, false), half(fashion.train, false)), 2000);
  const cbMix = codebookFor(`${bb.name}/episodes-pool`, pool, train.dim, engramCodebook(train.dim), 1);
  const unitsM = codebookFor(`${bb.name}/mnist/ood-episodes`, calibration(fashion.train, 2000), train.dim, unitsCodebook(train.dim), 1);
  const unitsF = codebookFor(`${bb.name}/fashion/ood-episodes`, calibration(mnist.train, 2000), train.dim, unitsCodebook(train.dim), 1);
  const unitsMix = codebookFor(`${bb.name}/episodes-pool`, pool, train.dim, unitsCodebook(train.dim), 1);
  // Support images come only from the first half of each class's training sample, disjoint from the pool.
  const support = cat(half(mnist.train, true), shift(half(fashion.train, true), 10));
  const out: Record<string, Record<string, { mean: number; ci95: number }>> = {};
  for (const [ways, shots] of [
    [5, 1],
    [5, 5],
    [20, 1],
    [20, 5],
  ]) {
    const eps = episodes(support, test, ways, shots, 15, S.episodes, S.seed + ways * 10 + shots);
    const acc: Record<string, number[]> = { ncm: [], knn1: [], linear: [], engram: [], 'engram-units': [] };
    for (const e of eps) {
      const s = pick(support, e.support);
      const q = pick(test, e.query);
      const allM = e.classes.every((c) => c < 10);
      const allF = e.classes.every((c) => c >= 10);
      const cb = allM ? cbM : allF ? cbF : cbMix;
      const ucb = allM ? unitsM : allF ? unitsF : unitsMix;
      const ms = {
        ncm: new NearestClassMean(train.dim),
        knn1: new KNearest(train.dim, 1),
        linear: new LinearSoftmax(train.dim, { epochs: 50, seed: 1 }),
        // Few shots: the relative threshold is 1, i.e. the plain OR memory.
        engram: new EngramMethod(cb, { deployment: 'binary', probes: 1, minCount: 1, refine: false }),
        'engram-units': new EngramMethod(ucb, { deployment: 'units', probes: UNITS_PROBES, minCount: 1, refine: false, vote: UNITS_VOTE }),
      };
      for (const [name, m] of Object.entries(ms)) {
        m.learn(s.features, s.labels);
        acc[name].push(accuracy(m.predict(q.features), q.labels));
      }
    }
    out[`${ways}-way ${shots}-shot`] = Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, meanCi(v)]));
    log(
      `  episodes ${ways}-way ${shots}-shot: ${Object.entries(out[`${ways}-way ${shots}-shot`])
        .map(([k, v]) => `${k} ${(100 * v.mean).toFixed(1)}`)
        .join('  ')}`,
    );
  }
  return out;
}

function machine() {
  const pkg = (p: string) => {
    try {
      return (JSON.parse(readFileSync(join(REPO, p), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* not a git checkout */
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    engram: pkg('package.json'),
    onnxruntime: pkg('node_modules/onnxruntime-node/package.json'),
    commit,
  };
}

const started = Date.now();
const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  quick,
  seed: S.seed,
  sizes: S,
  machine: machine(),
  engram: {
    codebook: ENGRAM_CODEBOOK,
    minCount: ENGRAM_MIN_COUNT,
    relative: ENGRAM_RELATIVE,
    tinyRelative: TINY_RELATIVE,
    units: { codebook: 'parts D/2, anchors 16', probes: UNITS_PROBES, vote: UNITS_VOTE },
    tinyTopK: { k: 'D/20, two-sided, standardised', counterBits: 8, share: TINY_SHARE },
    linear: LINEAR,
  },
  backbones: {},
};
mkdirSync(OUT, { recursive: true });
const plots: string[] = [];
for (const bb of BACKBONES.filter((b) => !ONLY || ONLY.includes(b.name))) {
  const data: Record<string, { train: Rows; test: Rows }> = {};
  for (const ds of DATASETS) {
    const tr = await features(bb, ds, 'train', S.train, S.seed, log);
    const te = tr && (await features(bb, ds, 'test', S.test, S.seed, log));
    if (!tr || !te) break;
    data[ds] = { train: rowsOf(tr), test: rowsOf(te) };
  }
  if (!data.mnist || !data.fashion) {
    log(`SKIP backbone ${bb.name}: features unavailable (see the line above)`);
    continue;
  }
  const entry: Record<string, unknown> = { dim: data.mnist.train.dim, invert: bb.invert };
  for (const ds of DATASETS) {
    log(`${bb.name} ${ds}`);
    const other = ds === 'mnist' ? data.fashion.train : data.mnist.train;
    const r = await benchDataset(bb, ds, data[ds].train, data[ds].test, other);
    entry[ds] = r;
    entry.codebook = engramCodebook(data[ds].train.dim);
    entry.tinyCodebook = tinyCodebook(data[ds].train.dim);
    const classesPlot = renderChart({
      title: `Split-${ds === 'mnist' ? 'MNIST' : 'Fashion-MNIST'} (class-incremental), ${bb.name}`,
      xLabel: 'classes learned',
      yLabel: 'accuracy on all classes seen (%)',
      yRange: [0, 100],
      series: r.results
        .filter((m) => !m.name.endsWith('-ood') && !['engram-defaults', 'knn1', 'proto-logcount'].includes(m.name))
        .map((m): Series => ({
          name: m.name,
          points: m.split.seenAccuracy.map((a, t): [number, number] => [2 * (t + 1), 100 * a]).filter((p) => Number.isFinite(p[1])),
          markersOnly: m.name === 'linear-joint',
        })),
    });
    const bytesPlot = renderChart({
      title: `Accuracy vs bytes per class, ${ds === 'mnist' ? 'MNIST' : 'Fashion-MNIST'}, ${bb.name}`,
      xLabel: 'bytes per class (log scale)',
      yLabel: 'final accuracy, 10 classes (%)',
      xLog: true,
      series: [
        { name: 'engram, pruned to budget', points: r.budget.map((p): [number, number] => [p.compressedBytesPerClass, 100 * p.accuracy]) },
        { name: 'engram, P x K sizes (raw)', points: r.geometry.map((p): [number, number] => [p.bytesPerClass, 100 * p.accuracy]) },
        ...r.results
          .filter((m) => ['ncm', 'slda', 'knn5', 'linear-joint'].includes(m.name))
          .map((m): Series => ({ name: m.name, points: [[m.split.bytesPerClass, 100 * m.split.finalAccuracy]], markersOnly: true })),
        ...r.results
          .filter((m) => m.name === 'proto-tiny' || m.name === 'proto-relative')
          .map((m): Series => ({
            name: `${m.name} (compressed)`,
            points: [[m.split.compressedBytesPerClass ?? m.split.bytesPerClass, 100 * m.split.finalAccuracy]],
            markersOnly: true,
          })),
      ],
    });
    for (const [kind, svg] of [
      ['classes', classesPlot],
      ['bytes', bytesPlot],
    ]) {
      const file = `accuracy-vs-${kind}.${bb.name}.${ds}.svg`;
      writeFileSync(join(OUT, file), svg);
      plots.push(file);
    }
  }
  log(`${bb.name} episodes`);
  entry.episodes = benchEpisodes(bb, data.mnist, data.fashion);
  log(`${bb.name} end to end`);
  entry.endToEnd = await measureEndToEnd(bb, select(data.mnist.train, [0, 1]), log);
  (report.backbones as Record<string, unknown>)[bb.name] = entry;
}
report.seconds = Math.round((Date.now() - started) / 1000);
report.plots = plots;
writeFileSync(join(OUT, 'results.json'), `${JSON.stringify(report, null, 1)}\n`);
writeFileSync(join(OUT, 'results.md'), markdownReport(report));
// Open-set quality (AUROC and the rates at the learner's own threshold) writes openset.json and .md beside these.
log('open set (bench/openset.ts)');
const openset = spawnSync(
  process.execPath,
  [fileURLToPath(new URL('./openset.js', import.meta.url)), ...(quick ? ['--quick'] : []), '--out', OUT],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
if (openset.status !== 0) log(`bench/openset.ts exited ${openset.status}: its results are missing`);
console.log(JSON.stringify({ out: OUT, seconds: report.seconds, backbones: Object.keys(report.backbones as object), plots }));
