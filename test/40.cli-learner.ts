// The learner CLI end to end on real image files (MNIST digits as PNG/JPEG), as a user runs it:
// learn, predict, forget, prune, stats, exit codes and refusal of a mismatched backbone.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, engram, writeDigits } from './helpers/learner-files.js';

const DIGITS = [0, 1, 2, 3, 4];
const work = mkdtempSync(join(tmpdir(), 'engram-cli-'));
// An empty model cache: the default backbone is the embedded one whatever this machine has pulled (the
// detected device profile's backbone is not installed, so engram falls back to it with one warning).
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');
const store = join(work, 'store');
let trained = false;

const Usage = suite('CLI usage and input errors');

Usage('--help lists the learner commands and exits 0', () => {
  const r = engram(['--help']);
  assert.is(r.status, 0);
  for (const c of ['learn', 'predict', 'forget', 'prune', 'stats', 'demo']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  const learn = engram(['learn', '--help']);
  assert.is(learn.status, 0);
  assert.match(learn.stdout, /--labels-from/);
  assert.match(learn.stdout, /Examples:/);
});

Usage('a reader that closes the pipe early ends the output quietly (exit 141 as for SIGPIPE, no stack trace)', async () => {
  // stdout's reading end is closed before engram writes its help, so the write fails with EPIPE.
  const proc = spawn(process.execPath, [BIN, 'learn', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.destroy();
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const status = await new Promise<number | null>((done) => proc.on('close', (code) => done(code)));
  assert.is(stderr, '');
  assert.is(status, 141);
});

Usage('usage errors exit 1, input errors exit 2, both with a message naming the problem', () => {
  let r = engram(['learn', '--store', store, 'x.png']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /exactly one of --label <label> or --labels-from dir/);
  r = engram(['learn', '--store', store, '--label', 'a', '--bogus', 'x.png']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /unknown option '--bogus'/);
  r = engram(['learn', '--store', store, '--label', 'a', join(work, 'missing.png')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /missing\.png: no such file or folder/);
  r = engram(['predict', '--store', join(work, 'nowhere'), join(work, 'missing.png')]);
  assert.is(r.status, 2);
  r = engram(['stats', '--store', join(work, 'nowhere')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /does not exist/);
  assert.not.ok(existsSync(join(work, 'nowhere')), 'a failed stats creates no store');
});

const E2E = suite('CLI end to end with the default backbone');

E2E.before(async () => {
  await writeDigits(work, 'train', DIGITS, 12);
  await writeDigits(work, 'test', DIGITS, 20);
});

E2E('learn --labels-from dir learns one class per folder', () => {
  const r = engram(['learn', '--store', store, '--labels-from', 'dir', join(work, 'train'), '--json']);
  assert.is(r.status, 0, r.stderr);
  const perLabel = r.lines.filter((l) => 'label' in l);
  assert.equal(perLabel.map((l) => l.label).sort(), DIGITS.map(String));
  assert.ok(perLabel.every((l) => l.stored === 12));
  assert.equal(r.lines[r.lines.length - 1], { ...r.lines[r.lines.length - 1], summary: true, stored: 12 * DIGITS.length, failed: 0 });
  trained = true;
});

E2E('predict names held-out digits well above chance, one JSON line per file', () => {
  assert.ok(trained);
  const r = engram(['predict', '--store', store, join(work, 'test'), '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.lines.length, DIGITS.length * 20);
  for (const l of r.lines) {
    assert.type(l.file, 'string');
    assert.type(l.score, 'number');
    assert.type(l.margin, 'number');
    assert.ok('label' in l);
  }
  const correct = r.lines.filter((l) => String(l.file).split('/').at(-2) === (l.top as { label: string }[])[0].label).length;
  const acc = correct / r.lines.length;
  console.log(`default backbone, 5 digits x 12 shots: held-out accuracy ${(100 * acc).toFixed(1)}%`);
  assert.ok(acc >= 0.85, `accuracy ${acc} (chance 0.2)`);
});

E2E('a bad file among good ones is reported (exit 2) and the good ones still count', () => {
  const bad = join(work, 'not-an-image.png');
  writeFileSync(bad, 'this is text, not a PNG');
  const r = engram(['learn', '--store', store, '--label', '4', bad, join(work, 'test', '4'), '--json']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /not-an-image\.png/);
  const stats = engram(['stats', '--store', store, '--json']).lines[0] as { examples: Record<string, number> };
  assert.is(stats.examples['4'], 12 + 20);
});

E2E('forget removes a class: its images are no longer predicted as it', () => {
  const r = engram(['forget', '--store', store, '3', '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.ok((r.lines[0].removed as number) > 0);
  const p = engram(['predict', '--store', store, join(work, 'test', '3'), '--json']);
  assert.ok(p.lines.length === 20 && p.lines.every((l) => l.label !== '3' && (l.top as { label: string }[]).every((t) => t.label !== '3')));
  const again = engram(['forget', '--store', store, '3']);
  assert.is(again.status, 2);
  assert.match(again.stderr, /no class named "3"/);
});

E2E('prune shrinks the memory and stats shows it', () => {
  const before = engram(['stats', '--store', store, '--json']).lines[0] as { connections: number; density: number };
  const r = engram(['prune', '--store', store, '--min-count', '2', '--json']);
  assert.is(r.status, 0, r.stderr);
  const after = engram(['stats', '--store', store, '--json']).lines[0] as { connections: number; density: number };
  assert.ok((r.lines[0].removed as number) > 0);
  assert.is(after.connections, before.connections - (r.lines[0].removed as number));
  assert.ok(after.density < before.density);
  const none = engram(['prune', '--store', store]);
  assert.is(none.status, 1);
});

E2E('an interrupted learn exits 130 and keeps every batch it acknowledged', async () => {
  const many = join(work, 'many');
  const files = await writeDigits(many, 'train', [7], 400);
  const interrupted = join(work, 'interrupted');
  const child = spawn(process.execPath, [BIN, 'learn', '--store', interrupted, '--label', '7', '--batch', '4', ...files], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // Interrupt once the first batches are in the journal.
  // The learner renames temporary files into place while this polls: a file listed may be gone by its stat.
  const sizeOf = (f: string) => {
    try {
      return statSync(join(interrupted, f)).size;
    } catch {
      return 0;
    }
  };
  const journalBytes = () =>
    existsSync(interrupted)
      ? readdirSync(interrupted)
          .filter((f) => f.startsWith('journal') && !f.endsWith('.tmp'))
          .reduce((n, f) => n + sizeOf(f), 0)
      : 0;
  const deadline = Date.now() + 60_000;
  while (journalBytes() < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.is(code, 130, stderr);
  const stats = engram(['stats', '--store', interrupted, '--json']);
  assert.is(stats.status, 0, stats.stderr);
  const stored = (stats.lines[0].examples as Record<string, number>)['7'];
  assert.ok(stored > 0 && stored < 400 && stored % 4 === 0, `stored ${stored} of 400, in whole batches`);
});

E2E.after(() => rmSync(work, { recursive: true, force: true }));

Usage.run();
E2E.run();
