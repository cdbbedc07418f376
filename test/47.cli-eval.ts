// engram eval end to end on real digit files and a real store, as a user runs it: the text report, one JSON
// object whose numbers agree with `engram predict --json` on the same files, an SVG confusion matrix parsed and
// rendered by librsvg (through sharp), progress only on a terminal, and clear errors and exit codes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { BIN, engram, writeDigits } from './helpers/learner-files.js';

const KNOWN = [0, 1, 2, 3, 4];
const NOVEL = [7, 8];
const work = mkdtempSync(join(tmpdir(), 'engram-cli-eval-'));
// An empty model cache: the store is made with the embedded backbone whatever this machine has pulled.
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');
const store = join(work, 'store');
const knownDir = join(work, 'known', 'test');
const mixedDir = join(work, 'mixed', 'test');

interface Row {
  file: string;
  label: string | null;
  top: { label: string }[];
}
interface Report {
  store: string;
  storeLabels: string[];
  counts: Record<string, number>;
  top1: { count: number; of: number; rate: number | null };
  openSet: {
    accuracy: { count: number; of: number };
    known: Record<'right' | 'wrong' | 'unknown', { count: number; of: number }>;
    novel: Record<'unknown' | 'labelled', { count: number; of: number }>;
  };
  classes: { label: string; known: boolean; items: number; correct: number; unknown: number; recall: number; top1: number | null }[];
  confusion: { rows: string[]; columns: (string | null)[]; counts: number[][] };
  mistakes: { file: string; truth: string; label: string | null }[];
  failed: { file: string; error: string }[];
  svg?: string;
}

const truthOf = (file: string) => file.split('/').at(-2)!;

/** Checks every number of an eval report against predict's own answers on the same files. */
function checkAgainstPredict(report: Report, rows: Row[]): void {
  const known = new Set(report.storeLabels);
  const k = rows.filter((r) => known.has(truthOf(r.file)));
  const n = rows.filter((r) => !known.has(truthOf(r.file)));
  assert.is(report.counts.evaluated, rows.length);
  assert.is(report.counts.known, k.length);
  assert.is(report.counts.novel, n.length);
  assert.is(report.top1.count, k.filter((r) => r.top[0]?.label === truthOf(r.file)).length);
  assert.is(report.top1.of, k.length);
  assert.is(report.openSet.known.right.count, k.filter((r) => r.label === truthOf(r.file)).length);
  assert.is(report.openSet.known.unknown.count, k.filter((r) => r.label === null).length);
  assert.is(report.openSet.known.wrong.count, k.filter((r) => r.label !== null && r.label !== truthOf(r.file)).length);
  assert.is(report.openSet.novel.unknown.count, n.filter((r) => r.label === null).length);
  assert.is(report.openSet.novel.labelled.count, n.filter((r) => r.label !== null).length);
  const { rows: truths, columns, counts } = report.confusion;
  truths.forEach((t, i) =>
    columns.forEach((c, j) => {
      assert.is(counts[i][j], rows.filter((r) => truthOf(r.file) === t && r.label === c).length, `cell ${t} -> ${c}`);
    }),
  );
  assert.is(
    counts.flat().reduce((a, b) => a + b, 0),
    rows.length,
  );
  for (const c of report.classes) {
    const mine = rows.filter((r) => truthOf(r.file) === c.label);
    assert.is(c.items, mine.length);
    assert.is(c.correct, mine.filter((r) => r.label === (c.known ? c.label : null)).length);
    assert.is(c.unknown, mine.filter((r) => r.label === null).length);
  }
  const wrong = rows.filter((r) => r.label !== (known.has(truthOf(r.file)) ? truthOf(r.file) : null)).map((r) => r.file);
  assert.equal(report.mistakes.map((m) => m.file).sort(), wrong.sort());
}

const Cli = suite('engram eval');

Cli.before(async () => {
  await writeDigits(work, 'train', KNOWN, 12);
  await writeDigits(join(work, 'known'), 'test', KNOWN, 15);
  await writeDigits(join(work, 'mixed'), 'test', [...KNOWN, ...NOVEL], 15);
  const r = engram(['learn', '--store', store, '--labels-from', 'dir', join(work, 'train'), '--quiet']);
  assert.is(r.status, 0, r.stderr);
});

Cli.after(() => rmSync(work, { recursive: true, force: true }));

