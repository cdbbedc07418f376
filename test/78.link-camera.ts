// The serial link's camera requests as a user runs them: engram serve on one end of a socat pty watches a
// video file made by ffmpeg (looping, at its own frame rate, as a camera delivers it); engram client on the
// other end learns the camera's frame as a class (LEARN-FRAME) and asks what the camera sees (PREDICT-FRAME),
// with no image on the wire. Without --watch both are refused with an error that says what is missing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { haveFfmpeg, shapeJpeg, shapeVideo } from './helpers/live-media.js';
import { socatMissing, startSocat, type SocatPair } from './helpers/link-socat.js';
import { startServe, type ServeProc } from './helpers/link-serve-proc.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'engram.js');
const work = mkdtempSync(join(tmpdir(), 'engram-link-camera-'));
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');

type Json = Record<string, any>;

function client(pty: string, ...args: string[]): { status: number | null; stderr: string; json: Json | null } {
  const r = spawnSync(process.execPath, [bin, 'client', '--serial', pty, '--timeout', '20000', '--json', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const last = r.stdout.trim().split('\n').filter(Boolean).at(-1);
  let json: Json | null;
  try {
    json = last ? (JSON.parse(last) as Json) : null;
  } catch {
    json = null;
  }
  return { status: r.status, stderr: r.stderr, json };
}

const ctx = {} as { pair: SocatPair; serve: ServeProc | null };
const cam = suite('LEARN-FRAME and PREDICT-FRAME over a pty, the camera a video file');
cam.before(async () => {
  assert.is(socatMissing(), null);
  assert.ok(haveFfmpeg(), 'ffmpeg is not on the PATH: apt-get install ffmpeg');
  ctx.pair = await startSocat(work);
});
cam.after(async () => {
  ctx.serve?.kill();
  await ctx.pair?.stop();
  rmSync(work, { recursive: true, force: true });
});

cam("a controller teaches the camera's frame and reads what the camera sees, without sending an image", async () => {
  const video = shapeVideo(work, 'hbar', { seconds: 3, fps: 10 });
  const vbar = join(work, 'vbar.jpg');
  writeFileSync(vbar, shapeJpeg('vbar'));
  const store = join(work, 'store');
  ctx.serve = await startServe(
    [
      '--serial',
      ctx.pair.ptys[0],
      '--store',
      store,
      '--watch',
      video,
      '--loop',
      '--realtime',
      '--allow',
      'hello,learn,predict,stats,learn-frame,predict-frame',
    ],
    60_000,
  );
  const pty = ctx.pair.ptys[1];
  try {
    const hello = client(pty, 'hello');
    assert.is(hello.status, 0, hello.stderr);
    assert.equal(hello.json!.link.allowed, ['hello', 'learn', 'predict', 'stats', 'learn-frame', 'predict-frame']);
    // Another class from an image sent over the link, so that the camera's class has something to beat.
    assert.is(client(pty, 'learn', 'vbar', vbar).status, 0);
    const learned = client(pty, 'learn-frame', 'hbar');
    assert.is(learned.status, 0, learned.stderr);
    assert.is(learned.json!.label, 'hbar');
    assert.is(learned.json!.stored, 1);
    assert.is(learned.json!.classes, 2);
    assert.type(learned.json!.frame, 'number');
    // Acknowledged means durable: a read-only open of the store from another process sees the example.
    const stats = spawnSync(process.execPath, [bin, 'stats', '--store', store, '--json'], { encoding: 'utf8' });
    assert.equal(JSON.parse(stats.stdout.trim()).examples, { vbar: 1, hbar: 1 });
    const seen = client(pty, 'predict-frame', '--top', '2');
    assert.is(seen.status, 0, seen.stderr);
    assert.is(seen.json!.label, 'hbar', JSON.stringify(seen.json));
    assert.equal(
      seen.json!.top.map((t: Json) => t.label),
      ['hbar', 'vbar'],
    );
    assert.ok(seen.json!.frame > learned.json!.frame, `frame ${seen.json!.frame} is newer than the learned ${learned.json!.frame}`);
    // What the camera sees is not what the other class looks like.
    const sent = client(pty, 'predict', vbar);
    assert.is(sent.json!.label, 'vbar');
  } finally {
    const stop = await ctx.serve.interrupt();
    ctx.serve = null;
    assert.is(stop.code, 130);
  }
});

cam('without a watched source both are refused, naming what is missing; --allow of them needs --watch', async () => {
  ctx.serve = await startServe(['--serial', ctx.pair.ptys[0], '--store', join(work, 'store2')], 60_000);
  const pty = ctx.pair.ptys[1];
  try {
    const hello = client(pty, 'hello');
    assert.not.ok(hello.json!.link.allowed.includes('learn-frame'));
    for (const args of [['learn-frame', 'mug'], ['predict-frame']]) {
      const r = client(pty, ...args);
      assert.is.not(r.status, 0);
      assert.match(r.stderr, /NOT_ALLOWED: [A-Z-]+ needs a camera: this engram watches no source \(engram serve --watch SOURCE\)/);
    }
  } finally {
    const stop = await ctx.serve.interrupt();
    ctx.serve = null;
    assert.is(stop.code, 130);
  }
  const r = spawnSync(
    process.execPath,
    [bin, 'serve', '--serial', ctx.pair.ptys[0], '--store', join(work, 'store3'), '--allow', 'predict-frame'],
    { encoding: 'utf8' },
  );
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /--allow predict-frame: these requests use the watched source; add --watch SOURCE/);
});

cam.run();
