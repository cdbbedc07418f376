// The HTTP API of `engram serve --http` over real sockets: every endpoint, the token, limits, malformed and
// oversized bodies, 200 concurrent predicts with bounded memory, a client that disconnects mid-upload,
// SIGKILL during learns (what was acknowledged survives), the live stream, and serial + HTTP in one process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engram } from './helpers/learner-files.js';
import { haveFfmpeg, sequenceVideo, shapeJpeg } from './helpers/live-media.js';
import { rssOf, serve, type Served } from './helpers/http-server.js';
import { socatMissing, startSocat } from './helpers/link-socat.js';

const work = mkdtempSync(join(tmpdir(), 'engram-http-'));
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');
const store = join(work, 'store');
const ready = haveFfmpeg();
type Bytes = Uint8Array<ArrayBuffer>;
const H: Bytes = ready ? new Uint8Array(shapeJpeg('hbar')) : new Uint8Array(0);
const V: Bytes = ready ? new Uint8Array(shapeJpeg('vbar')) : new Uint8Array(0);
let srv: Served;

type Json = Record<string, any>;

async function call(
  path: string,
  init: RequestInit & { auth?: boolean | string } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (init.auth) headers.set('Authorization', `Bearer ${init.auth === true ? srv.token : init.auth}`);
  const r = await fetch(new URL(path, srv.url), { ...init, headers });
  const text = await r.text();
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    body = { text };
  }
  return { status: r.status, body, headers: r.headers };
}

const image = (data: Bytes, type = 'image/jpeg'): RequestInit => ({ method: 'POST', body: data, headers: { 'Content-Type': type } });
const json = (obj: unknown): RequestInit => ({
  method: 'POST',
  body: JSON.stringify(obj),
  headers: { 'Content-Type': 'application/json' },
});
function form(label: string | null, files: [string, Bytes][]): RequestInit {
  const f = new FormData();
  if (label !== null) f.append('label', label);
  for (const [name, data] of files) f.append('image', new Blob([data], { type: 'image/jpeg' }), name);
  return { method: 'POST', body: f };
}

const Api = suite('HTTP API endpoints');

Api.before(async () => {
  assert.ok(ready, 'ffmpeg is not on the PATH: apt-get install ffmpeg');
  srv = await serve(['--store', store, '--rate', '1000']);
});
Api.after(async () => {
  await srv.stop();
});

Api('binds to 127.0.0.1, makes a token of mode 0600 and prints it only when it makes it', async () => {
  assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.type(srv.token, 'string');
  assert.is(srv.tokenFile, join(store, 'http-token'));
  assert.is(statSync(srv.tokenFile).mode & 0o777, 0o600);
  const r = await call('/api/health');
  assert.is(r.status, 200);
  assert.is(r.body.ok, true);
});

Api('learn takes a raw image or several in multipart, answering after it is durable', async () => {
  let r = await call('/api/learn?label=hbar', { ...image(H), auth: true });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body, { label: 'hbar', stored: 1, classes: 1 });
  r = await call('/api/learn', {
    ...form('vbar', [
      ['v1.jpg', V],
      ['v2.jpg', V],
    ]),
    auth: true,
  });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body, { label: 'vbar', stored: 2, classes: 2 });
  // Acknowledged means on disk: a read-only open of the store from another process sees it now.
  const stats = engram(['--json', 'stats', '--store', store]);
  assert.equal(stats.lines[0].examples, { hbar: 1, vbar: 2 });
});

Api('predict answers each image, raw or multipart, with label, score, margin and top', async () => {
  let r = await call('/api/predict', image(V));
  assert.is(r.status, 200);
  assert.is(r.body.predictions.length, 1);
  assert.is(r.body.predictions[0].label, 'vbar');
  r = await call(
    '/api/predict?top=1',
    form(null, [
      ['a.jpg', H],
      ['b.jpg', V],
    ]),
  );
  assert.is(r.status, 200);
  assert.equal(
    r.body.predictions.map((p: Json) => [p.name, p.label, p.top.length]),
    [
      ['a.jpg', 'hbar', 1],
      ['b.jpg', 'vbar', 1],
    ],
  );
  for (const k of ['score', 'margin']) assert.type(r.body.predictions[0][k], 'number');
});

Api('stats lists classes with example counts and bytes', async () => {
  const r = await call('/api/stats');
  assert.is(r.status, 200);
  assert.equal(r.body.labels, ['hbar', 'vbar']);
  assert.equal(r.body.examples, { hbar: 1, vbar: 2 });
  assert.type(r.body.compressedBytes, 'number');
  assert.equal(Object.keys(r.body.perClass), ['hbar', 'vbar']);
  for (const label of ['hbar', 'vbar']) {
    const c = r.body.perClass[label];
    assert.ok(c.connections > 0, `${label} has connections`);
    assert.ok(
      c.compressedBytes > 0 && c.compressedBytes <= r.body.compressedBytes,
      `${label}: ${c.compressedBytes} of ${r.body.compressedBytes} bytes`,
    );
  }
  assert.is(r.body.live, null);
});

