// engram stats: what a store holds.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { plural } from '../output.js';
import { engramOptions, storeOptions, type StoreFlags } from '../learner-options.js';

export default function register(program: Command, cli: CliContext): void {
  const cmd = program.command('stats').description('show the classes, examples, size and density of a store');
  storeOptions(cmd);
  cmd.action(
    cli.action(async (flags: StoreFlags) => {
      const out = cli.output;
      const { Engram } = await import('../../learner/engram.js');
      const engram = await Engram.open({ ...engramOptions(flags, (m) => out.warn(m)), readOnly: true });
      try {
        const s = engram.stats();
        const lines = [
          `store: ${flags.store}`,
          `backbone: ${s.backbone ?? 'none (feature vectors)'}${s.mirror ? ', each image averaged with its mirror (--mirror)' : ''}`,
          `quantizer: ${s.quantizer.kind}, ${s.active} active of ${s.neurons} neurons (${s.quantizer.codebookSource})`,
          `classes: ${s.classes}`,
          ...s.labels.map((l) => `  ${l}: ${plural(s.examples[l], 'example')}`),
          `memory: ${s.bytes} bytes in RAM (${s.compressedBytes} compressed), ${plural(s.connections, 'connection')}, density ${s.density.toFixed(4)}`,
          ...(s.ownWhitening ? [`own whitening: ${ownWhiteningLine(s.ownWhitening)}`] : []),
          `budget: ${s.budget ? `${s.budget.bytes} compressed bytes (device profile ${s.budget.profile}); a learn that goes over prunes back to it` : 'none (no device profile)'}`,
          `unknown threshold: ${s.threshold.toFixed(3)}, ${s.thresholdSource === 'fixed' ? 'fixed (engram threshold --auto returns to calibration)' : `calibrated from ${s.calibration.known} known and ${s.calibration.novel} novel scores (${s.calibration.rule})`}`,
        ];
        out.result({ store: flags.store, ...s }, lines.join('\n'));
      } finally {
        await engram.close();
      }
    }),
  );
}

function ownWhiteningLine(w: { fittedOn: number; centred: boolean; keptExamples: number; nextFitAt: number | null }): string {
  const fit = `${w.centred ? 'centred on the mean of' : 'fitted on'} ${plural(w.fittedOn, 'example')}`;
  if (w.nextFitAt === null) return `final, ${fit}`;
  const now = w.fittedOn ? fit : 'not fitted yet';
  // Labels the fit has not seen refit it sooner (fitDue); a centring is redone at the next learn anyway.
  const labels = w.fittedOn && !w.centred ? ' or when new labels arrive' : '';
  return `${now}; next fit at ${w.nextFitAt} examples${labels} (${w.keptExamples} kept with their features until the last fit)`;
}
