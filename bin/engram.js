#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

// A reader that stops early (`engram predict ... | head -1`) closes the pipe: stop quietly with 141, the
// status of a Unix tool ended by SIGPIPE (not 0: the output, and maybe the work, was cut short), instead of
// printing a stack trace for the failed write. Whatever was already acknowledged is on disk.
process.stdout.on('error', (err) => {
  if (err && err.code === 'EPIPE') process.exit(141);
  throw err;
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`engram: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 2;
  },
);
