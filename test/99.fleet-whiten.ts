// Fleets and the whitening a store fits on its own first learn (--whiten auto, the default): two such stores
// code in different spaces, so each refuses the other's messages, saying why and what to do; a device started
// from a member's export file takes that member's whitening and shares with it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engram } from '../src/learner/engram.js';
import { BIN, engram } from './helpers/learner-files.js';
import { Broker, freePort, mosquittoPath, sleep, until } from './helpers/fleet-broker.js';
import { Rng } from '../src/util/rng.js';

const bin = mosquittoPath();
const test = suite('fleets and self-fitted whitening');
const work = mkdtempSync(join(tmpdir(), 'engram-99-'));
const DIM = 160; // more than the whitening's 128 directions: a store fits its own only then
const QUANTIZER = { dim: DIM, neurons: 512, k: 24 };
const [A, B, C] = ['a', 'b', 'c'].map((n) => join(work, n));
const allow = join(work, 'allow.txt');
const rng = new Rng(99);
let broker: Broker;
const children: ChildProcess[] = [];

/** 64 examples around a prototype of its own, in a skewed space (so a whitening is worth fitting). */
function examples(seed: number, n = 64): Float32Array[] {
  const proto = Float32Array.from({ length: DIM }, (_, j) => Math.sin(j * (seed + 1)) * (1 + j / 4));
  return Array.from({ length: n }, () => Float32Array.from(proto, (v, j) => v + (rng.next() - 0.5) * (1 + j / 8)));
}

async function learn(store: string, label: string, seed: number, n?: number): Promise<string> {
  const e = await Engram.open({ store, quantizer: QUANTIZER, backbone: null });
  try {
    await e.learn(label, examples(seed, n));
    return e.stats().quantizer.codebookId;
  } finally {
    await e.close();
  }
}

function sync(store: string): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(
    process.execPath,
    [BIN, 'sync', '--json', '--store', store, '--broker', broker.url, '--fleet', 'w', '--allow', allow, '--interval', '100'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  children.push(child);
  return { child, out: () => out, err: () => err };
}

async function stop(p: { child: ChildProcess }): Promise<void> {
  if (p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  await new Promise((r) => p.child.once('exit', r));
}

test.before(async () => {
  if (!bin) return;
  broker = new Broker(bin, work, await freePort());
  await broker.start();
});

test.after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
});

if (!bin) {
  console.log('SKIP 99.fleet-whiten: mosquitto is not installed');
} else {
  test('two stores that whitened themselves refuse each other, saying why and what to do', async () => {
    const a = await learn(A, 'a0', 0);
    const b = await learn(B, 'b0', 1);
    assert.is.not(a, 'none', 'a fitted a whitening on its first learn');
    assert.is.not(b, 'none', 'b fitted a whitening on its first learn');
    assert.is.not(a, b);
    const keys = [A, B, C].map((s, i) => {
      if (i === 2) return null;
      const r = engram(['sync', '--store', s, '--print-key']);
      assert.is(r.status, 0, r.stderr);
      return r.stdout.trim();
    });
    writeFileSync(allow, `${keys.filter(Boolean).join('\n')}\n`);
    const pa = sync(A);
    const pb = sync(B);
    const why =
      /refused a message on engram\/w\/state\/\w+: device \w+ \(\w+\) learns in another memory space \(\w+; this device: \w+\): .*engram import --store NEW FILE.*--codebook FILE or --whiten off/;
    await until('both to refuse the other', () => why.test(pa.err()) && why.test(pb.err()));
    await sleep(300);
    for (const p of [pa, pb]) {
      assert.not.match(p.out(), /"event":"applied"/);
      await stop(p);
    }
    assert.equal(engram(['stats', '--store', A, '--json']).lines[0].labels, ['a0']);
    assert.equal(engram(['stats', '--store', B, '--json']).lines[0].labels, ['b0']);
  });

  test("a device started from a member's export file takes its whitening and shares with it", async () => {
    const file = join(work, 'a.egf');
    let r = engram(['export', '--store', A, '-o', file]);
    assert.is(r.status, 0, r.stderr);
    r = engram(['import', '--store', C, file]);
    assert.is(r.status, 0, r.stderr);
    const a = engram(['stats', '--store', A, '--json']).lines[0] as { quantizer: { codebookId: string } };
    // C learns a class of its own: its first learn keeps the whitening it was made with.
    const c = await learn(C, 'c0', 2, 8);
    assert.is(c, a.quantizer.codebookId);
    r = engram(['sync', '--store', C, '--print-key']);
    writeFileSync(allow, `${r.stdout.trim()}\n`, { flag: 'a' });
    const pa = sync(A);
    const pc = sync(C);
    // c holds a's classes from the file already; a hears of c's class. b's retained state is still refused.
    await until('a to apply the class c learned', () => /"event":"applied".*"c0"/.test(pa.out()));
    await until('c to publish', () => /"event":"published","kind":"state"/.test(pc.out()));
    const aOrigin = /"event":"ready","origin":"(\w+)"/.exec(pa.out())![1];
    assert.not.match(pc.err(), new RegExp(`device ${aOrigin}`), "c takes a's messages");
    for (const p of [pa, pc]) await stop(p);
    for (const s of [A, C]) assert.equal(engram(['stats', '--store', s, '--json']).lines[0].labels, ['a0', 'c0']);
  });
}

test.run();
