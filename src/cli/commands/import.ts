// engram import: merge a file written by "engram export" into a store (created when it does not exist).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { plural } from '../output.js';
import { InputError } from '../errors.js';

export default function register(program: Command, cli: CliContext): void {
  program
    .command('import')
    .description('merge a file written by "engram export" into a store; a new store is created from it')
    .requiredOption('-s, --store <dir>', "store directory (created with the file's backbone, quantizer and codebook when absent)")
    .argument('<file...>', 'fleet files to merge, in any order')
    .addHelpText(
      'after',
      '\nMerging is a join: importing a file twice, or several files in any order, gives the same memory; a class\nforgotten after a file was written does not come back from it. A file made for another backbone, quantizer,\ncodebook or memory geometry is refused with what differs. See docs/fleet.md.',
    )
    .action(
      cli.action(async (files: string[], flags: { store: string }) => {
        const out = cli.output;
        const { importFile } = await import('../../fleet/file.js');
        for (const file of files) {
          let r;
          try {
            r = await importFile(flags.store, file, { onWarning: (m) => out.warn(m) });
          } catch (err) {
            throw new InputError((err as Error).message);
          }
          out.result(
            { file, store: flags.store, created: r.created, changed: r.changed, classes: r.classes },
            `${file}: ${r.created ? `created ${flags.store}; ` : ''}${plural(r.changed.length, 'class', 'classes')} changed (${r.changed.join(', ') || 'none'}); ${plural(r.classes.length, 'class', 'classes')} in the store`,
          );
        }
      }),
    );
}
