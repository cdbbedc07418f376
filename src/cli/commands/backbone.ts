// `engram backbone cut|info|embed`: make a feature extractor out of a classifier, inspect a backbone,
// and turn image files into feature vectors.
import { Option, type Command } from 'commander';
import type { PreparedImage } from '../../images/tensor.js';
import { CONVENTIONS_HELP } from '../learner-options.js';
import type { CliContext } from '../context.js';
import { InputError, UsageError } from '../errors.js';
import { numberList, wholeNumber } from '../numbers.js';
import type { GraphOptimization } from '../../backbone/session.js';

interface CutFlags {
  at: string;
  out?: string;
  name?: string;
  outputName?: string;
  scale?: string;
  zeroPoint?: string;
  colorOrder?: string;
  range?: string;
  mean?: string;
  std?: string;
  resize?: string;
  fit?: string;
  license?: string;
  source?: string;
}

interface SessionFlags {
  threads?: string;
  providers?: string;
  optimization?: string;
  conventions?: 'auto' | 'off';
}

/** Session flags -> Backbone.open options (validated again by the API). */
function sessionOptions(f: SessionFlags, log: (line: string) => void) {
  return {
    ...(f.threads !== undefined ? { threads: wholeNumber('--threads', f.threads, { min: 1 }) } : {}),
    ...(f.providers !== undefined
      ? {
          executionProviders: f.providers
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        }
      : {}),
    ...(f.optimization !== undefined ? { graphOptimization: f.optimization as GraphOptimization } : {}),
    ...(f.conventions !== undefined ? { conventions: f.conventions } : {}),
    log,
  };
}

function addSessionFlags(cmd: Command): Command {
  return cmd
    .option('--threads <n>', 'intra-op threads (default: cores, at most 4)')
    .option('--providers <list>', 'execution providers to try in order, e.g. cuda,cpu (cpu is always last)')
    .option('--optimization <level>', 'graph optimisation: disabled, basic, extended, all');
}

