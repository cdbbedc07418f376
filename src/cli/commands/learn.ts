// engram learn: teach classes from image files. Each batch is acknowledged by the store before the next.
import { dirname } from 'node:path';
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { conventionsOption, engramOptions, modelOptions, storeOptions, type StoreFlags } from '../learner-options.js';
import { chunks, expandFiles, fileArguments, labelFromDir, looksLikeSplitName } from '../files.js';
import { plural } from '../output.js';
import { checkLabel, LABEL_RULE } from '../../util/label.js';
import { InputError, UsageError, EXIT_INPUT, EXIT_INTERRUPTED } from '../errors.js';
import { wholeNumber } from '../numbers.js';

interface LearnFlags extends StoreFlags {
  label?: string;
  filesFrom?: string;
  labelsFrom?: 'dir';
  batch: string;
}

export default function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('learn')
    .description('learn image files as examples of a class (a new label becomes a new class)')
    .argument('[files...]', 'image files (PNG, JPEG, WebP) or folders of them (walked, hidden names such as .x.png and ._x.jpg skipped)')
    .option(
      '--files-from <file>',
      'also learn the files and folders listed in FILE, one per line (- reads standard input; NUL-separated lists too)',
    )
    .option('-l, --label <label>', `the class all FILES belong to (${LABEL_RULE})`)
    .addOption(new Option('--labels-from <source>', "take each file's label from its parent folder name").choices(['dir']))
    .option('--batch <n>', 'images per backbone batch', '32');
  storeOptions(cmd);
  modelOptions(cmd);
  conventionsOption(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  engram learn --store ./mem --label cat photos/cat/*.jpg
  engram learn --store ./mem --labels-from dir photos/      # cat/, dog/ ... become classes
  find photos -name '*.jpg' | engram learn --store ./mem --labels-from dir --files-from -
  engram learn --store ./mem --backbone mobilenetv2-12-int8 --label mug mug1.png mug2.png

With --labels-from dir every folder under the one given becomes a class named after it: keep test images
elsewhere (photos/test/ would become a class "test"; a folder named like a data split gets a warning).
A file that cannot be decoded is reported ({"file","error"} with --json) and the others are learned; the exit
code is then 2. With --json the last line sums up: {"summary":true,"stored","failed","classes",...}.`,
  );
  cmd.action(
    cli.action(async (files: string[], flags: LearnFlags) => {
      if (!flags.label === !flags.labelsFrom) throw new UsageError('learn: give exactly one of --label <label> or --labels-from dir');
      const batch = wholeNumber('--batch', flags.batch, { min: 1 });
      // Every label is checked before the backbone loads: a bad one costs nothing and stores nothing.
      if (flags.label !== undefined) {
        try {
          checkLabel('--label', flags.label);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      }
      const out = cli.output;
      const paths = expandFiles(fileArguments('learn', files, flags.filesFrom), (m) => out.warn(m));
      if (paths.length === 0) throw new InputError('learn: no image files found in the given paths');
      const byLabel = new Map<string, string[]>();
      for (const p of paths) {
        const label = flags.label ?? labelFromDir(p);
        if (!byLabel.has(label)) {
          if (flags.label === undefined) {
            try {
              checkLabel(`--labels-from dir: the folder of ${p}`, label);
            } catch (err) {
              throw new InputError((err as Error).message);
            }
          }
          byLabel.set(label, []);
        }
        byLabel.get(label)!.push(p);
      }

      if (flags.labelsFrom === 'dir') {
        for (const [label, list] of byLabel) {
          if (looksLikeSplitName(label))
            out.warn(
              `label "${label}" (${plural(list.length, 'file')} in ${dirname(list[0])}) looks like the name of a data split, not of a class; learning it as a class (move that folder out of the one you learn from if it is not one)`,
            );
        }
      }
      const { Engram } = await import('../../learner/engram.js');
      const { isAbsentOrEmptyDir, removeCreatedStore } = await import('../../store/fresh.js');
      const fresh = isAbsentOrEmptyDir(flags.store);
      const engram = await Engram.open(
        engramOptions(
          flags,
          (m) => out.warn(m),
          (m) => out.info(m),
        ),
      );
      const failed: { file: string; error: string }[] = [];
      let stored = 0;
      let pruned = 0;
      // Over the device's memory budget every later batch is pruned too: say it once, count it in the results.
      const learn = async (label: string, group: string[]): Promise<number> => {
        const r = await engram.learn(label, group);
        if (r.pruned) {
          if (pruned === 0) {
            out.warn(
              `the memory went over the ${r.pruned.budget.bytes}-byte budget of device profile ${r.pruned.budget.profile} (compressed connection bits): ` +
                'pruned back to it, dropping the least-seen connections first; this repeats for every batch that goes over (a larger budget: --profile <file.json>)',
            );
          }
          pruned += r.pruned.removed;
        }
        return r.stored;
      };
      const bar = out.progress(paths.length, 'learning');
      const deferred: (() => void)[] = [];
      try {
        for (const [label, list] of byLabel) {
          let n = 0;
          const groups = chunks(list, batch);
          for (const group of groups) {
            if (cli.signal.aborted) break;
            try {
              n += await learn(label, group);
            } catch (err) {
              // Isolate the bad files of a failed batch; the good ones are still learned.
              for (const file of group) {
                try {
                  n += await learn(label, [file]);
                } catch (e) {
                  failed.push({ file, error: e instanceof Error ? e.message : String(e) });
                }
              }
              if (failed.length === 0) throw err;
            }
            bar.tick(group.length, label);
          }
          stored += n;
          const report = () => out.result({ label, stored: n }, `learned ${n} example${n === 1 ? '' : 's'} of "${label}"`);
          // Lines printed under a live bar would garble it: on a terminal they follow the bar.
          if (bar.active) deferred.push(report);
          else report();
        }
      } finally {
        bar.stop();
        await engram.close();
      }
      for (const report of deferred) report();
      for (const f of failed) out.error(f.error, { file: f.file });
      if (fresh && stored === 0) {
        // Nothing was learned into a store this command created: leave no empty store behind.
        removeCreatedStore(flags.store);
        out.warn(`nothing was learned, so the new store ${flags.store} was not kept`);
        return cli.signal.aborted ? EXIT_INTERRUPTED : EXIT_INPUT;
      }
      const st = engram.stats();
      if (pruned > 0)
        out.result(
          { budget: st.budget, pruned, compressedBytes: st.compressedBytes },
          `budget pruning removed ${plural(pruned, 'connection')}; ${st.compressedBytes} compressed bytes now`,
        );
      const interrupted = cli.signal.aborted;
      // With --json the last line sums the run up, so a script need not count the lines before it.
      if (out.json) {
        out.result({
          summary: true,
          stored,
          failed: failed.length,
          interrupted,
          classes: st.classes,
          bytes: st.bytes,
          compressedBytes: st.compressedBytes,
          pruned,
        });
      } else {
        out.info(
          `stored ${stored}, ${failed.length} failed; ${plural(st.classes, 'class', 'classes')}, ${st.bytes} bytes of memory (${st.compressedBytes} compressed)`,
        );
      }
      if (interrupted) return EXIT_INTERRUPTED;
      return failed.length ? EXIT_INPUT : 0;
    }),
  );
}
