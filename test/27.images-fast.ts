// The fast preprocessing path: the resampler (known values, the addon against the TypeScript reference bit for
// bit, agreement with sharp when shrinking), EXIF orientation, the small-PNG decoder, and imageIntoTensor's
// choice of path, with errors that match the general path's.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, type DecodeTarget, type Pixels, type Resize } from '../src/images/decode.js';
import { affineFor, type NormalizeSpec } from '../src/images/normalize.js';
import { orient } from '../src/images/orient.js';
import { decodePng } from '../src/images/png.js';
import { fitWindow, resampleInto, TAP_BITS } from '../src/images/resample.js';
import { fastJpegAvailable, imageIntoTensor } from '../src/images/tensor.js';
import { chelsea, coffee, tempDir } from './helpers/backbone-fixtures.js';
import { rejects } from './helpers/backbone-assert.js';
import { below, rng, seedFor } from './helpers/memory-random.js';

const dir = tempDir();
const seed = seedFor('27.images-fast');

/** Output values as 8-bit levels: a spec with range 0..255, mean 0, std 1. */
const LEVELS = (channels: 1 | 3, layout: 'NCHW' | 'NHWC' = 'NCHW'): NormalizeSpec => ({
  layout,
  channels,
  colorOrder: channels === 1 ? 'gray' : 'RGB',
  range: [0, 255],
  mean: channels === 1 ? [0] : [0, 0, 0],
  std: channels === 1 ? [1] : [1, 1, 1],
});

function resample(
  px: Pixels,
  w: number,
  h: number,
  resize: Resize,
  spec = LEVELS(px.channels),
  fit: 'fill' | 'cover' = 'fill',
  impl: 'native' | 'reference' = 'native',
): Float32Array {
  const out = new Float32Array(w * h * spec.channels);
  resampleInto(px, fitWindow(px.width, px.height, w, h, fit), w, h, resize, spec, affineFor(spec), out, 0, impl);
  return out;
}

function randomPixels(r: () => number, width: number, height: number, channels: 1 | 3): Pixels {
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = below(r, 256);
  return { data, width, height, channels };
}

/** Interleaved 8-bit pixels as the plain levels of an NHWC tensor, for comparison with sharp output. */
function asLevels(data: Uint8Array): Float32Array {
  return Float32Array.from(data);
}

function meanAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

const known = suite('resample: known values');

known('same size copies every kernel exactly; a flat image stays flat', () => {
  const px = randomPixels(rng(seed), 9, 7, 3);
  for (const k of ['nearest', 'bilinear', 'bicubic', 'lanczos'] as const) {
    assert.equal([...resample(px, 9, 7, k, LEVELS(3, 'NHWC'))], [...px.data], k);
  }
  const flat = { data: Buffer.alloc(40 * 30 * 3, 77), width: 40, height: 30, channels: 3 as const };
  for (const k of ['nearest', 'bilinear', 'bicubic', 'lanczos'] as const) {
    for (const [w, h] of [
      [13, 11],
      [97, 64],
      [224, 224],
    ])
      assert.ok(
        resample(flat, w, h, k).every((v) => v === 77),
        `${k} ${w}x${h}`,
      );
  }
});

known('bilinear enlarging uses pixel centres: [0, 255] -> [0, 64, 191, 255]', () => {
  const px = { data: Buffer.from([0, 255]), width: 2, height: 1, channels: 1 as const };
  assert.equal([...resample(px, 4, 1, 'bilinear')], [0, 64, 191, 255]);
  assert.equal([...resample(px, 4, 1, 'nearest')], [0, 0, 255, 255]);
});

known('bilinear shrinking widens the filter: a 1-pixel stripe pattern averages out instead of aliasing', () => {
  const width = 64;
  const data = Buffer.alloc(width * 4);
  for (let y = 0; y < 4; y++) for (let x = 0; x < width; x++) data[y * width + x] = x % 2 ? 255 : 0;
  const out = resample({ data, width, height: 4, channels: 1 }, 16, 4, 'bilinear');
  // Interior columns see both stripes equally; only the edges, clamped, lean one way.
  for (let x = 1; x < 15; x++) assert.ok(Math.abs(out[x] - 127.5) <= 1, `column ${x}: ${out[x]}`);
});

