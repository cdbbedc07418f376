// engram eval: how well a store answers labelled test images: top-1, open-set rates, per-class recall and the
// confusion matrix, as text, one JSON object, or an SVG of the matrix.
import { Option, type Command } from 'commander';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { CliContext } from '../context.js';
import { engramOptions, storeOptions, type StoreFlags } from '../learner-options.js';
import { expandFiles, labelFromDir } from '../files.js';
import { EXIT_INPUT, EXIT_INTERRUPTED, InputError, UsageError } from '../errors.js';
import { wholeNumber } from '../numbers.js';

interface EvalFlags extends StoreFlags {
  label?: string;
  labelsFrom?: 'dir';
  batch: string;
  svg?: string;
  mistakes: string;
}

export default function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('eval')
    .description('measure a store on labelled test images: top-1, open-set rates, per-class recall, confusion matrix')
    .argument('<files...>', 'labelled test images (PNG, JPEG, WebP) or folders of them')
    .addOption(new Option('--labels-from <source>', "take each file's true label from its parent folder name").choices(['dir']))
    .option('-l, --label <label>', 'the true label of all FILES')
    .option('--svg <file>', 'also write the confusion matrix as an SVG image to this file')
    .option('--mistakes <n>', 'how many wrong answers to list in the text output (--json lists all)', '10')
    .option('--batch <n>', 'images per backbone batch', '32');
  storeOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Each image is predicted as \`engram predict\` would (the store is opened read-only) and its answer compared with
its true label. Labels the store knows are "known"; folders named after labels it does not know hold "novel"
images, whose right answer is unknown.

  top-1           closed set: the best class is the true label, ignoring the unknown threshold (known labels)
  known right     answered with the true label; known wrong: another label; known unknown: "unknown"
  novel unknown   a novel image answered unknown (right); novel labelled: answered with some label (wrong)
  recall          per class, the share answered right (the confusion matrix's diagonal over the row)

The confusion matrix has a row per true label and a column per answer, "unknown" last. Files that cannot be
read are listed and left out of every rate (exit code 2, as predict). With --json: one object with storeLabels,
counts, top1, openSet, classes, confusion {rows, columns (null = unknown), counts}, mistakes and failed;
rates are {count, of, rate} with rate 0..1 (null when "of" is 0).

Examples:
  engram eval --store ./mem --labels-from dir digits/test/          # digits/test/0/*.png, digits/test/1/*.png ...
  engram eval --store ./mem --labels-from dir test/ --svg confusion.svg
  engram eval --store ./mem --label cat more-cats/ --json`,
  );
  cmd.action(
    cli.action(async (files: string[], flags: EvalFlags) => {
      if (!flags.label === !flags.labelsFrom)
        throw new UsageError('eval: give exactly one of --labels-from dir or --label <label>, so that each image has a true label');
      const batch = wholeNumber('--batch', flags.batch, { min: 1 });
      const mistakes = wholeNumber('--mistakes', flags.mistakes);
      if (flags.svg !== undefined) checkWritable(flags.svg);
      const paths = expandFiles(files);
      if (paths.length === 0) throw new InputError(`eval: no image files found in ${files.join(', ')}`);
      const out = cli.output;
      if (flags.labelsFrom) warnLooseFiles(files, paths, (m) => out.warn(m));
      const items = paths.map((input) => ({ input, label: flags.label ?? labelFromDir(input) }));

      const { Engram } = await import('../../learner/engram.js');
      const engram = await Engram.open({ ...engramOptions(flags, (m) => out.warn(m)), readOnly: true });
      const bar = out.progress(items.length, 'evaluating');
      let report;
      try {
        let done = 0;
        report = await engram.evaluate(items, {
          batch,
          signal: cli.signal,
          onProgress: (n) => {
            bar.tick(n - done);
            done = n;
          },
        });
      } finally {
        bar.stop();
        await engram.close();
      }
      if (cli.signal.aborted) return EXIT_INTERRUPTED;
      if (report.counts.evaluated === 0) {
        const [first] = report.failed;
        throw new InputError(
          report.counts.items === 1
            ? `eval: the one image could not be read: ${first.error}`
            : `eval: none of the ${report.counts.items} images could be read; the first: ${first.error}`,
        );
      }

      const { evalText, pct } = await import('../eval-report.js');
      if (flags.svg !== undefined) {
        const { confusionSvg } = await import('../confusion-svg.js');
        const parts = [report.counts.known ? `top-1 ${pct(report.top1)}` : '', `open set ${pct(report.openSet.accuracy)}`];
        if (report.counts.novel) parts.push(`novel answered unknown ${pct(report.openSet.novel.unknown)}`);
        parts.push(`${report.counts.evaluated} images`);
        const svg = confusionSvg(report, {
          title: `engram eval: ${basename(resolve(flags.store))}`,
          subtitle: parts.filter(Boolean).join(', '),
        });
        try {
          writeFileSync(flags.svg, svg);
        } catch (err) {
          throw new InputError(`--svg ${flags.svg}: ${(err as Error).message}`);
        }
      }
      out.result(
        { store: flags.store, ...report, ...(flags.svg !== undefined ? { svg: flags.svg } : {}) },
        evalText(report, { store: flags.store, mistakes }) +
          (flags.svg !== undefined ? `\n\nconfusion matrix written to ${flags.svg}` : ''),
      );
      if (report.failed.length) {
        out.warn(
          `${report.failed.length} of ${report.counts.items} files could not be read; they are listed in the report and left out of every rate`,
        );
        return EXIT_INPUT;
      }
      return 0;
    }),
  );
}

/** Fails before a long evaluation when the SVG could not be written afterwards. */
function checkWritable(file: string): void {
  const dir = dirname(resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`--svg ${file}: folder ${dir} does not exist`);
  if (existsSync(file) && statSync(file).isDirectory()) throw new InputError(`--svg ${file}: is a folder; name a file`);
}

/**
 * With --labels-from dir, an image lying directly in a folder given on the command line is labelled with that
 * folder's own name ("test"), which is rarely meant: say so once per folder.
 */
function warnLooseFiles(args: string[], paths: string[], warn: (m: string) => void): void {
  for (const arg of args) {
    if (!statSync(arg).isDirectory()) continue;
    const dir = resolve(arg);
    const loose = paths.filter((p) => dirname(resolve(p)) === dir).length;
    if (loose) {
      warn(
        `${loose} image${loose === 1 ? ' lies' : 's lie'} directly in ${arg}, so --labels-from dir labels ${loose === 1 ? 'it' : 'them'} "${basename(dir)}"; put each class's images in a subfolder named after the class`,
      );
    }
  }
}
