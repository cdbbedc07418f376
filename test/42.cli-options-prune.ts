// Learner CLI options a user meets past the first learn, on real image files: --no-center/--no-l2 reach the
// store, every `engram prune` policy through the command line, a device profile's memory budget, and a
// store that refuses a different backbone (two real models that ship with engram, no download needed).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engram, writeDigits } from './helpers/learner-files.js';
import { writeGlyphFp32, writeProfile } from './helpers/learner-glyph-fp32.js';

const work = mkdtempSync(join(tmpdir(), 'engram-cli-opts-'));
// Nothing pulled: the runs do not depend on what this machine's model cache holds.
const env = { ENGRAM_MODELS_DIR: join(work, 'no-models') };
mkdirSync(env.ENGRAM_MODELS_DIR);
const run = (args: string[]) => engram(args, env);
const train = join(work, 'train');

interface Stats {
  classes: number;
  labels: string[];
  connections: number;
  density: number;
  compressedBytes: number;
  bytes: number;
}
const stats = (store: string) => run(['stats', '--store', store, '--json']).lines[0] as unknown as Stats;

const Options = suite('--no-center / --no-l2');

Options.before(async () => {
  await writeDigits(work, 'train', [0, 1, 2, 3, 4], 12);
});

Options('are recorded by the store: later runs keep them, and the defaults are refused against them', () => {
  const store = join(work, 'plain');
  let r = run([
    'learn',
    '--store',
    store,
    '--backbone',
    'engram-glyph',
    '--no-center',
    '--no-l2',
    '--label',
    '0',
    join(train, '0'),
    '--json',
  ]);
  assert.is(r.status, 0, r.stderr);
  r = run(['learn', '--store', store, '--label', '1', join(train, '1'), '--json']);
  assert.is(r.status, 0, 'no flags: the store remembers its options');
  r = run(['learn', '--store', store, '--no-center', '--no-l2', '--label', '2', join(train, '2'), '--json']);
  assert.is(r.status, 0, 'the same options again are accepted');
  // Options given on the command line are taken whole (the rest at their defaults) and must equal the store's.
  r = run(['learn', '--store', store, '--center', '--label', '3', join(train, '3')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /was built with quantizer \{[^}]*"center":false,"l2":false[^}]*\}; refusing \{[^}]*"center":true,"l2":true/);
  r = run(['learn', '--store', store, '--no-center', '--label', '3', join(train, '3')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /refusing \{[^}]*"center":false,"l2":true/);
  assert.is(stats(store).classes, 3);
});

Options('are listed in --help', () => {
  const r = run(['learn', '--help']);
  assert.match(r.stdout, /--no-center/);
  assert.match(r.stdout, /--no-l2/);
});

const Prune = suite('engram prune');
const pstore = join(work, 'prune');

Prune.before(() => {
  const r = run(['learn', '--store', pstore, '--backbone', 'engram-glyph', '--labels-from', 'dir', train, '--json']);
  assert.is(r.status, 0, r.stderr);
});

Prune('--max-classes drops connections of neurons shared by more classes', () => {
  const before = stats(pstore);
  const r = run(['prune', '--store', pstore, '--max-classes', '2', '--json']);
  assert.is(r.status, 0, r.stderr);
  const line = r.lines[0] as { policy: unknown; removed: number; connections: number };
  assert.equal(line.policy, { kind: 'fanin', maxClasses: 2 });
  assert.ok(line.removed > 0, 'five digits share neurons');
  assert.is(line.connections, before.connections - line.removed);
  assert.is(stats(pstore).connections, line.connections);
});

Prune('--max-density keeps the share of connections at most d', () => {
  const before = stats(pstore);
  const d = Math.round(before.density * 0.8 * 1000) / 1000;
  const r = run(['prune', '--store', pstore, '--max-density', String(d), '--json']);
  assert.is(r.status, 0, r.stderr);
  const line = r.lines[0] as { removed: number; density: number };
  assert.ok(line.removed > 0);
  assert.ok(line.density <= d, `${line.density} <= ${d}`);
  assert.ok(stats(pstore).density <= d);
});

