// Open-set quality (issue #16): how well "unknown" separates classes the learner never saw from the ones it
// knows, and whether it stays right after the memory changes.
//
// 1. Scores (cached frozen features, as bench/shots.ts): 5 known classes learned with k shots, held-out images of
//    the 5 known and the 5 other classes asked. Per benchmark and shot count: AUROC of the best score (known
//    against novel), and at the threshold the learner chose itself, the share of novel images answered unknown
//    and of known images answered right. Against the obvious peer on float features: maximum cosine to the
//    class means, its threshold calibrated the same way (OpenSetCalibration on the same kind of samples: each
//    learned example's cosine to its own class mean without it, and its best cosine to the other classes').
//    CIFAR-10 twice: classes 0-4 known (each of the five novel classes has a near sibling among them: cat and
//    dog, deer and horse, automobile and truck, airplane and ship, bird and frog) and the odd classes known.
// 1b. Past the last fit: stores large enough (more than CALIBRATION_ROWS examples) that the own whitening is
//    final and the memory coded in the white layout. MNIST and Fashion-MNIST: digits / items 0-4 known, 900
//    examples each; CIFAR-10 (500 per class in the dev slice): nine classes known, the tenth novel, each class
//    held out in turn (mean of the ten). Against the same peer. Skipped where MobileNetV2 is not available.
// 2. Through the CLI, as a user would: a store learned from image files, then each prune (and a forget, and a
//    device budget) applied to a copy; `engram eval` on held-out known and novel images before and after.
//
// Usage: node dist/bench/openset.js [--quick] [--no-cli] [--out DIR]
// Writes openset.json and openset.md; prints one JSON summary as the last line of stdout.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { BACKBONES, REPO, features, sharedModelsDir } from './lib/features.js';
import { vectorsOf, type Rows } from './lib/protocol.js';
import { loadCifar } from './lib/cifar.js';
import { CALIBRATION_ROWS, OWN_WHITENING_FIRST } from '../src/learner/own-whitening.js';
import { Engram } from '../src/learner/engram.js';
import { OpenSetCalibration } from '../src/learner/openset.js';
import { auroc } from '../src/learner/evaluate.js';
import { loadFashionMnist, loadMnist, indicesByClass, imageAt, type ImageSet } from '../src/datasets/idx.js';
import { readFileSync } from 'node:fs';
import { Rng } from '../src/util/rng.js';
import { VERSION } from '../src/version.js';

const quick = process.argv.includes('--quick');
const noCli = process.argv.includes('--no-cli');
const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(REPO, 'bench', 'results', quick ? 'quick' : '');
const log = (m: string) => process.stderr.write(`${m}\n`);
const KNOWN = [0, 1, 2, 3, 4];
const NOVEL = [5, 6, 7, 8, 9];
const ODD = [1, 3, 5, 7, 9];
const SHOTS = quick ? [5, 20] : [5, 20, 100];
const DRAWS = quick ? 1 : 3;
const TEST_PER_CLASS = 100;
const SEED = 7;

interface Rates {
  auroc: number;
  /** Novel images answered unknown at the chosen threshold. */
  novelUnknown: number;
  /** Known images answered with their right label / answered unknown. */
  knownRight: number;
  knownUnknown: number;
  threshold: number;
}

interface ScoreRow {
  /** backbone-dataset-shots, e.g. mobilenetv2-12-int8-fashion-20 (what docs-numbers selects by). */
  id: string;
  benchmark: string;
  shots: number;
  /** The known classes (the other five are novel). */
  known: number[];
  engram: Rates;
  /**
   * engram without the whitening it fits on the examples it learns: the raw block alone, as --whiten off gives.
   * The same as engram when it holds too few examples to fit one.
   */
  engramRaw: Rates;
  peer: Rates;
}

// ---------------------------------------------------------------------------------------------------------
// 1. Scores on cached features

function rowsOfClass(rows: Rows, c: number): number[] {
  const out: number[] = [];
  Array.from(rows.labels).forEach((l, i) => {
    if (l === c) out.push(i);
  });
  return out;
}

