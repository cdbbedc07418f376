// engram export: one self-describing, checksummed file with a store's classes, to import on another device.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { plural } from '../output.js';
import { UsageError } from '../errors.js';
import { checkLabel } from '../../util/label.js';

export default function register(program: Command, cli: CliContext): void {
  program
    .command('export')
    .description('write a store\'s classes to one file that "engram import" merges into another store')
    .requiredOption('-s, --store <dir>', 'store directory')
    .requiredOption('-o, --output <file>', 'file to write (written whole or not at all)')
    .option('--class <label...>', 'only these classes (default: all); forgets of them travel too')
    .addHelpText(
      'after',
      '\nThe file names the backbone (and its sha256), quantizer, codebook or whitening and memory geometry;\n"engram import" refuses it for a store built differently. The first export, import or sync makes the store a\nfleet member (a fleet/ folder beside its journal). See docs/fleet.md.',
    )
    .action(
      cli.action(async (flags: { store: string; output: string; class?: string[] }) => {
        try {
          for (const l of flags.class ?? []) checkLabel('--class', l);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const out = cli.output;
        const { exportStore } = await import('../../fleet/file.js');
        const { writeFileAtomic } = await import('../../util/durable-files.js');
        const { bytes, head } = await exportStore(flags.store, { labels: flags.class, onWarning: (m) => out.warn(m) });
        await writeFileAtomic(flags.output, bytes);
        const examples = head.classes.reduce((n, c) => n + c.examples, 0);
        out.result(
          {
            file: flags.output,
            bytes: bytes.length,
            classes: head.classes.map((c) => c.label),
            examples,
            forgotten: head.forgotten,
            origin: head.origin,
          },
          `wrote ${flags.output}: ${plural(head.classes.length, 'class', 'classes')}, ${plural(examples, 'example')}, ${bytes.length} bytes`,
        );
      }),
    );
}
