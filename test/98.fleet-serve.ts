// engram serve --fleet: a device that serves HTTP also shares with its fleet, in one process on one open store
// (no second process contending for the store's lock). Two serve processes against a real Mosquitto: each
// answers the other's classes; a learn and a forget over HTTP on one are answered by the other; a prune over
// HTTP is local, and the known images are still answered right after it (the calibration follows the prune).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engram, writeDigits } from './helpers/learner-files.js';
import { Broker, freePort, mosquittoPath, sleep, until } from './helpers/fleet-broker.js';
import { serve, type Served } from './helpers/http-server.js';

const bin = mosquittoPath();
const test = suite('engram serve --fleet');
const work = mkdtempSync(join(tmpdir(), 'engram-98-'));
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');
const A = join(work, 'a');
const B = join(work, 'b');
const C = join(work, 'c');
const allow = join(work, 'allow.txt');
let broker: Broker;
const served: Served[] = [];

type Json = Record<string, any>;

function images(split: 'train' | 'test', digit: number): { name: string; data: Buffer }[] {
  const dir = join(work, split, String(digit));
  return readdirSync(dir)
    .sort()
    .map((f) => ({ name: `${digit}/${f}`, data: readFileSync(join(dir, f)) }));
}

function form(files: { name: string; data: Buffer }[], label?: string): FormData {
  const f = new FormData();
  if (label !== undefined) f.append('label', label);
  for (const { name, data } of files) f.append('image', new Blob([new Uint8Array(data)], { type: 'image/png' }), name);
  return f;
}

