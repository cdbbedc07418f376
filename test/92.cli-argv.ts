// Long command lines and odd file trees through the real launcher (bin/engram.js): 5,000 file arguments and a
// 30,000-character label (onnxruntime-node crashed past about 28.5 KB of command line), --files-from FILE and
// -, and symlink loops under a walked folder (skipped with a warning naming them).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, engram, writeDigits } from './helpers/learner-files.js';

const work = mkdtempSync(join(tmpdir(), 'engram-argv-test-'));
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');
const FILES = 5000;

/** FILES hard links to one MNIST digit, with names long enough that the command line passes 28.5 KB. */
async function manyFiles(): Promise<string[]> {
  const [one] = await writeDigits(join(work, 'src'), 'train', [7], 1);
  const dir = join(work, 'many');
  mkdirSync(dir);
  const out: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const p = join(dir, `handwritten-seven-${String(i).padStart(5, '0')}${one.slice(-4)}`);
    linkSync(one, p);
    out.push(p);
  }
  return out;
}

const long = suite('a long command line through the launcher');

long('learn and predict with 5,000 file arguments (about 400 KB of command line) run to the end', async () => {
  const files = await manyFiles();
  const bytes = files.reduce((n, f) => n + f.length + 1, 0);
  assert.ok(bytes > 100_000, `${bytes} bytes of arguments`);
  const store = join(work, 'store-many');
  const l = engram(['learn', '--store', store, '--label', 'seven', '--batch', '500', '--json', ...files]);
  assert.is(l.status, 0, l.stderr.slice(-500));
  assert.equal(
    l.lines.find((x) => 'stored' in x),
    { label: 'seven', stored: FILES },
  );
  const p = engram(['predict', '--store', store, '--batch', '500', '--json', ...files]);
  assert.is(p.status, 0, p.stderr.slice(-500));
  assert.is(p.lines.length, FILES);
  assert.ok(p.lines.every((x) => x.label === 'seven'));
  assert.equal(
    readdirSync(tmpdir())
      .filter((n) => n.startsWith('engram-argv-') && !n.startsWith('engram-argv-test-'))
      .filter((n) => existsSync(join(tmpdir(), n, 'argv.json'))),
    [],
    'no argument file left behind',
  );
});

long('a 30,000-character label is refused with the rule, exit 1, no crash', () => {
  const r = engram(['learn', '--store', join(work, 'store-label'), '--label', 'x'.repeat(30000), join(work, 'any.png')]);
  assert.is(r.status, 1, r.stderr.slice(0, 300));
  assert.match(r.stderr, /--label: expected a label of 1 to 255 bytes .*which is 30000 UTF-8 bytes long, more than 255/);
  assert.not.ok(existsSync(join(work, 'store-label')));
});

long('exit codes and signals of the relaunched command come back through the launcher', () => {
  const pad = Array.from({ length: 2000 }, (_, i) => `--no-such-option-${i}`);
  const r = engram(['stats', '--store', join(work, 'nowhere'), ...pad]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /unknown option '--no-such-option-0'/);
});

const from = suite('--files-from FILE|-');

from('a list file (lines, CRLF, blank lines) and standard input (NUL-separated) give the same predictions', async () => {
  const files = (await writeDigits(join(work, 'list'), 'train', [3, 4], 3)).sort();
  const store = join(work, 'store-list');
  const byFolder = engram(['learn', '--store', store, '--labels-from', 'dir', '--json', join(work, 'list')]);
  assert.is(byFolder.status, 0, byFolder.stderr);
  const list = join(work, 'list.txt');
  writeFileSync(list, `${files.slice(0, 3).join('\r\n')}\r\n\n${files.slice(3).join('\n')}\n`);
  const a = engram(['predict', '--store', store, '--json', '--files-from', list]);
  assert.is(a.status, 0, a.stderr);
  assert.equal(
    a.lines.map((x) => x.file),
    files,
  );
  const b = spawnSync(process.execPath, [BIN, 'predict', '--store', store, '--json', '--files-from', '-'], {
    input: `${files.join('\0')}\0`,
    encoding: 'utf8',
  });
  assert.is(b.status, 0, b.stderr);
  assert.equal(b.stdout, a.stdout);
});

from('no files at all, or a list that is not a regular file, is refused naming it', () => {
  const store = join(work, 'store-list');
  let r = engram(['predict', '--store', store]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /predict: give image files or folders, or --files-from FILE\|-/);
  r = engram(['predict', '--store', store, '--files-from', work]);
  assert.is(r.status, 2);
  assert.match(r.stderr, new RegExp(`--files-from ${work}: expected a regular file \\(file list\\), got a directory`));
  r = engram(['predict', '--store', store, '--files-from', '/dev/zero']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /--files-from \/dev\/zero: expected a regular file \(file list\), got a character device/);
});

const loops = suite('symlink loops under a walked folder');

loops('a link to an ancestor and a link to itself are skipped with a warning naming them; the rest is learned', async () => {
  const root = join(work, 'loops');
  await writeDigits(root, 'train', [5, 6], 2);
  symlinkSync('..', join(root, 'train', '5', 'up'));
  symlinkSync('self', join(root, 'train', '6', 'self'));
  const store = join(work, 'store-loops');
  const r = engram(['learn', '--store', store, '--labels-from', 'dir', '--json', root]);
  assert.is(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`${join(root, 'train', '5', 'up')}: skipped, a symbolic link loop \\(back to ${join(root, 'train')}\\)`),
  );
  assert.match(r.stderr, new RegExp(`${join(root, 'train', '6', 'self')}: skipped, a symbolic link loop`));
  assert.equal(
    r.lines.filter((x) => 'label' in x && 'stored' in x),
    [
      { label: '5', stored: 2 },
      { label: '6', stored: 2 },
    ],
  );
  const direct = engram(['learn', '--store', store, '--label', 'x', join(root, 'train', '6', 'self')]);
  assert.is(direct.status, 2);
  assert.match(direct.stderr, /self: a symbolic link loop/);
});

long.run();
from.run();
loops.run();
