// `engram eval` as a user runs it, on MNIST digits written as PNG files: learn digits 0-4 (--shots each, from
// the training split) with the embedded backbone, then evaluate on held-out test images of 0-4 and of 7 and 8,
// which the store never learned. Writes the command's own outputs to bench/results/ (eval-example.txt, .json and
// .svg: the examples docs/cli.md shows) and eval.json, the JSON object it prints last; its evalSeconds is the wall
// time of the whole `engram eval --json` process, start-up and model load included.
//
// Usage: node dist/bench/eval.js [--shots N] [--test N] [--out DIR]
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { imageAt, indicesByClass, loadMnist } from '../src/datasets/idx.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(root, 'bin', 'engram.js');
const KNOWN = [0, 1, 2, 3, 4];
const NOVEL = [7, 8];

function parseArgs(argv: string[]): { shots: number; test: number; out: string } {
  const a = { shots: 20, test: 50, out: join(root, 'bench', 'results') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--out') {
      a.out = resolve(argv[++i] ?? '');
      continue;
    }
    const n = Number(argv[++i]);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${k}: expected a positive integer, got ${argv[i]}`);
    if (k === '--shots') a.shots = n;
    else if (k === '--test') a.test = n;
    else throw new RangeError(`unknown option ${k} (known: --shots, --test, --out)`);
  }
  return a;
}

/** Writes `per` PNG digits of each class in `digits` to <dir>/<digit>/<index>.png. */
async function writeDigits(dir: string, split: 'train' | 'test', digits: number[], per: number): Promise<void> {
  const set = loadMnist(split);
  const by = indicesByClass(set);
  for (const d of digits) {
    mkdirSync(join(dir, String(d)), { recursive: true });
    for (const i of by.get(d)!.slice(0, per)) {
      const img = imageAt(set, i);
      await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 1 } })
        .png()
        .toFile(join(dir, String(d), `${i}.png`));
    }
  }
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv): { stdout: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`engram ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return { stdout: r.stdout, ms };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'engram-bench-eval-'));
  // An empty model cache: the embedded backbone, whatever this machine has pulled.
  const env = { ENGRAM_MODELS_DIR: join(work, 'no-models') };
  try {
    await writeDigits(join(work, 'digits', 'train'), 'train', KNOWN, args.shots);
    await writeDigits(join(work, 'digits', 'test'), 'test', [...KNOWN, ...NOVEL], args.test);
    run(['learn', '--store', 'mem', '--backbone', 'engram-glyph', '--labels-from', 'dir', 'digits/train/', '--quiet'], work, env);
    mkdirSync(args.out, { recursive: true });
    const evalArgs = ['eval', '--store', 'mem', '--labels-from', 'dir', 'digits/test/'];
    const text = run([...evalArgs, '--svg', 'confusion.svg'], work, env);
    const json = run([...evalArgs, '--json'], work, env);
    const report = JSON.parse(json.stdout.trim().split('\n').at(-1)!) as { counts: { evaluated: number } };
    writeFileSync(join(args.out, 'eval-example.txt'), `$ engram ${[...evalArgs, '--svg', 'confusion.svg'].join(' ')}\n${text.stdout}`);
    writeFileSync(join(args.out, 'eval-example.json'), `${JSON.stringify(report, null, 2)}\n`);
    copyFileSync(join(work, 'confusion.svg'), join(args.out, 'eval-example.svg'));
    const images = report.counts.evaluated;
    const summary = JSON.stringify({
      bench: 'eval',
      backbone: 'engram-glyph',
      known: KNOWN,
      novel: NOVEL,
      shots: args.shots,
      testPerClass: args.test,
      images,
      evalSeconds: Math.round(json.ms) / 1000,
      imagesPerSecond: Math.round((images / json.ms) * 1e4) / 10,
      results: ['eval.json', 'eval-example.txt', 'eval-example.json', 'eval-example.svg'],
    });
    writeFileSync(join(args.out, 'eval.json'), `${summary}\n`);
    process.stdout.write(`${summary}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench eval: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