known('cover takes the centred window with the output aspect; fill the whole image', () => {
  assert.equal(fitWindow(640, 480, 224, 224, 'cover'), { x: 80, y: 0, width: 480, height: 480 });
  assert.equal(fitWindow(300, 600, 100, 100, 'cover'), { x: 0, y: 150, width: 300, height: 300 });
  assert.equal(fitWindow(640, 480, 224, 224, 'fill'), { x: 0, y: 0, width: 640, height: 480 });
});

known('a grey source feeds all three channels; BGR models get their channels swapped', () => {
  const grey = { data: Buffer.from([10, 20, 30, 40]), width: 2, height: 2, channels: 1 as const };
  const rgb = resample(grey, 2, 2, 'nearest', LEVELS(3, 'NCHW'));
  assert.equal([...rgb], [10, 20, 30, 40, 10, 20, 30, 40, 10, 20, 30, 40]);
  const px = { data: Buffer.from([1, 2, 3]), width: 1, height: 1, channels: 3 as const };
  const bgr: NormalizeSpec = { ...LEVELS(3, 'NHWC'), colorOrder: 'BGR' };
  assert.equal([...resample(px, 1, 1, 'nearest', bgr)], [3, 2, 1]);
  assert.throws(() => resample(px, 1, 1, 'nearest', LEVELS(1)), /3-channel pixels cannot feed a 1-channel model/);
});

const parity = suite('resample: the addon and the TypeScript reference');

parity('give bit-identical tensors for random sizes, kernels, fits, layouts, channels and normalisations', () => {
  const r = rng(seed);
  const kernels = ['nearest', 'bilinear', 'bicubic', 'lanczos'] as const;
  for (let i = 0; i < 120; i++) {
    const channels = below(r, 2) ? 3 : 1;
    const px = randomPixels(r, 1 + below(r, 90), 1 + below(r, 90), channels);
    const modelChannels = channels === 1 && below(r, 2) ? 3 : channels;
    const spec: NormalizeSpec = {
      layout: below(r, 2) ? 'NCHW' : 'NHWC',
      channels: modelChannels,
      colorOrder: modelChannels === 1 ? 'gray' : below(r, 2) ? 'BGR' : 'RGB',
      range: [0, 1],
      mean: Array.from({ length: modelChannels }, () => r()),
      std: Array.from({ length: modelChannels }, () => 0.1 + r()),
    };
    const w = 1 + below(r, 70),
      h = 1 + below(r, 70);
    const k = kernels[below(r, 4)];
    const fit = below(r, 2) ? 'cover' : 'fill';
    const a = resample(px, w, h, k, spec, fit, 'native');
    const b = resample(px, w, h, k, spec, fit, 'reference');
    const bad = a.findIndex((v, j) => !Object.is(v, b[j]));
    assert.is(
      bad,
      -1,
      `case ${i}: ${px.width}x${px.height}x${channels} -> ${w}x${h}x${modelChannels} ${k} ${fit} ${spec.layout}: value ${bad}`,
    );
  }
});