Api('eval scores labelled images (a folder per class) into rates and a confusion matrix with its SVG', async () => {
  const B = new Uint8Array(shapeJpeg('box'));
  const files: [string, Bytes][] = [
    ['test/hbar/1.jpg', H],
    ['test/hbar/2.jpg', H],
    ['test/vbar/1.jpg', V],
    ['test/box/1.jpg', B],
  ];
  let r = await call('/api/eval', form(null, files));
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.storeLabels, ['hbar', 'vbar']);
  assert.equal(r.body.counts.items, 4);
  assert.equal([r.body.counts.known, r.body.counts.novel], [3, 1]);
  assert.equal(r.body.top1, { count: 3, of: 3, rate: 1 });
  assert.equal(r.body.confusion.rows, ['hbar', 'vbar', 'box']);
  assert.equal(r.body.confusion.columns.slice(0, 2), ['hbar', 'vbar']);
  assert.is(r.body.confusion.columns.at(-1), null, 'unknown is the last column');
  assert.equal(r.body.confusion.counts[0].slice(0, 2), [2, 0]);
  assert.equal(r.body.confusion.counts[1].slice(0, 2), [0, 1]);
  assert.is(
    r.body.confusion.counts[2].reduce((a: number, b: number) => a + b, 0),
    1,
    'the novel image is in its row',
  );
  assert.match(r.body.svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(r.body.svg, />vbar</);
  // ?label= gives every image the same true label; a file that does not decode is listed by name, not fatal.
  r = await call(
    '/api/eval?label=vbar',
    form(null, [
      ['a.jpg', V],
      ['broken.jpg', new Uint8Array([0xff, 0xd8, 1, 2])],
    ]),
  );
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.top1, { count: 1, of: 1, rate: 1 });
  assert.equal(
    r.body.failed.map((f: Json) => f.file),
    ['broken.jpg'],
  );
  // Without a folder or ?label= an image has no true label: 400 naming the file.
  r = await call('/api/eval', form(null, [['loose.jpg', H]]));
  assert.is(r.status, 400);
  assert.match(r.body.error, /loose\.jpg: no true label/);
  r = await call('/api/eval', { method: 'GET' });
  assert.is(r.status, 405);
});

Api('every change needs the token: none is 401, a wrong one 403, and nothing changes', async () => {
  const before = (await call('/api/stats')).body.examples;
  const cases: [string, RequestInit][] = [
    ['/api/learn?label=x', image(H)],
    ['/api/forget', json({ label: 'hbar' })],
    ['/api/prune', json({ kind: 'share', share: 0.5 })],
  ];
  for (const [path, init] of cases) {
    let r = await call(path, init);
    assert.is(r.status, 401, path);
    assert.match(r.body.error, /needs "Authorization: Bearer <token>"/);
    assert.is(r.headers.get('www-authenticate'), 'Bearer');
    r = await call(path, { ...init, auth: 'x'.repeat(32) });
    assert.is(r.status, 403, path);
    assert.match(r.body.error, /not the token of this server/);
  }
  assert.equal((await call('/api/stats')).body.examples, before);
});

Api('forget and prune change the memory; an unknown label is 404, a bad policy 400 naming it', async () => {
  assert.is((await call('/api/learn?label=gone', { ...image(H), auth: true })).status, 200);
  let r = await call('/api/forget', { ...json({ label: 'gone' }), auth: true });
  assert.is(r.status, 200);
  assert.is(r.body.label, 'gone');
  assert.ok(r.body.removed > 0);
  r = await call('/api/forget', { ...json({ label: 'gone' }), auth: true });
  assert.is(r.status, 404);
  assert.match(r.body.error, /no class named "gone"/);
  r = await call('/api/prune', { ...json({ kind: 'share', share: 0.5 }), auth: true });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.type(r.body.removed, 'number');
  r = await call('/api/prune', { ...json({ kind: 'share', share: 7 }), auth: true });
  assert.is(r.status, 400);
  assert.match(r.body.error, /policy\.share/);
  r = await call('/api/prune', { ...json({ kind: 'nonsense' }), auth: true });
  assert.is(r.status, 400);
  assert.match(r.body.error, /policy\.kind/);
});