function rates(
  known: { score: number; right: boolean; answered: boolean }[],
  novel: { score: number; answered: boolean }[],
  threshold: number,
): Rates {
  return {
    auroc: auroc(
      known.map((k) => k.score),
      novel.map((n) => n.score),
    ),
    novelUnknown: novel.filter((n) => !n.answered).length / novel.length,
    knownRight: known.filter((k) => k.right && k.answered).length / known.length,
    knownUnknown: known.filter((k) => !k.answered).length / known.length,
    threshold,
  };
}

/**
 * engram's learner as a user gets it (Engram, fed the feature vectors): sparse quantizer, cosine read, and with
 * `whiten` the store's own whitening, fitted and refitted on the examples as they arrive (docs/learner.md).
 */
async function runEngram(
  train: Rows,
  test: Rows,
  idx: number[][],
  classes: number[],
  whiten = true,
  state?: (s: ReturnType<Engram['stats']>) => void,
): Promise<Rates> {
  const e = await Engram.memory({ backbone: null, quantizer: { kind: 'sparse', dim: train.dim, whiten: whiten ? 'auto' : 'off' } });
  for (const [ci, c] of classes.entries()) await e.learn(String(c), vectorsOf(train, idx[ci]));
  const preds = await e.predict(
    vectorsOf(
      test,
      Array.from(test.labels, (_, i) => i),
    ),
    { top: 1 },
  );
  const known: { score: number; right: boolean; answered: boolean }[] = [];
  const novel: { score: number; answered: boolean }[] = [];
  preds.forEach((p, i) => {
    const truth = test.labels[i];
    if (classes.includes(truth)) known.push({ score: p.score, right: p.top[0]?.label === String(truth), answered: p.label !== null });
    else novel.push({ score: p.score, answered: p.label !== null });
  });
  const threshold = e.stats().threshold;
  state?.(e.stats());
  await e.close();
  return rates(known, novel, threshold);
}

/**
 * The peer: class means of L2-normalised features, a query's score its maximum cosine to them. Calibrated as
 * engram is once it has learned: every learned example gives a novel sample (its best cosine to the other
 * classes' means) and a known sample (its cosine to its own class's mean without it), the same cut.
 */
function runPeer(train: Rows, test: Rows, idx: number[][], classes: number[]): Rates {
  const dim = train.dim;
  const unit = (v: Float32Array) => {
    let n = 0;
    for (const x of v) n += x * x;
    n = Math.sqrt(n) || 1;
    return Float64Array.from(v, (x) => x / n);
  };
  const sums = classes.map(() => new Float64Array(dim));
  const counts = classes.map(() => 0);
  const cos = (v: Float64Array, c: number) => {
    let d = 0;
    let n = 0;
    for (let j = 0; j < dim; j++) {
      d += v[j] * sums[c][j];
      n += sums[c][j] * sums[c][j];
    }
    return n === 0 ? 0 : d / Math.sqrt(n);
  };
  const learned = classes.map((_, ci) => idx[ci].map((i) => unit(train.features.subarray(i * dim, (i + 1) * dim))));
  learned.forEach((vs, ci) => {
    for (const v of vs) for (let j = 0; j < dim; j++) sums[ci][j] += v[j];
    counts[ci] = vs.length;
  });
  const known: number[] = [];
  const novel: number[] = [];
  learned.forEach((vs, ci) => {
    for (const v of vs) {
      let other = -Infinity;
      for (let c = 0; c < classes.length; c++) if (c !== ci) other = Math.max(other, cos(v, c));
      novel.push(other);
      if (vs.length < 2) continue;
      // Its own class's mean without it: the sum less the example.
      let d = 0;
      let n = 0;
      for (let j = 0; j < dim; j++) {
        const m = sums[ci][j] - v[j];
        d += v[j] * m;
        n += m * m;
      }
      known.push(n === 0 ? 0 : d / Math.sqrt(n));
    }
  });
  const cal = new OpenSetCalibration();
  cal.replace(known, novel);
  const threshold = cal.threshold();
  const asked: { score: number; right: boolean; answered: boolean }[] = [];
  const unseen: { score: number; answered: boolean }[] = [];
  Array.from(test.labels).forEach((truth, i) => {
    const v = unit(test.features.subarray(i * dim, (i + 1) * dim));
    let best = 0;
    let score = -Infinity;
    for (let c = 0; c < classes.length; c++) {
      const s = cos(v, c);
      if (s > score) [best, score] = [c, s];
    }
    const answered = score >= threshold;
    if (classes.includes(truth)) asked.push({ score, right: classes[best] === truth, answered });
    else unseen.push({ score, answered });
  });
  return rates(asked, unseen, threshold);
}

