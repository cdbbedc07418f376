// Expands the FILES arguments of a command: files as given, folders walked for image files, sorted.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InputError } from './errors.js';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);

export function expandFiles(args: string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (!existsSync(arg)) throw new InputError(`${arg}: no such file or folder`);
    if (statSync(arg).isDirectory()) out.push(...walk(arg));
    else out.push(arg);
  }
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
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

/** Splits a list into consecutive chunks of at most n. */
export function chunks<T>(items: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}
