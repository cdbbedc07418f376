// engram serve and engram client as a user runs them: two processes on the two ends of a socat pty
// pair. Covers every client command, clear failures, the LEARN ACK surviving a killed server (the store
// had it on disk; in batched mode the ACK waits for the group commit), and a clean exit 130 on Ctrl-C.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engram } from '../src/learner/engram.js';
import { socatMissing, startSocat, type SocatPair } from './helpers/link-socat.js';
import { LINK_DIM, LINK_TOPK, classVector } from './helpers/link-vectors.js';

const missing = socatMissing();
const cli = suite('engram serve + engram client over a pty');

const ctx = {} as { dir: string; pair: SocatPair; serve: ChildProcess | null; stdout: string; stderr: string; store: string };

function serveArgs(extra: string[]): string[] {
  return [
    join('bin', 'engram.js'),
    'serve',
    '--serial',
    ctx.pair.ptys[0],
    '--baud',
    '115200',
    '--store',
    ctx.store,
    '--features',
    String(LINK_DIM),
    '--topk',
    String(LINK_TOPK),
    '--json',
    ...extra,
  ];
}

function startServe(extra: string[] = []): Promise<void> {
  ctx.stdout = '';
  ctx.stderr = '';
  const proc = spawn(process.execPath, serveArgs(extra), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  ctx.serve = proc;
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (ctx.stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (ctx.stderr += d));
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      if (/"event":"listening"/.test(ctx.stdout)) {
        clearInterval(poll);
        resolve();
      } else if (proc.exitCode !== null || Date.now() - t0 > 15000) {
        clearInterval(poll);
        reject(new Error(`engram serve did not start (exit ${proc.exitCode}):\n${ctx.stdout}\n${ctx.stderr}`));
      }
    }, 20);
  });
}

function stopServe(signal: NodeJS.Signals): Promise<number | null> {
  const proc = ctx.serve!;
  ctx.serve = null;
  return new Promise((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.kill(signal);
  });
}

function client(...args: string[]): { status: number | null; stdout: string; stderr: string; json: Record<string, unknown> | null } {
  const r = spawnSync(process.execPath, [join('bin', 'engram.js'), 'client', '--serial', ctx.pair.ptys[1], ...args], {
    encoding: 'utf8',
    timeout: 30000,
  });
  let json: Record<string, unknown> | null = null;
  const last = r.stdout.trim().split('\n').at(-1);
  if (args.includes('--json') && last) json = JSON.parse(last);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

function vectorFile(name: string, v: Float32Array, format: 'json' | 'f32'): string {
  const file = join(ctx.dir, `${name}.${format}`);
  if (format === 'json') writeFileSync(file, JSON.stringify([...v]));
  else {
    const b = Buffer.alloc(v.length * 4);
    v.forEach((x, i) => b.writeFloatLE(x, i * 4));
    writeFileSync(file, b);
  }
  return file;
}

cli.before(async () => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'engram-link-cli-'));
  ctx.store = join(ctx.dir, 'store');
  ctx.pair = await startSocat(ctx.dir);
  await startServe();
});

cli.after(async () => {
  if (ctx.serve) await stopServe('SIGKILL');
  await ctx.pair?.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
});

cli('hello, learn, predict, stats, prune, forget and save from the command line', () => {
  const hello = client('hello', '--json');
  assert.is(hello.status, 0, hello.stderr);
  assert.equal([hello.json!.version, hello.json!.featureDim, hello.json!.images], [2, LINK_DIM, false]);

  for (let c = 0; c < 3; c++) {
    const r = client('learn', `c${c}`, '--features', vectorFile(`c${c}`, classVector(c, 1), c % 2 ? 'f32' : 'json'), '--json');
    assert.is(r.status, 0, r.stderr);
    assert.equal([r.json!.label, r.json!.stored, r.json!.classes], [`c${c}`, 1, c + 1]);
  }
  const p = client('predict', '--features', vectorFile('q1', classVector(1, 7), 'f32'), '--top', '2', '--json');
  assert.is(p.status, 0, p.stderr);
  assert.is(p.json!.label, 'c1');
  assert.is((p.json!.top as unknown[]).length, 2);
  const human = client('predict', '--features', vectorFile('q2', classVector(2, 7), 'json'));
  assert.match(human.stdout, /^c2 \(score \d\.\d{3}, margin \d\.\d{3}\)/);

  const s = client('stats', '--json');
  assert.equal([s.json!.classes, s.json!.examples, s.json!.labels], [3, 3, ['c0', 'c1', 'c2']]);
  const pr = client('prune', '--fanin', '2', '--json');
  assert.is(pr.status, 0, pr.stderr);
  assert.type(pr.json!.bytes, 'number');
  const f = client('forget', 'c0', '--json');
  assert.is(f.json!.label, 'c0');
  assert.ok((f.json!.removed as number) > 0);
  const sv = client('save', '--json');
  assert.equal(sv.json, { saved: true });
});

