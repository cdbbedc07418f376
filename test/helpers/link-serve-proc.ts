// engram serve as its own process on one end of a socat pty pair, for tests and benchmarks that watch it
// from outside: its resident memory (from /proc), how long it takes to exit on SIGINT, what it printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ServeProc {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resident set size in bytes (VmRSS), or null once the process is gone. */
  rss(): number | null;
  /** Sends SIGINT and resolves with the exit code and the milliseconds until exit (or null after `timeoutMs`). */
  interrupt(timeoutMs?: number): Promise<{ code: number | null; ms: number | null }>;
  kill(): void;
}

export function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export async function startServe(args: string[], timeoutMs = 20000): Promise<ServeProc> {
  const bin = fileURLToPath(new URL('../../../bin/engram.js', import.meta.url));
  const proc = spawn(process.execPath, [bin, 'serve', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-20000)));
  const t0 = Date.now();
  while (!/"event":"listening"/.test(out)) {
    if (proc.exitCode !== null || Date.now() - t0 > timeoutMs) {
      proc.kill('SIGKILL');
      throw new Error(`engram serve did not start (exit ${proc.exitCode}):\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    rss: () => (proc.exitCode === null && proc.signalCode === null ? rssOf(proc.pid!) : null),
    interrupt(limit = 10000) {
      return new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve({ code: proc.exitCode, ms: 0 });
        const t = Date.now();
        const timer = setTimeout(() => resolve({ code: null, ms: null }), limit);
        proc.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, ms: Date.now() - t });
        });
        proc.kill('SIGINT');
      });
    },
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}
