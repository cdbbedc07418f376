// Expands the FILES arguments of a command: files as given, folders walked for image files, sorted.
// A folder walk skips hidden entries (names starting with "."): editors' and version control's folders,
// and the "._name" resource-fork files macOS writes beside every file it copies to a foreign disk.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InputError } from './errors.js';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);

export interface ExpandOptions {
  /**
   * Told about each argument that does not exist, which is then skipped; without it a missing argument is
   * an InputError before anything is done.
   */
  onMissing?: (path: string, message: string) => void;
}

export function expandFiles(args: string[], opts: ExpandOptions = {}): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (!existsSync(arg)) {
      const message = `${arg}: no such file or folder`;
      if (!opts.onMissing) throw new InputError(message);
      opts.onMissing(arg, message);
      continue;
    }
    if (statSync(arg).isDirectory()) out.push(...walk(arg));
    else out.push(arg);
  }
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p));
    else if (IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) out.push(p);
  }
  return out;
}

/** The label a file gets from `--labels-from dir`: the name of its parent folder. */
export function labelFromDir(file: string): string {
  return basename(dirname(resolve(file)));
}

/** Folder names that usually hold a data split rather than a class ("photos/test" next to "photos/cat"). */
const SPLIT_NAMES = new Set(['test', 'tests', 'testing', 'train', 'training', 'val', 'valid', 'validation', 'eval', 'evaluation', 'dev', 'holdout', 'heldout', 'unlabelled', 'unlabeled']);

/** Whether a label taken from a folder name looks like the name of a data split. */
export function looksLikeSplitName(label: string): boolean {
  return SPLIT_NAMES.has(label.trim().toLowerCase());
}

/** Splits a list into consecutive chunks of at most n. */
export function chunks<T>(items: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}
