// engram repair: open a store whose journal is damaged where its state needs it, keep the history before the
// damage, and say what was kept and what was given up. The damaged files are set aside, not deleted.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { InputError } from '../errors.js';
import { plural } from '../output.js';
import {
  JOURNAL_FILE,
  JOURNAL_HEADER_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_TRAILER_BYTES,
  readRecordAt,
  type JournalRecord,
} from '../../store/format.js';
import { OP_RECORD } from '../../learner/persistence.js';
import { decodeOp } from '../../learner/ops.js';

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
    .addHelpText(
      'after',
      `
A store whose journal is damaged in the middle (a bad sector, a flipped bit) cannot be rebuilt exactly, so
learn, predict and stats refuse it and name this command. repair keeps every record before the damage, gives
up the records after it, moves the damaged files aside as *.damaged (kept for inspection, never deleted) and
prints what the store holds now. A store that only needs the repairs an ordinary open makes (a torn last
record, a damaged snapshot with an older one to fall back on) is repaired the same way, and nothing is lost.
Keep a copy of the directory first if what was learned after the damage matters.`,
    )
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
        // Read before the repair truncates anything: every record still intact in the journal, by seq.
        const intact = intactRecords(dir);
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
        const givenUp: ReturnType<typeof describeRecord>[] = [];
        if (lost) {
          // Records after the kept history: those still intact say what they held; the gaps are the damage.
          let last = seq;
          for (const s of intact.keys()) if (s > last) last = s;
          for (let s = seq + 1; s <= last; s++) {
            const r = intact.get(s);
            givenUp.push(r ? describeRecord(r) : { seq: s, op: 'unreadable', what: `record ${s}: damaged, unreadable` });
          }
        }
        const examples = Object.values(stats.examples).reduce((a, b) => a + b, 0);
        const kept = `${plural(stats.classes, 'class', 'classes')}, ${plural(examples, 'example')} (journal up to record ${seq})`;
        const lines = [
          notes.length === 0
            ? `store ${dir}: nothing to repair`
            : flags.dryRun
              ? `store ${dir}: a repair would find:`
              : `store ${dir}: repaired`,
          ...notes.map((n) => `  ${n.replace(`store ${dir}: `, '')}`),
          `${flags.dryRun ? 'would keep' : 'kept'}: ${kept}${stats.labels.length ? `: ${stats.labels.join(', ')}` : ''}`,
          `${flags.dryRun ? 'would give up' : 'given up'}: ${!lost ? 'nothing' : givenUp.length ? givenUp.map((g) => g.what).join('; ') : 'the damaged bytes (no intact record follows them)'}`,
          ...(setAside.length ? [`set aside: ${setAside.map((f) => `${f.file} (${f.bytes} bytes)`).join(', ')}`] : []),
        ];
        out.result(
          {
            store: dir,
            dryRun: flags.dryRun === true,
            repaired: notes.length > 0 && !flags.dryRun,
            lost,
            lastSeq: seq,
            classes: stats.classes,
            examples: stats.examples,
            givenUp,
            setAside,
            notes,
          },
          lines.join('\n'),
        );
        return 0;
      }),
    );
}

/**
 * Every record that is still intact in the store's journal segments, by seq, found by walking record after
 * record and, past damaged bytes, by looking for the next intact record byte by byte (as recovery does).
 */
function intactRecords(dir: string): Map<number, JournalRecord> {
  const out = new Map<number, JournalRecord>();
  for (const file of readdirSync(dir)
    .filter((f) => JOURNAL_FILE.test(f))
    .sort()) {
    const buf = readFileSync(join(dir, file));
    let at = JOURNAL_HEADER_BYTES;
    while (at + RECORD_HEADER_BYTES + RECORD_TRAILER_BYTES <= buf.length) {
      const r = readRecordAt(buf, at);
      if (r) {
        if (!out.has(r.record.seq)) out.set(r.record.seq, r.record);
        at = r.end;
      } else {
        at += 1;
      }
    }
  }
  return out;
}

/** What a journal record held, in the words of the learner's ops. */
function describeRecord(r: JournalRecord): { seq: number; op: string; label?: string; examples?: number; what: string } {
  if (r.type !== OP_RECORD) return { seq: r.seq, op: 'metadata', what: `record ${r.seq}: store metadata` };
  try {
    const op = decodeOp(r.payload);
    if (op.op === 'learn')
      return {
        seq: r.seq,
        op: 'learn',
        label: op.label,
        examples: op.rows,
        what: `record ${r.seq}: learn "${op.label}" (${plural(op.rows, 'example')})`,
      };
    if (op.op === 'forget') return { seq: r.seq, op: 'forget', label: op.label, what: `record ${r.seq}: forget "${op.label}"` };
    return { seq: r.seq, op: 'prune', what: `record ${r.seq}: prune` };
  } catch {
    return { seq: r.seq, op: 'unknown', what: `record ${r.seq}: unreadable learner op` };
  }
}