Prune('--max-bytes shrinks the compressed size; resident bytes stay, and the summary says why', () => {
  const before = stats(pstore);
  const max = Math.floor(before.compressedBytes * 0.7);
  const r = run(['prune', '--store', pstore, '--max-bytes', String(max)]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /budget \d+ bytes: removed [1-9]\d* connections/);
  const after = stats(pstore);
  assert.ok(after.compressedBytes <= max, `${after.compressedBytes} <= ${max}`);
  assert.is(after.bytes, before.bytes);
  assert.match(
    r.stderr,
    new RegExp(
      `connections ${before.connections} -> ${after.connections}, density [0-9.]+ -> [0-9.]+, compressed ${before.compressedBytes} -> ${after.compressedBytes} bytes; resident ${after.bytes} bytes is fixed by neurons and class capacity`,
    ),
  );
});

Prune('--class forgets one class; policies given together run in one call', () => {
  const r = run(['prune', '--store', pstore, '--class', '2', '--min-count', '1', '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(
    r.lines.map((l) => (l.policy as { kind: string }).kind),
    ['class', 'count'],
  );
  assert.ok((r.lines[0].removed as number) > 0);
  assert.equal(stats(pstore).labels.sort(), ['0', '1', '3', '4']);
});

Prune('bad values are refused and change nothing', () => {
  const before = stats(pstore);
  let r = run(['prune', '--store', pstore, '--max-bytes', '-5']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /--max-bytes: expected a whole number >= 0, got "-5"/);
  r = run(['prune', '--store', pstore, '--max-density', '2']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /policy\.maxDensity/);
  r = run(['prune', '--store', pstore, '--class', 'nine']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /no class named "nine"/);
  assert.equal(stats(pstore), before);
});

const Device = suite('device profile');

Device("a profile's memory budget prunes after the learn that goes over it, said once", () => {
  const profile = writeProfile(work, 'small-board', { memoryBudgetBytes: 1024, backbone: 'engram-glyph' });
  const store = join(work, 'budget');
  const r = run(['learn', '--store', store, '--profile', profile, '--labels-from', 'dir', train, '--json']);
  assert.is(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => /budget/.test(l));
  assert.is(warnings.length, 1, r.stderr);
  assert.match(
    warnings[0],
    /warning: the memory went over the 1024-byte budget of device profile small-board \(compressed connection bits\): pruned back to it/,
  );
  const summary = r.lines.find((l) => 'pruned' in l) as {
    pruned: number;
    budget: { profile: string; bytes: number };
    compressedBytes: number;
  };
  assert.ok(summary && summary.pruned > 0, r.stdout);
  assert.equal(summary.budget, { profile: 'small-board', bytes: 1024 });
  const s = stats(store);
  assert.ok(s.compressedBytes <= 1024, `${s.compressedBytes} bytes`);
  assert.is(s.compressedBytes, summary.compressedBytes);
  assert.is(s.classes, 5);
});

Device('a store refuses a backbone other than the one it was made with (two real models, no download)', () => {
  const fp32 = writeGlyphFp32(work);
  const store = join(work, 'fp32');
  let r = run(['learn', '--store', store, '--backbone', fp32, '--quantizer', 'sign', '--label', '0', join(train, '0'), '--json']);
  assert.is(r.status, 0, r.stderr);
  r = run(['learn', '--store', store, '--backbone', 'engram-glyph', '--label', '1', join(train, '1')]);
  assert.is(r.status, 2);
  assert.match(
    r.stderr,
    /was built with backbone engram-glyph-fp32 \(sha256 [0-9a-f]{12}\); refusing engram-glyph \(sha256 [0-9a-f]{12}\)/,
  );
  const s = stats(store);
  assert.is(s.classes, 1, 'nothing was added by the refused command');
  r = run(['learn', '--store', store, '--label', '1', join(train, '1'), '--json']);
  assert.is(r.status, 0, 'without --backbone the store reopens its own');
});

Device.after(() => rmSync(work, { recursive: true, force: true }));

Options.run();
Prune.run();
Device.run();
