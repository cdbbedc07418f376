// engram repair: open a store whose journal is damaged where its state needs it, keep the history before the
// damage, and say what was kept and what was given up. The damaged files are set aside, not deleted.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { InputError } from '../errors.js';
import { plural } from '../output.js';

interface RepairFlags {
  store: string;
  dryRun?: boolean;
}

export default function register(program: Command, cli: CliContext): void {
  program
    .command('repair')
    .description('salvage a store with a damaged journal: keep the history before the damage, give up the rest')
    .requiredOption('-s, --store <dir>', 'store directory')
    .option('--dry-run', 'say what would be kept and given up, and change nothing')
    .addHelpText('after', `
A store whose journal is damaged in the middle (a bad sector, a flipped bit) cannot be rebuilt exactly, so
learn, predict and stats refuse it and name this command. repair keeps every record before the damage, gives
up the records after it, moves the damaged files aside as *.damaged (kept for inspection, never deleted) and
prints what the store holds now. A store that only needs the repairs an ordinary open makes (a torn last
record, a damaged snapshot with an older one to fall back on) is repaired the same way, and nothing is lost.
Keep a copy of the directory first if what was learned after the damage matters.`)
    .action(
      cli.action(async (flags: RepairFlags) => {
        const out = cli.output;
        const dir = flags.store;
        let isDir = false;
        try {
          isDir = statSync(dir).isDirectory();
        } catch {
          // reported below
        }
        if (!isDir) throw new InputError(`store ${dir} does not exist`);
        const before = new Set(readdirSync(dir));
        const notes: string[] = [];
        const { Engram } = await import('../../learner/engram.js');
        const engram = await Engram.open({
          store: dir,
          create: false,
          salvage: true,
          readOnly: flags.dryRun === true,
          onWarning: (m) => notes.push(m),
        });
        let stats;
        let seq;
        try {
          stats = engram.stats();
          seq = engram.journal()?.lastSeq ?? 0;
        } finally {
          await engram.close();
        }
        const setAside = readdirSync(dir)
          .filter((f) => f.endsWith('.damaged') && !before.has(f))
          .sort()
          .map((f) => ({ file: f, bytes: statSync(join(dir, f)).size }));
        const lost = notes.some((n) => /given up/.test(n));
        const examples = Object.values(stats.examples).reduce((a, b) => a + b, 0);
        const kept = `${plural(stats.classes, 'class', 'classes')}, ${plural(examples, 'example')} (journal up to record ${seq})`;
        const lines = [
          notes.length === 0 ? `store ${dir}: nothing to repair` : flags.dryRun ? `store ${dir}: a repair would find:` : `store ${dir}: repaired`,
          ...notes.map((n) => `  ${n.replace(`store ${dir}: `, '')}`),
          `${flags.dryRun ? 'would keep' : 'kept'}: ${kept}${stats.labels.length ? `: ${stats.labels.join(', ')}` : ''}`,
          `${flags.dryRun ? 'would give up' : 'given up'}: ${lost ? 'every record after the damage (see above)' : 'nothing'}`,
          ...(setAside.length ? [`set aside: ${setAside.map((f) => `${f.file} (${f.bytes} bytes)`).join(', ')}`] : []),
        ];
        out.result(
          { store: dir, dryRun: flags.dryRun === true, repaired: notes.length > 0 && !flags.dryRun, lost, lastSeq: seq, classes: stats.classes, examples: stats.examples, setAside, notes },
          lines.join('\n'),
        );
        return 0;
      }),
    );
}