parity('give bit-identical tensors on the loops chosen by table shape: copies, model sizes, more than 8 taps a row', () => {
  const r = rng(seed + 1);
  const imagenet = (layout: 'NCHW' | 'NHWC', colorOrder: 'RGB' | 'BGR'): NormalizeSpec => ({
    layout,
    channels: 3,
    colorOrder,
    range: [0, 1],
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  });
  const cases: [number, number, number, number, Resize][] = [
    [224, 224, 224, 224, 'nearest'], // raw frames at the model's size: the direct copy
    [37, 23, 37, 23, 'bilinear'], // any kernel at the source's size reads one pixel per output
    [19, 11, 61, 40, 'nearest'], // nearest enlargement: also one pixel per output
    [320, 240, 224, 224, 'bilinear'], // a 640x480 JPEG decoded at 1/2 for a 224x224 model
    [240, 320, 224, 224, 'bicubic'],
    [150, 90, 9, 5, 'lanczos'], // 100+ taps a pixel: the loop without a fixed tap count
    [90, 150, 7, 13, 'bilinear'],
  ];
  for (const [sw, sh, w, h, k] of cases) {
    const px = randomPixels(r, sw, sh, 3);
    for (const layout of ['NCHW', 'NHWC'] as const) {
      for (const order of ['RGB', 'BGR'] as const) {
        const spec = imagenet(layout, order);
        const a = resample(px, w, h, k, spec, 'fill', 'native');
        const b = resample(px, w, h, k, spec, 'fill', 'reference');
        const bad = a.findIndex((v, j) => !Object.is(v, b[j]));
        assert.is(bad, -1, `${sw}x${sh} -> ${w}x${h} ${k} ${layout} ${order}: value ${bad}`);
      }
    }
  }
});

parity('the addon refuses tap tables that point outside the image, weights past a count, heavy tables and unknown options', async () => {
  const { loadBinding } = await import('../src/native/loader.js');
  const b = loadBinding();
  const one = new Int16Array([1 << TAP_BITS]);
  const src = { data: new Uint8Array(4), width: 2, height: 2, channels: 1 };
  const axis = (first: number, weights: Int16Array = one, taps = 1, count = 1) => ({
    first: new Int32Array([first]),
    count: new Int32Array([count]),
    weights,
    taps,
  });
  const slot = () => ({
    width: 1,
    height: 1,
    channels: 1,
    nchw: true,
    scale: new Float32Array([1]),
    bias: new Float32Array([0]),
    source: new Uint8Array([0]),
    out: new Float32Array(1),
    offset: 0,
  });
  const call = (first: number, hWeights: Int16Array = one, hTaps = 1) =>
    b.resampleInto(src, { h: axis(first, hWeights, hTaps), v: axis(0) }, slot());
  call(1);
  assert.throws(() => call(2), /taps\.h\.first: tap 0 reads outside the 2-pixel source/);
  assert.throws(() => call(-1), /taps\.h\.first: tap 0 reads outside the 2-pixel source/);
  assert.throws(
    () => call(0, new Int16Array([1 << TAP_BITS, 8192]), 2),
    /taps\.h\.weights: tap 1 of output 0 is past its count but weighs 8192/,
  );
  call(0, new Int16Array([32767]));
  assert.throws(
    () => b.resampleInto(src, { h: axis(0, new Int16Array([30000, -3000]), 2, 2), v: axis(0) }, slot()),
    /taps\.h\.weights: the weights of output 0 add up to 33000 in absolute value \(the most is 32767, with 1 as 16384\)/,
  );
  assert.throws(
    () => b.resampleInto(src, { h: axis(0, new Float32Array([1]) as unknown as Int16Array), v: axis(0) }, slot()),
    /taps\.h\.weights: expected a Int16Array|taps\.h\.weights: expected an Int16Array/,
  );
  assert.throws(
    () => b.resampleInto({ ...src, data: new Uint8Array(3) }, { h: axis(0), v: axis(0) }, slot()),
    /src\.data: expected a Uint8Array of length 4/,
  );
  assert.throws(() => b.resampleInto(src, { h: axis(0), v: axis(5) }, slot()), /taps\.v\.first: tap 0 reads outside the 2-pixel source/);
  assert.throws(
    () => b.resampleInto(src, { h: axis(0), v: axis(0) }, { ...slot(), ofset: 0 } as never),
    /^slot: unknown option "ofset" \(known: width, height, channels, nchw, scale, bias, source, out, offset\)$/,
  );
  assert.throws(
    () => b.resampleInto(src, { h: axis(0), v: axis(0), w: axis(0) } as never, slot()),
    /^taps: unknown option "w" \(known: h, v\)$/,
  );
  assert.throws(() => b.resampleInto(src, null as never, slot()), /^taps: expected an options object, got null$/);
  assert.throws(
    () => b.resampleInto(src, { h: axis(0), v: axis(0) }, { ...slot(), offset: 1 }),
    /slot\.offset: expected an integer in \[0, 0\], got number 1/,
  );
});

