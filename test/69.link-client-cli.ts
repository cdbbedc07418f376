// engram client and engram serve as a user runs them, over a socat pty: a real photo larger than a frame
// (test/fixtures/images/chelsea.png, 451x300, 424 KB as PNG) is reduced by the client to the board's backbone
// input and recognised as it is locally; --no-reduce names the limit; serve --read-only refuses changes; with
// --key-file only a client holding the key may change the memory.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_FRAME_BYTES } from '../src/link/frame.js';
import { socatMissing, startSocat, type SocatPair } from './helpers/link-socat.js';
import { startServe, type ServeProc } from './helpers/link-serve-proc.js';
import { LINK_DIM, LINK_TOPK, classVector } from './helpers/link-vectors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'engram.js');
const images = join(root, 'test', 'fixtures', 'images');
const chelsea = join(images, 'chelsea.png');
const coffee = join(images, 'coffee.png');
const modelsDir =
  process.env.ENGRAM_SHARED_MODELS ?? (existsSync(join(root, '..', 'shared', 'models')) ? join(root, '..', 'shared', 'models') : null);
const mobilenet = modelsDir && existsSync(join(modelsDir, 'mobilenetv2-12-int8.onnx')) ? join(modelsDir, 'mobilenetv2-12-int8.onnx') : null;
const missing = socatMissing();

function engram(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120000, env: { ...process.env, ...env } });
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  let json: Record<string, unknown> | null;
  try {
    json = lines.length ? JSON.parse(lines.at(-1)!) : null;
  } catch {
    json = null;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

const ctx = {} as { dir: string; pair: SocatPair; serve: ServeProc | null };

async function withServe(
  args: string[],
  fn: (client: (...a: string[]) => ReturnType<typeof engram>) => Promise<void> | void,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  ctx.serve = await startServe(['--serial', ctx.pair.ptys[0], ...args], 60000);
  Object.assign(process.env, saved);
  try {
    await fn((...a) => engram(['client', '--serial', ctx.pair.ptys[1], '--timeout', '20000', ...a], env));
  } finally {
    const stop = await ctx.serve.interrupt();
    ctx.serve = null;
    assert.is(stop.code, 130);
  }
}

const photo = suite('a photo over the link, reduced by the client');
photo.before(async () => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'engram-link-client-'));
  ctx.pair = await startSocat(ctx.dir);
});
photo.after(async () => {
  ctx.serve?.kill();
  await ctx.pair?.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
});

photo('chelsea.png (one frame is not enough) is reduced to the embedded backbone input and recognised as locally', async () => {
  assert.ok(statSync(chelsea).size > MAX_FRAME_BYTES, 'the fixture is larger than a frame');
  const store = join(ctx.dir, 'glyph');
  for (const [label, file] of [
    ['cat', chelsea],
    ['coffee', coffee],
  ])
    assert.is(engram(['learn', '--store', store, '--label', label, file, '--quiet']).status, 0);
  const local = engram(['predict', '--store', store, chelsea, '--json']);
  assert.is(local.status, 0, local.stderr);
  await withServe(['--store', store, '--read-only', '--baud', '115200'], (client) => {
    const r = client('--baud', '115200', 'predict', chelsea, '--json');
    assert.is(r.status, 0, r.stderr);
    assert.match(r.json!.reduced as string, /chelsea\.png: 451x300 sent as \d+x\d+ raw pixels \(\d+ bytes\) for the board's \d+x\d+ input/);
    assert.equal([local.json!.label, r.json!.label], ['cat', 'cat'], `over the link: ${JSON.stringify(r.json!.top)}`);
    // The other photo, also reduced, gets its own label: the reduction keeps what tells them apart.
    const other = client('--baud', '115200', 'predict', coffee, '--json');
    assert.is(other.json!.label, 'coffee', `over the link: ${JSON.stringify(other.json!.top)}`);
    assert.ok((r.json!.score as number) > (r.json!.top as { score: number }[])[1].score, 'the right class scores above the other');
    const text = client('--baud', '115200', 'predict', chelsea);
    assert.match(text.stderr, /chelsea\.png: 451x300 sent as \d+x\d+ raw pixels/, 'said on stderr without --json');
    const whole = client('--baud', '115200', 'predict', '--no-reduce', chelsea);
    assert.is(whole.status, 2);
    assert.match(whole.stderr, /chelsea\.png: \d+ bytes do not fit in one request \(at most \d+ bytes of image\); leave out --no-reduce/);
    // --read-only: changes are refused, reads answered.
    const learn = client('--baud', '115200', 'learn', 'dog', coffee);
    assert.is(learn.status, 2);
    assert.match(learn.stderr, /NOT_ALLOWED: LEARN is not allowed on this engram \(allowed: hello, predict, stats\)/);
    const hello = client('--baud', '115200', 'hello', '--json');
    assert.equal((hello.json!.link as { allowed: string[] }).allowed, ['hello', 'predict', 'stats']);
  });
});

if (mobilenet)
  photo('with MobileNetV2 (224x224x3) the photo goes as a PNG or JPEG that fits a frame', async () => {
    const models = join(ctx.dir, 'models');
    const env = { ENGRAM_MODELS_DIR: models };
    assert.is(engram(['models', 'pull', 'mobilenetv2-12-int8', '--from', mobilenet, '--dir', models, '--quiet']).status, 0);
    const store = join(ctx.dir, 'mobilenet');
    for (const [label, file] of [
      ['cat', chelsea],
      ['coffee', coffee],
    ]) {
      const r = engram(
        ['learn', '--store', store, '--backbone', 'mobilenetv2-12-int8', '--quantizer', 'topk', '--label', label, file, '--quiet'],
        env,
      );
      assert.is(r.status, 0, r.stderr);
    }
    const local = engram(['predict', '--store', store, coffee, '--json'], env);
    await withServe(
      ['--store', store, '--baud', '921600'],
      (client) => {
        const r = client('--baud', '921600', 'predict', coffee, '--json');
        assert.is(r.status, 0, r.stderr);
        assert.match(
          r.json!.reduced as string,
          /coffee\.png: 600x400 reduced to 336x224 (PNG|JPEG quality \d+) \(\d+ bytes\) for the board's 224x224 input/,
        );
        assert.equal([local.json!.label, r.json!.label], ['coffee', 'coffee'], `over the link: ${JSON.stringify(r.json!.top)}`);
        const other = client('--baud', '921600', 'predict', chelsea, '--json');
        assert.is(other.json!.label, 'cat', `over the link: ${JSON.stringify(other.json!.top)}`);
        assert.match(other.json!.reduced as string, /chelsea\.png: 451x300 reduced to 337x224/);
      },
      env,
    );
  });

const keyed = suite('serve --key-file and client --key-file');
keyed.before(async () => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'engram-link-key-'));
  ctx.pair = await startSocat(ctx.dir);
});
keyed.after(async () => {
  ctx.serve?.kill();
  await ctx.pair?.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
});

