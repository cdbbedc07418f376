// The shipped default backbone (models/engram-glyph): its files match the manifest, it is a real int8 graph
// that onnxruntime-node runs, and its features separate handwritten digits it never saw in training.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import ort from 'onnxruntime-node';
import { Backbone, loadManifest } from '../src/backbone/index.js';
import { decodeModel, ElemType } from '../src/backbone/onnx-model.js';
import { loadMnist, type ImageSet } from '../src/datasets/idx.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MANIFEST = join(root, 'models', 'engram-glyph.json');
const MIB = 1 << 20;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Calibration { file: string; sha256: string; count: number; dim: number; source: string }

const files = suite('engram-glyph files');

files('the model and calibration sample match the sha256 and sizes in the manifest', () => {
  const m = loadManifest(MANIFEST);
  assert.is(m.file, 'engram-glyph.onnx');
  assert.is(sha256(readFileSync(m.modelPath)), m.sha256);
  assert.ok(statSync(m.modelPath).size <= MIB, `model is ${statSync(m.modelPath).size} bytes, budget 1 MiB`);
  const cal = m.calibration as unknown as Calibration;
  const bytes = readFileSync(join(dirname(MANIFEST), cal.file));
  assert.is(sha256(bytes), cal.sha256);
  assert.is(bytes.length, cal.count * cal.dim * 4);
  assert.is(cal.dim, m.output.dim);
  assert.ok(bytes.length <= MIB, `calibration sample is ${bytes.length} bytes, budget 1 MiB`);
});

files('the manifest describes a 32x32 grey, light-on-dark, int8 model with float features', () => {
  const m = loadManifest(MANIFEST);
  assert.equal([m.input.width, m.input.height, m.input.channels, m.input.colorOrder], [32, 32, 1, 'gray']);
  assert.is(m.polarity, 'light-on-dark');
  assert.is(m.precision, 'int8');
  assert.is(m.output.name, 'features');
});

files('every Conv and Gemm takes int8 weights through DequantizeLinear (a real QDQ int8 graph)', () => {
  const m = loadManifest(MANIFEST);
  const model = decodeModel(readFileSync(m.modelPath), m.modelPath);
  const { node, initializer } = model.graph;
  const producer = new Map(node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const types = new Map(initializer.map((t) => [t.name, t.dataType]));
  const compute = node.filter((n) => n.opType === 'Conv' || n.opType === 'Gemm');
  assert.ok(compute.length >= 4, `expected a CNN, found ${compute.length} Conv/Gemm nodes`);
  for (const n of compute) {
    const w = producer.get(n.input[1]);
    assert.is(w?.opType, 'DequantizeLinear', `${n.name} weight`);
    assert.is(types.get(w!.input[0]), ElemType.INT8, `${n.name} weight type`);
    assert.is(producer.get(n.input[0])?.opType, 'DequantizeLinear', `${n.name} activation`);
  }
});

files('the calibration sample holds finite, varied features', () => {
  const m = loadManifest(MANIFEST);
  const cal = m.calibration as unknown as Calibration;
  const bytes = readFileSync(join(dirname(MANIFEST), cal.file));
  const f = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  assert.ok(f.every(Number.isFinite));
  // Each dimension must vary across the sample, or a codebook fitted on it would be degenerate.
  let constant = 0;
  for (let t = 0; t < cal.dim; t++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let r = 0; r < cal.count; r++) {
      lo = Math.min(lo, f[r * cal.dim + t]);
      hi = Math.max(hi, f[r * cal.dim + t]);
    }
    if (hi - lo < 1e-6) constant++;
  }
  assert.is(constant, 0);
});

const run = suite('engram-glyph in onnxruntime-node');

run('a session loads the file and returns [B x D] finite float32 features', async () => {
  const m = loadManifest(MANIFEST);
  const session = await ort.InferenceSession.create(m.modelPath);
  assert.equal(session.inputNames, ['input']);
  assert.equal(session.outputNames, ['features']);
  const batch = 5;
  const x = new Float32Array(batch * 32 * 32).map((_, i) => ((i * 7919) % 255) / 255);
  const out = await session.run({ input: new ort.Tensor('float32', x, [batch, 1, 32, 32]) });
  assert.equal(out.features.dims, [batch, m.output.dim]);
  assert.is(out.features.type, 'float32');
  assert.ok((out.features.data as Float32Array).every(Number.isFinite));
  await session.release();
});

function pick(set: ImageSet, perClass: number, offset: number): number[] {
  const seen = new Array(10).fill(0);
  const out: number[] = [];
  for (let i = 0; i < set.count && out.length < 10 * perClass; i++) {
    const c = set.labels[i];
    if (seen[c]++ >= offset && seen[c] <= offset + perClass) out.push(i);
  }
  return out;
}

function rawImages(set: ImageSet, idx: number[]) {
  const size = set.rows * set.cols;
  return idx.map((i) => ({ data: set.images.slice(i * size, (i + 1) * size), width: set.cols, height: set.rows, channels: 1 as const }));
}

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

run('features of real MNIST digits sit nearest their own class mean, far above chance', async () => {
  const train = loadMnist('train');
  const test = loadMnist('test');
  const bb = await Backbone.open(MANIFEST);
  try {
    const supportIdx = pick(train, 20, 0);
    const queryIdx = pick(test, 5, 0);
    const support = await bb.embed(rawImages(train, supportIdx));
    const queries = await bb.embed(rawImages(test, queryIdx));
    const means = Array.from({ length: 10 }, () => new Float32Array(bb.dim));
    support.forEach((f, k) => unit(f).forEach((x, t) => (means[train.labels[supportIdx[k]]][t] += x)));
    const centres = means.map(unit);
    let right = 0;
    queries.forEach((q, k) => {
      const u = unit(q);
      const scores = centres.map((c) => c.reduce((s, x, t) => s + x * u[t], 0));
      if (scores.indexOf(Math.max(...scores)) === test.labels[queryIdx[k]]) right++;
    });
    const accuracy = right / queries.length;
    console.log(`  engram-glyph NCM on ${queries.length} MNIST test digits (20 train examples per class): ${(100 * accuracy).toFixed(0)}%`);
    // Chance is 10%; the bench reports the full-test-set figure.
    assert.ok(accuracy >= 0.6, `accuracy ${accuracy}`);
  } finally {
    await bb.close();
  }
});

files.run();
run.run();
