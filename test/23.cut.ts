// `cutModel`: expose an inner tensor of a classifier as the feature output. Checked on a tiny model built
// in code (float and quantized taps) and on the real MobileNetV2 int8 (the 1280-d pooled feature).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cutModel } from '../src/backbone/cut.js';
import { Backbone } from '../src/backbone/backbone.js';
import { loadManifest } from '../src/backbone/manifest.js';
import { decodeModel, toNumber } from '../src/backbone/onnx-model.js';
import { tinyModel, TINY_SCALE, TINY_ZERO_POINT } from './helpers/backbone-tiny-onnx.js';
import { rejects } from './helpers/backbone-assert.js';
import { chelsea, coffee, cosine, mobilenetPath, MOBILENET_SHA256, sha256, tempDir } from './helpers/backbone-fixtures.js';

const dir = tempDir();
const tinyPath = join(dir, 'tiny.onnx');
writeFileSync(tinyPath, tinyModel(3, 8));

const tiny = suite('cutModel on a tiny model');

tiny('a float tensor becomes a flattened [N, D] output; the head is dropped; the manifest is valid and matches the file', async () => {
  const out = join(dir, 'pooled.onnx');
  const r = await cutModel(tinyPath, { at: 'pooled', out, license: 'CC0-1.0', source: 'test' });
  assert.is(r.dequantized, false);
  assert.is(r.manifest.output.dim, 4);
  assert.is(r.manifestPath, join(dir, 'pooled.json'));
  const m = loadManifest(r.manifestPath);
  assert.is(m.sha256, sha256(readFileSync(out)));
  assert.equal(m.input, {
    name: 'input',
    layout: 'NCHW',
    width: 8,
    height: 8,
    channels: 3,
    colorOrder: 'RGB',
    range: [0, 1],
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    resize: 'bilinear',
    dtype: 'float32',
  });
  assert.equal(m.cut, { from: 'tiny.onnx', fromSha256: sha256(readFileSync(tinyPath)), at: 'pooled' });
  const g = decodeModel(readFileSync(out), out).graph;
  assert.equal(
    g.node.map((n) => n.opType),
    ['Conv', 'Relu', 'GlobalAveragePool', 'Flatten'],
  );
  assert.equal(
    g.output.map((o) => o.name),
    ['features'],
  );
  assert.not.ok(
    g.initializer.some((t) => t.name === 'head_w'),
    'the head weights are gone',
  );
  const dims = g.output[0].type!.tensorType!.shape!.dim;
  assert.is(dims[0].dimParam, 'N');
  assert.is(toNumber(dims[1].dimValue), 4);
});

tiny('a quantized tensor gets a DequantizeLinear with its scale and zero point: features are scale * (q - zp)', async () => {
  const out = join(dir, 'pooled_q.onnx');
  const r = await cutModel(tinyPath, { at: 'pooled_q', out });
  assert.is(r.dequantized, true);
  const g = decodeModel(readFileSync(out), out).graph;
  const dq = g.node.find((n) => n.opType === 'DequantizeLinear' && n.input[0] === 'pooled_q')!;
  assert.equal(dq.input, ['pooled_q', 'pooled_scale', 'pooled_zp']);
  const b = await Backbone.open(r.manifestPath, { threads: 1 });
  try {
    const px = new Uint8Array(8 * 8 * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 29) % 256;
    const [v] = await b.embed([{ data: px, width: 8, height: 8, channels: 3 }]);
    assert.is(v.length, 4);
    for (const x of v) {
      const q = x / TINY_SCALE + TINY_ZERO_POINT;
      assert.ok(Math.abs(q - Math.round(q)) < 1e-3 && x >= -TINY_SCALE * TINY_ZERO_POINT - 1e-6, `feature ${x} is a dequantized uint8`);
    }
  } finally {
    await b.close();
  }
});