function mean(list: Rates[]): Rates {
  const m = (f: (r: Rates) => number) => list.reduce((s, r) => s + f(r), 0) / list.length;
  return {
    auroc: m((r) => r.auroc),
    novelUnknown: m((r) => r.novelUnknown),
    knownRight: m((r) => r.knownRight),
    knownUnknown: m((r) => r.knownUnknown),
    threshold: m((r) => r.threshold),
  };
}

async function scoreBenchmarks(): Promise<ScoreRow[]> {
  const out: ScoreRow[] = [];
  const sets: { name: string; train: Rows; test: Rows; known: number[] }[] = [];
  for (const bb of BACKBONES) {
    for (const ds of ['mnist', 'fashion'] as const) {
      const train = await features(bb, ds, 'train', 500, SEED, log);
      const test = train && (await features(bb, ds, 'test', TEST_PER_CLASS, SEED, log));
      if (!train || !test) {
        log(`${bb.name}: not available here, its benchmarks skipped`);
        break;
      }
      sets.push({ name: `${bb.name} ${ds}`, train, test, known: KNOWN });
    }
    if (bb.name === 'mobilenetv2-12-int8') {
      const c = await loadCifar(bb, log);
      if (c) sets.push({ name: `${bb.name} cifar10`, ...c, known: KNOWN }, { name: `${bb.name} cifar10-odd`, ...c, known: ODD });
      // The same photos with mirror features (engram learn --mirror), engram and the peer both on them.
      const m = c && (await loadCifar(bb, log, { mirror: true }));
      if (m)
        sets.push({ name: `${bb.name} cifar10-mirror`, ...m, known: KNOWN }, { name: `${bb.name} cifar10-odd-mirror`, ...m, known: ODD });
    }
  }
  for (const s of sets) {
    for (const shots of SHOTS) {
      const eng: Rates[] = [];
      const raw: Rates[] = [];
      const peer: Rates[] = [];
      for (let d = 0; d < DRAWS; d++) {
        const rng = new Rng(SEED + 100 * d + shots);
        const idx = s.known.map((c) => {
          const all = rowsOfClass(s.train, c);
          rng.shuffle(all);
          return all.slice(0, shots);
        });
        eng.push(await runEngram(s.train, s.test, idx, s.known));
        raw.push(
          shots * s.known.length >= OWN_WHITENING_FIRST ? await runEngram(s.train, s.test, idx, s.known, false) : eng[eng.length - 1],
        );
        peer.push(runPeer(s.train, s.test, idx, s.known));
      }
      const row = {
        id: `${s.name.replace(' ', '-')}-${shots}`,
        benchmark: s.name,
        shots,
        known: s.known,
        engram: mean(eng),
        engramRaw: mean(raw),
        peer: mean(peer),
      };
      log(`${s.name} ${shots} shots: engram ${fmt(row.engram)} | raw block only ${fmt(row.engramRaw)} | peer ${fmt(row.peer)}`);
      out.push(row);
    }
  }
  return out;
}

interface LargeRow {
  /** mobilenetv2-12-int8-<dataset>-large (what docs-numbers selects by). */
  id: string;
  benchmark: string;
  /** Known classes, examples learned per known class, and how the novel ones were chosen. */
  known: string;
  perClass: number;
  /** Examples the store's own whitening was fitted on, and whether it was final (it must be, for this row). */
  fittedOn: number;
  final: boolean;
  engram: Rates;
  peer: Rates;
}

const LARGE_PER_CLASS = 900;

