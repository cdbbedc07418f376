// engram sync with a real Mosquitto broker (started here on a free port from a generated config): three
// engram processes learn and forget different classes and converge; the broker restarts mid-run; one process is
// SIGKILLed, keeps learning offline and comes back; old messages delivered again and out of order change
// nothing; a tampered, an unsigned and a stranger's message are refused and logged. Nothing acknowledged is lost.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Engram } from '../src/learner/engram.js';
import { BIN, engram } from './helpers/learner-files.js';
import { Broker, freePort, mosquittoPath, sleep, until } from './helpers/fleet-broker.js';
import { Rng } from '../src/util/rng.js';
import { signMessage, originOf } from '../src/fleet/sign.js';
import { encodeUpdate } from '../src/fleet/codec.js';

const SEED = Number(process.env.SEED ?? 96);
console.log(`96.fleet-sync seed=${SEED}`);
const bin = mosquittoPath();
const test = suite('engram sync over MQTT');
const DIM = 24;
const QUANTIZER = { dim: DIM, neurons: 512, k: 24, whiten: 'off' as const };
const rng = new Rng(SEED);
const protos = Array.from({ length: 8 }, () => Float32Array.from({ length: DIM }, () => rng.next() * 2 - 1));
function features(c: number, n: number): Float32Array[] {
  return Array.from({ length: n }, () => Float32Array.from(protos[c], (v) => v + 0.15 * (rng.next() - 0.5)));
}
const queries = protos.flatMap((_, c) => features(c, 2));

const work = mkdtempSync(join(tmpdir(), 'engram-96-'));
const stores = ['a', 'b', 'c'].map((n) => join(work, n));
const allow = join(work, 'allow.txt');
let broker: Broker;

/** Opens a store for a change, retrying while sync holds its lock for a moment. */
async function withStore<T>(store: string, fn: (e: Engram) => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    let e: Engram;
    try {
      e = await Engram.open({ store, quantizer: QUANTIZER, backbone: null });
    } catch (err) {
      if (i < 200 && /lock/i.test((err as Error).message)) {
        await sleep(25);
        continue;
      }
      throw err;
    }
    try {
      return await fn(e);
    } finally {
      await e.close();
    }
  }
}
const learn = (s: number, c: number, n = 3) => withStore(stores[s], (e) => e.learn(`c${c}`, features(c, n)));
const forget = (s: number, c: number) => withStore(stores[s], (e) => e.forget(`c${c}`));

/** What a store answers: its classes and its predictions on fixed queries. */
async function answers(store: string): Promise<string> {
  const e = await Engram.open({ store, readOnly: true, backbone: null });
  try {
    const p = await e.predict(queries);
    return JSON.stringify({ classes: e.stats().classes, labels: p.map((x) => x.top.map((t) => [t.label, t.score.toFixed(9)])) });
  } finally {
    await e.close();
  }
}
async function classes(store: string): Promise<string[]> {
  const e = await Engram.open({ store, readOnly: true, backbone: null });
  try {
    const p = await e.predict(queries, { top: 20 });
    return [...new Set(p.flatMap((x) => x.top.map((t) => t.label)))].sort();
  } finally {
    await e.close();
  }
}

/** Waits until every store answers the same and holds `want` classes; returns the common answer. */
async function converge(want: string[], ms = 30_000): Promise<string> {
  const until = Date.now() + ms;
  let last: string[] = [];
  while (Date.now() < until) {
    try {
      last = await Promise.all(stores.map(answers));
      const cls = await classes(stores[0]);
      if (last.every((a) => a === last[0]) && JSON.stringify(cls) === JSON.stringify(want)) return last[0];
    } catch {
      // A store between two writes of sync: look again.
    }
    await sleep(200);
  }
  throw new Error(`no convergence on ${want.join(',')}: ${last.map((a) => a.slice(0, 160)).join('\n')}`);
}

interface Proc {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: string;
}
const procs: (Proc | null)[] = [null, null, null];
function startSync(s: number): Proc {
  const child = spawn(
    process.execPath,
    [BIN, 'sync', '--json', '--store', stores[s], '--broker', broker.url, '--fleet', 'test', '--allow', allow, '--interval', '100'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const p: Proc = { child, lines: [], stderr: '' };
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const l of parts) if (l.startsWith('{')) p.lines.push(JSON.parse(l));
  });
  child.stderr.on('data', (d: Buffer) => (p.stderr += d.toString()));
  procs[s] = p;
  return p;
}
function stop(p: Proc | null, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (!p || p.child.exitCode !== null) return Promise.resolve(p?.child.exitCode ?? null);
  return new Promise((resolve) => {
    p.child.once('exit', (code) => resolve(code));
    p.child.kill(signal);
  });
}

test.before(async () => {
  if (!bin) return;
  broker = new Broker(bin, work, await freePort());
  await broker.start();
  // Each device starts with one class of its own, then prints its allow-list line.
  const lines: string[] = [];
  for (let s = 0; s < 3; s++) {
    await learn(s, s);
    const r = engram(['sync', '--store', stores[s], '--print-key']);
    assert.is(r.status, 0, r.stderr);
    lines.push(r.stdout.trim());
  }
  writeFileSync(allow, `# test fleet\n${lines.join('\n')}\n`);
});

test.after(async () => {
  for (const p of procs) await stop(p);
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
});

