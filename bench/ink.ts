// Ink on paper (issue #14, part 2): top-1 of the default backbone on MNIST digits as the data set renders them
// (light on dark, centred, 28x28 PNG) and on the same digits as dark ink on a larger white page, off-centre,
// with paper grain and uneven light, saved as PNG and as JPEG files. Each variant is learned and predicted
// through the CLI (`engram learn --labels-from dir`, `engram predict --json`), with the backbone's input
// conventions applied (the default) and turned off (`--conventions off`, the behaviour before them). Also
// the per-image CPU cost of preparing each kind of file, with and without the conventions.
//
// Usage: node dist/bench/ink.js [--learn N] [--test N] [--seed N] [--keep DIR] [--out FILE]
// Progress on stderr; one JSON object as the last line of stdout (also written to --out, default
// bench/results/ink.json).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadMnist, imageAt, indicesByClass, type ImageSet } from '../src/datasets/idx.js';
import { Backbone } from '../src/backbone/index.js';
import { Rng } from '../src/util/rng.js';
import { inkPage, writeGrey } from './lib/ink-pages.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'engram.js');
const run = promisify(execFile);
const log = (m: string) => process.stderr.write(`${m}\n`);

interface Args { learn: number; test: number; seed: number; keep?: string; out: string }

function parseArgs(argv: string[]): Args {
  const a: Args = { learn: 20, test: 20, seed: 1, out: join(root, 'bench', 'results', 'ink.json') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const n = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k}: expected a positive integer, got ${argv[i]}`);
      return v;
    };
    if (k === '--learn') a.learn = n();
    else if (k === '--test') a.test = n();
    else if (k === '--seed') a.seed = n();
    else if (k === '--keep' && argv[i + 1]) a.keep = resolve(argv[++i]);
    else if (k === '--out' && argv[i + 1]) a.out = resolve(argv[++i]);
    else throw new RangeError(`unknown argument ${k} (known: --learn N, --test N, --seed N, --keep DIR, --out FILE)`);
  }
  return a;
}

type Variant = 'mnist-png' | 'page-png' | 'page-jpeg';
const VARIANTS: Variant[] = ['mnist-png', 'page-png', 'page-jpeg'];

/** Writes `ids` of `set` as files of every variant under dir/<variant>/<split>/<digit>/. */
async function writeFiles(dir: string, split: string, set: ImageSet, ids: number[], seed: number): Promise<void> {
  for (const i of ids) {
    const digit = imageAt(set, i);
    const label = String(set.labels[i]);
    const page = inkPage(digit.data, seed * 1_000_003 + i);
    for (const v of VARIANTS) {
      const folder = join(dir, v, split, label);
      mkdirSync(folder, { recursive: true });
      if (v === 'mnist-png') await writeGrey(join(folder, `${i}.png`), digit, 'png');
      else await writeGrey(join(folder, `${i}.${v === 'page-png' ? 'png' : 'jpg'}`), page, v === 'page-png' ? 'png' : 'jpeg');
    }
  }
}

async function engram(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [cli, ...args], { maxBuffer: 64 << 20});
  return stdout;
}

/** Learns dir/learn, predicts dir/test through the CLI; top-1 (closed set) and open-set accuracy. */
async function throughCli(dir: string, store: string, conventions: 'auto' | 'off') {
  const flags = ['--backbone', 'engram-glyph', '--conventions', conventions];
  await engram(['learn', '--store', store, '--labels-from', 'dir', '--quiet', ...flags, join(dir, 'learn')]);
  const lines = (await engram(['predict', '--store', store, '--json', '--conventions', conventions, join(dir, 'test')])).trim().split('\n');
  let top1 = 0, open = 0, inverted = 0, framed = 0;
  for (const line of lines) {
    const p = JSON.parse(line) as { file: string; label: string | null; top: { label: string }[]; conventions: { inverted: boolean; crop: unknown } | null };
    const truth = p.file.split('/').at(-2);
    if (p.top[0]?.label === truth) top1++;
    if (p.label === truth) open++;
    if (p.conventions?.inverted) inverted++;
    if (p.conventions?.crop) framed++;
  }
  const pct = (x: number) => Math.round((1000 * x) / lines.length) / 10;
  return { queries: lines.length, top1: pct(top1), open_set: pct(open), inverted: pct(inverted), framed: pct(framed) };
}

/** CPU ms per image to prepare the files (decode, conventions, resize, normalise), median of rounds, batch 8. */
async function prepareCost(files: string[], conventions: 'auto' | 'off', rounds = 7): Promise<number> {
  const b = await Backbone.open(join(root, 'models', 'engram-glyph.json'), { threads: 1, conventions });
  try {
    const tensor = new Float32Array(8 * 32 * 32);
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = process.cpuUsage();
      for (let s = 0; s < files.length; s += 8) await b.prepare(files.slice(s, s + 8), s, tensor);
      const t = process.cpuUsage(t0);
      times.push((t.user + t.system) / 1000 / files.length);
    }
    times.sort((x, y) => x - y);
    return Math.round(times[times.length >> 1] * 1000) / 1000;
  } finally {
    await b.close();
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const dir = a.keep ?? mkdtempSync(join(tmpdir(), 'engram-ink-'));
  try {
    const rng = new Rng(a.seed);
    const train = loadMnist('train');
    const test = loadMnist('test');
    const pick = (set: ImageSet, n: number) => [...indicesByClass(set).values()].flatMap((ids) => rng.sample(ids.length, n).map((k) => ids[k]));
    const learnIds = pick(train, a.learn);
    const testIds = pick(test, a.test);
    log(`ink bench: ${learnIds.length} learn and ${testIds.length} test digits per variant, files under ${dir}`);
    await writeFiles(dir, 'learn', train, learnIds, a.seed);
    await writeFiles(dir, 'test', test, testIds, a.seed + 1);

    const accuracy: Record<string, Record<string, ReturnType<typeof throughCli> extends Promise<infer R> ? R : never>> = {};
    for (const v of VARIANTS) {
      accuracy[v] = {};
      for (const c of ['auto', 'off'] as const) {
        const r = await throughCli(join(dir, v), join(dir, `store-${v}-${c}`), c);
        accuracy[v][c] = r;
        log(`${v} conventions ${c}: top-1 ${r.top1}% (open set ${r.open_set}%), inverted ${r.inverted}%, framed ${r.framed}% of ${r.queries} queries`);
      }
    }

    const costFiles = (v: Variant) => testIds.slice(0, 64).map((i) => join(dir, v, 'test', String(test.labels[i]), `${i}.${v === 'page-jpeg' ? 'jpg' : 'png'}`));
    const cost: Record<string, { auto: number; off: number }> = {};
    for (const v of VARIANTS) {
      cost[v] = { auto: await prepareCost(costFiles(v), 'auto'), off: await prepareCost(costFiles(v), 'off') };
      log(`${v}: prepare ${cost[v].auto} ms CPU per image with conventions, ${cost[v].off} without`);
    }

    const mnist = accuracy['mnist-png'].auto.top1;
    const worstPage = Math.min(accuracy['page-png'].auto.top1, accuracy['page-jpeg'].auto.top1);
    const pass = mnist - worstPage <= 2;
    log(`${pass ? 'PASS' : 'FAIL'} ink on paper within 2 points of the MNIST rendering: ${worstPage}% vs ${mnist}%`);
    const result = {
      bench: 'ink',
      backbone: 'engram-glyph',
      learn_per_digit: a.learn,
      test_per_digit: a.test,
      seed: a.seed,
      page: { width: 200, height: 150, digit_zoom: 2, paper: 232, ink: 45, grain_sd: 6, falloff: 24, jpeg_quality: 85 },
      accuracy,
      prepare_ms_cpu_per_image: cost,
      target: { rule: 'top-1 of ink on paper (PNG and JPEG) within 2 points of the MNIST rendering, conventions on', mnist, worst_page: worstPage, pass },
      seconds: Math.round((performance.now() - started) / 100) / 10,
      node: process.version,
    };
    mkdirSync(dirname(a.out), { recursive: true });
    writeFileSync(a.out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    if (!a.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
