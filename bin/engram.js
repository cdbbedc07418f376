#!/usr/bin/env node
// The engram command. One job besides starting the CLI: keep a long command line away from onnxruntime.
// onnxruntime-node (1.30) reads /proc/self/cmdline when it creates its environment and parses it with a
// recursive matcher whose depth grows with the length: past about 28.5 KB (2,000 file names from a glob) the
// process overflows its 8 MB stack and dies with SIGSEGV inside libonnxruntime. Changing process.argv or
// process.title does not change what the kernel reports, so a command line longer than ARGV_LIMIT is handed
// to a fresh copy of this launcher through a private temporary file, and that copy runs with a short one.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bytes of command line (as /proc/self/cmdline counts them) above which the arguments move to a file. */
const ARGV_LIMIT = 16 * 1024;
const ARGV_FILE = 'ENGRAM_ARGV_FILE';

const cmdlineBytes = (argv) => argv.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);

/** The arguments a parent launcher moved into a file: read once, then the file is removed. */
function movedArguments() {
  const file = process.env[ARGV_FILE];
  if (!file) return null;
  delete process.env[ARGV_FILE]; // not for the processes engram itself starts
  try {
    const args = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new Error('not a list of strings');
    return args;
  } finally {
    rmSync(join(file, '..'), { recursive: true, force: true });
  }
}

/** Runs this launcher again with the arguments in a file; resolves with its exit code. */
function relaunch(args) {
  const dir = mkdtempSync(join(tmpdir(), 'engram-argv-'));
  const file = join(dir, 'argv.json');
  writeFileSync(file, JSON.stringify(args), { mode: 0o600 });
  // With a terminal on stdin the child stays in our process group, so Ctrl-C reaches it directly and is not
  // forwarded (twice would mean "stop now" to engram). Otherwise it gets a group of its own and every signal
  // is forwarded once.
  const detached = !process.stdin.isTTY;
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, [ARGV_FILE]: file },
    detached,
  });
  const forward = (signal) => () => {
    if (signal !== 'SIGINT' || detached) child.kill(signal);
  };
  const handlers = ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => [s, forward(s)]);
  for (const [s, h] of handlers) process.on(s, h);
  return new Promise((done) => {
    child.on('error', (err) => {
      rmSync(dir, { recursive: true, force: true });
      process.stderr.write(`engram: cannot start: ${err.message}\n`);
      done(2);
    });
    child.on('exit', (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      for (const [s, h] of handlers) process.off(s, h);
      if (signal) {
        process.kill(process.pid, signal); // end the way the child ended
        return;
      }
      done(code ?? 2);
    });
  });
}

// A reader that stops early (`engram predict ... | head -1`) closes the pipe: stop quietly with 141, the
// status of a Unix tool ended by SIGPIPE (not 0: the output, and maybe the work, was cut short), instead of
// printing a stack trace for the failed write. Whatever was already acknowledged is on disk.
process.stdout.on('error', (err) => {
  if (err && err.code === 'EPIPE') process.exit(141);
  throw err;
});

const moved = movedArguments();
const args = moved ?? process.argv.slice(2);
if (moved === null && cmdlineBytes(process.argv) > ARGV_LIMIT) {
  process.exitCode = await relaunch(args);
} else {
  const { main } = await import('../dist/src/cli/main.js');
  main([process.argv[0], process.argv[1], ...args]).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`engram: ${err && err.stack ? err.stack : err}\n`);
      process.exitCode = 2;
    },
  );
}
