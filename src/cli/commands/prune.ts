// engram prune: apply connection-pruning policies, in the order given.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { plural } from '../output.js';
import { engramOptions, storeOptions, type StoreFlags } from '../learner-options.js';
import { UsageError } from '../errors.js';
import { describePolicy } from '../../learner/prune.js';
import { policiesFromFlags, pruneOptions, PRUNE_FLAG_NAMES, type PruneFlags } from '../prune-flags.js';

interface Flags extends StoreFlags, PruneFlags {}

export default function register(program: Command, cli: CliContext): void {
  const cmd = pruneOptions(
    program.command('prune').description('remove connections: keep a budget, drop shared or rarely seen ones, or a whole class'),
  );
  storeOptions(cmd);
  cmd.addHelpText(
    'after',
    `
When to use which (docs/learner.md has the measurements):
  --min-count   after many examples per class: removes accidental connections, best accuracy gain
  --share   the same, with a threshold that follows each class's number of examples
  --max-bytes / --max-density   to fit a device's memory budget
  --max-classes   when many classes share neurons and scores tie
  --class   to remove a class entirely (same as engram forget)`,
  );
  cmd.action(
    cli.action(async (flags: Flags) => {
      const policies = policiesFromFlags(flags);
      if (policies.length === 0) throw new UsageError(`prune: give at least one of ${PRUNE_FLAG_NAMES}`);
      const out = cli.output;
      const { Engram } = await import('../../learner/engram.js');
      const engram = await Engram.open({ ...engramOptions(flags, (m) => out.warn(m)), create: false });
      try {
        const before = engram.stats();
        for (const policy of policies) {
          const r = await engram.prune(policy);
          out.result(
            {
              policy,
              removed: r.removed,
              connections: r.connections,
              density: r.density,
              compressedBytes: r.compressedBytes,
              bytes: r.bytes,
            },
            `${describePolicy(policy)}: removed ${plural(r.removed, 'connection')}`,
          );
        }
        const after = engram.stats();
        // Pruning clears bits; the RAM they live in is sized by neurons x class capacity, which it cannot change.
        out.info(
          `connections ${before.connections} -> ${after.connections}, density ${before.density.toFixed(4)} -> ${after.density.toFixed(4)}, ` +
            `compressed ${before.compressedBytes} -> ${after.compressedBytes} bytes; resident ${after.bytes} bytes is fixed by neurons and class capacity`,
        );
      } finally {
        await engram.close();
      }
    }),
  );
}
