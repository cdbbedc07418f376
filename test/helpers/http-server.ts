// `engram serve --http` run as a user runs it, in a child process: waits for its "listening" line and
// gives the URL, the token (when this start made it) and the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './learner-files.js';

export interface Served {
  url: string;
  token: string | undefined;
  tokenFile: string;
  proc: ChildProcess;
  /** Everything the server wrote to stderr / stdout so far. */
  stderr(): string;
  stdout(): string;
  /** SIGINT, then the exit code. */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export function serve(args: string[], opts: { stdin?: 'pipe' | 'ignore' } = {}): Promise<Served> {
  const proc = spawn(process.execPath, [BIN, '--json', 'serve', '--http', '0', ...args], {
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`engram serve did not start within 30 s; stderr:\n${err}`)), 30_000);
    let up = false;
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (!up) reject(new Error(`engram serve exited with ${code}; stderr:\n${err}`));
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"event":"listening"') && l.includes('"http"'));
      if (!line) return;
      if (up) return;
      up = true;
      clearTimeout(timer);
      const o = JSON.parse(line) as { http: string; token?: string; token_file: string };
      resolve({
        url: o.http,
        token: o.token,
        tokenFile: o.token_file,
        proc,
        stderr: () => err,
        stdout: () => out,
        stop: () =>
          new Promise((done) => {
            if (proc.exitCode !== null) return done(proc.exitCode);
            proc.once('exit', (code) => done(code));
            proc.kill('SIGINT');
          }),
      });
    });
  });
}

/** Resident memory of a process in bytes (Linux /proc). */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}