export default function register(program: Command, cli: CliContext): void {
  const backbone = program.command('backbone').description('feature-extractor backbones: cut a classifier, inspect, embed images');

  backbone
    .command('cut <model>')
    .description('write a feature-extractor copy of an ONNX classifier that outputs an inner tensor, check it, and write its manifest')
    .requiredOption('--at <tensor>', 'inner tensor to expose (dequantized if quantized, flattened to [N, D])')
    .option('--out <file>', 'output model (default: ./<model>.features.onnx); the manifest goes beside it as <out>.json')
    .option('--name <name>', 'manifest name (default: the output file name)')
    .option('--output-name <name>', 'name of the new output tensor', 'features')
    .option('--scale <tensor>', 'scale of the tensor, when the graph does not say it')
    .option('--zero-point <tensor>', 'zero point of the tensor, when the graph does not say it')
    .option('--color-order <order>', 'RGB, BGR or gray (default: RGB for 3 channels, gray for 1)')
    .option('--range <lo,hi>', 'what 0..255 pixels are scaled to before mean/std (default 0,1)')
    .option('--mean <list>', 'per-channel mean (default: ImageNet for RGB, 0 for grey)')
    .option('--std <list>', 'per-channel std (default: ImageNet for RGB, 1 for grey)')
    .option('--resize <mode>', 'bilinear, nearest, bicubic or lanczos (default bilinear)')
    .option('--fit <mode>', 'fill (stretch) or cover (crop the centre)')
    .option('--license <text>', "the source model's licence, written to the manifest")
    .option('--source <url>', 'where the source model comes from, written to the manifest')
    .action(
      cli.action(async (model: string, f: CutFlags) => {
        const { cutModel } = await import('../../backbone/cut.js');
        const range = f.range === undefined ? undefined : numberList('--range', f.range);
        if (range && range.length !== 2) throw new UsageError(`--range: expected two numbers lo,hi, got ${JSON.stringify(f.range)}`);
        const r = await cutModel(model, {
          at: f.at,
          ...(f.out !== undefined ? { out: f.out } : {}),
          ...(f.name !== undefined ? { name: f.name } : {}),
          outputName: f.outputName,
          ...(f.scale !== undefined ? { scale: f.scale } : {}),
          ...(f.zeroPoint !== undefined ? { zeroPoint: f.zeroPoint } : {}),
          ...(f.colorOrder !== undefined ? { colorOrder: f.colorOrder as 'RGB' } : {}),
          ...(range ? { range: range as [number, number] } : {}),
          ...(f.mean !== undefined ? { mean: numberList('--mean', f.mean) } : {}),
          ...(f.std !== undefined ? { std: numberList('--std', f.std) } : {}),
          ...(f.resize !== undefined ? { resize: f.resize as 'bilinear' } : {}),
          ...(f.fit !== undefined ? { fit: f.fit as 'fill' } : {}),
          ...(f.license !== undefined ? { license: f.license } : {}),
          ...(f.source !== undefined ? { source: f.source } : {}),
        });
        cli.output.result(
          {
            model: r.modelPath,
            manifest: r.manifestPath,
            output: r.manifest.output.name,
            dim: r.manifest.output.dim,
            dequantized: r.dequantized,
            nodes: r.nodes.after,
            removedNodes: r.nodes.before - r.nodes.after,
            bytes: r.bytes,
            sha256: r.manifest.sha256,
          },
          `wrote ${r.modelPath} (${r.bytes} bytes, output ${r.manifest.output.name} [N, ${r.manifest.output.dim}]` +
            `${r.dequantized ? ', dequantized' : ''}, ${r.nodes.before - r.nodes.after} unused nodes dropped)\nwrote ${r.manifestPath}`,
        );
        return 0;
      }),
    );

  addSessionFlags(
    backbone
      .command('info <manifest>')
      .description('validate a backbone (manifest or .onnx with a sidecar manifest), open it and describe it'),
  ).action(
    cli.action(async (path: string, f: SessionFlags) => {
      const { Backbone } = await import('../../backbone/backbone.js');
      let line = '';
      const b = await Backbone.open(
        path,
        sessionOptions(f, (l) => {
          line = l;
        }),
      );
      try {
        const m = b.manifest;
        cli.output.result(
          {
            name: m.name,
            id: b.id,
            model: m.modelPath,
            manifest: m.manifestPath,
            dim: b.dim,
            precision: m.precision,
            input: m.input,
            output: m.output,
            polarity: m.polarity ?? null,
            framing: m.framing ?? null,
            provider: b.provider,
            session: line,
            license: m.license,
            source: m.source,
          },
          [
            `${m.name} (${m.precision}, ${m.license})`,
            `  id       ${b.id}`,
            `  model    ${m.modelPath}`,
            `  input    ${m.input.name} ${m.input.layout} ${m.input.width}x${m.input.height}x${m.input.channels} ${m.input.colorOrder}`,
            ...(m.polarity || m.framing
              ? [
                  `  images   ${[m.polarity, m.framing ? `${m.framing.kind} framing, ink fills ${m.framing.fill} of the frame, centred by ${m.framing.centre}` : ''].filter(Boolean).join('; ')}`,
                ]
              : []),
            `  output   ${m.output.name} [N, ${b.dim}]`,
            `  session  ${line}`,
          ].join('\n'),
        );
      } finally {
        await b.close();
      }
      return 0;
    }),
  );

  addSessionFlags(
    backbone
      .command('embed <backbone> <images...>')
      .description('feature vectors for image files (a bad file is reported and the rest are still embedded)')
      .option('--batch <n>', 'images per model call', '8')
      .option('--full', 'print whole vectors (default: dimension, L2 norm and the first values)')
      .addOption(new Option('--conventions <mode>', `${CONVENTIONS_HELP} (default: auto)`).choices(['auto', 'off']))
      .option('--mirror', "each vector the mean of the image's and its left-right mirror's (what learn --mirror stores)")
      .addHelpText(
        'after',
        `
BACKBONE is what "engram learn --backbone" takes: a catalogue name (engram-glyph, or a pulled model such as
mobilenetv2-12-int8), a manifest .json, or an .onnx with its manifest beside it. IMAGES are files or folders,
walked as "learn" walks them (.png, .jpg, .jpeg, .webp; hidden names skipped). A missing or undecodable file is
reported ({"file","error"} with --json) and the others are still embedded; the exit code is then 2.
With --json, per image: {"input","dim","norm","head" (or "vector" with --full),"by","conventions"}: "by" is the
decode path (jpeg, png, decode, raw, sharp); "conventions" what the manifest's input conventions did (null when
it has none or they are off): {"polarity","inverted","ink","crop"}, ink the ink's box and crop the region the
model saw, {"x","y","width","height"} in the image's pixels.`,
      ),
  ).action(
    cli.action(async (path: string, args: string[], f: SessionFlags & { batch: string; full?: boolean; mirror?: boolean }) => {
      const { Backbone } = await import('../../backbone/backbone.js');
      const { resolveBackboneRef } = await import('../../learner/backbone-ref.js');
      const { expandFiles } = await import('../files.js');
      const batchSize = wholeNumber('--batch', f.batch, { min: 1 });
      let failed = 0;
      let missing = 0;
      const images = expandFiles(args, {
        onMissing: (file, message) => {
          failed += 1;
          missing += 1;
          cli.output.error(message, { file });
        },
      });
      if (images.length === 0)
        throw new InputError(failed ? `none of the ${failed} paths exists` : 'backbone embed: no image files found in the given paths');
      const b = await Backbone.open(
        resolveBackboneRef(path).manifestPath,
        sessionOptions(f, (l) => cli.output.info(l)),
      );
      const bar = cli.output.progress(images.length, 'embedding');
      try {
        for (let start = 0; start < images.length && !cli.signal.aborted; start += batchSize) {
          const chunk = images.slice(start, start + batchSize);
          let results: (Float32Array | Error)[];
          let prepared: (PreparedImage | undefined)[];
          try {
            const d = await b.embedDetailed(chunk, { batchSize, mirror: f.mirror === true });
            results = d.vectors;
            prepared = d.images;
          } catch {
            // Find which file is bad and keep the others: embed them one by one.
            results = [];
            prepared = [];
            for (const img of chunk) {
              const d = await b.embedDetailed([img], { mirror: f.mirror === true }).catch((err: Error) => err);
              results.push(d instanceof Error ? d : d.vectors[0]);
              prepared.push(d instanceof Error ? undefined : d.images[0]);
            }
          }
          results.forEach((r, k) => {
            const input = chunk[k];
            if (r instanceof Error) {
              failed += 1;
              cli.output.error(r.message, { file: input });
              return;
            }
            const norm = Math.sqrt(r.reduce((s, x) => s + x * x, 0));
            const head = Array.from(r.subarray(0, 4), (x) => Number(x.toFixed(4)));
            const p = prepared[k];
            const conv = p?.conventions ?? null;
            const note = conv
              ? `\t${conv.inverted ? 'inverted' : 'not inverted'}${conv.crop ? `, framed ${conv.crop.width}x${conv.crop.height} at ${conv.crop.x},${conv.crop.y}` : ''}`
              : '';
            cli.output.result(
              {
                input,
                dim: r.length,
                norm: Number(norm.toFixed(6)),
                ...(f.full ? { vector: Array.from(r) } : { head }),
                by: p?.by ?? null,
                conventions: conv,
              },
              f.full
                ? `${input}\t${Array.from(r).join(' ')}`
                : `${input}\tdim ${r.length}\tnorm ${norm.toFixed(4)}\t[${head.join(', ')}, ...]${note}`,
            );
          });
          bar.tick(chunk.length, chunk[chunk.length - 1]);
        }
      } finally {
        bar.stop();
        await b.close();
      }
      if (failed) throw new InputError(`${failed} of ${images.length + missing} images could not be embedded`);
      return 0;
    }),
  );
}
