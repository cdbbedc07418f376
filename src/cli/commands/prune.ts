// engram prune: apply connection-pruning policies, in the order given.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { plural } from '../output.js';
import { engramOptions, storeOptions, type StoreFlags } from '../learner-options.js';
import { UsageError } from '../errors.js';
import { decimalNumber, wholeNumber } from '../numbers.js';
import type { PrunePolicy } from '../../learner/prune.js';

interface PruneFlags extends StoreFlags {
  maxBytes?: string;
  maxDensity?: string;
  maxClasses?: string;
  minCount?: string;
  share?: string;
  class?: string;
}

export default function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('prune')
    .description('remove connections: keep a budget, drop shared or rarely seen ones, or a whole class')
    .option('--max-bytes <n>', 'budget: keep the connection bits within n bytes when compressed (drops the least-seen first)')
    .option('--max-density <d>', 'budget: keep the share of connections switched on at most d (0..1)')
    .option('--max-classes <m>', 'fan-in: drop connections of code neurons shared by more than m classes')
    .option('--min-count <t>', 'count: drop connections seen fewer than t times')
    .option('--share <s>', "share: per class, drop connections seen in less than s (0..1] of that class's examples")
    .option('--class <label>', 'forget one class');
  storeOptions(cmd);
  cmd.addHelpText('after', `
When to use which (docs/learner.md has the measurements):
  --min-count   after many examples per class: removes accidental connections, best accuracy gain
  --share   the same, with a threshold that follows each class's number of examples
  --max-bytes / --max-density   to fit a device's memory budget
  --max-classes   when many classes share neurons and scores tie
  --class   to remove a class entirely (same as engram forget)`);
  cmd.action(
    cli.action(async (flags: PruneFlags) => {
      const policies = policiesFrom(flags);
      if (policies.length === 0) throw new UsageError('prune: give at least one of --max-bytes, --max-density, --max-classes, --min-count, --share, --class');
      const out = cli.output;
      const { Engram } = await import('../../learner/engram.js');
      const engram = await Engram.open({ ...engramOptions(flags, (m) => out.warn(m)), create: false });
      try {
        const before = engram.stats();
        for (const policy of policies) {
          const r = await engram.prune(policy);
          out.result(
            { policy, removed: r.removed, connections: r.connections, density: r.density, compressedBytes: r.compressedBytes, bytes: r.bytes },
            `${describe(policy)}: removed ${plural(r.removed, 'connection')}`,
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

function policiesFrom(f: PruneFlags): PrunePolicy[] {
  const p: PrunePolicy[] = [];
  if (f.class !== undefined) p.push({ kind: 'class', label: f.class });
  if (f.minCount !== undefined) p.push({ kind: 'count', minCount: wholeNumber('--min-count', f.minCount) });
  if (f.share !== undefined) p.push({ kind: 'share', share: decimalNumber('--share', f.share, { min: 0 }) });
  if (f.maxClasses !== undefined) p.push({ kind: 'fanin', maxClasses: wholeNumber('--max-classes', f.maxClasses) });
  if (f.maxDensity !== undefined) p.push({ kind: 'budget', maxDensity: decimalNumber('--max-density', f.maxDensity, { min: 0 }) });
  if (f.maxBytes !== undefined) p.push({ kind: 'budget', maxBytes: wholeNumber('--max-bytes', f.maxBytes) });
  return p;
}

function describe(p: PrunePolicy): string {
  switch (p.kind) {
    case 'class':
      return `forget "${p.label}"`;
    case 'count':
      return `min count ${p.minCount}`;
    case 'share':
      return `share ${p.share} of each class's examples`;
    case 'fanin':
      return `max ${p.maxClasses} classes per neuron`;
    case 'budget':
      return p.maxBytes !== undefined ? `budget ${p.maxBytes} bytes` : `density budget ${p.maxDensity}`;
  }
}
