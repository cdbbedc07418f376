// Mirror features (--mirror, EngramOptions.mirror, embed options.mirror): each image's feature is the mean of
// its own and its left-right mirror's, so a photo and its mirror image get the same feature, the same code and
// the same answer. Real images (the CC0 cat photo), the shipped backbone, a real store and the CLI.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Backbone, mirrorRows } from '../src/backbone/index.js';
import { Engram } from '../src/learner/engram.js';
import { spaceDifference, spaceOf } from '../src/fleet/device.js';
import { Store } from '../src/store/index.js';
import { chelsea, coffee, cosine, repoRoot } from './helpers/backbone-fixtures.js';
import { engram } from './helpers/learner-files.js';
import { rejects } from './helpers/backbone-assert.js';

const MANIFEST = join(repoRoot, 'models', 'engram-glyph.json');
const work = mkdtempSync(join(tmpdir(), 'engram-mirror-'));
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');

type Raw = { data: Uint8Array; width: number; height: number; channels: 3 };
async function pixels(file: string, flop: boolean): Promise<Raw> {
  const img = flop ? sharp(file).flop() : sharp(file);
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
}

const rows = suite('mirrorRows');

rows('reverses every row of NCHW and NHWC tensors, channels kept together, only the first count images', () => {
  const input = { width: 3, height: 2, channels: 2 };
  // NCHW, 2 images: values 0..23; image 1 must stay as it is when count is 1.
  const nchw = Float32Array.from({ length: 24 }, (_, i) => i);
  mirrorRows(nchw, 1, { ...input, layout: 'NCHW' });
  assert.equal(Array.from(nchw.subarray(0, 12)), [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9]);
  assert.equal(Array.from(nchw.subarray(12)), [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
  // NHWC: a pixel's two channels move together.
  const nhwc = Float32Array.from({ length: 12 }, (_, i) => i);
  mirrorRows(nhwc, 1, { ...input, layout: 'NHWC' });
  assert.equal(Array.from(nhwc), [4, 5, 2, 3, 0, 1, 10, 11, 8, 9, 6, 7]);
  // Twice is the identity, for an odd and an even width.
  for (const width of [4, 5]) {
    const t = Float32Array.from({ length: width * 3 * 2 }, () => Math.random());
    const copy = t.slice();
    const shape = { width, height: 3, channels: 2, layout: 'NHWC' as const };
    mirrorRows(t, 1, shape);
    assert.not.equal(Array.from(t), Array.from(copy));
    mirrorRows(t, 1, shape);
    assert.equal(Array.from(t), Array.from(copy));
  }
});

const embed = suite('Backbone.embed with mirror');

embed('a photo and its mirror image get the same feature; it is the mean of the two plain features', async () => {
  const bb = await Backbone.open(MANIFEST, { conventions: 'off' });
  try {
    const cat = await pixels(chelsea, false);
    const flopped = await pixels(chelsea, true);
    const [plainA, plainB] = await bb.embed([cat, flopped]);
    const [mirA, mirB] = await bb.embed([cat, flopped], { mirror: true });
    // The plain features see which way the cat faces; the mirror features do not.
    assert.ok(cosine(plainA, plainB) < 0.999, `plain features of a photo and its mirror: cosine ${cosine(plainA, plainB)}`);
    // Not exactly 1: resizing the whole photo down to 32 x 32 samples a grid that is not mirror-exact.
    assert.ok(cosine(mirA, mirB) > 0.9999, `mirror features: cosine ${cosine(mirA, mirB)}`);
    const mean = plainA.map((x, j) => (x + plainB[j]) / 2);
    assert.ok(cosine(mirA, mean) > 0.9999, `mirror feature against the mean of the two plain ones: cosine ${cosine(mirA, mean)}`);
    // Batches of any size give the same vectors (the mirror runs per batch, padding rows left alone).
    const [one] = await bb.embed([cat], { mirror: true, batchSize: 1 });
    assert.ok(cosine(one, mirA) > 0.99999);
  } finally {
    await bb.close();
  }
});

embed('a mirror option that is not a boolean is refused, naming it', async () => {
  const bb = await Backbone.open(MANIFEST);
  try {
    await rejects(() => bb.embed([chelsea], { mirror: 'yes' as unknown as boolean }), /embed options\.mirror: expected a boolean/);
  } finally {
    await bb.close();
  }
});

const store = suite('a store with mirror features');

store('records the choice, keeps it on reopen, answers a mirror image as the photo, and refuses the other', async () => {
  const dir = join(work, 'store');
  // Conventions off: the shipped backbone's ink framing cuts a box whose rounding is not mirror-exact.
  let e = await Engram.open({ store: dir, mirror: true, conventions: 'off' });
  try {
    await e.learn('cat', [chelsea]);
    await e.learn('coffee', [coffee]);
    assert.is(e.stats().mirror, true);
    const [a, b] = await e.predict([await pixels(chelsea, false), await pixels(chelsea, true)]);
    assert.is(a.label ?? a.top[0].label, 'cat');
    // The store without the mirror (next case) scores the mirror image 0.15 lower.
    assert.ok(Math.abs(a.score - b.score) < 0.01, `scores ${a.score} and ${b.score}`);
    assert.equal(
      a.top.map((t) => t.label),
      b.top.map((t) => t.label),
    );
  } finally {
    await e.close();
  }
  e = await Engram.open({ store: dir });
  try {
    assert.is(e.stats().mirror, true);
    assert.is(e.storeMeta!.backbone!.mirror, true);
    // Format 2: an engram from before mirror features refuses the store instead of embedding without it.
    assert.is(e.storeMeta!.format, 'engram-store/2');
  } finally {
    await e.close();
  }
  await rejects(() => Engram.open({ store: dir, mirror: false }), /built with mirror features; refusing them off/);
});

store('a store made without it refuses it; a learner of feature vectors refuses it; a bad value is named', async () => {
  const dir = join(work, 'plain');
  const e = await Engram.open({ store: dir, conventions: 'off' });
  try {
    await e.learn('cat', [chelsea]);
    await e.learn('coffee', [coffee]);
    assert.is(e.stats().mirror, false);
    assert.is(e.storeMeta!.format, 'engram-store/1');
    const [a, b] = await e.predict([await pixels(chelsea, false), await pixels(chelsea, true)]);
    assert.ok(a.score - b.score > 0.1, `without the mirror a mirror image scores ${b.score} against ${a.score}`);
  } finally {
    await e.close();
  }
  await rejects(() => Engram.open({ store: dir, mirror: true }), /built without mirror features; refusing --mirror/);
  await rejects(
    () => Engram.memory({ backbone: null, quantizer: { kind: 'sign', dim: 8 }, mirror: true }),
    /mirror features need a backbone/,
  );
  await rejects(() => Engram.memory({ mirror: 1 as unknown as boolean }), /options\.mirror: expected a boolean/);
});

store('fleet spaces differ by the mirror, and a space without it has no mirror key (its id is what it was)', async () => {
  const spaces = [];
  for (const name of ['store', 'plain']) {
    const e = await Engram.open({ store: join(work, name), readOnly: true });
    try {
      spaces.push(spaceOf(e.storeMeta!, e.core));
    } finally {
      await e.close();
    }
  }
  const [mirrored, plain] = spaces;
  assert.is(mirrored.backbone!.mirror, true);
  assert.not.ok('mirror' in plain.backbone!);
  assert.is(plain.backbone!.conventions, 'off');
  assert.is(spaceDifference(plain, plain, 'f', 's'), null);
  assert.match(
    spaceDifference(mirrored, plain, 'f', 's') ?? '',
    /backbone: engram-glyph \(sha256 \w{12}, 128-d, mirror features, input conventions off\) in f/,
  );
});

store('metadata of a newer format is refused by name, telling the user to upgrade', async () => {
  const dir = join(work, 'newer');
  const s = await Store.open(dir);
  try {
    await s.setMeta({ format: 'engram-store/3', quantizer: {}, backbone: null, memory: {} });
  } finally {
    await s.close();
  }
  await rejects(() => Engram.open({ store: dir }), /metadata format engram-store\/3 was written by a newer engram .*upgrade engram/);
});

const cli = suite('engram learn --mirror');

cli('is remembered by the store, shown by stats, and refused on a store made without it', () => {
  const dir = join(work, 'cli');
  let r = engram(['learn', '--store', dir, '--label', 'cat', '--mirror', chelsea]);
  assert.is(r.status, 0, r.stderr);
  // The shipped backbone reads strokes: a new store with --mirror says once that it is meant for photos.
  assert.match(r.stderr, /mirror features: backbone engram-glyph is made for strokes .*--mirror is for photos/);
  r = engram(['learn', '--store', dir, '--label', 'coffee', coffee]);
  assert.not.match(r.stderr, /made for strokes/, 'the warning comes with the new store only');
  assert.is(r.status, 0, r.stderr);
  r = engram(['predict', '--store', dir, '--json', chelsea]);
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(r.stdout.trim().split('\n')[0]).label, 'cat');
  r = engram(['stats', '--store', dir]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /backbone: engram-glyph, each image averaged with its mirror \(--mirror\)/);
  r = engram(['learn', '--store', join(work, 'plain'), '--label', 'cat', '--mirror', chelsea]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /built without mirror features; refusing --mirror/);
  r = engram(['learn', '--help']);
  assert.match(r.stdout, /--mirror/);
});

cli('export and import carry the mirror: a store created from the file embeds with it; a plain store refuses the file', () => {
  const file = join(work, 'mirror.egf');
  let r = engram(['export', '--store', join(work, 'cli'), '-o', file]);
  assert.is(r.status, 0, r.stderr);
  const fresh = join(work, 'imported');
  r = engram(['import', '--store', fresh, file]);
  assert.is(r.status, 0, r.stderr);
  r = engram(['stats', '--store', fresh]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /each image averaged with its mirror/);
  r = engram(['predict', '--store', fresh, '--json', chelsea]);
  assert.is(JSON.parse(r.stdout.trim().split('\n')[0]).label, 'cat');
  r = engram(['import', '--store', join(work, 'plain'), file]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /another memory space.*mirror features/);
});

cli('backbone embed --mirror gives a photo and its mirror image one vector; codebook fit --mirror fits on those', async () => {
  const flopped = join(work, 'chelsea-flopped.png');
  await sharp(chelsea).flop().toFile(flopped);
  const vectors = (args: string[]) => {
    const r = engram(['backbone', 'embed', 'engram-glyph', '--full', '--json', '--conventions', 'off', ...args, chelsea, flopped]);
    assert.is(r.status, 0, r.stderr);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => Float32Array.from(JSON.parse(l).vector as number[]));
  };
  const [a, b] = vectors([]);
  const [ma, mb] = vectors(['--mirror']);
  assert.ok(cosine(a, b) < 0.999, `plain: ${cosine(a, b)}`);
  assert.ok(cosine(ma, mb) > 0.9999, `--mirror: ${cosine(ma, mb)}`);
  const fit = (out: string, args: string[]) => {
    const r = engram(['codebook', 'fit', '--directions', '2', '-o', out, ...args, chelsea, coffee, flopped]);
    assert.is(r.status, 0, r.stderr);
    return readFileSync(out);
  };
  const plainFit = fit(join(work, 'plain.egw'), []);
  const mirrorFit = fit(join(work, 'mirror.egw'), ['--mirror']);
  assert.not.ok(plainFit.equals(mirrorFit), 'a fit on mirror features differs from one on plain features');
});

cli.after(() => rmSync(work, { recursive: true, force: true }));

rows.run();
embed.run();
store.run();
cli.run();