Api('malformed requests get a 4xx JSON error naming the problem', async () => {
  const expect = async (path: string, init: RequestInit & { auth?: boolean }, status: number, msg: RegExp) => {
    const r = await call(path, init);
    assert.is(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, msg);
    assert.is(r.body.status, status);
  };
  await expect('/api/nope', {}, 404, /no such endpoint: \/api\/nope/);
  await expect('/api/predict', {}, 405, /expected POST, got GET/);
  await expect('/api/predict', image(new TextEncoder().encode('not an image at all')), 400, /image 1: /);
  await expect(
    '/api/predict',
    form(null, [
      ['ok.jpg', H],
      ['broken.jpg', new Uint8Array([0xff, 0xd8, 1, 2, 3])],
    ]),
    400,
    /broken\.jpg: /,
  );
  await expect('/api/predict', image(new Uint8Array(0)), 400, /empty body/);
  await expect(
    '/api/predict',
    { method: 'POST', body: 'x', headers: { 'Content-Type': 'text/plain' } },
    415,
    /content-type: expected an image/,
  );
  await expect('/api/predict?top=abc', image(H), 400, /top: expected a whole number/);
  await expect('/api/learn', { ...image(H), auth: true }, 400, /label: expected \?label=NAME/);
  await expect(
    '/api/forget',
    { method: 'POST', body: '{"label":', headers: { 'Content-Type': 'application/json' }, auth: true },
    400,
    /malformed JSON/,
  );
  await expect('/api/forget', { ...json([1, 2]), auth: true }, 400, /expected a JSON object/);
  await expect('/api/live', {}, 404, /no source is watched/);
  await expect('/nowhere.html', {}, 404, /no such page/);
  // Not HTTP at all, on a raw socket.
  const reply = await rawExchange('GARBAGE \x00\x01\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 400/);
  assert.is((await call('/api/health')).status, 200, 'the server keeps serving');
});

Api('oversized bodies are refused with 413, by Content-Length and while streaming', async () => {
  const big = new Uint8Array(9 * 1024 * 1024);
  let r = await call('/api/predict', image(big));
  assert.is(r.status, 413);
  assert.match(r.body.error, /over the limit of 8388608 bytes/);
  // Chunked: no Content-Length, so the limit applies while reading.
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(1024 * 1024));
      c.close();
    },
  });
  r = await call('/api/predict', {
    method: 'POST',
    body: stream,
    headers: { 'Content-Type': 'image/jpeg' },
    duplex: 'half',
  } as RequestInit);
  assert.is(r.status, 413);
  const many: [string, Bytes][] = Array.from({ length: 65 }, (_, i) => [`${i}.jpg`, H]);
  r = await call('/api/predict', form(null, many));
  assert.is(r.status, 413);
  assert.match(r.body.error, /more than 64 images/);
});

Api('a client that disconnects mid-upload changes nothing and the server keeps serving', async () => {
  const before = (await call('/api/stats')).body.examples;
  await new Promise<void>((done) => {
    const { port, hostname } = new URL(srv.url);
    const s = connect(Number(port), hostname, () => {
      s.write(
        `POST /api/learn?label=cut HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${srv.token}\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n`,
      );
      s.write(Buffer.from(H).subarray(0, 500));
      setTimeout(() => {
        s.destroy();
        done();
      }, 100);
    });
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.is((await call('/api/health')).status, 200);
  assert.equal((await call('/api/stats')).body.examples, before);
});

Api('200 concurrent predicts are all answered, with bounded memory', async () => {
  const pid = srv.proc.pid!;
  const before = await rssOf(pid);
  const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => call('/api/predict', image(i % 2 ? H : V))));
  const after = await rssOf(pid);
  assert.equal(
    rs.filter((r) => r.status !== 200).map((r) => r.body),
    [],
  );
  assert.ok(rs.every((r, i) => r.body.predictions[0].label === (i % 2 ? 'hbar' : 'vbar')));
  const growth = (after - before) / 1024 / 1024;
  console.log(`  200 concurrent predicts: resident memory ${(before / 1048576).toFixed(0)} -> ${(after / 1048576).toFixed(0)} MB`);
  assert.ok(growth < 100, `resident memory grew by ${growth.toFixed(1)} MB`);
});

Api('a second start reads the token file and does not print the token', async () => {
  await srv.stop();
  const tokenWas = srv.token;
  srv = await serve(['--store', store, '--rate', '1000']);
  assert.is(srv.token, undefined);
  assert.is((await call('/api/learn?label=hbar', { ...image(H), auth: tokenWas })).status, 200);
});

async function rawExchange(text: string): Promise<string> {
  const { port, hostname } = new URL(srv.url);
  return new Promise((resolve, reject) => {
    let got = '';
    const s = connect(Number(port), hostname, () => s.write(text));
    s.on('data', (d) => (got += d.toString()));
    s.on('close', () => resolve(got));
    s.on('error', reject);
    setTimeout(() => s.destroy(), 2000);
  });
}

const Limits = suite('HTTP rate and concurrency limits');

