// The native JPEG fast path (decodeJpeg): the same pixels as sharp at 1/1, the DCT scale it picks, EXIF
// orientation, the files it leaves to sharp (null), and argument errors. Built without libjpeg, it must
// say so and resolve null for everything.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import sharp from 'sharp';
import { loadBinding } from '../src/native/index.js';
import { chelsea, coffee } from './helpers/backbone-fixtures.js';
import { withoutIccProfile } from './helpers/jpeg-segments.js';

const b = loadBinding();
const info = b.jpeg();

/** Largest absolute difference between two equally long byte arrays. */
function maxDiff(a: Uint8Array, c: Uint8Array): number {
  assert.is(a.length, c.length, 'same length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - c[i]));
  return m;
}

function meanDiff(a: Uint8Array, c: Uint8Array): number {
  assert.is(a.length, c.length, 'same length');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - c[i]);
  return s / a.length;
}

async function decoded(jpeg: Uint8Array, minWidth: number, minHeight: number, channels: 1 | 3) {
  const r = await b.decodeJpeg(jpeg, minWidth, minHeight, channels);
  assert.ok(r, 'decodeJpeg handled the file');
  return r;
}

/** chelsea.png as a 640x480 JPEG: the size of a typical camera frame. */
const vga = () => sharp(chelsea).resize(640, 480, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();

const args = suite('decodeJpeg: arguments');

args('wrong types and out-of-range values throw, naming the parameter', async () => {
  const jpeg = await vga();
  const call = (...a: unknown[]) => (b.decodeJpeg as (...x: unknown[]) => unknown)(...a);
  assert.throws(() => call('photo.jpg', 0, 0, 3), /data: expected a Uint8Array, got string "photo\.jpg"/);
  assert.throws(() => call(new Float32Array(4), 0, 0, 3), /data: expected a Uint8Array, got Float32Array of length 4/);
  assert.throws(() => call(jpeg.buffer, 0, 0, 3), /data: expected a Uint8Array, got ArrayBuffer/);
  assert.throws(
    () => call(jpeg, '224', 0, 3),
    (e: unknown) => e instanceof TypeError && /minWidth: expected an integer in \[0, 65535\], got string "224"/.test(String(e)),
  );
  assert.throws(
    () => call(jpeg, -1, 0, 3),
    (e: unknown) => e instanceof RangeError && /minWidth: expected an integer in \[0, 65535\], got number -1/.test(String(e)),
  );
  assert.throws(() => call(jpeg, 0, 1.5, 3), /minHeight: expected an integer in \[0, 65535\], got number 1\.5/);
  assert.throws(() => call(jpeg, 0, NaN, 3), /minHeight: expected an integer in \[0, 65535\], got NaN/);
  assert.throws(() => call(jpeg, 0, 70000, 3), /minHeight: expected an integer in \[0, 65535\], got number 70000/);
  assert.throws(
    () => call(jpeg, 0, 0, 2),
    (e: unknown) => e instanceof RangeError && /channels: expected 1 or 3, got number 2/.test(String(e)),
  );
  assert.throws(
    () => call(jpeg, 0, 0, '3'),
    (e: unknown) => e instanceof TypeError && /channels: expected 1 or 3, got string "3"/.test(String(e)),
  );
  assert.throws(() => call(jpeg, 0, 0), /channels: expected 1 or 3, got undefined/);
});

args.run();

if (!info.available) {
  console.log('SKIP 26.jpeg-native: built without libjpeg');
  const without = suite('decodeJpeg: built without libjpeg');
  without('jpeg() says unavailable and decodeJpeg resolves null for a valid JPEG', async () => {
    assert.equal(info, { available: false, version: null });
    assert.is(await b.decodeJpeg(await vga(), 224, 224, 3), null);
  });
  without.run();
} else {
  const build = suite('jpeg(): build information');
  build('reports the libjpeg it was compiled with', () => {
    assert.is(info.available, true);
    assert.match(String(info.version), /^libjpeg/);
    console.log(`26.jpeg-native: ${info.version}`);
  });
  build.run();

  const pixels = suite("decodeJpeg: pixels at 1/1 equal sharp's decode of the same bytes");
  let worst = 0;
  const variants: [string, import('sharp').JpegOptions][] = [
    ['4:2:0 quality 80', {}],
    ['4:4:4 quality 95', { chromaSubsampling: '4:4:4', quality: 95 }],
    ['progressive', { progressive: true }],
    ['mozjpeg', { mozjpeg: true }],
  ];
  for (const [photoName, photo] of [
    ['chelsea', chelsea],
    ['coffee', coffee],
  ] as const) {
    for (const [name, options] of variants) {
      pixels(`${photoName}, ${name}`, async () => {
        const jpeg = await sharp(photo).jpeg(options).toBuffer();
        const ref = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
        const ours = await decoded(jpeg, ref.info.width, ref.info.height, 3);
        assert.equal([ours.width, ours.height, ours.channels, ours.scale, ours.orientation], [ref.info.width, ref.info.height, 3, 1, 1]);
        const d = maxDiff(ours.data, ref.data);
        worst = Math.max(worst, d);
        assert.ok(d <= 2, `max difference ${d} levels`);
      });
    }
  }
  pixels("a grey JPEG: RGB output has sharp's pixels; 1-channel output is the same grey", async () => {
    const jpeg = await sharp(chelsea).toColourspace('b-w').jpeg().toBuffer();
    assert.is((await sharp(jpeg).metadata()).channels, 1, 'a one-component JPEG');
    const ref = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    assert.is(ref.info.channels, 3, 'sharp expands grey to sRGB');
    const rgb = await decoded(jpeg, ref.info.width, ref.info.height, 3);
    const d = maxDiff(rgb.data, ref.data);
    worst = Math.max(worst, d);
    assert.ok(d <= 2, `max difference ${d} levels`);
    const grey = await decoded(jpeg, ref.info.width, ref.info.height, 1);
    assert.is(grey.channels, 1);
    assert.equal(grey.data, Buffer.from(rgb.data.filter((_, i) => i % 3 === 0)));
  });
  pixels('data that is a view into a larger buffer (byteOffset respected)', async () => {
    const jpeg = await vga();
    const big = Buffer.alloc(jpeg.length + 200, 0x5a);
    jpeg.copy(big, 100);
    const a = await decoded(jpeg, 640, 480, 3);
    const c = await decoded(new Uint8Array(big.buffer, big.byteOffset + 100, jpeg.length), 640, 480, 3);
    assert.ok(a.data.equals(c.data));
  });
  pixels('many decodes at once on the thread pool give the same pixels as one at a time', async () => {
    const jpeg = await vga();
    const one = await decoded(jpeg, 224, 224, 3);
    const many = await Promise.all(Array.from({ length: 12 }, () => decoded(jpeg, 224, 224, 3)));
    for (const r of many) assert.ok(r.data.equals(one.data));
  });
  pixels.after(() => console.log(`26.jpeg-native: max difference from sharp at 1/1: ${worst} levels`));
  pixels.run();

  const scale = suite('decodeJpeg: the smallest DCT scale covering the wanted size');
  // 640x480 stored: [minWidth, minHeight] -> [width, height, scale]
  const table: [number, number, number, number, number][] = [
    [0, 0, 80, 60, 1 / 8],
    [224, 224, 320, 240, 1 / 2],
    [100, 50, 160, 120, 1 / 4],
    [300, 240, 320, 240, 1 / 2],
    [321, 0, 400, 300, 5 / 8],
    [0, 421, 640, 480, 1],
    [640, 480, 640, 480, 1],
    [1000, 1000, 640, 480, 1],
  ];
  for (const [w, h, ew, eh, es] of table) {
    scale(`${w}x${h} wanted -> ${ew}x${eh} (scale ${es})`, async () => {
      const r = await decoded(await vga(), w, h, 3);
      assert.equal([r.width, r.height, r.scale], [ew, eh, es]);
      assert.is(r.data.length, ew * eh * 3);
    });
  }
  scale("a scaled decode looks like sharp's downscale of the full image", async () => {
    const jpeg = await vga();
    const half = await decoded(jpeg, 224, 224, 3);
    const ref = await sharp(jpeg).resize(320, 240, { kernel: 'linear' }).raw().toBuffer();
    const d = meanDiff(half.data, ref);
    console.log(`26.jpeg-native: 1/2 DCT scale vs sharp linear resize: mean difference ${d.toFixed(2)} levels`);
    assert.ok(d < 4, `mean difference ${d}`);
  });
  scale.run();

  const orient = suite('decodeJpeg: EXIF orientation from files sharp writes');
  for (let n = 1; n <= 8; n++) {
    orient(`orientation ${n}: read, pixels left as stored`, async () => {
      // withMetadata also embeds sharp's sRGB profile, which the fast path decodes as is (sRGB needs no
      // conversion); sharp's own decode of that file runs it through colour management.
      const tagged = await sharp(chelsea).resize(64, 48, { fit: 'fill' }).jpeg().withMetadata({ orientation: n }).toBuffer();
      const managed = await decoded(tagged, 64, 48, 3);
      assert.equal([managed.orientation, managed.width, managed.height], [n, 64, 48]);
      assert.ok(maxDiff(managed.data, await sharp(tagged).raw().toBuffer()) <= 2, 'sRGB profile: within 2 levels of sharp');
      const jpeg = withoutIccProfile(tagged);
      assert.is((await sharp(jpeg).metadata()).orientation, n, 'sharp still reads the orientation');
      const r = await decoded(jpeg, 64, 48, 3);
      assert.equal([r.orientation, r.width, r.height], [n, 64, 48]);
      const ref = await sharp(jpeg).raw().toBuffer();
      assert.ok(maxDiff(r.data, ref) <= 2, 'as stored, like sharp without .rotate()');
    });
  }
  orient('orientations 5..8 compare the wanted width with the stored height', async () => {
    // Stored 640x480, displayed 480x640 when transposed. Wanted displayed 300x400.
    for (const n of [1, 6]) {
      const jpeg = withoutIccProfile(
        await sharp(chelsea).resize(640, 480, { fit: 'fill' }).jpeg().withMetadata({ orientation: n }).toBuffer(),
      );
      const r = await decoded(jpeg, 300, 400, 3);
      if (n === 1) assert.equal([r.width, r.height, r.scale], [560, 420, 7 / 8]);
      else assert.equal([r.width, r.height, r.scale], [400, 300, 5 / 8]);
    }
  });
  orient.run();

  const fallback = suite('decodeJpeg: null (use sharp) for what the fast path does not handle');
  fallback('a PNG, an empty buffer, bytes that only start like a JPEG', async () => {
    const png = await sharp(chelsea).png().toBuffer();
    assert.is(await b.decodeJpeg(png, 0, 0, 3), null);
    assert.is(await b.decodeJpeg(new Uint8Array(0), 0, 0, 3), null);
    assert.is(await b.decodeJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]), 0, 0, 3), null);
  });
  fallback('a truncated JPEG, at several lengths (sharp itself refuses them)', async () => {
    const jpeg = await vga();
    for (const keep of [0.1, 0.5, 0.9, 0.999]) {
      const cut = jpeg.subarray(0, Math.floor(jpeg.length * keep));
      assert.is(await b.decodeJpeg(cut, 224, 224, 3), null, `cut to ${keep}`);
    }
    // One missing byte: the end-of-image marker is incomplete.
    assert.is(await b.decodeJpeg(jpeg.subarray(0, jpeg.length - 1), 0, 0, 3), null);
  });
  fallback('a CMYK JPEG', async () => {
    const jpeg = await sharp(chelsea).toColourspace('cmyk').jpeg().toBuffer();
    assert.is((await sharp(jpeg).metadata()).space, 'cmyk');
    assert.is(await b.decodeJpeg(jpeg, 0, 0, 3), null);
  });
  fallback('a JPEG with an embedded ICC profile (Display P3)', async () => {
    const jpeg = await sharp(chelsea).jpeg().withIccProfile('p3').toBuffer();
    assert.is((await sharp(jpeg).metadata()).hasProfile, true);
    assert.is(await b.decodeJpeg(jpeg, 0, 0, 3), null);
    // The same image without the profile is handled.
    assert.ok(await b.decodeJpeg(withoutIccProfile(jpeg), 0, 0, 3));
  });
  fallback.run();
}
