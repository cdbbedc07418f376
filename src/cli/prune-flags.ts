// The prune policy flags, shared by engram prune (a store) and engram client prune (a board over the serial
// link), so both spell a policy the same way (learner/prune.ts is the vocabulary).
import type { Command } from 'commander';
import type { PrunePolicy } from '../learner/prune.js';
import { UsageError } from './errors.js';
import { decimalNumber, wholeNumber } from './numbers.js';

export interface PruneFlags {
  maxBytes?: string;
  maxDensity?: string;
  maxClasses?: string;
  /** Old name of --max-classes in engram client prune, still taken. */
  fanin?: string;
  minCount?: string;
  share?: string;
  class?: string;
}

export const PRUNE_FLAG_NAMES = '--max-bytes, --max-density, --max-classes, --min-count, --share, --class';

/** Adds the policy flags to `cmd`; `fanin` also takes --fanin, the old spelling of --max-classes. */
export function pruneOptions(cmd: Command, { fanin = false } = {}): Command {
  cmd
    .option('--max-bytes <n>', 'budget: keep the connection bits within n bytes when compressed (drops the least-seen first)')
    .option('--max-density <d>', 'budget: keep the share of connections switched on at most d (0..1)')
    .option('--max-classes <m>', 'fan-in: drop connections of code neurons shared by more than m classes')
    .option('--min-count <t>', 'count: drop connections seen fewer than t times')
    .option('--share <s>', "share: per class, drop connections seen in less than s (0..1] of that class's examples")
    .option('--class <label>', 'forget one class');
  if (fanin) cmd.option('--fanin <m>', 'the old name of --max-classes (still taken)');
  return cmd;
}

function num(name: string, v: string, int: boolean): number {
  return int ? wholeNumber(`--${name}`, v) : decimalNumber(`--${name}`, v, { min: 0 });
}

/**
 * The policies the flags ask for, in a fixed order (forget first, budgets last). `oneBudget` joins --max-bytes
 * and --max-density into one budget policy (one request on the link) instead of one policy each.
 */
export function policiesFromFlags(f: PruneFlags, { oneBudget = false } = {}): PrunePolicy[] {
  if (f.fanin !== undefined && f.maxClasses !== undefined)
    throw new UsageError('prune: --fanin is the old name of --max-classes; give one of them');
  const maxClasses = f.maxClasses ?? f.fanin;
  const p: PrunePolicy[] = [];
  if (f.class !== undefined) p.push({ kind: 'class', label: f.class });
  if (f.minCount !== undefined) p.push({ kind: 'count', minCount: num('min-count', f.minCount, true) });
  if (f.share !== undefined) p.push({ kind: 'share', share: num('share', f.share, false) });
  if (maxClasses !== undefined)
    p.push({ kind: 'fanin', maxClasses: num(f.maxClasses !== undefined ? 'max-classes' : 'fanin', maxClasses, true) });
  const maxDensity = f.maxDensity === undefined ? undefined : num('max-density', f.maxDensity, false);
  const maxBytes = f.maxBytes === undefined ? undefined : num('max-bytes', f.maxBytes, true);
  if (oneBudget && (maxBytes !== undefined || maxDensity !== undefined)) {
    p.push({ kind: 'budget', ...(maxBytes !== undefined ? { maxBytes } : {}), ...(maxDensity !== undefined ? { maxDensity } : {}) });
  } else {
    if (maxDensity !== undefined) p.push({ kind: 'budget', maxDensity });
    if (maxBytes !== undefined) p.push({ kind: 'budget', maxBytes });
  }
  return p;
}
