// --quiet silences every note: the line saying which execution provider runs the backbone reaches the
// terminal only through the command's logger, never from the backbone itself. A device profile that asks for
// CUDA first (which does not start here) makes the backbone fall back to the CPU, the case that used to be
// written to stderr past --quiet by predict, prune, stats, forget and serve.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, engram, writeDigits } from './helpers/learner-files.js';

const work = mkdtempSync(join(tmpdir(), 'engram-quiet-'));
const store = join(work, 'store');
// The profile's id must be its file name; its providers ask for CUDA before the CPU.
const profile = join(work, 'cuda-first.json');
const test = suite('--quiet: notes go through the caller');
let digits: string;

const FALLBACK = /skipped cuda/;

test.before(async () => {
  const p = JSON.parse(readFileSync(join(ROOT, 'devices', 'generic-x86_64.json'), 'utf8')) as Record<string, unknown>;
  Object.assign(p, {
    $schema: join(ROOT, 'devices', 'schema.json'),
    id: 'cuda-first',
    executionProviders: ['cuda', 'cpu'],
    backbone: 'engram-glyph',
  });
  writeFileSync(profile, JSON.stringify(p));
  await writeDigits(work, 'train', [0, 1, 2], 4);
  digits = join(work, 'train', '0');
  const r = engram(['learn', '--store', store, '--backbone', 'engram-glyph', '--labels-from', 'dir', join(work, 'train'), '--quiet']);
  assert.is(r.status, 0, r.stderr);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

// Each command twice, without and with --quiet (forget forgets a different class each time).
const commands: [string, () => string[], () => string[]][] = [
  ['predict', () => ['predict', '--store', store, digits], () => ['predict', '--store', store, digits]],
  ['stats', () => ['stats', '--store', store], () => ['stats', '--store', store]],
  ['prune', () => ['prune', '--store', store, '--min-count', '1'], () => ['prune', '--store', store, '--min-count', '1']],
  ['forget', () => ['forget', '--store', store, '2'], () => ['forget', '--store', store, '1']],
];

for (const [name, loudArgs, quietArgs] of commands) {
  test(`${name}: the fallback note is a warning without --quiet, and nothing on stderr with it`, () => {
    const loud = engram([...loudArgs(), '--profile', profile]);
    assert.is(loud.status, 0, loud.stderr);
    assert.match(loud.stderr, /^warning: backbone engram-glyph: execution provider cpu/m);
    assert.match(loud.stderr, FALLBACK);
    const quiet = engram([...quietArgs(), '--profile', profile, '--quiet']);
    assert.is(quiet.status, 0, quiet.stderr);
    assert.is(quiet.stderr, '');
    assert.ok(quiet.stdout.length > 0, `${name} still answers on stdout`);
  });
}

/** Starts serve --http on a free port, waits until it listens, interrupts it; returns what it printed. */
async function serve(extra: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--http', '127.0.0.1:0', '--store', store, '--profile', profile, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((done) => proc.on('exit', (code) => done(code)));
  const t0 = Date.now();
  while (!/serving http:\/\//.test(stdout)) {
    if (proc.exitCode !== null || Date.now() - t0 > 30_000) {
      proc.kill('SIGKILL');
      throw new Error(`engram serve did not start:\n${stdout}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  proc.kill('SIGINT');
  return { code: await exited, stdout, stderr };
}

test('serve --http: the note is a warning without --quiet, and nothing on stderr with it', async () => {
  const loud = await serve([]);
  assert.is(loud.code, 130, loud.stderr); // interrupted, after a clean stop
  assert.match(loud.stderr, FALLBACK);
  const quiet = await serve(['--quiet']);
  assert.is(quiet.code, 130, quiet.stderr);
  assert.is(quiet.stderr, '');
  assert.match(quiet.stdout, /serving http:\/\/127\.0\.0\.1:\d+\//);
});

test.run();