const agree = suite('resample: agreement with sharp');

agree("shrinking a photo gives sharp's pixels within rounding (bilinear, bicubic, lanczos)", async () => {
  for (const file of [chelsea, coffee]) {
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const px: Pixels = { data, width: info.width, height: info.height, channels: 3 };
    for (const k of ['bilinear', 'bicubic', 'lanczos'] as const) {
      const ours = resample(px, 224, 224, k, LEVELS(3, 'NHWC'));
      const theirs = await decodeImage(file, { width: 224, height: 224, channels: 3, resize: k });
      const d = meanAbs(ours, asLevels(theirs.data));
      assert.ok(d < 0.6, `${file} ${k}: mean difference ${d.toFixed(3)} levels`);
    }
  }
});

const orientation = suite('orient: EXIF orientations');

orientation("all eight orientations move pixels exactly as sharp's rotate() does", async () => {
  const px = randomPixels(rng(seed + 1), 5, 3, 3);
  for (let o = 1; o <= 8; o++) {
    const tagged = await sharp(px.data, { raw: { width: 5, height: 3, channels: 3 } })
      .png()
      .withMetadata({ orientation: o })
      .toBuffer();
    const { data, info } = await sharp(tagged).rotate().raw().toBuffer({ resolveWithObject: true });
    const ours = orient(px, o);
    assert.equal([ours.width, ours.height], [info.width, info.height], `orientation ${o}`);
    assert.equal([...ours.data], [...data], `orientation ${o}`);
  }
  assert.throws(() => orient(px, 9), /orientation: expected an EXIF orientation 1..8, got 9/);
});

const png = suite('decodePng: the small-PNG decoder');

png("grey, grey+alpha, RGB and RGBA files with every row filter decode to sharp's pixels", async () => {
  const r = rng(seed + 2);
  for (const channels of [1, 2, 3, 4] as const) {
    // A smooth gradient plus noise, so the encoder's adaptive filtering picks several filter types.
    const w = 37,
      h = 23;
    const raw = Buffer.alloc(w * h * channels);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < channels; k++) raw[(y * w + x) * channels + k] = (x * 5 + y * 3 + k * 40 + below(r, 6)) & 255;
    for (const adaptiveFiltering of [false, true]) {
      const file = await sharp(raw, { raw: { width: w, height: h, channels } })
        .png({ adaptiveFiltering, compressionLevel: 9 })
        .toBuffer();
      const ours = decodePng(file);
      assert.ok(ours, `${channels} channels`);
      const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.equal([ours.width, ours.height, ours.channels], [info.width, info.height, info.channels]);
      assert.ok(ours.data.equals(data), `${channels} channels, adaptive ${adaptiveFiltering}`);
    }
  }
});

png('leaves palette, 16-bit, interlaced, colour-managed and damaged files to sharp (null)', async () => {
  const base = sharp(chelsea).resize(40, 30);
  assert.is(decodePng(await base.clone().png({ palette: true }).toBuffer()), null, 'palette');
  assert.is(decodePng(await base.clone().png({ progressive: true }).toBuffer()), null, 'interlaced');
  assert.is(decodePng(await base.clone().toColourspace('rgb16').png().toBuffer()), null, '16-bit');
  assert.is(decodePng(await base.clone().withIccProfile('p3').png().toBuffer()), null, 'ICC profile');
  const good = await base.clone().png().toBuffer();
  assert.ok(decodePng(good));
  const flipped = Buffer.from(good);
  flipped[60] ^= 0x10; // inside IDAT: the chunk CRC no longer matches
  assert.is(decodePng(flipped), null, 'bad CRC');
  assert.is(decodePng(good.subarray(0, good.length - 20)), null, 'truncated');
  assert.is(decodePng(Buffer.from('not a png at all, but long enough to look at')), null);
});

