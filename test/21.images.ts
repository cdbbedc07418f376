// Image decoding and normalisation: formats, EXIF orientation, grey <-> RGB, raw buffers, resize,
// the arithmetic of normalisation, and errors that name the input.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, inputLabel, type DecodeTarget, type RawImage } from '../src/images/decode.js';
import { affineFor, writeNormalized, type NormalizeSpec } from '../src/images/normalize.js';
import { chelsea, coffee, tempDir } from './helpers/backbone-fixtures.js';
import { rejects } from './helpers/backbone-assert.js';

const RGB224: DecodeTarget = { width: 224, height: 224, channels: 3, resize: 'bilinear' };
const dir = tempDir();

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.is(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** A 6x4 RGB image whose pixels are all different, so any rotation or flip is visible. */
function asymmetric(): RawImage {
  const width = 6,
    height = 4;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    data[p * 3] = p * 10;
    data[p * 3 + 1] = 255 - p * 10;
    data[p * 3 + 2] = (p * 37) % 256;
  }
  return { data, width, height, channels: 3 };
}

const formats = suite('decodeImage: formats');

formats('PNG, JPEG and WebP of the same photo decode to the target size and nearly the same pixels', async () => {
  const png = await decodeImage(chelsea, RGB224);
  assert.is(png.data.length, 224 * 224 * 3);
  const jpegPath = join(dir, 'chelsea.jpg');
  const webpPath = join(dir, 'chelsea.webp');
  await sharp(chelsea).jpeg({ quality: 95 }).toFile(jpegPath);
  await sharp(chelsea).webp({ quality: 95 }).toFile(webpPath);
  const jpeg = await decodeImage(jpegPath, RGB224);
  const webp = await decodeImage(readFileSync(webpPath), RGB224); // a Buffer of encoded bytes works too
  assert.ok(meanAbsDiff(png.data, jpeg.data) < 3, 'JPEG close to PNG');
  assert.ok(meanAbsDiff(png.data, webp.data) < 3, 'WebP close to PNG');
  const other = await decodeImage(coffee, RGB224);
  assert.ok(meanAbsDiff(png.data, other.data) > 20, 'a different photo is far');
});

formats('resize to a non-square size honours width and height', async () => {
  const px = await decodeImage(coffee, { width: 30, height: 20, channels: 3, resize: 'bicubic' });
  assert.is(px.width, 30);
  assert.is(px.height, 20);
  assert.is(px.data.length, 30 * 20 * 3);
});

formats('fit cover crops the centre instead of stretching', async () => {
  // Left half black, right half white, 200x100: the centre square crop is half black, half white too,
  // but stretched vs cropped differ in where the edge lands on a 10x10 output: same here; use a 3-band image.
  const w = 300,
    h = 100;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = x < 100 ? 0 : x < 200 ? 128 : 255;
  const raw: RawImage = { data, width: w, height: h, channels: 1 };
  const cover = await decodeImage(raw, { width: 10, height: 10, channels: 1, resize: 'nearest', fit: 'cover' });
  assert.ok(
    cover.data.every((v) => v === 128),
    'cover keeps only the middle band',
  );
  const fill = await decodeImage(raw, { width: 9, height: 9, channels: 1, resize: 'nearest', fit: 'fill' });
  assert.equal([fill.data[0], fill.data[4], fill.data[8]], [0, 128, 255]);
});

const orient = suite('decodeImage: EXIF orientation');

for (const [orientation, rotate] of [
  [6, 270],
  [3, 180],
  [8, 90],
] as const) {
  orient(`orientation ${orientation} is applied, so the decoded pixels are the upright image`, async () => {
    const upright = asymmetric();
    const uprightPng = await sharp(upright.data, { raw: { width: 6, height: 4, channels: 3 } })
      .png()
      .toBuffer();
    // Store the pixels turned the other way and tag them with the orientation that turns them back.
    const stored = await sharp(uprightPng).rotate(rotate).withMetadata({ orientation }).png().toBuffer();
    assert.is((await sharp(stored).metadata()).orientation, orientation, 'fixture carries the tag');
    const px = await decodeImage(stored, { width: 6, height: 4, channels: 3, resize: 'nearest' });
    assert.equal(Array.from(px.data), Array.from(upright.data));
  });
}

