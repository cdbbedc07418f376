// One writer per store across real processes: the second opener is refused with the holder's name,
// a dead holder's lock is taken over, simultaneous openers get exactly one winner.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store, StoreError } from '../src/store/index.js';
import { rejects, removeDir, scratchDir } from './helpers/store-fs.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'store-child.js');

interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first line matching `re`. */
  waitFor(re: RegExp): Promise<string>;
  exited: Promise<number | null>;
}

function startChild(mode: string, dir: string): Child {
  const proc = spawn(process.execPath, [CHILD, mode, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const listeners: (() => void)[] = [];
  let partial = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const l of listeners) l();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const waitFor = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.find((l) => re.test(l));
        if (hit !== undefined) resolve(hit);
      };
      listeners.push(check);
      check();
      void exited.then(() => {
        check();
        reject(new Error(`child ${mode} exited before printing ${re}; it printed: ${lines.join(' | ')}`));
      });
    });
  return { proc, lines, waitFor, exited };
}

const Lock = suite('lock between processes');

Lock('a second process is refused with an error naming the holder; it opens after the holder closes', async () => {
  const dir = scratchDir('lock');
  try {
    const holder = startChild('hold', dir);
    await holder.waitFor(/^open$/);
    const err = await rejects(
      Store.open(dir),
      new RegExp(
        `store .* is locked by pid ${holder.proc.pid} on host ${hostname()} since \\d{4}-\\d\\d-\\d\\dT.*close that process first`,
      ),
    );
    assert.is((err as StoreError).code, 'ELOCKED');
    holder.proc.stdin!.end();
    await holder.waitFor(/^closed$/);
    assert.is(await holder.exited, 0);
    const store = await Store.open(dir);
    await store.close();
  } finally {
    removeDir(dir);
  }
});

Lock('the lock of a killed process is stale and is taken over, with a warning', async () => {
  const dir = scratchDir('lock');
  try {
    const holder = startChild('hold', dir);
    await holder.waitFor(/^open$/);
    const pid = holder.proc.pid;
    holder.proc.kill('SIGKILL');
    await holder.exited;
    assert.ok(existsSync(join(dir, 'LOCK')), 'SIGKILL leaves the lock file behind');
    const warnings: string[] = [];
    const store = await Store.open(dir, { onWarning: (w) => warnings.push(w) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`took over a stale lock on .*: pid ${pid} is no longer running`));
    assert.is(JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')).pid, process.pid);
    await store.close();
  } finally {
    removeDir(dir);
  }
});

Lock('a lock held on another host is never taken over; the error says how to clear it', async () => {
  const dir = scratchDir('lock');
  try {
    await (await Store.open(dir)).close();
    const other = { pid: 4242, hostname: 'field-unit-7', startedAt: '2026-01-02T03:04:05.000Z', processStart: null };
    writeFileSync(join(dir, 'LOCK'), JSON.stringify(other));
    await rejects(Store.open(dir), /locked by pid 4242 on host field-unit-7 since 2026-01-02T03:04:05\.000Z.*if it is gone, delete .*LOCK/);
  } finally {
    removeDir(dir);
  }
});

Lock('an unreadable lock file is honoured while fresh and taken over once old', async () => {
  const dir = scratchDir('lock');
  try {
    await (await Store.open(dir)).close();
    const lock = join(dir, 'LOCK');
    writeFileSync(lock, '');
    await rejects(Store.open(dir), /unreadable lock file .*LOCK \(damaged, or not engram's\); it is taken over once it is 5 s old/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const warnings: string[] = [];
    const store = await Store.open(dir, { onWarning: (w) => warnings.push(w) });
    assert.match(warnings.join('\n'), /stale lock .*the lock file is unreadable/);
    await store.close();
  } finally {
    removeDir(dir);
  }
});

Lock('a lock file naming pid 0 or a negative pid is not trusted as a holder', async () => {
  const dir = scratchDir('lock');
  try {
    await (await Store.open(dir)).close();
    const lock = join(dir, 'LOCK');
    writeFileSync(lock, JSON.stringify({ pid: 0, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z', processStart: null }));
    await rejects(Store.open(dir), /unreadable lock file/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const store = await Store.open(dir);
    await store.close();
  } finally {
    removeDir(dir);
  }
});

Lock('of four processes opening at once, exactly one gets the store', async () => {
  const dir = scratchDir('lock');
  try {
    await (await Store.open(dir)).close();
    const children = Array.from({ length: 4 }, () => startChild('try', dir));
    const first = await Promise.all(children.map((c) => c.waitFor(/^(open|locked .*)$/)));
    assert.is(first.filter((l) => l === 'open').length, 1, first.join(' | '));
    const winner = children[first.indexOf('open')];
    for (const l of first.filter((x) => x !== 'open')) assert.match(l, new RegExp(`locked by pid ${winner.proc.pid} `));
    for (const c of children) c.proc.stdin!.end();
    assert.equal(await Promise.all(children.map((c) => c.exited)), [0, 0, 0, 0]);
  } finally {
    removeDir(dir);
  }
});

Lock.run();