async function call(srv: Served, path: string, body?: FormData | object, auth = false): Promise<Json> {
  const headers = new Headers();
  if (auth) headers.set('Authorization', `Bearer ${readFileSync(srv.tokenFile, 'utf8').trim()}`);
  let init: RequestInit = { headers };
  if (body instanceof FormData) init = { ...init, method: 'POST', body };
  else if (body !== undefined) {
    headers.set('Content-Type', 'application/json');
    init = { ...init, method: 'POST', body: JSON.stringify(body) };
  }
  const r = await fetch(new URL(path, srv.url), init);
  const j = (await r.json()) as Json;
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

/** Labels the device answers for the images, in order (null: unknown). */
async function answers(srv: Served, files: { name: string; data: Buffer }[]): Promise<(string | null)[]> {
  const r = await call(srv, '/api/predict?top=1', form(files));
  return (r.predictions as Json[]).map((p) => p.label as string | null);
}

const fleetArgs = (store: string) => ['--store', store, '--fleet', 'served', '--broker', broker.url, '--fleet-allow', allow];

test.before(async () => {
  if (!bin) return;
  await writeDigits(work, 'train', [0, 1, 2, 3], 12);
  await writeDigits(work, 'test', [0, 1, 2, 3], 6);
  // b learns two classes itself: its calibration has novel samples (a first class has nothing to be novel to).
  for (const [store, d] of [
    [A, 0],
    [B, 1],
    [B, 3],
    [C, 3],
  ] as const) {
    const r = engram(['learn', '--store', store, '--whiten', 'off', '--label', String(d), join(work, 'train', String(d))]);
    assert.is(r.status, 0, r.stderr);
  }
  const lines = [A, B, C].map((s) => {
    const r = engram(['sync', '--store', s, '--print-key']);
    assert.is(r.status, 0, r.stderr);
    return r.stdout.trim();
  });
  writeFileSync(allow, `${lines.join('\n')}\n`);
  broker = new Broker(bin, work, await freePort());
  await broker.start();
});

test.after(async () => {
  for (const s of served) await s.stop();
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
});

if (!bin) {
  console.log('SKIP 98.fleet-serve: mosquitto is not installed');
} else {
  test('serve --fleet needs the broker and the allow-list, and says which flag is missing', () => {
    let r = engram(['serve', '--http', '0', '--store', A, '--fleet', 'served', '--fleet-allow', allow]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /--broker is required \(see engram serve --help\)/);
    r = engram(['serve', '--http', '0', '--store', A, '--fleet', 'served', '--broker', 'mqtt://127.0.0.1:1']);
    assert.match(r.stderr, /--fleet-allow is required/);
    r = engram(['serve', '--http', '0', ...fleetArgs(A), '--cert', allow]);
    assert.match(r.stderr, /a client certificate needs both --cert and --key/);
    r = engram(['serve', '--help']);
    assert.match(r.stdout, /--fleet-allow <file>/);
    assert.match(r.stdout, /--fleet <name>/);
  });

  test("two serving devices answer each other's classes through the broker", async () => {
    served.push(await serve(fleetArgs(A)), await serve(fleetArgs(B)));
    const [a, b] = served;
    await until(
      'both devices to apply the other',
      () => /"event":"applied".*"1"/.test(a.stdout()) && /"event":"applied".*"0"/.test(b.stdout()),
    );
    await until('both to answer both classes', async () => {
      const [x, y] = await Promise.all([answers(a, images('test', 1)), answers(b, images('test', 0))]);
      return x.filter((l) => l === '1').length >= 5 && y.filter((l) => l === '0').length >= 5;
    });
  });

  test('a learn over HTTP on one device is answered by the other', async () => {
    const [a, b] = served;
    const r = await call(a, '/api/learn', form(images('train', 2), '2'), true);
    assert.is(r.stored, 12);
    assert.is(r.classes, 4);
    await until('b to answer the digit a learned', async () => (await answers(b, images('test', 2))).filter((l) => l === '2').length >= 5);
    assert.match(a.stdout(), /"event":"published","kind":"change".*"2"/);
    const stats = await call(b, '/api/stats');
    assert.equal(stats.labels, ['0', '1', '2', '3']);
    assert.is(stats.examples['2'], 12);
  });

  test("serve --read-only --fleet answers the fleet's classes, refuses changes over HTTP and publishes nothing", async () => {
    const c = await serve([...fleetArgs(C), '--read-only']);
    try {
      await until(
        'c to answer the digit a learned',
        async () => (await answers(c, images('test', 2))).filter((l) => l === '2').length >= 5,
      );
      const r = await fetch(new URL('/api/learn', c.url), {
        method: 'POST',
        body: form(images('train', 1), '1'),
        headers: { Authorization: `Bearer ${readFileSync(c.tokenFile, 'utf8').trim()}` },
      });
      assert.is.not(r.status, 200);
      assert.match(await r.text(), /read-only/);
      assert.not.match(c.stdout(), /"event":"published"/);
    } finally {
      assert.is(await c.stop(), 130);
    }
  });

  test('a forget over HTTP on one device is forgotten by the other', async () => {
    const [a, b] = served;
    await call(b, '/api/forget', { label: '0' }, true);
    await until('a to forget 0', async () => !(await call(a, '/api/stats')).labels.includes('0'));
    assert.not.ok((await answers(a, images('test', 0))).includes('0'));
  });

  test('a prune over HTTP stays local, and the known images are answered right after it', async () => {
    const [a, b] = served;
    const before = await call(b, '/api/stats');
    const pruned = await call(b, '/api/prune', { kind: 'share', share: 0.5 }, true);
    assert.ok(pruned.removed > 0, JSON.stringify(pruned));
    // The pruned memory scores differently; the fleet's view is rebuilt with the prune (at the next step) and
    // the threshold is recalibrated against it from this device's own examples.
    await sleep(500);
    const after = await call(b, '/api/stats');
    assert.ok(after.compressedBytes < before.compressedBytes, `${after.compressedBytes} < ${before.compressedBytes}`);
    // Recalibrated: without its own probes the view would keep the threshold calibrated before the prune.
    assert.is.not(after.threshold, before.threshold, 'the threshold follows the prune');
    assert.is(after.thresholdSource, 'calibrated');
    for (const d of [1, 2, 3]) {
      const got = await answers(b, images('train', d));
      assert.ok(got.filter((l) => l === String(d)).length >= 10, `digit ${d}: ${JSON.stringify(got)}`);
    }
    // The other device did not prune.
    assert.is((await call(a, '/api/stats')).compressedBytes >= after.compressedBytes, true);
  });

  test('stopped, each store holds the merged memory', async () => {
    const codes = [];
    for (const s of served.splice(0)) codes.push(await s.stop());
    assert.equal(codes, [130, 130], 'SIGINT ends serve with exit 130');
    for (const s of [A, B]) {
      const r = engram(['stats', '--store', s, '--json']);
      assert.is(r.status, 0, r.stderr);
      assert.equal(r.lines[0].labels, ['1', '2', '3']);
    }
  });
}

test.run();
