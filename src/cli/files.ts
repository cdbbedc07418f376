// Expands the FILES arguments of a command: files as given, folders walked for image files, sorted; and reads
// the list of --files-from FILE|- (one path per line, or NUL-separated as `find -print0` writes). A folder walk
// skips hidden entries (names starting with "."): editors' and version control's folders, and the "._name"
// resource-fork files macOS writes beside every file it copies to a foreign disk.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InputError, UsageError } from './errors.js';
import { FileReadError, readFileChecked, readStdinChecked } from '../util/read-file.js';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);

/** Called with a note for each entry skipped while walking (a symlink loop, an unreadable entry). */
export type SkipNote = (message: string) => void;

export interface ExpandOptions {
  /**
   * Told about each argument that does not exist, which is then skipped; without it a missing argument is
   * an InputError before anything is done.
   */
  onMissing?: (path: string, message: string) => void;
  /** Told about each entry skipped while walking a folder. */
  onSkip?: SkipNote;
}

/** `opts` may be the skip note alone. */
export function expandFiles(args: string[], opts: ExpandOptions | SkipNote = {}): string[] {
  const o: ExpandOptions = typeof opts === 'function' ? { onSkip: opts } : opts;
  const onSkip = o.onSkip ?? (() => {});
  const out: string[] = [];
  for (const arg of args) {
    if (!existsSync(arg)) {
      let loop = false;
      try {
        statSync(arg);
      } catch (err) {
        loop = (err as NodeJS.ErrnoException).code === 'ELOOP';
      }
      const message = loop ? `${arg}: a symbolic link loop` : `${arg}: no such file or folder`;
      if (!o.onMissing) throw new InputError(message);
      o.onMissing(arg, message);
      continue;
    }
    if (statSync(arg).isDirectory()) out.push(...walk(arg, onSkip, new Set([realpathSync(arg)])));
    else out.push(arg);
  }
  return out;
}

// `ancestors` holds the real paths of the folders on the way down: a symlink back to one of them would make
// the walk endless (and end in a raw ELOOP 40 levels deep), so it is skipped with a note naming it.
function walk(dir: string, onSkip: SkipNote, ancestors: Set<string>): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      onSkip(
        code === 'ELOOP'
          ? `${p}: skipped, a symbolic link loop`
          : `${p}: skipped (${code === 'ENOENT' ? 'a dangling symbolic link' : (code ?? (err as Error).message)})`,
      );
      continue;
    }
    if (st.isDirectory()) {
      const real = realpathSync(p);
      if (ancestors.has(real)) {
        onSkip(`${p}: skipped, a symbolic link loop (back to ${real})`);
        continue;
      }
      ancestors.add(real);
      out.push(...walk(p, onSkip, ancestors));
      ancestors.delete(real);
    } else if (IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) out.push(p);
  }
  return out;
}

/**
 * The paths listed by `--files-from FILE` (or `-` for standard input): one per line, or separated by NUL bytes
 * when the list has any (`find ... -print0`); empty lines are ignored, a trailing CR is dropped.
 */
export function readFileList(source: string): string[] {
  let bytes: Buffer;
  try {
    bytes = source === '-' ? readStdinChecked('file list') : readFileChecked(source, 'file list');
  } catch (err) {
    if (err instanceof FileReadError) throw new InputError(`--files-from ${err.message}`);
    throw err;
  }
  const text = bytes.toString('utf8');
  const items = text.includes('\0') ? text.split('\0') : text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  return items.filter((l) => l.length > 0);
}

/** The FILES arguments plus those of --files-from; a usage error when both are empty. */
export function fileArguments(command: string, files: string[], filesFrom: string | undefined): string[] {
  const all = filesFrom === undefined ? [...files] : [...files, ...readFileList(filesFrom)];
  if (all.length === 0) throw new UsageError(`${command}: give image files or folders, or --files-from FILE|-`);
  return all;
}

/** The label a file gets from `--labels-from dir`: the name of its parent folder. */
export function labelFromDir(file: string): string {
  return basename(dirname(resolve(file)));
}

/** Folder names that usually hold a data split rather than a class ("photos/test" next to "photos/cat"). */
const SPLIT_NAMES = new Set([
  'test',
  'tests',
  'testing',
  'train',
  'training',
  'val',
  'valid',
  'validation',
  'eval',
  'evaluation',
  'dev',
  'holdout',
  'heldout',
  'unlabelled',
  'unlabeled',
]);

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
