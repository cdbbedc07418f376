// Refitting a store's codebook on a device, from what it has seen: fit new anchors on the feature archive
// of a store made with keepFeatures (unlabelled use of its own data), then rebuild the memory by replaying
// the archived ops re-encoded with the new codebook, into a NEW store. The old store is left untouched,
// so a crash or a bad choice of P/K loses nothing; switch to the new store when it suits.
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engram } from './engram.js';
import { fitCodebook, encodeCodebook, codebookId } from '../quantize/codebook.js';
import { parseQuantizerOptions, type QuantizerOptions } from './config.js';

export interface RefitResult {
  store: string;
  codebookId: string;
  parts: number;
  anchors: number;
  /** Feature vectors the codebook was fitted on. */
  fittedOn: number;
  classes: number;
}

export async function refitStore(
  from: string,
  to: string,
  quantizer: Omit<QuantizerOptions, 'kind' | 'codebook' | 'dim'> & { seed?: number },
  opts: { onWarning?: (m: string) => void; onProgress?: (done: number, total: number) => void } = {},
): Promise<RefitResult> {
  if (existsSync(to) && readdirSync(to).length > 0)
    throw new Error(`refit: ${to} exists and is not empty: choose a new folder for the refitted store`);
  const old = await Engram.open({ store: from, create: false, onWarning: opts.onWarning });
  const tmp = mkdtempSync(join(tmpdir(), 'engram-refit-'));
  try {
    const archive = old.core.archive;
    if (!archive) throw new Error(`refit: store ${from} keeps no features (create stores with --keep-features to refit them later)`);
    const { data, rows, dim } = archive.features();
    const { seed, ...rest } = quantizer;
    const q = parseQuantizerOptions({ kind: 'pq', ...rest });
    if (rows < q.anchors!)
      throw new Error(`refit: store ${from} archives ${rows} feature vectors; fitting ${q.anchors} anchors needs at least that many`);
    const cb = fitCodebook(data, dim, { parts: q.parts!, anchors: q.anchors!, center: q.center, l2: q.l2, seed: seed ?? 1 });
    const cbFile = join(tmp, 'refit.egc');
    writeFileSync(cbFile, encodeCodebook(cb));
    const meta = old.storeMeta!;
    const next = await Engram.open({
      store: to,
      backbone: meta.backbone ? meta.backbone.ref : null,
      quantizer: { ...q, codebook: cbFile, ...(meta.backbone ? {} : { dim }) },
      memory: meta.memory,
      onWarning: opts.onWarning,
    });
    try {
      let done = 0;
      for (const op of archive.ops) {
        if (op.op === 'learn') {
          const vectors = Array.from({ length: op.rows }, (_, r) => op.features!.subarray(r * dim, (r + 1) * dim));
          await next.learn(op.label, vectors);
        } else if (op.op === 'prune') {
          await next.prune(op.policy);
        }
        opts.onProgress?.(++done, archive.ops.length);
      }
      await next.save();
      return { store: to, codebookId: codebookId(cb), parts: cb.parts, anchors: cb.anchors, fittedOn: rows, classes: next.stats().classes };
    } finally {
      await next.close();
    }
  } finally {
    await old.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
