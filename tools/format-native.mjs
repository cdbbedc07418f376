#!/usr/bin/env node
// npm run format:native[:check]: clang-format over the C++ sources (native/ and fuzz/native/), with the style in
// .clang-format. --check changes nothing: it lists the files clang-format would change and exits 1 if any.
// Uses CLANG_FORMAT when set, else clang-format (Debian: apt-get install clang-format).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const unknown = process.argv.slice(2).filter((a) => a !== '--check');
if (unknown.length) {
  console.error(`format-native: unknown argument "${unknown[0]}"\nusage: node tools/format-native.mjs [--check]`);
  process.exit(1);
}
const tool = process.env.CLANG_FORMAT || 'clang-format';

/** Every .cc and .h file under dir, sorted. */
function sources(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(cc|h)$/.test(e.name))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
}

const files = [...sources(join(root, 'native')), ...sources(join(root, 'fuzz', 'native'))];
const version = spawnSync(tool, ['--version'], { encoding: 'utf8' });
if (version.error || version.status !== 0) {
  console.error(`format-native: "${tool}" is not installed (fix: apt-get install clang-format, or set CLANG_FORMAT)`);
  process.exit(1);
}

if (!check) {
  const r = spawnSync(tool, ['-i', '--style=file', ...files], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
  console.log(`format-native: formatted ${files.length} files with ${version.stdout.trim()}`);
  process.exit(0);
}

const unformatted = files.filter((f) => {
  const r = spawnSync(tool, ['--dry-run', '--Werror', '--style=file', f], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0 && !/-Wclang-format-violations/.test(r.stderr)) {
    console.error(`format-native: ${relative(root, f)}: ${r.stderr.trim()}`);
    process.exit(1);
  }
  return r.status !== 0;
});
for (const f of unformatted) console.log(`  ${relative(root, f)}`);
console.log(
  `format-native: ${unformatted.length} of ${files.length} files differ from .clang-format` +
    (unformatted.length ? ' (fix: npm run format:native)' : ''),
);
process.exit(unformatted.length ? 1 : 0);
