// engram codebook fit: fit what the quantizer learns from the domain (the sparse quantizer's whitening, or
// pq anchors) on images a device has seen, so the codes match the domain the device works in.
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError, InputError } from '../errors.js';
import { decimalNumber, wholeNumber } from '../numbers.js';
import { expandFiles, chunks, labelFromDir } from '../files.js';
import { plural } from '../output.js';
import { QUANTIZER_DEFAULTS } from '../../learner/config.js';
import { WHITENING_DEFAULTS } from '../../quantize/whitening.js';

interface FitFlags {
  backbone?: string;
  mirror?: boolean;
  quantizer?: 'sparse' | 'pq';
  labelsFrom?: 'dir';
  directions: string;
  shrink: string;
  parts?: string;
  anchors?: string;
  center: boolean;
  l2: boolean;
  seed: string;
  out: string;
}

export default function register(program: Command, cli: CliContext): void {
  const codebook = program
    .command('codebook')
    .description('what the codes are made against: a whitening (sparse quantizer) or a pq codebook');
  registerRefit(codebook, cli);
  codebook
    .command('fit')
    .description("fit the quantizer's data-dependent part on images of the device's domain")
    .argument('<files...>', 'image files or folders from the domain the device works in (hidden names skipped)')
    .option('-b, --backbone <name|file>', 'backbone whose features are quantized (default: the embedded one)')
    .option('--mirror', 'fit on mirror features (each image averaged with its left-right mirror), for stores made with --mirror')
    .addOption(
      new Option(
        '--quantizer <kind>',
        'sparse (default): a whitening for the whitened block; pq: k-means anchors (implied by --parts or --anchors)',
      ).choices(['sparse', 'pq']),
    )
    .addOption(
      new Option('--labels-from <source>', 'sparse: labelled images (folder names), so the whitening follows within-class scatter').choices(
        ['dir'],
      ),
    )
    .option('--directions <d>', 'sparse: leading directions whitened one by one', String(WHITENING_DEFAULTS.d))
    .option('--shrink <s>', 'sparse: shrinkage, a multiple of the mean eigenvalue', String(WHITENING_DEFAULTS.shrink))
    .option('--parts <P>', `pq: parts per feature vector (must divide its dimension; default ${QUANTIZER_DEFAULTS.pq.parts})`)
    .option('--anchors <K>', `pq: anchors per part (default ${QUANTIZER_DEFAULTS.pq.anchors})`)
    .option('--no-center', "pq: do not subtract the mean before fitting and encoding (learn's default centres)")
    .option('--no-l2', "pq: do not L2-normalise features (learn's default normalises)")
    .option('--seed <n>', 'seed of the fit', '1')
    .requiredOption('-o, --out <file>', 'where to write the result (use it with learn --codebook FILE)')
    .addHelpText(
      'after',
      `
The default (sparse) fits a partial whitening: the leading directions of the features' scatter are rescaled,
so the whitened block of every code stops spending its neurons on nuisance (light, pose, background). From
unlabelled images it follows their total scatter; with --labels-from dir (cat/*.jpg, dog/*.jpg ...: any
classes of the domain, not necessarily the ones you will teach) their within-class scatter, which is better.
A few hundred images are enough. Then:

  engram learn --store ./mem --codebook site.egw --label mug mug*.jpg`,
    )
    .action(
      cli.action(async (files: string[], f: FitFlags) => {
        const seed = wholeNumber('--seed', f.seed);
        const paths = expandFiles(files, (m) => cli.output.warn(m));
        const out = cli.output;
        const kind = f.quantizer ?? (f.parts !== undefined || f.anchors !== undefined ? 'pq' : 'sparse');
        const sparse = kind === 'sparse';
        if (sparse && (f.parts !== undefined || f.anchors !== undefined))
          throw new UsageError('--parts and --anchors: only apply to --quantizer pq');
        const parts = wholeNumber('--parts', f.parts ?? String(QUANTIZER_DEFAULTS.pq.parts), { min: 1 });
        const anchors = wholeNumber('--anchors', f.anchors ?? String(QUANTIZER_DEFAULTS.pq.anchors), { min: 1 });
        // Every flag is checked before any image is read.
        const directions = wholeNumber('--directions', f.directions, { min: 1 });
        const shrink = decimalNumber('--shrink', f.shrink, { above: 0 });
        if (!sparse && f.labelsFrom)
          throw new UsageError('--labels-from: only applies to --quantizer sparse (pq anchors are fitted without labels)');
        if (sparse && paths.length < 2) throw new InputError(`codebook fit: need at least 2 images, got ${paths.length}`);
        if (!sparse && paths.length < anchors)
          throw new InputError(`codebook fit: need at least ${anchors} images for ${anchors} anchors, got ${paths.length}`);
        const { openBackbone } = await import('../../learner/backbone-ref.js');
        const { writeFileSync } = await import('node:fs');
        const backbone = await openBackbone(f.backbone, { onInfo: (m) => out.info(m), mirror: f.mirror === true });
        try {
          if (!sparse && backbone.dim % parts !== 0)
            throw new UsageError(`--parts: ${parts} does not divide the feature dimension ${backbone.dim}`);
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
          if (sparse) {
            const { fitWhitening, encodeWhitening, whiteningId } = await import('../../quantize/whitening.js');
            let labels: number[] | null = null;
            if (f.labelsFrom) {
              const names = paths.map(labelFromDir);
              const ids = new Map<string, number>();
              labels = names.map((n) => ids.get(n) ?? ids.set(n, ids.size).get(n)!);
              if (ids.size < 2)
                throw new InputError(
                  `--labels-from dir: the images come from ${ids.size} folder; within-class scatter needs at least 2 labels`,
                );
              out.info(`fitting a whitening on the within-class scatter of ${paths.length} images of ${ids.size} labels`);
            } else {
              out.info(`fitting a whitening on the scatter of ${paths.length} unlabelled images`);
            }
            const w = fitWhitening(feats, backbone.dim, labels, { d: directions, shrink, seed });
            writeFileSync(f.out, encodeWhitening(w));
            out.result(
              {
                file: f.out,
                id: whiteningId(w),
                kind: 'whitening',
                directions: w.d,
                withinClass: w.withinClass,
                dim: backbone.dim,
                images: paths.length,
                backbone: backbone.name,
              },
              `wrote ${f.out} (whitening of ${w.d} directions, fitted on ${paths.length} images; use: engram learn --codebook ${f.out} ...)`,
            );
            return 0;
          }
          out.info(`fitting ${parts} x ${anchors} anchors on ${paths.length} feature vectors`);
          const { fitCodebook, encodeCodebook, codebookId } = await import('../../quantize/codebook.js');
          const cb = fitCodebook(feats, backbone.dim, { parts, anchors, center: f.center, l2: f.l2, seed });
          writeFileSync(f.out, encodeCodebook(cb));
          out.result(
            {
              file: f.out,
              id: codebookId(cb),
              kind: 'pq',
              parts,
              anchors,
              dim: backbone.dim,
              images: paths.length,
              backbone: backbone.name,
            },
            `wrote ${f.out} (${parts} x ${anchors}, fitted on ${paths.length} images; use: engram learn --quantizer pq --codebook ${f.out} --parts ${parts} --anchors ${anchors}${f.center ? '' : ' --no-center'}${f.l2 ? '' : ' --no-l2'} ...)`,
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
    .addHelpText(
      'after',
      `
The codebook is fitted on every feature vector the store keeps (no labels are used), then each archived
learn and prune is replayed, re-encoded with the new codebook, into --out. Forgotten classes are not kept.`,
    )
    .action(
      cli.action(async (f: RefitFlags) => {
        const out = cli.output;
        const { refitStore } = await import('../../learner/refit.js');
        let bar: ReturnType<typeof out.progress> | null = null;
        const r = await refitStore(
          f.store,
          f.out,
          {
            parts: wholeNumber('--parts', f.parts, { min: 1 }),
            anchors: wholeNumber('--anchors', f.anchors, { min: 1 }),
            probes: wholeNumber('--probes', f.probes, { min: 1 }),
            center: Boolean(f.center),
            l2: Boolean(f.l2),
            seed: wholeNumber('--seed', f.seed),
          },
          {
            onWarning: (m) => out.warn(m),
            onProgress: (done, total) => {
              bar ??= out.progress(total, 'rebuilding');
              bar.tick(1);
              if (done === total) bar.stop();
            },
          },
        );
        out.result(
          { ...r },
          `refitted ${f.store} into ${r.store}: codebook ${r.parts} x ${r.anchors} fitted on ${plural(r.fittedOn, 'feature vector')}, ${plural(r.classes, 'class', 'classes')} rebuilt`,
        );
      }),
    );
}
