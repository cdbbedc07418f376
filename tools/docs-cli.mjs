#!/usr/bin/env node
// Writes the command reference of docs/cli.md from the commands' own definitions (src/cli/reference.ts),
// between its markers; the prose around them is kept.
//   node tools/docs-cli.mjs          rewrite docs/cli.md (npm run docs:cli, which builds first)
//   node tools/docs-cli.mjs --check  change nothing; exit 1 when docs/cli.md differs from a fresh rendering
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { cliReference, spliceReference } = await import(join(ROOT, 'dist', 'src', 'cli', 'reference.js'));
const file = join(ROOT, 'docs', 'cli.md');
const now = readFileSync(file, 'utf8');
const fresh = spliceReference(now, await cliReference());
if (process.argv.includes('--check')) {
  if (fresh !== now) {
    console.error('docs/cli.md: the command reference differs from the commands\' definitions; run "npm run docs:cli" and commit it');
    process.exit(1);
  }
} else if (fresh !== now) {
  writeFileSync(file, fresh);
  console.log('docs/cli.md: command reference rewritten');
} else {
  console.log('docs/cli.md: command reference up to date');
}
