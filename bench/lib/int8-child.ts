// Child of bench/int8-cpus.ts, run natively or under qemu-x86_64 emulating another CPU: embeds the image files
// listed in a file (one path per line) with a backbone manifest, through engram's session (`engram`) or
// through onnxruntime with its defaults on the same prepared tensors (`plain`), and writes the features as
// float32 to the output file. Prints the addon's int8Dot() and the session line as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Backbone } from '../../src/backbone/index.js';
import { loadBinding } from '../../src/native/index.js';

const [manifestPath, listFile, mode, outFile] = process.argv.slice(2);
if (!outFile || (mode !== 'engram' && mode !== 'plain')) throw new Error('usage: int8-child MANIFEST LIST engram|plain OUT');
const files = readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
const backbone = await Backbone.open(manifestPath, { threads: 1 });
const m = backbone.manifest;
const plain = mode === 'plain' ? await ort.InferenceSession.create(readFileSync(m.modelPath), { intraOpNumThreads: 1 }) : null;
const out = new Float32Array(files.length * backbone.dim);
const BATCH = 16;
for (let s = 0; s < files.length; s += BATCH) {
  const batch = files.slice(s, s + BATCH);
  const tensor = await backbone.prepare(batch);
  let rows: Float32Array[];
  if (plain) {
    const i = m.input;
    const dims = i.layout === 'NCHW' ? [batch.length, i.channels, i.height, i.width] : [batch.length, i.height, i.width, i.channels];
    const r = await plain.run({ [i.name]: new ort.Tensor('float32', tensor, dims) });
    const flat = r[m.output.name].data as Float32Array;
    rows = batch.map((_, k) => flat.subarray(k * backbone.dim, (k + 1) * backbone.dim));
  } else {
    rows = await backbone.forward(tensor, batch.length);
  }
  rows.forEach((r, k) => out.set(r, (s + k) * backbone.dim));
}
await plain?.release();
const summary = backbone.sessionSummary;
await backbone.close();
writeFileSync(outFile, Buffer.from(out.buffer));
console.log(JSON.stringify({ int8Dot: loadBinding().int8Dot(), summary, count: files.length }));
