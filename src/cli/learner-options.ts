// Options shared by the learner commands, declared once and parsed once into EngramOptions.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from './errors.js';
import { optionalWhole, wholeNumber } from './numbers.js';
import type { EngramOptions } from '../learner/engram.js';
import { QUANTIZER_KINDS, type QuantizerOptions } from '../learner/config.js';
import { CALIBRATION_ROWS, OWN_CENTRE_LABELS, OWN_WHITENING_FIRST } from '../learner/own-whitening.js';

export interface StoreFlags {
  store: string;
  backbone?: string;
  quantizer?: string;
  parts?: string;
  anchors?: string;
  probes?: string;
  center?: boolean;
  l2?: boolean;
  codebook?: string;
  topk?: string;
  neurons?: string;
  active?: string;
  whiten?: 'auto' | 'off';
  profile?: string;
  durability?: 'strict' | 'batched';
  batchMs?: string;
  keepFeatures?: boolean;
  units?: 'class' | 'example';
  vote?: string;
  twoSided?: boolean;
  conventions?: 'auto' | 'off';
  mirror?: boolean;
}

export const CONVENTIONS_HELP =
  "the backbone's input conventions: auto inverts dark-on-light images and frames strokes as its " +
  'manifest says (polarity, framing), per image; off feeds images as they are';

/** --conventions auto|off: given at the first learn and remembered by the store; other commands may repeat it. */
export function conventionsOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--conventions <mode>', `${CONVENTIONS_HELP} (default: auto; a store keeps its own)`).choices(['auto', 'off']),
  );
}

/** --store (required) and --profile, for every learner command. */
export function storeOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-s, --store <dir>', 'store directory (created by the first learn)')
    .option(
      '--profile <name|file.json>',
      "device profile: threads, execution providers, a new store's backbone, the memory budget (default: detected)",
    );
}

/** Backbone and quantizer choice: given at the first learn, remembered by the store afterwards. */
export function modelOptions(cmd: Command): Command {
  return cmd
    .option('-b, --backbone <name|file>', 'catalogue name, manifest .json or .onnx with its manifest (default: the embedded backbone)')
    .addOption(
      new Option('--quantizer <kind>', 'feature -> code quantizer (default sparse: works with any backbone, no data needed)').choices([
        ...QUANTIZER_KINDS,
      ]),
    )
    .option(
      '--mirror',
      'photos: embed each image with its left-right mirror and average the two features (twice the backbone time; a store keeps its own)',
    )
    .option('--neurons <N>', 'sparse: neurons of the raw block (default 3072)')
    .option('--active <k>', 'sparse: active neurons of the raw block per code (default 768)')
    .addOption(
      new Option(
        '--whiten <mode>',
        `sparse: auto (default) centres the codes on the examples the store learns (while they are ${OWN_CENTRE_LABELS} labels or more of one example each), then fits its own whitening on them from ${OWN_WHITENING_FIRST} on, refitted as they double or new labels arrive, up to ${CALIBRATION_ROWS} (backbones of more than 128 dimensions); off keeps the raw block alone`,
      ).choices(['auto', 'off']),
    )
    .option('--parts <P>', 'pq: parts per feature vector')
    .option('--anchors <K>', 'pq: anchors per part')
    .option('--probes <n>', 'pq: anchors activated per part (multi-probe)')
    .option('--center', 'pq: subtract the calibration mean before encoding (default)')
    .option('--no-center', 'pq: encode features without subtracting the calibration mean')
    .option('--l2', 'pq: L2-normalise features before encoding (default)')
    .option('--no-l2', 'pq: encode features without L2 normalisation')
    .option(
      '--codebook <file>',
      'sparse: a whitening from "engram codebook fit" (adds the whitened block); pq: a codebook file instead of fitting one',
    )
    .option('--topk <k>', 'topk: active neurons per code')
    .option('--two-sided', 'topk: also activate the k smallest standardised activations (2 x dim neurons, 2k active)')
    .addOption(
      new Option('--units <kind>', 'memory columns: one per label (class) or one per stored example, read by a vote (example)').choices([
        'class',
        'example',
      ]),
    )
    .option('--vote <k>', 'example units: how many best-matching examples vote (default 5; implies --units example)')
    .option('--keep-features', 'keep the feature vectors of what is learned, so "engram codebook refit" can refit the codebook later')
    .addOption(
      new Option('--durability <mode>', 'strict: acknowledged after fsync; batched: group commit')
        .choices(['strict', 'batched'])
        .default('strict'),
    )
    .option('--batch-ms <ms>', 'batched: group-commit interval, the most a power cut can take (1..60000, default 100)');
}