tiny('a grey model gets grey defaults; preprocessing options reach the manifest', async () => {
  const grey = join(dir, 'grey.onnx');
  writeFileSync(grey, tinyModel(1, 16));
  const r = await cutModel(grey, {
    at: 'relu',
    out: join(dir, 'grey.f.onnx'),
    name: 'grey-test',
    range: [0, 255],
    fit: 'cover',
    resize: 'nearest',
  });
  assert.is(r.manifest.name, 'grey-test');
  assert.is(r.manifest.output.dim, 4 * 16 * 16);
  assert.equal(
    [r.manifest.input.colorOrder, r.manifest.input.mean, r.manifest.input.std, r.manifest.input.range],
    ['gray', [0], [1], [0, 255]],
  );
  assert.is(r.manifest.input.fit, 'cover');
  assert.is(r.manifest.precision, 'fp32', 'no quantized node is left before relu');
});

tiny('an NHWC model is recognised, and embedding through it matches the NCHW model on the same pixels', async () => {
  const nhwcPath = join(dir, 'nhwc.onnx');
  writeFileSync(nhwcPath, tinyModel(3, 8, { layout: 'NHWC' }));
  const a = await cutModel(nhwcPath, { at: 'pooled', out: join(dir, 'nhwc.f.onnx') });
  assert.equal([a.manifest.input.layout, a.manifest.input.width, a.manifest.input.channels], ['NHWC', 8, 3]);
  const b = await cutModel(tinyPath, { at: 'pooled', out: join(dir, 'nchw.f.onnx') });
  const px = new Uint8Array(8 * 8 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 53) % 256;
  const image = { data: px, width: 8, height: 8, channels: 3 as const };
  const nhwc = await Backbone.open(a.manifestPath, { threads: 1 });
  const nchw = await Backbone.open(b.manifestPath, { threads: 1 });
  const [x] = await nhwc.embed([image]);
  const [y] = await nchw.embed([image]);
  await nhwc.close();
  await nchw.close();
  assert.ok(
    x.every((v, i) => Math.abs(v - y[i]) < 1e-5),
    `NHWC ${Array.from(x)} vs NCHW ${Array.from(y)}`,
  );
});

tiny('a model with a fixed batch size is fed that many images at a time, the last batch padded', async () => {
  const fixedPath = join(dir, 'fixed2.onnx');
  writeFileSync(fixedPath, tinyModel(3, 8, { batch: 2 }));
  const r = await cutModel(fixedPath, { at: 'pooled', out: join(dir, 'fixed2.f.onnx') });
  const free = await cutModel(tinyPath, { at: 'pooled', out: join(dir, 'free.f.onnx') });
  const images = [0, 1, 2].map((k) => ({ data: new Uint8Array(8 * 8 * 3).fill(40 + 80 * k), width: 8, height: 8, channels: 3 as const }));
  const fixed = await Backbone.open(r.manifestPath, { threads: 1 });
  const other = await Backbone.open(free.manifestPath, { threads: 1 });
  try {
    const got = await fixed.embed(images, { batchSize: 3 });
    const want = await other.embed(images);
    assert.is(got.length, 3);
    for (let k = 0; k < 3; k++)
      assert.ok(
        got[k].every((v, i) => Math.abs(v - want[k][i]) < 1e-5),
        `image ${k}`,
      );
  } finally {
    await fixed.close();
    await other.close();
  }
});

tiny('cutting twice gives the same bytes', async () => {
  const a = await cutModel(tinyPath, { at: 'pooled_q', out: join(dir, 'a.onnx') });
  const b = await cutModel(tinyPath, { at: 'pooled_q', out: join(dir, 'b.onnx'), name: 'a' });
  assert.is(a.manifest.sha256, b.manifest.sha256);
});