keyed('only a client with the key changes the memory; a bad key file and a bad --allow are named', async () => {
  const key = join(ctx.dir, 'board.key');
  writeFileSync(key, 'a1'.repeat(32) + '\n');
  chmodSync(key, 0o600);
  const wrong = join(ctx.dir, 'wrong.key');
  writeFileSync(wrong, 'b2'.repeat(32));
  chmodSync(wrong, 0o600);
  const vec = join(ctx.dir, 'v.json');
  writeFileSync(vec, JSON.stringify([...classVector(2, 1)]));
  const store = join(ctx.dir, 'store');
  await withServe(['--store', store, '--features', String(LINK_DIM), '--topk', String(LINK_TOPK), '--key-file', key], (client) => {
    const none = client('learn', 'two', '--features', vec);
    assert.is(none.status, 2);
    assert.match(none.stderr, /AUTH_FAILED: LEARN changes the memory and this engram requires a tag made with its key/);
    const bad = client('--key-file', wrong, 'learn', 'two', '--features', vec);
    assert.is(bad.status, 2);
    assert.match(bad.stderr, /AUTH_FAILED: the tag does not match/);
    const ok = client('--key-file', key, 'learn', 'two', '--features', vec, '--json');
    assert.is(ok.status, 0, ok.stderr);
    assert.equal([ok.json!.label, ok.json!.stored], ['two', 1]);
    const read = client('predict', '--features', vec, '--json');
    assert.is(read.json!.label, 'two', 'PREDICT needs no key');
    const hello = client('hello', '--json');
    assert.is((hello.json!.link as { keyRequired: boolean }).keyRequired, true);
  });
  const unknown = engram(['serve', '--serial', ctx.pair.ptys[0], '--store', store, '--allow', 'learn,bogus']);
  assert.is(unknown.status, 1);
  assert.match(unknown.stderr, /--allow: unknown request "bogus"; choose from hello, learn, predict, forget, prune, stats, save/);
  const conflict = engram(['serve', '--serial', ctx.pair.ptys[0], '--store', store, '--read-only', '--allow', 'predict,learn']);
  assert.is(conflict.status, 1);
  assert.match(conflict.stderr, /--read-only conflicts with --allow learn/);
  const loose = join(ctx.dir, 'loose.key');
  writeFileSync(loose, 'zz');
  const r = engram(['client', '--serial', ctx.pair.ptys[1], '--key-file', loose, 'hello']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /key file .*loose\.key: expected the key as an even number of hexadecimal digits/);
});

if (missing) console.log(`SKIP 69.link-client-cli: ${missing}`);
else {
  photo.run();
  keyed.run();
}
if (!missing && !mobilenet)
  console.log('SKIP 69.link-client-cli, MobileNetV2 case: mobilenetv2-12-int8.onnx not found (set ENGRAM_SHARED_MODELS)');
