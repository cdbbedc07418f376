// End-to-end timing with the real backbone: images -> features -> PQ codes -> memory, for learning and for
// queries, split into its stages (microseconds per image, median of repeated batches).
import { loadMnist, imageAt } from '../../src/datasets/idx.js';
import { codebookFor, EngramMethod } from './engram-method.js';
import { engramCodebook } from './methods.js';
import { sampleIndices, type BackboneEntry } from './features.js';
import type { Rows } from './protocol.js';

export interface StageMicros {
  backbone: number;
  encode: number;
  memory: number;
  total: number;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export async function measureEndToEnd(bb: BackboneEntry, calibration: Rows, log: (m: string) => void, batches = 5, batch = 32) {
  process.env.ENGRAM_MODELS_DIR ??= (await import('./features.js')).CACHE + '/models';
  const { openBackbone } = await import('../../src/learner/backbone-ref.js');
  const handle = await openBackbone(bb.name, { onInfo: log });
  try {
    const set = loadMnist('test');
    const idx = sampleIndices(set, Math.ceil((batches * batch) / 10), 99);
    const cb = codebookFor(`${bb.name}/e2e`, calibration.features, calibration.dim, engramCodebook(calibration.dim), 1);
    const m = new EngramMethod(cb, { deployment: 'counters', probes: 1, minCount: 1, refine: true });
    const learn: StageMicros[] = [];
    const query: StageMicros[] = [];
    for (let b = 0; b < batches; b++) {
      const ids = idx.slice(b * batch, (b + 1) * batch);
      const images = ids.map((i) => {
        const im = imageAt(set, i);
        return { ...im, data: bb.invert ? im.data.map((v) => 255 - v) : im.data };
      });
      const labels = ids.map((i) => set.labels[i]);
      for (const [stage, sink] of [
        ['learn', learn],
        ['query', query],
      ] as const) {
        const t0 = performance.now();
        const f = await handle.embed(images);
        const t1 = performance.now();
        const codes = m.quantizer.encode(f, ids.length);
        const t2 = performance.now();
        const A = m.quantizer.active;
        if (stage === 'learn') for (let r = 0; r < ids.length; r++) m.core.learn(String(labels[r]), codes.subarray(r * A, (r + 1) * A), 1);
        else m.core.predict(codes, ids.length, 1);
        const t3 = performance.now();
        const per = (ms: number) => (1000 * ms) / ids.length;
        sink.push({ backbone: per(t1 - t0), encode: per(t2 - t1), memory: per(t3 - t2), total: per(t3 - t0) });
      }
    }
    const summary = (v: StageMicros[]): StageMicros => ({
      backbone: median(v.map((x) => x.backbone)),
      encode: median(v.map((x) => x.encode)),
      memory: median(v.map((x) => x.memory)),
      total: median(v.map((x) => x.total)),
    });
    return { batch, batches, learnMicros: summary(learn), queryMicros: summary(query) };
  } finally {
    await handle.close();
  }
}
