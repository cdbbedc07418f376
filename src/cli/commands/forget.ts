// engram forget: remove a class and all its connections; other classes are untouched.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { plural } from '../output.js';
import { engramOptions, storeOptions, type StoreFlags } from '../learner-options.js';
import { UsageError } from '../errors.js';
import { checkLabel } from '../../util/label.js';

export default function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('forget')
    .description('forget a class: its connections are removed, other classes keep theirs')
    .argument('<label>', 'the class to forget');
  storeOptions(cmd);
  cmd.action(
    cli.action(async (label: string, flags: StoreFlags) => {
      try {
        checkLabel('label', label);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const out = cli.output;
      const { Engram } = await import('../../learner/engram.js');
      const engram = await Engram.open({ ...engramOptions(flags, (m) => out.warn(m)), create: false });
      try {
        const r = await engram.forget(label);
        const s = engram.stats();
        out.result(
          { label, removed: r.removed, classes: s.classes, bytes: s.bytes },
          `forgot "${label}": ${plural(r.removed, 'connection')} removed; ${plural(s.classes, 'class', 'classes')} left`,
        );
      } finally {
        await engram.close();
      }
    }),
  );
}
