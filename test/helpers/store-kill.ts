// Runs a child that prints "ready <n>", then "ack <n>" / "snap <n>" / "warning <text>" lines, and
// SIGKILLs it `delayMs` after it is ready. Resolves with what it acknowledged before dying.
import { spawn } from 'node:child_process';

export interface KilledRun {
  readySeq: number;
  acked: number[];
  /** Seqs the child reported on stable storage ("durable <seq>"). */
  durable: number[];
  snapshots: number;
  warnings: string[];
}

export function runAndKill(script: string, args: string[], delayMs: number): Promise<KilledRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: KilledRun = { readySeq: -1, acked: [], durable: [], snapshots: 0, warnings: [] };
    let out = '';
    let err = '';
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const wasReady = run.readySeq >= 0;
      out += chunk;
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const space = line.indexOf(' ');
        const [word, rest] = [line.slice(0, space), line.slice(space + 1)];
        if (word === 'ack') run.acked.push(Number(rest));
        else if (word === 'ready') run.readySeq = Number(rest);
        else if (word === 'snap') run.snapshots += 1;
        else if (word === 'durable') run.durable.push(Number(rest));
        else if (word === 'warning') run.warnings.push(rest);
      }
      if (!wasReady && run.readySeq >= 0) setTimeout(() => proc.kill('SIGKILL'), delayMs);
    });
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`${script} ended on its own (code ${code}): ${err}`));
      else resolve(run);
    });
  });
}