const fused = suite('decodeJpegInto: decode, orientation and resize in one job');

if (!fastJpegAvailable()) console.log('SKIP 27.images-fast decodeJpegInto cases: the addon was built without libjpeg');
else {
  fused('equals decodeJpeg + orient + resampleInto bit for bit, for all eight orientations and both fits', async () => {
    const { loadBinding } = await import('../src/native/loader.js');
    const b = loadBinding();
    const upright = await sharp(chelsea).resize(300, 200, { fit: 'fill' }).toBuffer();
    for (let o = 1; o <= 8; o++) {
      const jpeg = await sharp(upright).jpeg({ quality: 90 }).withMetadata({ orientation: o }).toBuffer(); // sRGB profile: handled
      for (const [w, h, fit, channels] of [
        [96, 64, 'fill', 3],
        [64, 64, 'cover', 3],
        [120, 90, 'cover', 1],
      ] as const) {
        const spec: NormalizeSpec = {
          ...LEVELS(channels),
          range: [0, 1],
          mean: channels === 1 ? [0.4] : [0.485, 0.456, 0.406],
          std: channels === 1 ? [0.3] : [0.229, 0.224, 0.225],
        };
        const affine = affineFor(spec);
        const plan = b.jpegPlan(jpeg, w, h, channels);
        assert.ok(plan, `orientation ${o}`);
        assert.is(plan.orientation, o);
        const stored = (await b.decodeJpeg(jpeg, w, h, channels))!;
        const px = orient({ data: stored.data, width: stored.width, height: stored.height, channels }, stored.orientation);
        assert.equal([px.width, px.height], [plan.width, plan.height], 'the plan announces the decoded size');
        const window = fitWindow(px.width, px.height, w, h, fit);
        const expected = new Float32Array(w * h * channels + 5);
        resampleInto(px, window, w, h, 'bilinear', spec, affine, expected, 5);
        const got = new Float32Array(w * h * channels + 5);
        const { tapsFor } = await import('../src/images/resample.js');
        const { h: ht, v: vt } = tapsFor(px.width, px.height, window, w, h, 'bilinear');
        const ok = await b.decodeJpegInto(
          jpeg,
          { minWidth: w, minHeight: h, channels, width: plan.width, height: plan.height },
          { h: ht, v: vt },
          { width: w, height: h, channels, nchw: true, scale: affine.scale, bias: affine.bias, source: affine.source, out: got, offset: 5 },
        );
        assert.ok(ok, `orientation ${o} ${w}x${h} ${fit}`);
        const bad = got.findIndex((v, i) => !Object.is(v, expected[i]));
        assert.is(bad, -1, `orientation ${o} ${w}x${h} ${fit} ${channels}: value ${bad}`);
      }
    }
  });

  fused('resolves false for damaged data or a size other than announced; refuses taps outside the image', async () => {
    const { loadBinding } = await import('../src/native/loader.js');
    const b = loadBinding();
    const jpeg = await sharp(chelsea).resize(64, 48).jpeg().toBuffer();
    const { tapsFor } = await import('../src/images/resample.js');
    const spec = LEVELS(3);
    const a = affineFor(spec);
    const run = (bytes: Uint8Array, sw: number, sh: number) => {
      const { h, v } = tapsFor(sw, sh, { x: 0, y: 0, width: sw, height: sh }, 32, 24, 'bilinear');
      return b.decodeJpegInto(
        bytes,
        { minWidth: 32, minHeight: 24, channels: 3, width: sw, height: sh },
        { h, v },
        {
          width: 32,
          height: 24,
          channels: 3,
          nchw: true,
          scale: a.scale,
          bias: a.bias,
          source: a.source,
          out: new Float32Array(32 * 24 * 3),
          offset: 0,
        },
      );
    };
    const plan = b.jpegPlan(jpeg, 32, 24, 3)!;
    assert.equal([plan.width, plan.height, plan.scale], [32, 24, 0.5]);
    assert.is(await run(jpeg, 32, 24), true);
    assert.is(await run(jpeg, 30, 24), false, 'announced 30 wide, decodes 32 wide');
    assert.is(await run(jpeg.subarray(0, jpeg.length - 40), 32, 24), false, 'truncated');
    assert.is(b.jpegPlan(await sharp(chelsea).png().toBuffer(), 32, 24, 3), null);
    assert.is(
      b.jpegPlan(await sharp(chelsea).jpeg().withIccProfile('p3').toBuffer(), 32, 24, 3),
      null,
      'Display P3 needs colour management',
    );
    assert.throws(() => {
      const { h, v } = tapsFor(64, 48, { x: 0, y: 0, width: 64, height: 48 }, 32, 24, 'bilinear');
      void b.decodeJpegInto(
        jpeg,
        { minWidth: 32, minHeight: 24, channels: 3, width: 32, height: 24 },
        { h, v },
        {
          width: 32,
          height: 24,
          channels: 3,
          nchw: true,
          scale: a.scale,
          bias: a.bias,
          source: a.source,
          out: new Float32Array(32 * 24 * 3),
          offset: 0,
        },
      );
    }, /taps\.h\.first: tap \d+ reads outside the 32-pixel source/);
    assert.throws(() => {
      const { h, v } = tapsFor(32, 24, { x: 0, y: 0, width: 32, height: 24 }, 32, 24, 'bilinear');
      void b.decodeJpegInto(
        jpeg,
        { minWidth: 32, minHeight: 24, channels: 3, width: 32, height: 24, scale: 1 } as never,
        { h, v },
        {
          width: 32,
          height: 24,
          channels: 3,
          nchw: true,
          scale: a.scale,
          bias: a.bias,
          source: a.source,
          out: new Float32Array(32 * 24 * 3),
          offset: 0,
        },
      );
    }, /^decode: unknown option "scale" \(known: minWidth, minHeight, channels, width, height\)$/);
  });
}

