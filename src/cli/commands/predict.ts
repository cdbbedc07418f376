// engram predict: name the class of each image file, or "unknown" when nothing stored is close enough.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { conventionsOption, engramOptions, storeOptions, type StoreFlags } from '../learner-options.js';
import { chunks, expandFiles, fileArguments } from '../files.js';
import { EXIT_INPUT, EXIT_INTERRUPTED, InputError } from '../errors.js';
import { wholeNumber } from '../numbers.js';

interface PredictFlags extends StoreFlags {
  filesFrom?: string;
  top: string;
  batch: string;
}

export default function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('predict')
    .description('predict the class of image files (one line per file)')
    .argument('[files...]', 'image files or folders of them (walked, hidden names skipped)')
    .option(
      '--files-from <file>',
      'also predict the files and folders listed in FILE, one per line (- reads standard input; NUL-separated lists too)',
    )
    .option('--top <n>', 'how many classes to list per file', '3')
    .option('--batch <n>', 'images per backbone batch', '32');
  storeOptions(cmd);
  conventionsOption(cmd);
  cmd.addHelpText(
    'after',
    `
Output per file: file, label ("unknown" when the best score is under the calibrated threshold), score
(share of the code's active neurons connected to the class, 0..1) and margin (best minus second best).
With --json: {"file","label","score","margin","top":[{"label","score"}...],"conventions"}, label null for
unknown; "conventions" says what the backbone's input conventions did to the image (null when none apply),
as {"polarity","inverted","ink","crop"}: polarity as detected, ink the ink's box and crop the region the
model saw ({"x","y","width","height"} in the image's pixels; null when not framed).
A file that is missing or cannot be decoded is reported ({"file","error"} with --json) and the others are
still answered; the exit code is then 2. Folders are walked for .png, .jpg, .jpeg and .webp files, skipping
hidden names (".x.png", macOS "._x.jpg" copies, ".git/").`,
  );
  cmd.action(
    cli.action(async (files: string[], flags: PredictFlags) => {
      const top = wholeNumber('--top', flags.top, { min: 1 });
      const batch = wholeNumber('--batch', flags.batch, { min: 1 });
      const out = cli.output;
      // A path that is not there is reported like a file that cannot be decoded, and the others are answered.
      let failed = 0;
      const paths = expandFiles(fileArguments('predict', files, flags.filesFrom), {
        onSkip: (m) => out.warn(m),
        onMissing: (file, message) => {
          failed++;
          out.error(message, { file });
        },
      });
      if (paths.length === 0) {
        if (failed) return EXIT_INPUT;
        throw new InputError('predict: no image files found in the given paths');
      }
      const { Engram } = await import('../../learner/engram.js');
      const engram = await Engram.open({ ...engramOptions(flags, (m) => out.warn(m)), readOnly: true });
      // When the answers scroll on the terminal they are the progress; a bar is for output sent elsewhere.
      const bar = out.progress(process.stdout.isTTY ? 0 : paths.length, 'predicting');
      try {
        for (const group of chunks(paths, batch)) {
          if (cli.signal.aborted) break;
          let preds;
          try {
            preds = await engram.predict(group, { top });
          } catch {
            preds = null;
          }
          for (let i = 0; i < group.length; i++) {
            let p = preds?.[i];
            if (!p) {
              try {
                [p] = await engram.predict([group[i]], { top });
              } catch (e) {
                failed++;
                out.error(e instanceof Error ? e.message : String(e), { file: group[i] });
                continue;
              }
            }
            const file = group[i];
            out.result(
              {
                file,
                label: p.label,
                score: round(p.score),
                margin: round(p.margin),
                top: p.top.map((t) => ({ label: t.label, score: round(t.score) })),
                conventions: p.conventions ?? null,
              },
              `${file}\t${p.label ?? 'unknown'}\tscore ${p.score.toFixed(3)}\tmargin ${p.margin.toFixed(3)}`,
            );
          }
          bar.tick(group.length);
        }
      } finally {
        bar.stop();
        await engram.close();
      }
      if (cli.signal.aborted) return EXIT_INTERRUPTED;
      return failed ? EXIT_INPUT : 0;
    }),
  );
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
