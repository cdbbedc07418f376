// A backbone's input conventions (manifest polarity and framing) applied per image: what is read from an image
// (polarity, ink box, framing window), that every decode route (raw pixels, the TypeScript PNG decoder, the
// addon's libjpeg at a DCT scale, sharp) frames the same page the same way, and that a backbone without
// conventions, or with them turned off, feeds images exactly as before.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planInk, type Conventions } from '../src/images/conventions.js';
import { affineFor } from '../src/images/normalize.js';
import { fastJpegAvailable, imageIntoTensor, inkIntoTensor } from '../src/images/tensor.js';
import { Backbone, loadManifest, type DecodeTarget, type Pixels } from '../src/backbone/index.js';
import { imageAt, loadMnist } from '../src/datasets/idx.js';
import { inkPage, writeGrey } from '../bench/lib/ink-pages.js';
import { tinyModel } from './helpers/backbone-tiny-onnx.js';
import { repoRoot, tempDir, writeManifest } from './helpers/backbone-fixtures.js';
import { rejects } from './helpers/backbone-assert.js';

const dir = tempDir('engram-ink-');
const GLYPH = loadManifest(join(repoRoot, 'models', 'engram-glyph.json'));
const CONV: Conventions = { polarity: GLYPH.polarity, framing: GLYPH.framing };
const TARGET: DecodeTarget = { width: 32, height: 32, channels: 1, resize: 'bilinear' };
const SPEC = GLYPH.input;
const AFFINE = affineFor(SPEC);

/** A grey page of `background`, with a filled rectangle of `ink` at x, y (w x h). */
function page(width: number, height: number, background: number, ink: number, box: { x: number; y: number; w: number; h: number }): Pixels {
  const data = Buffer.alloc(width * height, background);
  for (let y = box.y; y < box.y + box.h; y++) data.fill(ink, y * width + box.x, y * width + box.x + box.w);
  return { data, width, height, channels: 1 };
}

const plan = suite('planInk: what is read from one image');

plan('dark ink on light paper: inverted for a light-on-dark model, ink box found, window sized and centred by it', () => {
  const p = planInk(page(120, 90, 230, 30, { x: 70, y: 20, w: 10, h: 40 }), CONV, 32, 32);
  assert.is(p.polarity, 'dark-on-light');
  assert.is(p.inverted, true);
  assert.equal(p.ink, { x: 70, y: 20, width: 10, height: 40 });
  // The box's longer side (40) fills 0.714 of 32 pixels: the window is 40 / 0.714 source pixels square.
  assert.ok(Math.abs(p.window!.width - 40 / 0.714) < 1e-9);
  assert.ok(Math.abs(p.window!.x + p.window!.width / 2 - 75) < 1e-9, 'centred on the bar (its centre of mass)');
  assert.ok(Math.abs(p.window!.y + p.window!.height / 2 - 40) < 1e-9);
  // Levels are indexed by a pixel's departure from its local background: none is the model's black, the ink's full.
  assert.is(p.depth![0], 0, 'paper: no departure');
  assert.is(p.depth![30 * 120 + 75], 200, 'ink: 200 levels under the paper');
  assert.is(p.levels[0], 0, "paper becomes the model's black");
  assert.is(p.levels[200], 255, "ink becomes the model's white");
});

plan("an MNIST digit as the data set renders it is light on dark: not inverted, its box is the digit's", () => {
  const digit = imageAt(loadMnist('test'), 0);
  const p = planInk({ data: Buffer.from(digit.data), width: 28, height: 28, channels: 1 }, CONV, 32, 32);
  assert.is(p.polarity, 'light-on-dark');
  assert.is(p.inverted, false);
  // MNIST fits each digit into 20x20: its longer side is about 20 pixels, so the window is about the 28x28 frame.
  assert.ok(Math.max(p.ink!.width, p.ink!.height) >= 18 && Math.max(p.ink!.width, p.ink!.height) <= 20, JSON.stringify(p.ink));
  assert.ok(Math.abs(p.window!.width - 28) < 1.5, String(p.window!.width));
});

plan('paper grain, light falling off across the page and a speck of dust do not move the ink box', () => {
  const digit = imageAt(loadMnist('test'), 1);
  const clean = inkPage(digit.data, 7, { grain: 0, falloff: 0 });
  // The far corner of the page is 140 levels darker than the near one, the ink only 47 darker than it.
  const rough = inkPage(digit.data, 7, { grain: 8, falloff: 140 });
  rough.data[5 * rough.width + 5] = 20; // dust in a corner, far from the digit
  const a = planInk({ ...clean, data: Buffer.from(clean.data), channels: 1 }, CONV, 32, 32);
  const b = planInk({ ...rough, data: Buffer.from(rough.data), channels: 1 }, CONV, 32, 32);
  assert.is(b.polarity, 'dark-on-light');
  for (const k of ['x', 'y', 'width', 'height'] as const)
    assert.ok(Math.abs(a.ink![k] - b.ink![k]) <= 2, `${k}: ${a.ink![k]} vs ${b.ink![k]}`);
  assert.ok(b.ink!.x >= clean.at.x && b.ink!.x + b.ink!.width <= clean.at.x + clean.at.size, "inside the digit's frame on the page");
});

