// Last step of the recipe: runs the int8 model in onnxruntime-node (the runtime engram uses) over the
// held-out glyph images to write the calibration feature sample, then writes the manifest with both
// files' sha256. Usage: node tools/train-backbone/finish.mjs BUILD_DIR MODELS_DIR [--name engram-glyph]
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const [buildDir, modelsDir, ...rest] = process.argv.slice(2);
if (!buildDir || !modelsDir) {
  console.error('usage: node tools/train-backbone/finish.mjs BUILD_DIR MODELS_DIR [--name NAME]');
  process.exit(1);
}
const name = rest[0] === '--name' && rest[1] ? rest[1] : 'engram-glyph';
const SIDE = 32;
const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

const info = JSON.parse(readFileSync(join(buildDir, `${name}.export.json`), 'utf8'));
const modelFile = `${name}.onnx`;
const calibFile = `${name}.calib.f32`;
copyFileSync(join(buildDir, modelFile), join(modelsDir, modelFile));

const raw = readFileSync(join(buildDir, `${name}.calib-images.f32`));
const pixels = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
const count = pixels.length / (SIDE * SIDE);
const session = await ort.InferenceSession.create(join(modelsDir, modelFile));
let dim = 0;
const parts = [];
const BATCH = 100;
for (let start = 0; start < count; start += BATCH) {
  const n = Math.min(BATCH, count - start);
  const x = new Float32Array(n * SIDE * SIDE);
  for (let i = 0; i < x.length; i++) x[i] = (pixels[start * SIDE * SIDE + i] - info.mean) / info.std;
  const out = await session.run({ input: new ort.Tensor('float32', x, [n, 1, SIDE, SIDE]) });
  dim = out.features.dims[1];
  parts.push(Float32Array.from(out.features.data));
}
const features = new Float32Array(count * dim);
parts.reduce((offset, p) => (features.set(p, offset), offset + p.length), 0);
// Little-endian by construction on every platform Node runs this recipe on (x86_64, arm64).
writeFileSync(join(modelsDir, calibFile), Buffer.from(features.buffer));

const manifest = {
  format: 'engram-backbone/1',
  name,
  file: modelFile,
  sha256: sha256(join(modelsDir, modelFile)),
  input: {
    name: 'input',
    layout: 'NCHW',
    width: SIDE,
    height: SIDE,
    channels: 1,
    colorOrder: 'gray',
    range: [0, 1],
    mean: [info.mean],
    std: [info.std],
    resize: 'bilinear',
    dtype: 'float32',
  },
  output: { name: 'features', dim },
  precision: 'int8',
  license: 'Apache-2.0',
  source: 'tools/train-backbone (built by this project)',
  polarity: 'light-on-dark',
  // render.py fits each glyph into 20 of 28 pixels and centres it by mass, as MNIST does.
  framing: { kind: 'stroke', fill: 0.714, centre: 'mass' },
  description:
    `Compact int8 CNN trained on ${info.train_classes} letters of ${info.scripts} scripts rendered from ` +
    `Debian fonts (no digits); white strokes on black, glyph centred MNIST-style. See ${name}.md.`,
  calibration: {
    file: calibFile,
    sha256: sha256(join(modelsDir, calibFile)),
    count,
    dim,
    source: 'rendered glyphs, held-out classes',
  },
};
writeFileSync(join(modelsDir, `${name}.json`), JSON.stringify(manifest, null, 2) + '\n');
console.log(JSON.stringify({ model: manifest.sha256, calibration: manifest.calibration.sha256, count, dim }));