Cli('--help explains the rates, the options and gives examples; the root lists eval', () => {
  const r = engram(['eval', '--help']);
  assert.is(r.status, 0);
  for (const s of ['--labels-from', '--label', '--svg', '--store', '--mistakes', 'top-1', 'novel', 'unknown', 'Examples:', '--json'])
    assert.ok(r.stdout.includes(s), `eval --help mentions ${s}`);
  const root = engram(['--help']);
  assert.match(root.stdout, /\beval\b.*top-1/);
});

Cli('a known-only folder: a summary, the per-class recall table and the confusion matrix; no progress off a terminal', () => {
  const r = engram(['eval', '--store', store, '--labels-from', 'dir', knownDir]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /75 images answered: 75 of 5 known labels/);
  assert.match(r.stdout, /top-1 \(closed set[^\n]*\d+\.\d%\s+\d+ of 75/);
  assert.match(r.stdout, /known labels answered unknown/);
  assert.not.match(r.stdout, /\(novel\)/);
  assert.match(r.stdout, /^class\s+images\s+recall\s+top-1\s+unknown\s+wrong label$/m);
  for (const d of KNOWN) assert.match(r.stdout, new RegExp(`^${d}\\s+15\\s+\\d+\\.\\d%\\s+\\d+\\.\\d%`, 'm'));
  assert.match(r.stdout, /^\s+0\s+1\s+2\s+3\s+4\s+unknown\s+n$/m);
  assert.not.match(r.stderr, /evaluating/);
  const json = engram(['eval', '--store', store, '--labels-from', 'dir', knownDir, '--json']);
  const predict = engram(['predict', '--store', store, knownDir, '--json']);
  assert.is(json.status, 0, json.stderr);
  assert.is(json.lines.length, 1, 'one JSON object');
  checkAgainstPredict(json.lines[0] as unknown as Report, predict.lines as unknown as Row[]);
  const report = json.lines[0] as unknown as Report;
  // The text prints the same numbers as the JSON.
  assert.ok(r.stdout.includes(`${report.top1.count} of 75`));
});

Cli('a folder with novel labels: their rows come last and their right answer is unknown; JSON agrees with predict', () => {
  const r = engram(['eval', '--store', store, '--labels-from', 'dir', mixedDir, '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.lines.length, 1);
  const report = r.lines[0] as unknown as Report;
  const predict = engram(['predict', '--store', store, mixedDir, '--json']);
  assert.is(predict.status, 0, predict.stderr);
  checkAgainstPredict(report, predict.lines as unknown as Row[]);
  assert.is(report.store, store);
  assert.equal(report.storeLabels, KNOWN.map(String));
  assert.equal(report.confusion.rows, [...KNOWN, ...NOVEL].map(String));
  assert.equal(report.confusion.columns.at(-1), null);
  assert.equal(report.counts, { items: 105, evaluated: 105, failed: 0, known: 75, novel: 30, knownLabels: 5, novelLabels: 2 });
  assert.ok(report.classes.filter((c) => !c.known).every((c) => c.top1 === null && c.correct === c.unknown));

  const text = engram(['eval', '--store', store, '--labels-from', 'dir', mixedDir, '--mistakes', '3']);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /75 of 5 known labels, 30 of 2 novel labels/);
  assert.match(text.stdout, /novel labels answered unknown \(right\)/);
  assert.match(text.stdout, /^7 \(novel\)\s+15\s+\d+\.\d%\s+-\s/m);
  const listed = text.stdout.split('\n').filter((l) => /^ {2}\S+\.(png|jpg)\s+true /.test(l));
  assert.is(listed.length, Math.min(3, report.mistakes.length));
  if (report.mistakes.length > 3) assert.match(text.stdout, new RegExp(`wrong answers \\(3 of ${report.mistakes.length};`));
});

Cli('--svg writes a well-formed, self-contained SVG: labelled axes, a count in every cell, blue right and orange wrong', async () => {
  const file = join(work, 'confusion.svg');
  const r = engram(['eval', '--store', store, '--labels-from', 'dir', mixedDir, '--svg', file, '--json']);
  assert.is(r.status, 0, r.stderr);
  const report = r.lines[0] as unknown as Report;
  assert.is(report.svg, file);
  const svg = readFileSync(file, 'utf8');
  assert.not.match(svg, /(href|url\(|@import|<script)/i, 'nothing outside the file is referenced');
  assert.match(svg, />true label</);
  assert.match(svg, />answer \(predicted label\)</);
  // librsvg's XML parser refuses a malformed document; the rendered size is the one the SVG declares.
  const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
  const height = Number(/<svg[^>]* height="(\d+)"/.exec(svg)![1]);
  const { data, info } = await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).raw().toBuffer({ resolveWithObject: true });
  assert.equal([info.width, info.height], [width, height]);
  const pixel = (x: number, y: number) => {
    const o = (Math.round(y) * info.width + Math.round(x)) * info.channels;
    return [data[o], data[o + 1], data[o + 2]];
  };
  const cells = [
    ...svg.matchAll(
      /<rect x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="[\d.]+" fill="[^"]+"[^>]*><title>(.+?) answered (.+?): (\d+) of (\d+)<\/title><\/rect>\s*<text[^>]*>(\d+)<\/text>/g,
    ),
  ];
  const { rows, columns, counts } = report.confusion;
  assert.is(cells.length, rows.length * columns.length, 'one cell per row and column');
  for (const m of cells) {
    const [x, y] = [Number(m[1]), Number(m[2])];
    const row = m[3].replace(/ \(novel\)$/, '');
    const col = m[4] === 'unknown' ? null : m[4];
    const n = Number(m[5]);
    assert.is(Number(m[7]), n, 'the count is written in the cell');
    assert.is(n, counts[rows.indexOf(row)][columns.indexOf(col)], `cell ${row} -> ${col}`);
    // Sample inside the cell, away from its number.
    const [red, , blue] = pixel(x + 4, y + 4);
    const right = col === (report.storeLabels.includes(row) ? row : null);
    if (n === 0) assert.ok(red > 240 && blue > 240, `empty cell ${row} -> ${col} is white`);
    else if (right) assert.ok(blue > red + 30, `right answers ${row} -> ${col} are blue (${red}, ${blue})`);
    else assert.ok(red > blue + 10, `wrong answers ${row} -> ${col} are orange (${red}, ${blue})`);
  }
  // The text form says where the picture went.
  const text = engram(['eval', '--store', store, '--labels-from', 'dir', knownDir, '--svg', file, '--quiet']);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`confusion matrix written to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

Cli('--label gives every file one true label: a folder of digits the store never learned is all novel', () => {
  const r = engram(['eval', '--store', store, '--label', 'seven', join(mixedDir, '7'), '--json']);
  assert.is(r.status, 0, r.stderr);
  const report = r.lines[0] as unknown as Report;
  assert.equal(report.confusion.rows, ['seven']);
  assert.is(report.counts.novel, 15);
  assert.is(report.openSet.novel.unknown.count + report.openSet.novel.labelled.count, 15);
});

Cli('images lying directly in the folder given are labelled with its name, and a warning says so', () => {
  const loose = join(work, 'loose');
  mkdirSync(join(loose, '1'), { recursive: true });
  for (const f of ['0', '1']) {
    const src = join(knownDir, f);
    const first = readdirFirst(src);
    writeFileSync(f === '0' ? join(loose, 'a.png') : join(loose, '1', 'b.png'), readFileSync(join(src, first)));
  }
  const r = engram(['eval', '--store', store, '--labels-from', 'dir', loose, '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /1 image lies directly in .*loose, so --labels-from dir labels it "loose"; put each class's images in a subfolder/,
  );
  assert.equal((r.lines[0] as unknown as Report).confusion.rows, ['1', 'loose']);
});

Cli('bad inputs give clear errors and exit codes, and create nothing', () => {
  const cases: [string[], number, RegExp][] = [
    [['--labels-from', 'dir', join(work, 'missing')], 2, /missing: no such file or folder/],
    [['--labels-from', 'dir', emptyDir()], 2, /eval: no image files found in .*empty/],
    [[knownDir], 1, /give exactly one of --labels-from dir or --label <label>/],
    [['--label', 'x', '--labels-from', 'dir', knownDir], 1, /give exactly one of/],
    [['--labels-from', 'file', knownDir], 1, /argument 'file' is invalid/],
    [['--labels-from', 'dir', knownDir, '--mistakes', '-1'], 1, /--mistakes: expected a whole number >= 0/],
    [['--labels-from', 'dir', knownDir, '--batch', '0'], 1, /--batch: expected a whole number >= 1/],
    [
      ['--labels-from', 'dir', knownDir, '--svg', join(work, 'no-such-folder', 'c.svg')],
      2,
      /--svg .*c\.svg: folder .*no-such-folder does not exist/,
    ],
    [['--labels-from', 'dir', knownDir, '--svg', work], 2, /is a folder; name a file/],
  ];
  for (const [args, code, message] of cases) {
    const r = engram(['eval', '--store', store, ...args]);
    assert.is(r.status, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.is(r.stdout.includes('confusion matrix'), false, 'no report');
  }
  const broken = join(work, 'broken');
  mkdirSync(join(broken, '1'), { recursive: true });
  writeFileSync(join(broken, '1', 'a.png'), 'not a PNG');
  writeFileSync(join(broken, '1', 'b.jpg'), 'not a JPEG');
  const none = engram(['eval', '--store', store, '--labels-from', 'dir', broken]);
  assert.is(none.status, 2);
  assert.match(none.stderr, /eval: none of the 2 images could be read; the first: .*a\.png/);
  assert.is(none.stdout, '');
  const nowhere = join(work, 'nowhere');
  const r = engram(['eval', '--store', nowhere, '--labels-from', 'dir', knownDir]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /store .*nowhere does not exist/);
  assert.not.ok(existsSync(nowhere), 'eval creates no store');
  const json = engram(['eval', '--store', nowhere, '--labels-from', 'dir', knownDir, '--json']);
  assert.is(json.status, 2);
  assert.is(json.lines.length, 1);
  assert.match(String(json.lines[0].error), /does not exist/);
});

Cli('an unreadable file among good ones: reported, left out of the rates, exit 2; the report is still printed', () => {
  const dir = join(work, 'with-bad');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '2'), { recursive: true });
  const src = join(knownDir, '2');
  const good = readdirFirst(src);
  writeFileSync(join(dir, '2', good), readFileSync(join(src, good)));
  writeFileSync(join(dir, '2', 'broken.png'), 'this is text, not a PNG');
  const r = engram(['eval', '--store', store, '--labels-from', 'dir', dir, '--json']);
  assert.is(r.status, 2);
  assert.is(r.lines.length, 1);
  const report = r.lines[0] as unknown as Report;
  assert.equal([report.counts.items, report.counts.evaluated, report.counts.failed], [2, 1, 1]);
  assert.is(report.failed[0].file, join(dir, '2', 'broken.png'));
  assert.is(report.top1.of, 1);
  assert.match(r.stderr, /1 of 2 files could not be read/);
  const text = engram(['eval', '--store', store, '--labels-from', 'dir', dir]);
  assert.is(text.status, 2);
  assert.match(text.stdout, /could not be read \(1, left out of every rate\):\n {2}.*broken\.png: /);
});

// A real terminal from util-linux `script`: the progress bar appears there, --quiet hides it, and Ctrl-C typed
// into the terminal interrupts with exit code 130.
const scriptMissing = spawnSync('script', ['--version'], { encoding: 'utf8' }).error
  ? 'util-linux script not found (apt-get install bsdutils)'
  : null;

function onTerminal(args: string[]): ReturnType<typeof spawnSync> {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  return spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '120' } });
}

Cli('on a terminal a progress bar shows on stderr; --quiet hides it', () => {
  if (scriptMissing) return console.log(`SKIP progress on a terminal: ${scriptMissing}`);
  const r = onTerminal(['eval', '--store', store, '--labels-from', 'dir', mixedDir, '--batch', '8']);
  assert.is(r.status, 0, String(r.stdout));
  assert.match(String(r.stdout), /evaluating \[/);
  assert.match(String(r.stdout), /confusion matrix/);
  const q = onTerminal(['eval', '--store', store, '--labels-from', 'dir', mixedDir, '--batch', '8', '--quiet']);
  assert.is(q.status, 0, String(q.stdout));
  assert.not.match(String(q.stdout), /evaluating/);
  assert.match(String(q.stdout), /confusion matrix/);
});

Cli('Ctrl-C on the terminal interrupts the evaluation: exit 130, no report', async () => {
  if (scriptMissing) return console.log(`SKIP interrupt on a terminal: ${scriptMissing}`);
  const many = join(work, 'many');
  await writeDigits(many, 'test', [1], 400);
  const cmd = [process.execPath, BIN, 'eval', '--store', store, '--labels-from', 'dir', join(many, 'test'), '--batch', '1']
    .map((a) => `'${a}'`)
    .join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!/evaluating \[[^\]]*\] [1-9]/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  child.stdin.write('\x03');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.is(code, 130, out);
  assert.not.match(out, /confusion matrix/);
});

function emptyDir(): string {
  const dir = join(work, 'empty');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'notes.txt'), 'no images here');
  return dir;
}

function readdirFirst(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.png'))
    .sort()[0];
}

Cli.run();
