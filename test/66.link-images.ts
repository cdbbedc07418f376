// Images over the field link with the real backbone (MobileNetV2 int8 from ENGRAM_SHARED_MODELS): a
// controller sends PNG and JPEG bytes and raw pixels through a socat pty, engram learns and recognises
// them; an image that does not decode is refused as the controller's input.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { SerialPort } from 'serialport';
import { Engram } from '../src/learner/engram.js';
import { LinkServer } from '../src/link/server.js';
import { LinkClient, LinkError } from '../src/link/client.js';
import { closeSerial, openSerial, serveSerial } from '../src/link/serial.js';
import { ErrorCode } from '../src/link/protocol.js';
import { socatMissing, startSocat, type SocatPair } from './helpers/link-socat.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const modelsDir =
  process.env.ENGRAM_SHARED_MODELS ?? (existsSync(join(root, '..', 'shared', 'models')) ? join(root, '..', 'shared', 'models') : null);
const model = modelsDir ? join(modelsDir, 'mobilenetv2-12-int8.onnx') : null;
const skip = socatMissing() ?? (model && existsSync(model) ? null : 'mobilenetv2-12-int8.onnx not found (set ENGRAM_SHARED_MODELS)');

const images = suite('images over a pty with the real backbone');
const ctx = {} as {
  dir: string;
  pair: SocatPair;
  engram: Engram;
  abort: AbortController;
  serving: Promise<void>;
  port: SerialPort;
  client: LinkClient;
};

/** A red disc on white, placed and sized by `i`. */
function disc(i: number): Buffer {
  const cx = 40 + 8 * (i % 3);
  const r = 22 + 3 * (i % 2);
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="white"/><circle cx="${cx}" cy="${44 + 4 * i}" r="${r}" fill="#d01010"/></svg>`,
  );
}

/** Blue horizontal stripes, their pitch set by `i`. */
function stripes(i: number): Buffer {
  const pitch = 10 + 2 * i;
  let rects = '';
  for (let y = 0; y < 96; y += pitch) rects += `<rect y="${y}" width="96" height="${pitch / 2}" fill="#1030c0"/>`;
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="white"/>${rects}</svg>`,
  );
}

images.before(async () => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'engram-link-images-'));
  const models = join(ctx.dir, 'models');
  const pull = spawnSync(
    process.execPath,
    [join(root, 'bin', 'engram.js'), 'models', 'pull', 'mobilenetv2-12-int8', '--from', model!, '--dir', models],
    { encoding: 'utf8' },
  );
  assert.is(pull.status, 0, `models pull failed: ${pull.stderr}`);
  process.env.ENGRAM_MODELS_DIR = models;
  ctx.engram = await Engram.memory({ backbone: 'mobilenetv2-12-int8', quantizer: { kind: 'topk', k: 32 } });
  ctx.pair = await startSocat(ctx.dir);
  const server = new LinkServer(ctx.engram, { featureDim: ctx.engram.quantizer.dim, images: true });
  ctx.abort = new AbortController();
  ctx.serving = serveSerial(server, { path: ctx.pair.ptys[0], baudRate: 921600 }, { signal: ctx.abort.signal });
  ctx.port = await openSerial({ path: ctx.pair.ptys[1], baudRate: 921600 });
  ctx.client = new LinkClient(ctx.port, { timeoutMs: 20000 });
});

images.after(async () => {
  ctx.abort?.abort();
  await ctx.serving?.catch(() => undefined);
  ctx.client?.close();
  if (ctx.port) await closeSerial(ctx.port);
  await ctx.engram?.close();
  await ctx.pair?.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
});

images('PNG and JPEG bytes are learned, new images and raw pixels are recognised', async () => {
  const hello = await ctx.client.hello();
  assert.equal([hello.images, hello.featureDim], [true, 1280]);
  for (let i = 0; i < 3; i++) {
    await ctx.client.learn('disc', await sharp(disc(i)).png().toBuffer());
    await ctx.client.learn('stripes', await sharp(stripes(i)).jpeg({ quality: 85 }).toBuffer());
  }
  // Held-out images, each class once as PNG bytes and once as raw pixels.
  for (const i of [3, 4]) {
    for (const [label, svg] of [
      ['disc', disc(i)],
      ['stripes', stripes(i)],
    ] as const) {
      const png = await ctx.client.predict(await sharp(svg).png().toBuffer(), { top: 2 });
      assert.is(png.label, label, `PNG ${label} ${i}: ${JSON.stringify(png.top)}`);
      const { data, info } = await sharp(svg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const raw = await ctx.client.predict({ data, width: info.width, height: info.height, channels: 3 }, { top: 2 });
      assert.is(raw.label, label, `pixels ${label} ${i}: ${JSON.stringify(raw.top)}`);
      assert.ok(raw.margin > 0);
    }
  }
});

images('bytes that are not an image are refused as INVALID_ARGUMENT and nothing is stored', async () => {
  const before = ctx.engram.stats();
  const e = await ctx.client.learn('junk', Buffer.from('GIF89a but not really an image at all')).catch((err) => err);
  assert.instance(e, LinkError);
  assert.is(e.code, ErrorCode.INVALID_ARGUMENT);
  assert.equal(ctx.engram.stats().labels, before.labels);
});

if (skip) console.log(`SKIP 66.link-images: ${skip}`);
else images.run();