plan('a blank page (flat, or only grain) has no polarity and is not framed', () => {
  const flat = planInk(page(64, 48, 200, 200, { x: 0, y: 0, w: 0, h: 0 }), CONV, 32, 32);
  assert.is(flat.polarity, null);
  assert.is(flat.window, null);
  assert.is(flat.inverted, false);
  const grain = inkPage(new Uint8Array(784), 3, { falloff: 0 });
  const g = planInk({ ...grain, data: Buffer.from(grain.data), channels: 1 }, CONV, 32, 32);
  assert.is(g.polarity, null);
  assert.is(g.window, null);
});

plan('polarity without framing: only the inversion table, no window', () => {
  const p = planInk(page(40, 40, 220, 20, { x: 10, y: 10, w: 5, h: 20 }), { polarity: 'light-on-dark' }, 32, 32);
  assert.is(p.inverted, true);
  assert.is(p.window, null);
  assert.is(p.levels[0], 255);
  assert.is(p.levels[255], 0);
  const same = planInk(page(40, 40, 220, 20, { x: 10, y: 10, w: 5, h: 20 }), { polarity: 'dark-on-light' }, 32, 32);
  assert.is(same.inverted, false);
});

const routes = suite('inkIntoTensor: every decode route frames the page the same way');

const digit = imageAt(loadMnist('test'), 2);
const small = inkPage(digit.data, 11);
const large = inkPage(digit.data, 11, { width: 1600, height: 1200, zoom: 12 });
// A small digit on a large page: at the DCT scale first read (1/8) its ink is a few pixels across.
const tiny = inkPage(digit.data, 11, { width: 1600, height: 1200, zoom: 2 });

async function into(input: Parameters<typeof inkIntoTensor>[0], preprocess: 'fast' | 'sharp' = 'fast') {
  const out = new Float32Array(32 * 32);
  const r = await inkIntoTensor(input, TARGET, CONV, SPEC, AFFINE, out, 0, 'x', preprocess);
  return { out, ...r };
}

function meanDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

routes('raw pixels, PNG (TypeScript decoder), JPEG (addon) and sharp agree, and say what they did', async () => {
  await writeGrey(join(dir, 'small.png'), small, 'png');
  await writeGrey(join(dir, 'small.jpg'), small, 'jpeg');
  const raw = await into({ data: small.data, width: small.width, height: small.height, channels: 1 });
  assert.is(raw.by, 'raw');
  assert.is(raw.conventions!.inverted, true);
  assert.is(raw.conventions!.polarity, 'dark-on-light');
  const ink = raw.conventions!.ink!;
  assert.ok(ink.x >= small.at.x && ink.x + ink.width <= small.at.x + small.at.size, JSON.stringify({ ink, at: small.at }));
  const png = await into(join(dir, 'small.png'));
  assert.is(png.by, 'png');
  assert.equal(png.out, raw.out, 'the PNG decoder gives the raw pixels back: the same tensor');
  assert.equal(png.conventions, raw.conventions);
  const viaSharp = await into(join(dir, 'small.png'), 'sharp');
  assert.is(viaSharp.by, 'sharp');
  assert.equal(viaSharp.out, raw.out, 'sharp decodes a small grey PNG to the same pixels');
  const jpeg = await into(join(dir, 'small.jpg'));
  assert.is(jpeg.by, fastJpegAvailable() ? 'jpeg' : 'decode');
  assert.is(jpeg.conventions!.inverted, true);
  // JPEG is lossy: the tensor is close, not equal (values in units of the model's std, 0.303 of full scale).
  assert.ok(meanDiff(jpeg.out, raw.out) < 0.15, `JPEG vs raw: mean difference ${meanDiff(jpeg.out, raw.out)}`);
});

routes('a large JPEG is read at a DCT scale and decoded again larger when the ink is small in it; a large PNG through sharp', async () => {
  await writeGrey(join(dir, 'large.jpg'), large, 'jpeg');
  await writeGrey(join(dir, 'large.png'), large, 'png');
  const raw = await into({ data: large.data, width: large.width, height: large.height, channels: 1 });
  const jpeg = await into(join(dir, 'large.jpg'));
  const png = await into(join(dir, 'large.png'));
  assert.is(png.by, 'decode');
  assert.is(jpeg.by, fastJpegAvailable() ? 'jpeg' : 'decode');
  for (const r of [jpeg, png]) {
    // Boxes are in the full-size page's pixels whatever size the image was read at.
    const a = raw.conventions!.ink!;
    const b = r.conventions!.ink!;
    for (const k of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(a[k] - b[k]) <= 16, `${r.by} ${k}: ${b[k]} vs ${a[k]}`);
    assert.ok(meanDiff(r.out, raw.out) < 0.15, `${r.by} vs raw: mean difference ${meanDiff(r.out, raw.out)}`);
  }
  await writeGrey(join(dir, 'tiny.jpg'), tiny, 'jpeg');
  const tinyRaw = await into({ data: tiny.data, width: tiny.width, height: tiny.height, channels: 1 });
  const tinyJpeg = await into(join(dir, 'tiny.jpg'));
  // Framed from the 1/8 decode, the digit would be enlarged from about 5x2 pixels (mean difference about 0.2).
  assert.ok(meanDiff(tinyJpeg.out, tinyRaw.out) < 0.05, `small digit, JPEG vs raw: mean difference ${meanDiff(tinyJpeg.out, tinyRaw.out)}`);
  assert.ok(Math.abs(tinyJpeg.conventions!.crop!.width - tinyRaw.conventions!.crop!.width) < 4);
});

