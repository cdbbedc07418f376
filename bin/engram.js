#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

// A reader that stops early (`engram predict ... | head -1`) closes the pipe: stop quietly, as Unix tools
// do, instead of printing a stack trace for the failed write.
process.stdout.on('error', (err) => {
  if (err && err.code === 'EPIPE') process.exit(0);
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