cli('errors are clear: refused input, missing port, bad usage', () => {
  const wrong = client('learn', 'x', '--features', vectorFile('short', new Float32Array(3), 'json'));
  assert.is(wrong.status, 2);
  assert.match(wrong.stderr, /engram: INVALID_ARGUMENT: inputs\[0\]: expected a feature vector of length 32/);
  // Without --baud the client takes the board's profile's rate, as serve does.
  for (const [profile, baud] of [
    ['raspberry-pi-4', 115200],
    ['raspberry-pi-5', 921600],
  ] as const) {
    const r = spawnSync(
      process.execPath,
      [join('bin', 'engram.js'), 'client', '--serial', join(ctx.dir, 'no-such-tty'), '--profile', profile, 'hello'],
      { encoding: 'utf8' },
    );
    assert.is(r.status, 2);
    assert.match(
      r.stderr,
      new RegExp(`serial port .*no-such-tty: cannot open at ${baud} baud: .*\\(the device does not exist: check the cable and the path\\)`),
    );
  }
  const usage = client('prune');
  assert.is(usage.status, 1);
  assert.match(usage.stderr, /prune: give one policy/);
  const noFile = client('learn', 'x', join(ctx.dir, 'missing.png'));
  assert.is(noFile.status, 2);
  assert.match(noFile.stderr, /missing.png: cannot read \(ENOENT\)/);
});

cli('an acknowledged LEARN survives the server being killed at once', async () => {
  const r = client('learn', 'kept', '--features', vectorFile('kept', classVector(5, 3), 'f32'), '--json');
  assert.is(r.status, 0, r.stderr);
  await stopServe('SIGKILL'); // no chance to flush anything after the ACK
  const engram = await Engram.open({ store: ctx.store });
  try {
    const s = engram.stats();
    assert.ok(s.labels.includes('kept'), `labels after the kill: ${s.labels}`);
    assert.is(s.examples.kept, 1);
    assert.is((await engram.predict([classVector(5, 9)]))[0].label, 'kept');
  } finally {
    await engram.close();
  }
  await startServe();
  assert.is(client('stats', '--json').json!.classes, 3, 'serve reopens the same store');
});

cli('batched serve: a LEARN is ACKed only after its group commit, and survives a kill right after', async () => {
  const batchMs = 1500;
  await stopServe('SIGKILL');
  await startServe(['--durability', 'batched', '--batch-ms', String(batchMs)]);
  const t0 = Date.now();
  const r = client('learn', 'late', '--features', vectorFile('late', classVector(6, 3), 'f32'), '--json');
  const ms = Date.now() - t0;
  assert.is(r.status, 0, r.stderr);
  // The record is written at once and fsynced batchMs later; the ACK cannot come sooner.
  assert.ok(ms >= batchMs, `the ACK came ${ms} ms after the request, inside the ${batchMs} ms group-commit window`);
  await stopServe('SIGKILL');
  const engram = await Engram.open({ store: ctx.store });
  try {
    assert.is(engram.stats().examples.late, 1, 'the acknowledged LEARN is in the store');
  } finally {
    await engram.close();
  }
  for (const [extra, message] of [
    [['--durability', 'batched', '--batch-ms', '0'], /--batch-ms: expected a whole number of milliseconds from 1 to 60000, got "0"/],
    [['--batch-ms', '50'], /--batch-ms: only applies with --durability batched \(durability is strict\)/],
  ] as const) {
    const bad = spawnSync(process.execPath, serveArgs([...extra]), { encoding: 'utf8', timeout: 15000 });
    assert.is(bad.status, 1, bad.stderr);
    assert.match(bad.stderr, message);
  }
  await startServe();
});

cli('Ctrl-C stops serve with exit 130 after closing the port and the store', async () => {
  const code = await stopServe('SIGINT');
  assert.is(code, 130);
  assert.match(ctx.stdout, /"event":"stopped"/);
  const engram = await Engram.open({ store: ctx.store }); // the lock was released
  await engram.close();
});

if (missing) console.log(`SKIP 65.link-cli: ${missing}`);
else cli.run();
