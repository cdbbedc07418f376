// Features of images with a backbone manifest, through engram's session (`engram`) or through onnxruntime with
// its defaults on the same prepared tensors (`plain`): what engram's session options change. Used by
// bench/int8-cpus.ts (through int8-child.ts) and test/07, natively and under qemu emulating other CPUs.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Backbone, type ImageInput } from '../../src/backbone/index.js';

const BATCH = 16;

/** Row-major [inputs x dim] features and the session line of engram's backbone session. */
export async function embedWith(
  manifestPath: string,
  inputs: readonly ImageInput[],
  mode: 'engram' | 'plain',
): Promise<{ features: Float32Array; summary: string }> {
  const backbone = await Backbone.open(manifestPath, { threads: 1 });
  const m = backbone.manifest;
  const plain = mode === 'plain' ? await ort.InferenceSession.create(readFileSync(m.modelPath), { intraOpNumThreads: 1 }) : null;
  try {
    const out = new Float32Array(inputs.length * backbone.dim);
    for (let s = 0; s < inputs.length; s += BATCH) {
      const batch = inputs.slice(s, s + BATCH);
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
    return { features: out, summary: backbone.sessionSummary };
  } finally {
    await plain?.release();
    await backbone.close();
  }
}
