// The shipped default backbone (models/engram-glyph): its files match the manifest, it is a real int8 graph
// that onnxruntime-node runs, and its features separate handwritten digits it never saw in training.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import ort from 'onnxruntime-node';
import { Backbone, loadManifest } from '../src/backbone/index.js';
import { decodeModel, ElemType } from '../src/backbone/onnx-model.js';
import { loadMnist, type ImageSet } from '../src/datasets/idx.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MANIFEST = join(root, 'models', 'engram-glyph.json');
const CODEPOINTS = join(root, 'models', 'engram-glyph.codepoints.txt');
const MIB = 1 << 20;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Calibration {
  file: string;
  sha256: string;
  count: number;
  dim: number;
  source: string;
}

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

interface GlyphClass {
  cp: number;
  script: string;
  split: string;
}

/** models/engram-glyph.codepoints.txt, written by tools/train-backbone/render.py: "U+XXXX\tscript\tsplit". */
function trainingClasses(): GlyphClass[] {
  return readFileSync(CODEPOINTS, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const m = /^U\+([0-9A-F]{4,6})\t([^\t]+)\t(train|heldout)$/.exec(line);
      assert.ok(m, `malformed line in ${CODEPOINTS}: ${JSON.stringify(line)}`);
      return { cp: parseInt(m[1], 16), script: m[2], split: m[3] };
    });
}

files('the committed class list has as many letters and scripts as the manifest says the model was trained on', () => {
  const classes = trainingClasses();
  const described = /(\d+) letters of (\d+) scripts/.exec(loadManifest(MANIFEST).description ?? '');
  assert.ok(described, 'the manifest description states the training letters and scripts');
  assert.is(classes.filter((c) => c.split === 'train').length, Number(described[1]));
  assert.is(new Set(classes.map((c) => c.script)).size, Number(described[2]));
  assert.is(new Set(classes.map((c) => c.cp)).size, classes.length, 'each codepoint is one class');
});

files('no training or held-out class is a digit or any other Unicode number, nor decomposes to one', () => {
  const classes = trainingClasses();
  const isNumber = (cp: number) => /\p{N}/u.test(String.fromCodePoint(cp) + String.fromCodePoint(cp).normalize('NFKD'));
  const numbers = classes.filter((c) => isNumber(c.cp));
  assert.equal(
    numbers.map((c) => `U+${c.cp.toString(16).toUpperCase()}`),
    [],
  );
  const notLetters = classes.filter((c) => !/^\p{L}$/u.test(String.fromCodePoint(c.cp)));
  assert.equal(
    notLetters.map((c) => `U+${c.cp.toString(16).toUpperCase()}`),
    [],
    'every class is a letter',
  );
  // The check itself must see numbers where they are: ASCII, Arabic-Indic and Devanagari digits, a Roman
  // numeral (Nl, decomposing to letters), a superscript two and a circled one (No).
  for (const cp of [0x37, 0x663, 0x96d, 0x2163, 0xb2, 0x2460]) assert.ok(isNumber(cp), `U+${cp.toString(16)}`);
  assert.not.ok(isNumber(0x41) || isNumber(0x3b1), 'A and alpha are letters');
});

const run = suite('engram-glyph in onnxruntime-node');

run('onnxruntime runs the int8 graph as int8 kernels: every Conv fused to QLinearConv, the Gemm to QGemm', async () => {
  const m = loadManifest(MANIFEST);
  const source = decodeModel(readFileSync(m.modelPath), m.modelPath).graph.node;
  const dir = mkdtempSync(join(tmpdir(), 'engram-glyph-optimized-'));
  try {
    const saved = join(dir, 'optimized.onnx');
    // 'all' is the level engram's backbone sessions use by default (src/backbone/session.ts); severity 3 keeps
    // onnxruntime's warning that the saved graph is specific to this machine's CPU out of the test output.
    const session = await ort.InferenceSession.create(m.modelPath, {
      graphOptimizationLevel: 'all',
      optimizedModelFilePath: saved,
      intraOpNumThreads: 1,
      logSeverityLevel: 3,
    });
    await session.release();
    const ops = decodeModel(readFileSync(saved), saved).graph.node.map((n) => n.opType);
    const count = (list: string[], op: string) => list.filter((t) => t === op).length;
    console.log(`  optimized graph: ${[...new Set(ops)].map((op) => `${op} x${count(ops, op)}`).join(', ')}`);
    assert.ok(
      count(
        source.map((n) => n.opType),
        'Conv',
      ) >= 4,
    );
    assert.is(
      count(ops, 'QLinearConv'),
      count(
        source.map((n) => n.opType),
        'Conv',
      ),
    );
    assert.is(
      count(ops, 'QGemm'),
      count(
        source.map((n) => n.opType),
        'Gemm',
      ),
    );
    // No float compute left: a Conv, Gemm or MatMul here would mean some layer runs dequantized in fp32.
    assert.equal(
      ops.filter((op) => op === 'Conv' || op === 'Gemm' || op === 'MatMul' || op === 'FusedConv'),
      [],
    );
    // Quantize once at the input, dequantize once for the float features at the output.
    assert.is(count(ops, 'DequantizeLinear'), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

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