if (!bin) {
  console.log('SKIP 96.fleet-sync: mosquitto is not installed (apt-get install mosquitto; .ci/run does)');
} else {
  test('three devices learn and forget different classes and converge', async () => {
    for (let s = 0; s < 3; s++) startSync(s);
    await until('three devices ready', () => procs.every((p) => p!.lines.some((l) => l.event === 'connected')));
    await converge(['c0', 'c1', 'c2']);
    await learn(0, 3);
    await learn(1, 4);
    await learn(2, 5);
    await forget(1, 0); // b forgets a class a taught
    await converge(['c1', 'c2', 'c3', 'c4', 'c5']);
    assert.ok(
      procs[0]!.lines.some((l) => l.event === 'applied' && (l.labels as string[]).includes('c0')),
      'a heard of the forget of c0',
    );
  });

  test('the broker restarts mid-run; changes made while it was down arrive', async () => {
    await broker.stop();
    await learn(1, 6);
    await learn(2, 3, 2); // c also teaches c3 more examples
    await sleep(300);
    await broker.start();
    await converge(['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
  });

  test('a device SIGKILLed keeps learning offline and catches up when it comes back', async () => {
    assert.is(await stop(procs[2], 'SIGKILL'), null);
    await learn(2, 7);
    await forget(2, 5);
    await learn(0, 1, 2);
    await sleep(300);
    startSync(2);
    await converge(['c1', 'c2', 'c3', 'c4', 'c6', 'c7']);
  });

  test('old messages delivered again and out of order change nothing', async () => {
    const before = await converge(['c1', 'c2', 'c3', 'c4', 'c6', 'c7']);
    // Capture the fleet's retained states and republish them, plus the changes seen so far, in reverse.
    const seen: { topic: string; payload: Buffer }[] = [];
    const c = await mqtt.connectAsync(broker.url, { clientId: 'replayer' });
    c.on('message', (topic, payload) => seen.push({ topic, payload: Buffer.from(payload) }));
    await c.subscribeAsync('engram/test/#', { qos: 1 });
    await until('the retained states', () => seen.length >= 3, 5000);
    await c.unsubscribeAsync('engram/test/#');
    const old = [...seen];
    for (const m of [...old].reverse()) await c.publishAsync(m.topic, m.payload, { qos: 1 });
    for (const m of old) await c.publishAsync(m.topic, m.payload, { qos: 1 });
    await sleep(800);
    assert.is(await converge(['c1', 'c2', 'c3', 'c4', 'c6', 'c7']), before);
    await c.endAsync();
  });

  test('tampered, unsigned and stranger messages are refused and logged, never applied', async () => {
    const before = await converge(['c1', 'c2', 'c3', 'c4', 'c6', 'c7']);
    const c = await mqtt.connectAsync(broker.url, { clientId: 'attacker' });
    const seen: { topic: string; payload: Buffer }[] = [];
    c.on('message', (topic, payload) => seen.push({ topic, payload: Buffer.from(payload) }));
    await c.subscribeAsync('engram/test/state/+', { qos: 1 });
    await until('a retained state', () => seen.length > 0, 5000);
    await c.unsubscribeAsync('engram/test/state/+');
    // 1. Tampered: a real device's signed state with one byte of its content changed.
    const t = seen[0];
    const tampered = Buffer.from(t.payload);
    tampered[tampered.length - 20] ^= 1;
    await c.publishAsync(t.topic.replace('/state/', '/change/'), tampered, { qos: 1 });
    // 2. Unsigned: the bare update bytes, a forget of c1 claimed by a device of the fleet.
    const origin = t.topic.split('/')[3];
    const forgetC1 = { contributions: [], calibrations: [], tombstones: [{ label: 'c1', stamp: { t: 1e6, origin } }] };
    await c.publishAsync(`engram/test/change/${origin}`, encodeUpdate(forgetC1), { qos: 1 });
    // 3. A stranger: properly signed, but by a key not on the allow-list.
    const { privateKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(privateKey.export({ format: 'jwk' }).x!, 'base64url');
    const stranger = { privateKey, publicRaw: raw, origin: originOf(raw) };
    const poison = { contributions: [], calibrations: [], tombstones: [{ label: 'c2', stamp: { t: 1e6, origin: stranger.origin } }] };
    await c.publishAsync(`engram/test/change/${stranger.origin}`, signMessage(stranger, 'test', 'any', encodeUpdate(poison)), { qos: 1 });
    await c.endAsync();
    const refusals = (p: Proc) => p.lines.filter((l) => l.event === 'refused').map((l) => String(l.why));
    await until('every device to refuse the three', () => procs.every((p) => refusals(p!).length >= 3), 10_000);
    for (const p of procs) {
      const why = refusals(p!).join('\n');
      assert.match(why, /bad signature/);
      assert.match(why, /not a signed engram fleet message/);
      assert.match(why, /not on the fleet's allow-list/);
      assert.match(p!.stderr, /warning: refused a message on engram\/test\/change\//);
    }
    assert.is(await converge(['c1', 'c2', 'c3', 'c4', 'c6', 'c7']), before);
  });

  test('stopped with SIGTERM, sync exits 130 and the store keeps everything', async () => {
    const final = await converge(['c1', 'c2', 'c3', 'c4', 'c6', 'c7']);
    for (const p of procs) assert.is(await stop(p), 130);
    for (const s of stores) assert.is(await answers(s), final);
  });
}

test.run();