routes('a bad input fails with the same message as on the plain path', async () => {
  const damaged = join(dir, 'damaged.jpg');
  const good = readFileSync(join(dir, 'small.jpg'));
  writeFileSync(damaged, good.subarray(0, 40));
  writeFileSync(join(dir, 'empty.png'), '');
  for (const input of [
    join(dir, 'missing.png'),
    join(dir, 'empty.png'),
    damaged,
    dir,
    { data: new Uint8Array(5), width: 2, height: 2, channels: 1 as const },
  ]) {
    let plain: Error | undefined;
    await imageIntoTensor(input, TARGET, SPEC, AFFINE, new Float32Array(1024), 0, 'x').catch((e: Error) => {
      plain = e;
    });
    assert.ok(plain, `the plain path refuses ${typeof input === 'string' ? input : 'raw pixels of the wrong length'}`);
    await rejects(into(input), new RegExp(plain.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  }
});

const backbone = suite('Backbone: conventions on and off');

backbone('the embedded backbone applies its conventions by default and reports them; off feeds images as they are', async () => {
  const files = [join(dir, 'small.png'), join(dir, 'small.jpg')];
  const on = await Backbone.open(GLYPH.manifestPath, { threads: 1 });
  const off = await Backbone.open(GLYPH.manifestPath, { threads: 1, conventions: 'off' });
  try {
    assert.equal(on.conventions, { polarity: 'light-on-dark', framing: { kind: 'stroke', fill: 0.714, centre: 'mass' } });
    assert.is(off.conventions, null);
    const a = await on.embedDetailed(files);
    assert.equal(
      a.images.map((i) => i.conventions!.inverted),
      [true, true],
    );
    const b = await off.embedDetailed(files);
    assert.equal(
      b.images.map((i) => i.conventions),
      [null, null],
    );
    const plain = new Float32Array(32 * 32);
    await imageIntoTensor(files[0], TARGET, SPEC, AFFINE, plain, 0, 'x');
    assert.equal((await off.prepare([files[0]])).subarray(0, 32 * 32), plain, 'off: exactly the plain path');
  } finally {
    await on.close();
    await off.close();
  }
});

backbone('a backbone without polarity or framing (a photo model) prepares images bit for bit as before', async () => {
  const model = 'photo.onnx';
  writeFileSync(join(dir, model), tinyModel(3, 8));
  const manifest = writeManifest(dir, 'photo', model, {
    input: { ...GLYPH.input, channels: 3, colorOrder: 'RGB', mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2], width: 8, height: 8 },
    output: { name: 'output', dim: 3 },
  });
  copyFileSync(join(dir, 'small.png'), join(dir, 'photo-input.png'));
  const inputs = [
    join(dir, 'photo-input.png'),
    join(dir, 'small.jpg'),
    { data: small.data, width: small.width, height: small.height, channels: 1 as const },
  ];
  const auto = await Backbone.open(manifest, { threads: 1 });
  const off = await Backbone.open(manifest, { threads: 1, conventions: 'off' });
  try {
    assert.is(auto.conventions, null);
    const a = await auto.prepareDetailed(inputs);
    const b = await off.prepareDetailed(inputs);
    assert.equal(a.tensor, b.tensor);
    assert.equal(
      a.images.map((i) => i.conventions),
      [null, null, null],
    );
    const target: DecodeTarget = { width: 8, height: 8, channels: 3, resize: 'bilinear' };
    const one = new Float32Array(8 * 8 * 3);
    for (let k = 0; k < inputs.length; k++) {
      await imageIntoTensor(inputs[k], target, auto.manifest.input, affineFor(auto.manifest.input), one, 0, 'x');
      assert.equal(a.tensor.subarray(k * one.length, (k + 1) * one.length), one, `input ${k}`);
    }
  } finally {
    await auto.close();
    await off.close();
  }
});

backbone('a misspelt conventions option is refused, naming it', async () => {
  await rejects(
    Backbone.open(GLYPH.manifestPath, { conventions: 'on' as never }),
    /Backbone\.open options\.conventions: expected one of auto, off, got string "on"/,
  );
});

plan.run();
routes.run();
backbone.run();