const colour = suite('decodeImage: channels');

colour('a grey PNG becomes RGB with three equal channels for a 3-channel model', async () => {
  const greyPath = join(dir, 'grey.png');
  await sharp(chelsea).greyscale().toColourspace('b-w').png().toFile(greyPath);
  assert.is((await sharp(greyPath).metadata()).channels, 1);
  const px = await decodeImage(greyPath, { width: 32, height: 32, channels: 3, resize: 'bilinear' });
  assert.is(px.data.length, 32 * 32 * 3);
  for (let p = 0; p < 32 * 32; p++) {
    assert.ok(px.data[p * 3] === px.data[p * 3 + 1] && px.data[p * 3 + 1] === px.data[p * 3 + 2], `pixel ${p} grey`);
  }
});

colour('an RGB photo becomes one grey channel for a grey model; alpha is dropped', async () => {
  const rgba = await sharp(coffee).ensureAlpha(0.5).png().toBuffer();
  assert.is((await sharp(rgba).metadata()).channels, 4);
  const px = await decodeImage(rgba, { width: 28, height: 28, channels: 1, resize: 'bilinear' });
  assert.is(px.channels, 1);
  assert.is(px.data.length, 28 * 28);
  const rgb = await decodeImage(rgba, { width: 28, height: 28, channels: 3, resize: 'bilinear' });
  assert.is(rgb.data.length, 28 * 28 * 3);
});

const raw = suite('decodeImage: raw pixels');

raw('raw RGB already at the target size is passed through unchanged', async () => {
  const img = asymmetric();
  const px = await decodeImage(img, { width: 6, height: 4, channels: 3, resize: 'bilinear' });
  assert.equal(Array.from(px.data), Array.from(img.data));
});

raw('raw grey is resized and expanded to RGB; a subarray with a byteOffset is read correctly', async () => {
  const backing = new Uint8Array(7 + 16);
  const view = backing.subarray(7);
  view.fill(200);
  const px = await decodeImage({ data: view, width: 4, height: 4, channels: 1 }, { width: 8, height: 8, channels: 3, resize: 'bilinear' });
  assert.is(px.data.length, 8 * 8 * 3);
  assert.ok(px.data.every((v) => v === 200));
});

raw('raw data of the wrong length, bad channels or size name the input', async () => {
  const t = { width: 4, height: 4, channels: 3 as const, resize: 'bilinear' as const };
  await rejects(
    decodeImage({ data: new Uint8Array(10), width: 4, height: 4, channels: 3 }, t, 'input[2]'),
    /input\[2\]: raw data has 10 bytes, expected width\*height\*channels = 48/,
  );
  await rejects(decodeImage({ data: new Uint8Array(32), width: 4, height: 4, channels: 2 as 1 }, t), /channels: expected 1 or 3/);
  await rejects(
    decodeImage({ data: new Uint8Array(0), width: 0, height: 4, channels: 1 }, t),
    /width: expected an integer in \[1, 65535\]/,
  );
  await rejects(
    decodeImage({ data: [1, 2, 3] as unknown as Uint8Array, width: 1, height: 1, channels: 3 }, t),
    /data: expected a Uint8Array/,
  );
});

const errors = suite('decodeImage: bad input');