png('random damage never throws: every damaged file decodes to a consistent image or is left to sharp', async () => {
  const r = rng(seed + 3);
  const good = await sharp(chelsea).resize(48, 32).png({ adaptiveFiltering: true }).toBuffer();
  let decoded = 0;
  for (let i = 0; i < 2000; i++) {
    const bad = Buffer.from(good);
    for (let f = 0; f < 1 + below(r, 4); f++) bad[below(r, bad.length)] ^= 1 + below(r, 255);
    const px = decodePng(below(r, 4) === 0 ? bad.subarray(0, below(r, bad.length)) : bad);
    if (px) {
      decoded++;
      assert.is(px.data.length, px.width * px.height * px.channels);
    }
  }
  // Flips inside a chunk break its CRC: almost every damaged file goes to sharp.
  assert.ok(decoded < 200, `${decoded} damaged files decoded`);
});

const paths = suite('imageIntoTensor: paths and errors');

const spec224 = LEVELS(3);
const T224: DecodeTarget = { width: 224, height: 224, channels: 3, resize: 'bilinear' };

async function both(
  input: string | Buffer,
  target = T224,
  spec = spec224,
): Promise<{ by: string; fast: Float32Array; general: Float32Array }> {
  const n = target.width * target.height * target.channels;
  const fast = new Float32Array(n),
    general = new Float32Array(n);
  const by = await imageIntoTensor(input, target, spec, affineFor(spec), fast, 0, 'x', 'fast');
  assert.is(await imageIntoTensor(input, target, spec, affineFor(spec), general, 0, 'x', 'sharp'), 'sharp');
  return { by, fast, general };
}