/** True when the file starts like a pq codebook ("EGCB"); unreadable files are left to the learner to report. */
function isPqCodebookFile(path: string): boolean {
  try {
    // Only a regular file is peeked at: opening a FIFO would wait for a writer (the file reader refuses it later).
    if (!statSync(path).isFile()) return false;
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(4);
      return readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === 'EGCB';
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function intFlag(name: string, v: string | undefined): number | undefined {
  return optionalWhole(`--${name}`, v, { min: 1 });
}

function batchMsFlag(v: string, durability: StoreFlags['durability']): number {
  const ms = wholeNumber('--batch-ms', v, { min: 1, max: 60_000, unit: 'milliseconds' });
  if (durability !== 'batched')
    throw new UsageError(`--batch-ms: only applies with --durability batched (durability is ${durability ?? 'strict'})`);
  return ms;
}

/** Parses the flags into EngramOptions; only what the user gave is set, so a store's remembered choice wins. */
export function engramOptions(flags: StoreFlags, onWarning: (m: string) => void, onInfo?: (m: string) => void): EngramOptions {
  const q: QuantizerOptions = {};
  if (flags.quantizer) q.kind = flags.quantizer as QuantizerOptions['kind'];
  const parts = intFlag('parts', flags.parts);
  const anchors = intFlag('anchors', flags.anchors);
  const probes = intFlag('probes', flags.probes);
  const topk = intFlag('topk', flags.topk);
  if (parts !== undefined) q.parts = parts;
  if (anchors !== undefined) q.anchors = anchors;
  if (probes !== undefined) q.probes = probes;
  // Unset unless given (either way), so that a store's remembered choice wins.
  if (flags.center !== undefined) q.center = flags.center;
  if (flags.l2 !== undefined) q.l2 = flags.l2;
  if (flags.codebook) q.codebook = flags.codebook;
  // pq's own options, or a pq codebook file, choose pq when no quantizer is named (the default is sparse).
  if (!q.kind && (['parts', 'anchors', 'probes', 'center', 'l2'] as const).some((k) => q[k] !== undefined)) q.kind = 'pq';
  if (!q.kind && flags.codebook && isPqCodebookFile(flags.codebook)) q.kind = 'pq';
  const neurons = intFlag('neurons', flags.neurons);
  const active = intFlag('active', flags.active);
  if (neurons !== undefined || active !== undefined || flags.whiten !== undefined) {
    if (q.kind !== undefined && q.kind !== 'sparse')
      throw new UsageError(`--neurons, --active and --whiten: only apply to --quantizer sparse, got --quantizer ${q.kind}`);
    q.kind = 'sparse';
    if (neurons !== undefined) q.neurons = neurons;
    if (active !== undefined) q.k = active;
    if (flags.whiten !== undefined) q.whiten = flags.whiten;
  }
  if (topk !== undefined) {
    q.kind ??= 'topk';
    q.k = topk;
  }
  if (flags.twoSided) {
    q.kind ??= 'topk';
    q.twoSided = true;
  }
  const opts: EngramOptions = { store: flags.store, onWarning, ...(onInfo ? { onInfo } : {}) };
  if (flags.backbone !== undefined) opts.backbone = flags.backbone;
  if (flags.conventions !== undefined) opts.conventions = flags.conventions;
  if (flags.mirror) opts.mirror = true;
  if (Object.keys(q).length) opts.quantizer = q;
  if (flags.profile) opts.profile = flags.profile;
  if (flags.durability) opts.durability = flags.durability;
  if (flags.batchMs !== undefined) opts.batchMs = batchMsFlag(flags.batchMs, flags.durability);
  const memory: NonNullable<EngramOptions['memory']> = {};
  if (flags.keepFeatures) memory.keepFeatures = true;
  if (flags.units) memory.units = flags.units;
  const vote = intFlag('vote', flags.vote);
  if (vote !== undefined) {
    // As --topk implies the topk quantizer, --vote implies example units.
    memory.units ??= 'example';
    memory.vote = vote;
  }
  if (Object.keys(memory).length) opts.memory = memory;
  return opts;
}
