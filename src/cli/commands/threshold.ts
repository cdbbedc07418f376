// engram threshold: show the open-set threshold and how it was set; fix it, or return it to calibration.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { decimalNumber } from '../numbers.js';
import { engramOptions, storeOptions, type StoreFlags } from '../learner-options.js';

interface ThresholdFlags extends StoreFlags {
  set?: string;
  auto?: boolean;
}

export default function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('threshold')
    .description('show the "unknown" threshold and how it was set; --set fixes it, --auto returns it to calibration')
    .option('--set <t>', 'fix the threshold: a best score (0..1) below it is answered "unknown" (0: never unknown)')
    .option('--auto', 'return to the threshold calibrated while learning (the default)');
  storeOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Without --set or --auto it only shows the threshold: calibrated from recent learned examples scored against
the memory as it is now, on their own class as if never stored (known) and on the other classes (novel), at
the cut where as many known scores fall below as novel ones above (normal fits; the middle of the gap when
the two do not overlap); or fixed. A fixed threshold is journaled like a learn and kept across
restarts, learns and prunes until --auto. See docs/learner.md, "Open set".

Examples:
  engram threshold --store ./mem
  engram threshold --store ./mem --set 0.6
  engram threshold --store ./mem --auto`,
  );
  cmd.action(
    cli.action(async (flags: ThresholdFlags) => {
      const out = cli.output;
      if (flags.set !== undefined && flags.auto) throw new UsageError('threshold: give --set <t> or --auto, not both');
      let value: number | null | undefined;
      if (flags.set !== undefined) {
        value = decimalNumber('--set', flags.set, { min: 0, max: 1 });
      } else if (flags.auto) {
        value = null;
      }
      const { Engram } = await import('../../learner/engram.js');
      const engram = await Engram.open({ ...engramOptions(flags, (m) => out.warn(m)), create: false, readOnly: value === undefined });
      try {
        if (value !== undefined) await engram.setThreshold(value);
        const s = engram.stats();
        const how =
          s.thresholdSource === 'fixed'
            ? 'fixed (engram threshold --auto returns to calibration)'
            : `calibrated from ${s.calibration.known} known and ${s.calibration.novel} novel scores (${s.calibration.rule})${s.threshold === 0 ? ' (0 until five of each: never "unknown")' : ''}`;
        out.result(
          { store: flags.store, threshold: s.threshold, source: s.thresholdSource, calibration: s.calibration },
          `unknown threshold: ${s.threshold.toFixed(3)}, ${how}`,
        );
      } finally {
        await engram.close();
      }
    }),
  );
}