paths('JPEG through libjpeg (when built with it), PNG by size, WebP and raw pixels each take their path', async () => {
  const jpeg = join(dir, 'photo.jpg');
  await sharp(chelsea).resize(640, 480, { fit: 'fill' }).jpeg({ quality: 90 }).toFile(jpeg);
  const j = await both(jpeg);
  assert.is(j.by, fastJpegAvailable() ? 'jpeg' : 'sharp');
  assert.ok(meanAbs(j.fast, j.general) < 1.5, `JPEG: ${meanAbs(j.fast, j.general)}`);

  const small = join(dir, 'small.png');
  await sharp(chelsea).resize(200, 150).png().toFile(small);
  const s = await both(small, { width: 64, height: 64, channels: 3, resize: 'bilinear' });
  assert.is(s.by, 'png');
  assert.ok(meanAbs(s.fast, s.general) < 1, `small PNG: ${meanAbs(s.fast, s.general)}`);

  const mid = await both(coffee); // 600x400: sharp decodes, engram resizes
  assert.is(mid.by, 'decode');
  assert.ok(meanAbs(mid.fast, mid.general) < 1, `mid PNG: ${meanAbs(mid.fast, mid.general)}`);

  const big = await both(chelsea, { width: 32, height: 32, channels: 3, resize: 'bilinear' }); // > 16x the model's pixels
  assert.is(big.by, 'sharp');
  assert.equal([...big.fast], [...big.general]);

  const srgb = await both(await sharp(chelsea).resize(640, 480, { fit: 'fill' }).jpeg().withMetadata().toBuffer());
  assert.is(srgb.by, fastJpegAvailable() ? 'jpeg' : 'sharp', 'a JPEG with an sRGB profile');
  assert.ok(meanAbs(srgb.fast, srgb.general) < 1.5);
  const p3 = await both(await sharp(chelsea).resize(640, 480, { fit: 'fill' }).jpeg().withIccProfile('p3').toBuffer());
  assert.is(p3.by, 'sharp', 'a Display P3 JPEG is colour-managed by sharp');

  const webp = await sharp(chelsea).webp().toBuffer();
  assert.is((await both(webp)).by, 'sharp');

  const out = new Float32Array(4 * 4);
  const raw = { data: new Uint8Array(16).map((_, i) => i * 10), width: 4, height: 4, channels: 1 as const };
  assert.is(
    await imageIntoTensor(raw, { width: 4, height: 4, channels: 1, resize: 'bilinear' }, LEVELS(1), affineFor(LEVELS(1)), out, 0, 'raw'),
    'raw',
  );
  assert.equal([...out], [...raw.data]);
});

paths('an EXIF-rotated JPEG comes out upright on the fast path', async () => {
  const upright = await sharp(chelsea).resize(320, 240, { fit: 'fill' }).raw().toBuffer();
  // Stored turned 90 degrees anticlockwise with orientation 6 (display: turn clockwise), as a phone writes it.
  const stored = await sharp(upright, { raw: { width: 320, height: 240, channels: 3 } })
    .rotate(-90)
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const target: DecodeTarget = { width: 160, height: 120, channels: 3, resize: 'bilinear' };
  const t = await both(stored, target);
  assert.is(t.by, fastJpegAvailable() ? 'jpeg' : 'sharp');
  const reference = await sharp(upright, { raw: { width: 320, height: 240, channels: 3 } })
    .resize(160, 120)
    .raw()
    .toBuffer();
  const expected = new Float32Array(160 * 120 * 3);
  for (let k = 0; k < 3; k++) for (let p = 0; p < 160 * 120; p++) expected[k * 160 * 120 + p] = reference[p * 3 + k];
  assert.ok(meanAbs(t.fast, expected) < 3, `fast path ${t.by}: ${meanAbs(t.fast, expected)}`);
  assert.ok(meanAbs(t.general, expected) < 3, `sharp path: ${meanAbs(t.general, expected)}`);
});