errors('missing file, empty file, not an image, truncated and corrupted files are named in the error', async () => {
  const empty = join(dir, 'empty.png');
  writeFileSync(empty, '');
  const text = join(dir, 'notes.jpg');
  writeFileSync(text, 'this is not a picture');
  const bytes = readFileSync(chelsea);
  const truncated = join(dir, 'truncated.png');
  writeFileSync(truncated, bytes.subarray(0, 5000));
  await rejects(decodeImage(join(dir, 'nope.png'), RGB224), new RegExp(`${join(dir, 'nope.png')}: file not found`));
  await rejects(decodeImage(empty, RGB224), /empty\.png: empty file \(0 bytes\)/);
  await rejects(decodeImage(text, RGB224), /notes\.jpg: cannot decode image \(.*unsupported image format/);
  await rejects(decodeImage(truncated, RGB224), /truncated\.png: cannot decode image/);
  await rejects(decodeImage(dir, RGB224), /: not a file/);
  await rejects(decodeImage(Buffer.alloc(0), RGB224), /input \(buffer of 0 bytes\): empty buffer/);
  await rejects(decodeImage(42 as unknown as string, RGB224), /input: image: expected a file path, a Buffer/);
});

errors('inputLabel names paths as themselves and other inputs by position', () => {
  assert.is(inputLabel('/a/b.png', 3), '/a/b.png');
  assert.is(inputLabel(Buffer.alloc(5), 3), 'input[3] (buffer of 5 bytes)');
  assert.is(inputLabel({ data: new Uint8Array(3), width: 1, height: 1, channels: 3 }, 0), 'input[0] (raw 1x1x3)');
});

const norm = suite('writeNormalized');

const IMAGENET: NormalizeSpec = {
  layout: 'NCHW',
  channels: 3,
  colorOrder: 'RGB',
  range: [0, 1],
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

norm('0 and 255 map to (lo - mean) / std and (hi - mean) / std per channel, NCHW planes', () => {
  // 2 pixels: black then white.
  const px = { data: Buffer.from([0, 0, 0, 255, 255, 255]), width: 2, height: 1, channels: 3 as const };
  const out = new Float32Array(6);
  writeNormalized(px, IMAGENET, affineFor(IMAGENET), out, 0);
  for (let c = 0; c < 3; c++) {
    assert.ok(Math.abs(out[c * 2] - (0 - IMAGENET.mean[c]) / IMAGENET.std[c]) < 1e-5, `black, channel ${c}`);
    assert.ok(Math.abs(out[c * 2 + 1] - (1 - IMAGENET.mean[c]) / IMAGENET.std[c]) < 1e-5, `white, channel ${c}`);
  }
});

norm('BGR swaps channels, NHWC interleaves, range [-1, 1] and offset place the image in the batch', () => {
  const px = { data: Buffer.from([10, 20, 30]), width: 1, height: 1, channels: 3 as const };
  const spec: NormalizeSpec = { layout: 'NHWC', channels: 3, colorOrder: 'BGR', range: [-1, 1], mean: [0, 0, 0], std: [1, 1, 1] };
  const out = new Float32Array(6).fill(99);
  writeNormalized(px, spec, affineFor(spec), out, 3);
  const expect = [30, 20, 10].map((v) => (v / 255) * 2 - 1);
  assert.equal(Array.from(out.subarray(0, 3)), [99, 99, 99]);
  for (let k = 0; k < 3; k++) assert.ok(Math.abs(out[3 + k] - expect[k]) < 1e-6, `channel ${k}`);
});

norm('grey single channel', () => {
  const px = { data: Buffer.from([0, 51, 255]), width: 3, height: 1, channels: 1 as const };
  const spec: NormalizeSpec = { layout: 'NCHW', channels: 1, colorOrder: 'gray', range: [0, 1], mean: [0.5], std: [0.5] };
  const out = new Float32Array(3);
  writeNormalized(px, spec, affineFor(spec), out, 0);
  assert.ok(Math.abs(out[0] + 1) < 1e-6 && Math.abs(out[1] - (0.2 - 0.5) / 0.5) < 1e-6 && Math.abs(out[2] - 1) < 1e-6);
});

formats.run();
orient.run();
colour.run();
raw.run();
errors.run();
norm.run();
