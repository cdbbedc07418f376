// Shared fixtures for the store tests: scratch directories, an async "must reject" assertion,
// and a seeded RNG whose seed is printed so a failing run can be replayed.
import { mkdtempSync, rmSync, readdirSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/util/rng.js';

export function scratchDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `engram-${tag}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Copies the regular files of `from` into a fresh `to`. */
export function copyDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) copyFileSync(join(from, name), join(to, name));
}

/** Asserts that `promise` rejects with an error whose message matches `pattern`; returns the error. */
export async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<Error> {
  let outcome: { ok: true } | { ok: false; err: unknown };
  try {
    await promise;
    outcome = { ok: true };
  } catch (err) {
    outcome = { ok: false, err };
  }
  if (outcome.ok) assert.unreachable(`expected a rejection matching ${pattern}, but it resolved`);
  const err = (outcome as { err: unknown }).err as Error;
  assert.instance(err, Error);
  assert.match(err.message, pattern);
  return err;
}

/** A seeded RNG; the seed comes from ENGRAM_TEST_SEED or the clock and is printed. */
export function seededRng(label: string): { rng: Rng; seed: number } {
  const seed = process.env.ENGRAM_TEST_SEED ? Number(process.env.ENGRAM_TEST_SEED) : Date.now() % 1_000_000;
  console.log(`${label}: seed ${seed} (replay with ENGRAM_TEST_SEED=${seed})`);
  return { rng: new Rng(seed), seed };
}

/** Mounts a tmpfs of `bytes` on `dir` (a real full disk for the tests); null on success, else why it failed. */
export function mountTmpfs(dir: string, bytes: number): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return ((err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message).split('\n')[0];
  }
}
