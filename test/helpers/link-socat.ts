// Real pseudo-terminal pairs from socat: `socat -d -d pty,raw,echo=0 pty,raw,echo=0`, with the two pty
// paths read from its stderr. Each end also gets a stable symlink, so a test can kill socat (the cable
// is gone) and start it again on the same names (the cable is back).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export function socatMissing(): string | null {
  const r = spawnSync('socat', ['-V'], { encoding: 'utf8' });
  return r.error ? `socat not found (${(r.error as NodeJS.ErrnoException).code}); install it with apt-get install socat` : null;
}

export interface SocatPair {
  /** Stable symlinks to the two ends. */
  a: string;
  b: string;
  /** The pty devices socat reported on stderr, e.g. /dev/pts/3. */
  ptys: [string, string];
  /** Kills socat: both ends vanish, as when a cable is pulled. */
  stop(): Promise<void>;
  /** Starts socat again on the same symlinks. */
  restart(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

function launch(a: string, b: string): Promise<{ proc: ChildProcess; ptys: [string, string] }> {
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`socat did not report two ptys within 5 s; stderr:\n${err}`)), 5000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => {
      err += chunk;
      const ptys = [...err.matchAll(/PTY is (\S+)/g)].map((m) => m[1]);
      if (ptys.length === 2 && /starting data transfer loop/.test(err)) {
        clearTimeout(timer);
        resolve({ proc, ptys: [ptys[0], ptys[1]] });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited (${code}) before reporting two ptys; stderr:\n${err}`));
    });
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function startSocat(dir: string): Promise<SocatPair> {
  const a = join(dir, 'pty-a');
  const b = join(dir, 'pty-b');
  let current = await launch(a, b);
  const pair: SocatPair = {
    a,
    b,
    ptys: current.ptys,
    async stop() {
      const proc = current.proc;
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
    },
    async restart() {
      await pair.stop();
      current = await launch(a, b);
      pair.ptys = current.ptys;
    },
  };
  return pair;
}
