// engram codebook fit: fit a product-quantizer codebook from unlabelled images a device has seen
// (or a backbone's calibration sample), so the codes match the domain the device works in.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError, InputError } from '../errors.js';
import { expandFiles, chunks } from '../files.js';

interface FitFlags {
  backbone?: string;
  parts: string;
  anchors: string;
  center?: boolean;
  l2?: boolean;
  seed: string;
  out: string;
}

export default function register(program: Command, cli: CliContext): void {
  const codebook = program.command('codebook').description('product-quantizer codebooks: where the codes come from');
  registerRefit(codebook, cli);
  codebook
    .command('fit')
    .description('fit a codebook (k-means anchors per part) on the features of unlabelled images')
    .argument('<files...>', 'unlabelled image files or folders (at least --anchors of them)')
    .option('-b, --backbone <name|file>', 'backbone whose features are quantized (default: the embedded one)')
    .option('--parts <P>', 'parts per feature vector (must divide its dimension)', '32')
    .option('--anchors <K>', 'anchors per part', '256')
    .option('--center', 'subtract the mean before fitting and encoding')
    .option('--l2', 'L2-normalise features before fitting and encoding')
    .option('--seed <n>', 'k-means seed', '1')
    .requiredOption('-o, --out <file>', 'where to write the codebook (use it with learn --codebook FILE)')
    .action(
      cli.action(async (files: string[], f: FitFlags) => {
        const parts = whole('parts', f.parts);
        const anchors = whole('anchors', f.anchors);
        const seed = whole('seed', f.seed);
        const paths = expandFiles(files, (m) => cli.output.warn(m));
        if (paths.length < anchors) throw new InputError(`codebook fit: need at least ${anchors} images for ${anchors} anchors, got ${paths.length}`);
        const out = cli.output;
        const { openBackbone } = await import('../../learner/backbone-ref.js');
        const { fitCodebook, encodeCodebook, codebookId } = await import('../../quantize/codebook.js');
        const { writeFileSync } = await import('node:fs');
        const backbone = await openBackbone(f.backbone, { onInfo: (m) => out.info(m) });
        try {
          if (backbone.dim % parts !== 0) throw new UsageError(`--parts: ${parts} does not divide the feature dimension ${backbone.dim}`);
          const feats = new Float32Array(paths.length * backbone.dim);
          const bar = out.progress(paths.length, 'features');
          let row = 0;
          for (const group of chunks(paths, 32)) {
            if (cli.signal.aborted) return 130;
            feats.set(await backbone.embed(group), row * backbone.dim);
            row += group.length;
            bar.tick(group.length);
          }
          bar.stop();
          out.info(`fitting ${parts} x ${anchors} anchors on ${paths.length} feature vectors`);
          const cb = fitCodebook(feats, backbone.dim, { parts, anchors, center: Boolean(f.center), l2: Boolean(f.l2), seed });
          writeFileSync(f.out, encodeCodebook(cb));
          out.result(
            { file: f.out, id: codebookId(cb), parts, anchors, dim: backbone.dim, images: paths.length, backbone: backbone.name },
            `wrote ${f.out} (${parts} x ${anchors}, fitted on ${paths.length} images; use: engram learn --codebook ${f.out} --parts ${parts} --anchors ${anchors}${f.center ? ' --center' : ''}${f.l2 ? ' --l2' : ''} ...)`,
          );
        } finally {
          await backbone.close();
        }
      }),
    );
}

interface RefitFlags {
  store: string;
  out: string;
  parts: string;
  anchors: string;
  probes: string;
  center?: boolean;
  l2?: boolean;
  seed: string;
}

function registerRefit(codebook: Command, cli: CliContext): void {
  codebook
    .command('refit')
    .description('refit the codebook of a store on the features it has seen, and rebuild its memory into a new store')
    .requiredOption('-s, --store <dir>', 'store to refit (made with learn --keep-features); it is left unchanged')
    .requiredOption('-o, --out <dir>', 'new store directory for the rebuilt memory')
    .option('--parts <P>', 'parts per feature vector', '32')
    .option('--anchors <K>', 'anchors per part', '256')
    .option('--probes <n>', 'anchors activated per part', '1')
    .option('--center', 'subtract the mean before fitting and encoding')
    .option('--l2', 'L2-normalise features before fitting and encoding')
    .option('--seed <n>', 'k-means seed', '1')
    .addHelpText('after', `
The codebook is fitted on every feature vector the store keeps (no labels are used), then each archived
learn and prune is replayed, re-encoded with the new codebook, into --out. Forgotten classes are not kept.`)
    .action(
      cli.action(async (f: RefitFlags) => {
        const out = cli.output;
        const { refitStore } = await import('../../learner/refit.js');
        let bar: ReturnType<typeof out.progress> | null = null;
        const r = await refitStore(
          f.store,
          f.out,
          { parts: whole('parts', f.parts), anchors: whole('anchors', f.anchors), probes: whole('probes', f.probes), center: Boolean(f.center), l2: Boolean(f.l2), seed: whole('seed', f.seed) },
          {
            onWarning: (m) => out.warn(m),
            onProgress: (done, total) => {
              bar ??= out.progress(total, 'rebuilding');
              bar.tick(1);
              if (done === total) bar.stop();
            },
          },
        );
        out.result({ ...r }, `refitted ${f.store} into ${r.store}: codebook ${r.parts} x ${r.anchors} fitted on ${r.fittedOn} feature vectors, ${r.classes} classes rebuilt`);
      }),
    );
}

function whole(name: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name}: expected a whole number, got "${v}"`);
  return Number(v);
}
