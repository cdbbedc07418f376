// The memory-unit and quantizer flags through the command line, on real digit images with the embedded
// backbone: --units example / --vote reach the store and are remembered, --two-sided top-k codes, and
// `engram prune --share`, with the errors a user meets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engram, writeDigits } from './helpers/learner-files.js';

const work = mkdtempSync(join(tmpdir(), 'engram-cli-units-'));
const env = { ENGRAM_MODELS_DIR: join(work, 'no-models') };
mkdirSync(env.ENGRAM_MODELS_DIR);
const run = (args: string[]) => engram(args, env);
const train = join(work, 'train');
const test = join(work, 'test');

interface Stats {
  classes: number;
  connections: number;
  units: { kind: string; columns: number; vote?: number };
}
const stats = (store: string) => run(['stats', '--store', store, '--json']).lines[0] as unknown as Stats;

const Units = suite('--units example');

Units.before(async () => {
  await writeDigits(work, 'train', [0, 1, 2], 10);
  await writeDigits(work, 'test', [0, 1, 2], 10);
});
Units.after(() => rmSync(work, { recursive: true, force: true }));

Units('stores one column per image, is remembered, predicts held-out digits, and refuses other units', () => {
  const store = join(work, 'units');
  for (const d of ['0', '1', '2']) {
    const r = run([
      'learn',
      '--store',
      store,
      '--backbone',
      'engram-glyph',
      '--units',
      'example',
      '--vote',
      '3',
      '--label',
      d,
      join(train, d),
      '--json',
    ]);
    assert.is(r.status, 0, r.stderr);
  }
  assert.equal(stats(store).units, { kind: 'example', columns: 30, vote: 3 });
  let right = 0;
  let total = 0;
  for (const d of ['0', '1', '2']) {
    const r = run(['predict', '--store', store, join(test, d), '--json']);
    assert.is(r.status, 0, r.stderr);
    for (const line of r.lines as unknown as { top: { label: string }[] }[]) {
      total++;
      if (line.top[0].label === d) right++;
    }
  }
  assert.is(total, 30);
  assert.ok(right >= 24, `${right} of 30 held-out digits right`);
  let r = run(['prune', '--store', store, '--min-count', '2']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /count pruning does not apply to example units/);
  r = run(['learn', '--store', store, '--units', 'class', '--label', '0', join(train, '0')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /was built with memory\.units = example; refusing class/);
  r = run(['learn', '--store', join(work, 'implied'), '--vote', '2', '--label', '0', join(train, '0'), '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(stats(join(work, 'implied')).units, { kind: 'example', columns: 10, vote: 2 });
  r = run(['learn', '--store', join(work, 'bad'), '--units', 'class', '--vote', '3', '--label', '0', join(train, '0')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /memory\.vote: only applies with units "example"/);
  r = run(['learn', '--store', join(work, 'bad'), '--units', 'examples', '--label', '0', join(train, '0')]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /--units/);
});

Units('--two-sided top-k codes and prune --share through the command line', () => {
  const store = join(work, 'topk');
  for (const d of ['0', '1', '2']) {
    const r = run([
      'learn',
      '--store',
      store,
      '--backbone',
      'engram-glyph',
      '--topk',
      '8',
      '--two-sided',
      '--label',
      d,
      join(train, d),
      '--json',
    ]);
    assert.is(r.status, 0, r.stderr);
  }
  const before = stats(store).connections;
  let r = run(['prune', '--store', store, '--share', '0.3', '--json']);
  assert.is(r.status, 0, r.stderr);
  const after = stats(store).connections;
  assert.ok(after < before, `share pruning removed nothing (${before} -> ${after})`);
  r = run(['prune', '--store', store, '--share', 'most']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /--share: expected a number >= 0, got "most"/);
  r = run(['learn', '--help']);
  for (const flag of ['--units', '--vote', '--two-sided']) assert.match(r.stdout, new RegExp(flag));
});

Units.run();