/** 1b. Stores past the last fit of their own whitening (see the header). */
async function largeStores(): Promise<LargeRow[]> {
  const bb = BACKBONES.find((b) => b.name === 'mobilenetv2-12-int8')!;
  const out: LargeRow[] = [];
  const run = async (name: string, train: Rows, test: Rows, knowns: number[][], known: string, perClass: number) => {
    const eng: Rates[] = [];
    const peer: Rates[] = [];
    let fittedOn = Infinity;
    let final = true;
    for (const classes of knowns) {
      const idx = classes.map((c) => rowsOfClass(train, c).slice(0, perClass));
      eng.push(
        await runEngram(train, test, idx, classes, true, (st) => {
          fittedOn = Math.min(fittedOn, st.ownWhitening?.fittedOn ?? 0);
          final &&= st.ownWhitening?.nextFitAt === null;
        }),
      );
      peer.push(runPeer(train, test, idx, classes));
    }
    const row = {
      id: `${bb.name}-${name}-large`,
      benchmark: `${bb.name} ${name}`,
      known,
      perClass,
      fittedOn,
      final,
      engram: mean(eng),
      peer: mean(peer),
    };
    log(
      `${row.benchmark} past the last fit (${known}, ${perClass} each; fit on ${fittedOn}, final ${final}): engram ${fmt(row.engram)} | peer ${fmt(row.peer)}`,
    );
    out.push(row);
  };
  for (const ds of ['mnist', 'fashion'] as const) {
    const train = await features(bb, ds, 'train', LARGE_PER_CLASS, SEED, log);
    const test = train && (await features(bb, ds, 'test', TEST_PER_CLASS, SEED, log));
    if (!train || !test) {
      log(`${bb.name}: not available here, the large stores skipped`);
      return out;
    }
    await run(ds, train, test, [KNOWN], '0-4', LARGE_PER_CLASS);
  }
  const c = await loadCifar(bb, log);
  if (c) {
    const all = Array.from({ length: 10 }, (_, i) => i);
    const perClass = Math.min(...all.map((k) => rowsOfClass(c.train, k).length));
    await run(
      'cifar10',
      c.train,
      c.test,
      quick ? [all.slice(1)] : all.map((held) => all.filter((k) => k !== held)),
      'nine, the tenth novel, each in turn',
      perClass,
    );
  }
  return out;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const fmt = (r: Rates) =>
  `AUROC ${r.auroc.toFixed(3)}, novel unknown ${pct(r.novelUnknown)}, known right ${pct(r.knownRight)} (unknown ${pct(r.knownUnknown)})`;

// ---------------------------------------------------------------------------------------------------------
// 2. Through the CLI: eval before and after each change to the memory

interface CliCase {
  /** A short name for docs-numbers: as-learned, min-count, share, max-bytes, max-classes, forget, budget. */
  id: string;
  change: string;
  threshold: number;
  knownUnknown: number;
  knownRight: number;
  novelUnknown: number;
  openSetAccuracy: number;
  auroc: number | null;
}

interface CliStore {
  store: string;
  backbone: string;
  shots: number;
  cases: CliCase[];
}

async function writeImages(dir: string, set: ImageSet, classes: number[], from: number, count: number): Promise<void> {
  const by = indicesByClass(set);
  for (const c of classes) {
    const folder = join(dir, String(c));
    mkdirSync(folder, { recursive: true });
    for (const i of by.get(c)!.slice(from, from + count)) {
      const im = imageAt(set, i);
      await sharp(Buffer.from(im.data), { raw: { width: im.width, height: im.height, channels: 1 } })
        .png()
        .toFile(join(folder, `${i}.png`));
    }
  }
}

function cli(args: string[], env: NodeJS.ProcessEnv): Record<string, unknown>[] {
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'engram.js'), ...args, '--json', '--quiet'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`engram ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function cliStore(
  work: string,
  name: string,
  set: { train: ImageSet; test: ImageSet },
  backbone: string,
  shots: number,
  changes: { id: string; change: string; args: string[] }[],
  env: NodeJS.ProcessEnv,
): Promise<CliStore> {
  const dir = join(work, name);
  await writeImages(join(dir, 'train'), set.train, KNOWN, 0, shots);
  await writeImages(join(dir, 'held'), set.test, [...KNOWN, ...NOVEL], 0, quick ? 20 : 50);
  await writeImages(join(dir, 'more'), set.train, [0], shots, shots);
  const base = join(dir, 'store');
  cli(['learn', '--store', base, '--backbone', backbone, '--labels-from', 'dir', join(dir, 'train')], env);
  // A device whose memory budget is half of what the store holds: the next learn prunes back to it.
  const half = Math.max(1024, Math.round((cli(['stats', '--store', base], env)[0] as { compressedBytes: number }).compressedBytes / 2));
  const profile = join(dir, 'tight.json');
  writeFileSync(
    profile,
    JSON.stringify({
      ...JSON.parse(readFileSync(join(REPO, 'devices', 'generic-x86_64.json'), 'utf8')),
      $schema: undefined,
      id: 'tight',
      memoryBudgetBytes: half,
    }),
  );
  const cases: CliCase[] = [];
  for (const c of [
    ...changes,
    {
      id: 'budget',
      change: `device budget ${half} bytes (next learn)`,
      args: ['learn', '--profile', profile, '--label', '0', join(dir, 'more', '0')],
    },
  ]) {
    const store = join(dir, `store-${cases.length}`);
    cpSync(base, store, { recursive: true });
    if (c.args.length) cli([...c.args, '--store', store], env);
    const r = cli(['eval', '--store', store, '--labels-from', 'dir', join(dir, 'held')], env).at(-1) as {
      openSet: {
        accuracy: { rate: number };
        known: { right: { rate: number }; unknown: { rate: number } };
        novel: { unknown: { rate: number } };
        auroc: number | null;
      };
    };
    const t = cli(['threshold', '--store', store], env)[0] as { threshold: number };
    const o = r.openSet;
    const row = {
      id: c.id,
      change: c.change,
      threshold: t.threshold,
      knownUnknown: o.known.unknown.rate,
      knownRight: o.known.right.rate,
      novelUnknown: o.novel.unknown.rate,
      openSetAccuracy: o.accuracy.rate,
      auroc: o.auroc,
    };
    log(
      `${name} ${c.change}: threshold ${row.threshold.toFixed(3)}, known unknown ${pct(row.knownUnknown)}, known right ${pct(row.knownRight)}, novel unknown ${pct(row.novelUnknown)}, open-set accuracy ${pct(row.openSetAccuracy)}`,
    );
    cases.push(row);
  }
  return { store: name, backbone, shots, cases };
}

const CHANGES = [
  { id: 'as-learned', change: 'as learned', args: [] },
  { id: 'min-count', change: 'prune --min-count 2', args: ['prune', '--min-count', '2'] },
  { id: 'share', change: 'prune --share 0.1', args: ['prune', '--share', '0.1'] },
  { id: 'max-bytes', change: 'prune --max-bytes 1000', args: ['prune', '--max-bytes', '1000'] },
  { id: 'max-classes', change: 'prune --max-classes 3', args: ['prune', '--max-classes', '3'] },
  { id: 'forget', change: 'forget 4', args: ['forget', '4'] },
];

async function cliBenchmarks(): Promise<CliStore[]> {
  const work = mkdtempSync(join(tmpdir(), 'engram-openset-'));
  const env = { ENGRAM_MODELS_DIR: join(work, 'models') };
  const out: CliStore[] = [];
  try {
    const digits = { train: loadMnist('train'), test: loadMnist('test') };
    out.push(await cliStore(work, 'digits', digits, 'engram-glyph', 20, CHANGES, env));
    const models = sharedModelsDir();
    if (!models) log('MobileNetV2 stores skipped: mobilenetv2-12-int8.onnx not found (set ENGRAM_SHARED_MODELS)');
    else if (!existsSync('/usr/share/datasets/fashion-mnist') && !process.env.ENGRAM_FASHION_MNIST)
      log('Fashion-MNIST store skipped: dataset-fashion-mnist not installed');
    else {
      cli(['models', 'pull', 'mobilenetv2-12-int8', '--from', join(models, 'mobilenetv2-12-int8.onnx')], env);
      const fashion = { train: loadFashionMnist('train'), test: loadFashionMnist('test') };
      out.push(await cliStore(work, 'fashion', fashion, 'mobilenetv2-12-int8', 20, CHANGES, env));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------

function markdown(scores: ScoreRow[], large: LargeRow[], stores: CliStore[]): string {
  const lines = [
    '# Open-set quality',
    '',
    `${SHOTS.join('/')} shots of 5 known classes, ${TEST_PER_CLASS} held-out images per class of the 5 known and the 5 novel ones, mean of ${DRAWS} draws.`,
    '',
    'Known classes 0-4 unless said (cifar10-odd: 1, 3, 5, 7, 9 known; -mirror: the same photos with mirror features, engram learn --mirror, engram and the peer both on them). Both thresholds are calibrated the same way, from the learned examples scored against the memory as learned.',
    '',
    `engram fits its own whitening once it has ${OWN_WHITENING_FIRST} examples and refits it as they double (features kept until ${CALIBRATION_ROWS}); "raw block only" is engram without it (--whiten off).`,
    '',
    '| benchmark | shots | engram AUROC | novel unknown | known right | raw block only AUROC | novel unknown | known right | peer AUROC | novel unknown | known right |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of scores)
    lines.push(
      `| ${r.benchmark} | ${r.shots} | ${r.engram.auroc.toFixed(3)} | ${pct(r.engram.novelUnknown)} | ${pct(r.engram.knownRight)} | ${r.engramRaw.auroc.toFixed(3)} | ${pct(r.engramRaw.novelUnknown)} | ${pct(r.engramRaw.knownRight)} | ${r.peer.auroc.toFixed(3)} | ${pct(r.peer.novelUnknown)} | ${pct(r.peer.knownRight)} |`,
    );
  if (large.length) {
    lines.push(
      '',
      `## Past the last fit: stores of more than ${CALIBRATION_ROWS} examples (own whitening final, white layout)`,
      '',
      '| benchmark | known | examples per class | whitening fitted on | engram AUROC | novel unknown | known right | peer AUROC | novel unknown | known right |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const r of large)
      lines.push(
        `| ${r.benchmark} | ${r.known} | ${r.perClass} | ${r.fittedOn}${r.final ? ' (final)' : ''} | ${r.engram.auroc.toFixed(3)} | ${pct(r.engram.novelUnknown)} | ${pct(r.engram.knownRight)} | ${r.peer.auroc.toFixed(3)} | ${pct(r.peer.novelUnknown)} | ${pct(r.peer.knownRight)} |`,
      );
  }
  for (const s of stores) {
    lines.push(
      '',
      `## Through the CLI: ${s.store} (${s.backbone}, ${s.shots} shots), engram eval after each change`,
      '',
      '| change | threshold | known unknown | known right | novel unknown | open-set accuracy | AUROC |',
      '|---|---|---|---|---|---|---|',
    );
    for (const c of s.cases)
      lines.push(
        `| ${c.change} | ${c.threshold.toFixed(3)} | ${pct(c.knownUnknown)} | ${pct(c.knownRight)} | ${pct(c.novelUnknown)} | ${pct(c.openSetAccuracy)} | ${c.auroc === null ? '-' : c.auroc.toFixed(3)} |`,
      );
  }
  return `${lines.join('\n')}\n`;
}

const started = Date.now();
const scores = await scoreBenchmarks();
const large = await largeStores();
const stores = noCli ? [] : await cliBenchmarks();
const result = {
  scores,
  large,
  cli: stores,
  options: { quick, shots: SHOTS, draws: DRAWS, testPerClass: TEST_PER_CLASS, known: KNOWN, novel: NOVEL, largePerClass: LARGE_PER_CLASS },
  machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism(), node: process.version, engram: VERSION },
  seconds: Math.round((Date.now() - started) / 1000),
  date: new Date().toISOString(),
};
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'openset.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(OUT, 'openset.md'), markdown(scores, large, stores));
console.log(JSON.stringify({ scores: scores.length, large: large.length, stores: stores.length, seconds: result.seconds }));
