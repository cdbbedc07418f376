// The research sweep of issue #6 on cached features, tuned on a validation split of the TRAINING images
// (400 per class learn, 100 per class validate), never on the test set. Prints one line per setting and
// a JSON object last. Usage: node dist/bench/explore.js [mnist|fashion] [grid]
import { BACKBONES, features } from './lib/features.js';
import { sizes } from './lib/config.js';
import { runIncremental, select, splitTasks, type Rows } from './lib/protocol.js';
import { codebookFor, EngramMethod, type Deployment } from './lib/engram-method.js';
import { ResearchMemory, type ResearchSettings } from './lib/research.js';
import { KNearest, LinearSoftmax, NearestClassMean } from '../src/baselines/index.js';
import type { Learner } from './lib/protocol.js';

const dataset = (process.argv[2] ?? 'mnist') as 'mnist' | 'fashion';
const grid = process.argv[3] ?? 'product';
const log = (m: string) => process.stderr.write(`${m}\n`);
const s = sizes(false);
const all = await features(BACKBONES[0], dataset, 'train', s.train, s.seed, log);
if (!all) throw new Error('no features');
const D = all.dim;
const trainIdx: number[] = [];
const valIdx: number[] = [];
for (let i = 0; i < all.count; i++) (i % s.train < 400 ? trainIdx : valIdx).push(i);
const sub = (idx: number[]): Rows => {
  const f = new Float32Array(idx.length * D);
  idx.forEach((i, j) => f.set(all.features.subarray(i * D, (i + 1) * D), j * D));
  return { dim: D, features: f, labels: Int32Array.from(idx, (i) => all.labels[i]) };
};
const train = sub(trainIdx);
const val = sub(valIdx);
const tasks = splitTasks([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2);
const calib = select(train, tasks[0]).features;
const results: Record<string, number> = {};

function run(name: string, m: Learner, bytes: () => number): void {
  const t0 = Date.now();
  const r = runIncremental(m, train, val, tasks);
  results[name] = r.finalAccuracy;
  console.log(
    `${name.padEnd(58)} acc ${(100 * r.finalAccuracy).toFixed(1)}  forget ${(100 * r.forgetting).toFixed(1)}  B/class ${bytes().toFixed(0).padStart(7)}  ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  );
}

if (grid === 'baselines') {
  run('ncm', new NearestClassMean(D), () => 4 * D);
  run('knn5', new KNearest(D, 5), () => 4 * D * 400);
  const { LINEAR } = await import('./lib/methods.js');
  const joint = new LinearSoftmax(D, LINEAR);
  joint.learn(train.features, train.labels);
  const { accuracy } = await import('./lib/protocol.js');
  console.log(`linear joint acc ${(100 * accuracy(joint.predict(val.features), val.labels)).toFixed(1)}`);
}

if (grid === 'product') {
  for (const [P, K, center, l2] of [
    [32, 256, false, false],
    [32, 256, true, true],
    [64, 256, true, true],
    [128, 64, true, true],
    [32, 64, true, true],
  ] as const) {
    {
      const cb = codebookFor('task0', calib, D, { parts: P, anchors: K, center, l2 }, 1);
      for (const [dep, t] of [
        ['binary', 1],
        ['counters', 2],
        ['counters', 4],
      ] as [Deployment, number][]) {
        const m = new EngramMethod(cb, { deployment: dep, probes: 1, minCount: t, refine: true });
        run(`P${P} K${K} c${+center}l${+l2} ${dep} t${t}`, m, () => m.bytesPerClass());
      }
    }
  }
}

if (grid === 'shape') {
  // Code shapes with one codebook, counters kept out of learning (no refine): bits at thresholds, log counts.
  const shapes = (process.env.SHAPES ?? '128x64,256x32,256x64,640x16,640x32').split(',').map((x) => x.split('x').map(Number));
  for (const [P, K] of shapes) {
    const cb = codebookFor('task0', calib, D, { parts: P, anchors: K, center: true, l2: true }, 1);
    for (const [name, v] of [
      ['bits t1', { counterMax: 1, scoring: 'bits', minCount: 1 }],
      ['bits t2', { counterMax: 15, scoring: 'bits', minCount: 2 }],
      ['bits t4', { counterMax: 15, scoring: 'bits', minCount: 4 }],
      ['log4', { counterMax: 15, scoring: 'log', minCount: 1 }],
    ] as [string, Partial<ResearchSettings>][]) {
      const m = new ResearchMemory([cb], {
        counterMax: 15,
        scoring: 'bits',
        minCount: 1,
        storeOnError: false,
        warmup: 0,
        queryProbes: 1,
        relative: 0,
        ...v,
      });
      run(`P${P} K${K} ${name}`, m, () => m.bytesPerClass());
    }
  }
}

if (grid === 'final') {
  const base: ResearchSettings = {
    counterMax: 15,
    scoring: 'bits',
    minCount: 1,
    storeOnError: false,
    warmup: 0,
    queryProbes: 1,
    relative: 0,
  };
  const other = await features(BACKBONES[0], dataset === 'mnist' ? 'fashion' : 'mnist', 'train', s.train, s.seed, log);
  const ood = other!.features.filter((_, i) => Math.floor(i / D) % 5 === 0);
  for (const [P, K] of [
    [256, 64],
    [256, 32],
    [128, 16],
  ]) {
    for (const [key, cal] of [
      ['in', calib],
      ['ood', ood],
    ] as const) {
      const cb = codebookFor(key, cal, D, { parts: P, anchors: K, center: true, l2: true }, 1);
      for (const [name, v] of [
        ['bits t8', { minCount: 8 }],
        ['rel 0.01', { relative: 0.01 }],
        ['rel 0.02', { relative: 0.02 }],
        ['rel 0.03', { relative: 0.03 }],
      ] as [string, Partial<ResearchSettings>][]) {
        const m = new ResearchMemory([cb], { ...base, ...v });
        run(`P${P} K${K} ${key} ${name}`, m, () => m.bytesPerClass());
      }
    }
  }
}

if (grid === 'subclass') {
  const { SubclassMemory } = await import('./lib/subclass.js');
  const shapes = (process.env.SHAPES ?? '256x64,256x16,128x16').split(',').map((x) => x.split('x').map(Number));
  const cols = (process.env.COLUMNS ?? '1,2,4,8').split(',').map(Number);
  const rels = (process.env.RELATIVE ?? '0.02,0.05').split(',').map(Number);
  for (const [P, K] of shapes) {
    const cb = codebookFor('task0', calib, D, { parts: P, anchors: K, center: true, l2: true }, 1);
    for (const S of cols) {
      for (const rel of rels) {
        const m = new SubclassMemory(cb, S, rel, Number(process.env.COUNTERMAX ?? 15));
        run(`P${P} K${K} columns ${S} rel ${rel}`, m, () => m.bytesPerClass());
      }
    }
  }
}

if (grid === 'research') {
  const P = Number(process.env.P ?? 64);
  const K = Number(process.env.K ?? 256);
  const base: ResearchSettings = {
    counterMax: 15,
    scoring: 'bits',
    minCount: 1,
    storeOnError: false,
    warmup: 0,
    queryProbes: 1,
    relative: 0,
  };
  const cbs = [1, 2, 3, 4].map((seed) => codebookFor('task0', calib, D, { parts: P, anchors: K, center: true, l2: true }, seed));
  const variants: [string, Partial<ResearchSettings>, number][] = [
    ['bits t6', { minCount: 6 }, 1],
    ['bits t8', { minCount: 8 }, 1],
    ['bits t12', { minCount: 12 }, 1],
    ['bits t4 qprobe2', { minCount: 4, queryProbes: 2 }, 1],
    ['bits t1 store-on-error w5', { counterMax: 1, storeOnError: true, warmup: 5 }, 1],
    ['bits t4 store-on-error w20', { minCount: 4, storeOnError: true, warmup: 20 }, 1],
    ['bits t4 x2 codebooks', { minCount: 4 }, 2],
    ['bits t4 x4 codebooks', { minCount: 4 }, 4],
  ];
  for (const [name, v, M] of variants) {
    const m = new ResearchMemory(cbs.slice(0, M), { ...base, ...v });
    run(`P${P} K${K} ${name}`, m, () => m.bytesPerClass());
  }
}
if (grid === 'units') {
  // Example units: one column per stored example, read by a score-weighted vote of the best columns.
  const other = await features(BACKBONES[0], dataset === 'mnist' ? 'fashion' : 'mnist', 'train', s.train, s.seed, log);
  const ood = other!.features.filter((_, i) => Math.floor(i / D) % 5 === 0);
  const shapes = (process.env.SHAPES ?? '640x8,640x16,320x16,256x64').split(',').map((x) => x.split('x').map(Number));
  for (const [P, K] of shapes) {
    for (const [key, cal] of [
      ['in', calib],
      ['ood', ood],
    ] as const) {
      const cb = codebookFor(key, cal, D, { parts: P, anchors: K, center: true, l2: true }, 1);
      for (const probes of (process.env.PROBES ?? '1').split(',').map(Number)) {
        for (const vote of (process.env.VOTES ?? '1,5,9').split(',').map(Number)) {
          const m = new EngramMethod(cb, { deployment: 'units', probes, minCount: 1, refine: false, vote });
          run(`P${P} K${K} ${key} units probes ${probes} vote ${vote}`, m, () => m.bytesPerClass());
        }
      }
    }
  }
}

if (grid === 'tiny') {
  // The 1/16 budget: two-sided top-k on standardised features, 8-bit counters pruned per class by share.
  const { TopKQuantizer, featureStats } = await import('../src/quantize/quantizer.js');
  const other = await features(BACKBONES[0], dataset === 'mnist' ? 'fashion' : 'mnist', 'train', s.train, s.seed, log);
  const ood = other!.features.filter((_, i) => Math.floor(i / D) % 5 === 0);
  for (const [key, cal] of [
    ['in', calib],
    ['ood', ood],
  ] as const) {
    const st = featureStats(cal, D);
    for (const [sided, k] of [
      ['two', 32],
      ['two', 64],
      ['two', 128],
      ['one', 128],
      ['one', 256],
    ] as const) {
      for (const share of [0.05, 0.1, 0.2, 0.3]) {
        const q = sided === 'two' ? TopKQuantizer.twoSided(D, k, st) : new TopKQuantizer(D, k, st);
        const m = new EngramMethod(q, { deployment: 'pruned', probes: 1, minCount: 1, refine: false, counterBits: 8, share });
        run(`topk ${sided} k${k} ${key} share ${share}`, m, () => m.bytesPerClass());
      }
    }
  }
}
console.log(JSON.stringify({ dataset, grid, results }));