paths('damaged JPEG and PNG files either decode or reject naming the input; nothing throws past it', async () => {
  const r = rng(seed + 4);
  const spec = LEVELS(3);
  const out = new Float32Array(64 * 64 * 3);
  const target: DecodeTarget = { width: 64, height: 64, channels: 3, resize: 'bilinear' };
  const files = [await sharp(chelsea).resize(160, 120).jpeg().toBuffer(), await sharp(chelsea).resize(120, 90).png().toBuffer()];
  const tally = { ok: 0, rejected: 0 };
  for (let i = 0; i < 300; i++) {
    const bad = Buffer.from(files[i % 2]);
    for (let f = 0; f < 1 + below(r, 3); f++) bad[8 + below(r, bad.length - 8)] ^= 1 + below(r, 255);
    try {
      await imageIntoTensor(bad, target, spec, affineFor(spec), out, 0, `damaged-${i}`);
      tally.ok++;
      assert.ok(
        out.every((v) => Number.isFinite(v) && v >= 0 && v <= 255),
        `damaged-${i}: values in range`,
      );
    } catch (err) {
      tally.rejected++;
      assert.match((err as Error).message, new RegExp(`^damaged-${i}: `));
    }
  }
  assert.is(tally.ok + tally.rejected, 300);
});

paths('files prepared at the same time come out as each does alone', async () => {
  // Forty files of different sizes and kinds in flight together on the thread pool, whose threads reuse
  // their decode and resize buffers from image to image: a buffer shared by two images would mix them.
  const files: string[] = [];
  for (let i = 0; i < 40; i++) {
    const file = join(dir, `pool-${i}.${i % 5 === 4 ? 'png' : 'jpg'}`);
    const side = i % 7 === 0 ? 1600 : 200 + 37 * i; // the 1600-pixel ones grow a thread's buffers
    let img = sharp(i % 2 ? chelsea : coffee)
      .resize(side, Math.round(side * 0.75), { fit: 'fill' })
      .modulate({ brightness: 0.8 + (i % 9) * 0.05 });
    img = i % 5 === 4 ? img.resize(120, 90).png() : img.jpeg({ quality: 70 + (i % 4) * 8 });
    await img.toFile(file);
    files.push(file);
  }
  const spec = LEVELS(3);
  const per = 64 * 64 * 3;
  const target: DecodeTarget = { width: 64, height: 64, channels: 3, resize: 'bilinear' };
  const alone = new Float32Array(per * files.length);
  for (let i = 0; i < files.length; i++) await imageIntoTensor(files[i], target, spec, affineFor(spec), alone, i * per, files[i]);
  for (let round = 0; round < 3; round++) {
    const together = new Float32Array(per * files.length);
    const by = await Promise.all(files.map((f, i) => imageIntoTensor(f, target, spec, affineFor(spec), together, i * per, f)));
    assert.ok(by.includes(fastJpegAvailable() ? 'jpeg' : 'sharp') && by.includes('png'), by.join(','));
    const bad = together.findIndex((v, j) => !Object.is(v, alone[j]));
    assert.is(bad, -1, `round ${round}: value ${bad} (image ${Math.floor(bad / per)}) differs`);
  }
});

paths('bad input fails the same way on both paths, naming the input', async () => {
  const spec = LEVELS(3);
  const out = new Float32Array(224 * 224 * 3);
  const junk = join(dir, 'junk.jpg');
  writeFileSync(junk, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 7)]));
  const cutPng = join(dir, 'cut.png');
  writeFileSync(cutPng, readFileSync(coffee).subarray(0, 2000));
  for (const [input, message] of [
    [join(dir, 'missing.png'), /missing\.png: file not found/],
    [junk, /junk\.jpg: cannot decode image/],
    [cutPng, /cut\.png: cannot decode image/],
    [Buffer.alloc(0), /empty buffer/],
  ] as const) {
    for (const mode of ['fast', 'sharp'] as const) {
      const label = typeof input === 'string' ? input : 'buffer';
      await rejects(imageIntoTensor(input, T224, spec, affineFor(spec), out, 0, label, mode), message);
    }
  }
});

known.run();
parity.run();
fused.run();
agree.run();
orientation.run();
png.run();
paths.run();
