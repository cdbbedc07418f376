// Child process of test/07.int8-exact: embeds 16 MNIST test digits with the shipped int8 backbone, through
// engram's Backbone and through a plain onnxruntime session on the same prepared tensor, and prints one JSON
// line: the addon's int8Dot(), the session summary, and both feature sets in base64. Run natively and under
// qemu-x86_64 emulating other CPUs.
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Backbone, loadManifest } from '../../src/backbone/index.js';
import { loadMnist } from '../../src/datasets/idx.js';
import { loadBinding } from '../../src/native/index.js';
import { repoRoot } from './backbone-fixtures.js';

const COUNT = 16;
const manifestPath = join(repoRoot, 'models', 'engram-glyph.json');
const test = loadMnist('test');
const images = Array.from({ length: COUNT }, (_, i) => ({
  data: test.images.subarray(i * 784, (i + 1) * 784),
  width: 28,
  height: 28,
  channels: 1 as const,
}));
const b64 = (rows: Float32Array[]) => Buffer.concat(rows.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength))).toString('base64');

const backbone = await Backbone.open(manifestPath, { threads: 1 });
const tensor = await backbone.prepare(images);
const engram = await backbone.forward(tensor, COUNT);
const summary = backbone.sessionSummary;
await backbone.close();

// The same model and tensor through onnxruntime with its defaults: what engram's session options change.
const m = loadManifest(manifestPath);
const plainSession = await ort.InferenceSession.create(join(repoRoot, 'models', m.file), { intraOpNumThreads: 1 });
const i = m.input;
const out = await plainSession.run({ [i.name]: new ort.Tensor('float32', tensor, [COUNT, i.channels, i.height, i.width]) });
const flat = out[m.output.name].data as Float32Array;
const plain = Array.from({ length: COUNT }, (_, k) => flat.slice(k * m.output.dim, (k + 1) * m.output.dim));
await plainSession.release();

console.log(JSON.stringify({ int8Dot: loadBinding().int8Dot(), summary, engram: b64(engram), plain: b64(plain) }));