Limits('more requests per second than --rate allows get 429 with Retry-After', async () => {
  srv = await serve(['--store', join(work, 'rate'), '--rate', '5']);
  try {
    const rs = await Promise.all(Array.from({ length: 30 }, () => call('/api/health')));
    const refused = rs.filter((r) => r.status === 429);
    assert.ok(refused.length >= 15, `${refused.length} refused`);
    assert.match(refused[0].body.error, /more than 5 requests per second/);
    assert.is(refused[0].headers.get('retry-after'), '1');
  } finally {
    await srv.stop();
  }
});

const Crash = suite('HTTP learn durability');

Crash('SIGKILL during learns: every acknowledged example survives', async () => {
  const dir = join(work, 'killed');
  srv = await serve(['--store', dir, '--rate', '1000']);
  let acked = 0;
  let stop = false;
  const learner = (async () => {
    while (!stop) {
      try {
        const r = await call('/api/learn?label=hbar', { ...image(H), auth: true });
        if (r.status === 200) acked++;
      } catch {
        return; // the server is gone
      }
    }
  })();
  await new Promise<void>((done) => {
    const check = () => (acked >= 8 ? done() : setTimeout(check, 5));
    check();
  });
  srv.proc.kill('SIGKILL');
  stop = true;
  await learner;
  await new Promise((r) => (srv.proc.exitCode !== null || srv.proc.signalCode !== null ? r(null) : srv.proc.once('exit', r)));
  const stats = engram(['--json', 'stats', '--store', dir]);
  assert.is(stats.status, 0, stats.stderr);
  const kept = (stats.lines[0].examples as Record<string, number>).hbar;
  assert.ok(kept >= acked, `${kept} examples on disk, ${acked} acknowledged`);
});

const Live = suite('HTTP live stream of a watched source');

Live('server-sent predictions, the current frame as JPEG, and learning the current frames', async () => {
  const video = sequenceVideo(work, ['hbar', 'vbar'], 2, 10, 'live.avi');
  const dir = join(work, 'live');
  srv = await serve(['--store', dir, '--rate', '1000', '--watch', video, '--loop', '--realtime']);
  try {
    let r = await call('/api/live/learn', { ...json({ label: 'shape', frames: 3, every: 2 }), auth: true });
    assert.is(r.status, 200, JSON.stringify(r.body));
    assert.is(r.body.stored, 3);
    assert.is(r.body.frames[1] - r.body.frames[0], 2);
    r = await call('/api/live/learn', { ...json({ label: 'shape', frames: 0 }), auth: true });
    assert.is(r.status, 400);
    assert.match(r.body.error, /frames: expected a whole number from 1 to 1000/);
    assert.is((await call('/api/live/learn', json({ label: 'x' }))).status, 401);
    const jpeg = await fetch(new URL('/api/live/frame.jpg', srv.url));
    assert.is(jpeg.status, 200);
    assert.is(jpeg.headers.get('content-type'), 'image/jpeg');
    const bytes = new Uint8Array(await jpeg.arrayBuffer());
    assert.equal([bytes[0], bytes[1]], [0xff, 0xd8]);
    // The live stream: server-sent events of predictions.
    const ctl = new AbortController();
    const res = await fetch(new URL('/api/live', srv.url), { signal: ctl.signal });
    assert.is(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while ((text.match(/event: prediction/g) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
    ctl.abort();
    const data = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as Json);
    assert.ok(data.length >= 3);
    for (const d of data) {
      assert.type(d.frame, 'number');
      assert.type(d.latencyMs, 'number');
      assert.is(d.top[0].label, 'shape');
    }
    const stats = await call('/api/stats');
    assert.ok(stats.body.live.decoded > 0);
  } finally {
    assert.is(await srv.stop(), 130, 'SIGINT ends serve with exit 130');
  }
});

const Both = suite('serial and HTTP from one process');

Both('one store served over a serial pty and HTTP at once', async () => {
  const missing = socatMissing();
  if (missing) {
    console.log(`SKIP serial + HTTP case: ${missing}`);
    return;
  }
  const pair = await startSocat(work);
  const dir = join(work, 'both');
  srv = await serve(['--store', dir, '--rate', '1000', '--serial', pair.a]);
  try {
    assert.is((await call('/api/learn?label=vbar', { ...image(V), auth: true })).status, 200);
    const { writeFileSync } = await import('node:fs');
    const file = join(work, 'v.jpg');
    writeFileSync(file, V);
    const r = engram(['--json', 'client', '--serial', pair.b, 'predict', file]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.lines[0].label, 'vbar');
  } finally {
    assert.is(await srv.stop(), 130, 'SIGINT ends serve with exit 130');
    await pair.stop();
  }
});

Api.run();
Limits.run();
Crash.run();
Live.run();
Both.run();
