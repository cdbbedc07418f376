// engram threshold through the CLI on real digit images: show how the threshold was set, fix it (journaled,
// kept across a reopen and a later learn), return to calibration, refuse bad values; stats says the same.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engram, writeDigits } from './helpers/learner-files.js';
import { decodeOp, encodeOp } from '../src/learner/ops.js';

const work = mkdtempSync(join(tmpdir(), 'engram-threshold-'));
const run = (args: string[]) => engram(args, { ENGRAM_MODELS_DIR: join(work, 'models') });
const store = join(work, 'store');
const test = suite('engram threshold');

test.before(async () => {
  await writeDigits(work, 'train', [0, 1, 2], 12);
  await writeDigits(work, 'test', [0, 1, 2, 7], 10);
  const r = run(['learn', '--store', store, '--backbone', 'engram-glyph', '--labels-from', 'dir', join(work, 'train')]);
  assert.is(r.status, 0, r.stderr);
});

test('shows the calibrated threshold and what it was calibrated from', () => {
  const r = run(['threshold', '--store', store, '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.lines[0].source, 'calibrated');
  const c = r.lines[0].calibration as { known: number; novel: number };
  assert.ok(c.known > 0 && c.novel > 0, JSON.stringify(c));
  assert.ok((r.lines[0].threshold as number) > 0);
});

test('--set fixes it: journaled, kept after a reopen and a later learn; predict answers by it', () => {
  let r = run(['threshold', '--store', store, '--set', '0.99', '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.equal([r.lines[0].threshold, r.lines[0].source], [0.99, 'fixed']);
  r = run(['learn', '--store', store, '--label', '2', join(work, 'test', '2')]);
  assert.is(r.status, 0, r.stderr);
  const s = run(['stats', '--store', store, '--json']);
  assert.equal([s.lines[0].threshold, s.lines[0].thresholdSource], [0.99, 'fixed']);
  const p = run(['predict', '--store', store, join(work, 'test', '0'), '--json']);
  assert.ok(p.lines.filter((l) => 'label' in l).every((l) => l.label === null || (l.score as number) >= 0.99));
  assert.match(run(['stats', '--store', store]).stdout, /unknown threshold: 0\.990, fixed/);
});

test('--auto returns to calibration', () => {
  const r = run(['threshold', '--store', store, '--auto', '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.lines[0].source, 'calibrated');
  assert.ok((r.lines[0].threshold as number) < 0.99);
});

test('bad values and conflicting flags are usage errors; nothing changes', () => {
  for (const bad of ['2', '-0.1', 'high', '']) {
    const r = run(['threshold', '--store', store, '--set', bad]);
    assert.is(r.status, 1, `--set ${bad}`);
    assert.match(r.stderr, /--set: expected a number from 0 to 1/);
  }
  const r = run(['threshold', '--store', store, '--set', '0.5', '--auto']);
  assert.is(r.status, 1);
  assert.is(run(['threshold', '--store', store, '--json']).lines[0].source, 'calibrated');
  assert.is(run(['threshold', '--store', join(work, 'none')]).status, 2, 'a missing store is not created');
});

test('the journal record round-trips and refuses damage', () => {
  for (const value of [null, 0, 0.25, 1]) assert.equal(decodeOp(encodeOp({ op: 'threshold', value })), { op: 'threshold', value });
  const bad = encodeOp({ op: 'threshold', value: 0.5 });
  bad.writeDoubleLE(3, 2);
  assert.throws(() => decodeOp(bad), /threshold record out of range/);
  assert.throws(() => decodeOp(bad.subarray(0, 5)), /threshold record length/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