tiny(
  'errors name the model and the tensor: unknown tensor (with suggestions), weight, name clash, bad output path, not a model',
  async () => {
    await rejects(
      cutModel(tinyPath, { at: 'pool', out: join(dir, 'x.onnx') }),
      /tiny\.onnx: no tensor named pool is produced by any node \(similar: pooled, pooled_q, pooled_dq\)/,
    );
    await rejects(
      cutModel(tinyPath, { at: 'head_w', out: join(dir, 'x.onnx') }),
      /tiny\.onnx: tensor head_w is a graph input or weight, not an inner activation/,
    );
    await rejects(
      cutModel(tinyPath, { at: 'pooled', outputName: 'relu', out: join(dir, 'x.onnx') }),
      /tiny\.onnx: tensor name relu already exists in the model/,
    );
    await rejects(cutModel(tinyPath, { at: 'pooled', out: join(dir, 'x.bin') }), /cut options\.out: expected a path ending in \.onnx/);
    await rejects(cutModel(tinyPath, { at: 'pooled', out: tinyPath }), /cut options\.out: must differ from the input model path/);
    await rejects(
      cutModel(tinyPath, { at: 'pooled_q', scale: 'nope', out: join(dir, 'x.onnx') }),
      /quantization parameter tensor nope not found/,
    );
    await rejects(cutModel(tinyPath, { at: 'pooled', colour: 'RGB' } as never), /cut options: unknown option "colour"/);
    await rejects(cutModel(tinyPath, { at: '' }), /cut options\.at: expected a non-empty string/);
    await rejects(cutModel(join(dir, 'absent.onnx'), { at: 'pooled' }), /absent\.onnx: cannot read model \(file not found\)/);
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, Buffer.from('this is text, not protobuf'));
    await rejects(cutModel(junk, { at: 'pooled' }), /junk\.onnx: not an ONNX model/);
    assert.not.ok(existsSync(join(dir, 'x.onnx')), 'nothing written for a failed cut');
    assert.not.ok(
      readdirSync(dir).some((f) => f.endsWith('.tmp')),
      'no temporary files left',
    );
  },
);

const mobilenet = suite('cutModel on MobileNetV2 int8: the 1280-d pooled feature');
const model = mobilenetPath();

if (model) {
  mobilenet(
    '464_quantized is dequantized with 464_scale; features are non-negative multiples of the scale and tell photos apart',
    async () => {
      const out = join(dir, 'mobilenetv2-int8-features.onnx');
      const r = await cutModel(model, { at: '464_quantized', out, name: 'mobilenetv2-int8-features', license: 'Apache-2.0' });
      assert.is(r.dequantized, true);
      assert.is(r.manifest.output.dim, 1280);
      assert.is(r.manifest.precision, 'int8');
      assert.is(r.manifest.cut?.fromSha256, MOBILENET_SHA256);
      assert.ok(r.nodes.after < r.nodes.before, 'classifier nodes dropped');
      assert.ok(r.bytes < 3_655_033, 'smaller than the classifier');
      const g = decodeModel(readFileSync(model), model).graph;
      const scaleInit = g.initializer.find((t) => t.name === '464_scale') as unknown as { floatData: number[]; rawData?: Uint8Array };
      const scale = scaleInit.floatData?.length ? scaleInit.floatData[0] : Buffer.from(scaleInit.rawData!).readFloatLE(0);
      assert.ok(Math.abs(scale - 0.01911) < 1e-4, `scale ${scale}`);

      const b = await Backbone.open(r.manifestPath, { threads: 2 });
      try {
        const [cat, cup, cat2] = await b.embed([chelsea, coffee, chelsea], { batchSize: 3 });
        assert.is(cat.length, 1280);
        for (const x of cat) {
          const q = x / scale;
          if (x < 0 || Math.abs(q - Math.round(q)) > 1e-2) assert.unreachable(`feature ${x} is not a non-negative multiple of ${scale}`);
        }
        assert.ok(cat.some((x) => x > 0));
        assert.ok(cosine(cat, cat2) > 0.9999, 'same photo, same feature');
        assert.ok(cosine(cat, cup) < 0.8, `different photos differ (cosine ${cosine(cat, cup)})`);
      } finally {
        await b.close();
      }
    },
  );
}

tiny.run();
mobilenet.run();
