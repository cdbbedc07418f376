// First contact, as a new user meets it: a command that fails on a new store leaves no store behind, and a
// store that already holds classes is never removed by a later failing command.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engram, writeDigits } from './helpers/learner-files.js';

const work = mkdtempSync(join(tmpdir(), 'engram-first-'));
const run = (args: string[]) => engram(args, { ENGRAM_MODELS_DIR: join(work, 'models') });
const test = suite('a failed first learn leaves no half-made store');

test.before(async () => {
  await writeDigits(work, 'train', [0, 1], 3);
  writeFileSync(join(work, 'bad.png'), 'not an image');
});

test('an unknown backbone: exit 2, the message names it, no store folder', () => {
  const store = join(work, 'a');
  const r = run(['learn', '--store', store, '--backbone', 'no-such-model', '--label', 'x', join(work, 'train', '0')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /backbone "no-such-model": not found/);
  assert.not.ok(existsSync(store));
});

test('a missing whitening file: exit 2, the message says how to make one, no store folder', () => {
  const store = join(work, 'b');
  const r = run([
    'learn',
    '--store',
    store,
    '--backbone',
    'engram-glyph',
    '--codebook',
    join(work, 'none.egw'),
    '--label',
    'x',
    join(work, 'train', '0'),
  ]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /no such file \(make one with "engram codebook fit/);
  assert.not.ok(existsSync(store));
});

test('only undecodable images: exit 2, the store that would have held them is not kept', () => {
  const store = join(work, 'c');
  const r = run(['learn', '--store', store, '--backbone', 'engram-glyph', '--label', 'x', join(work, 'bad.png')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /bad\.png: cannot decode image/);
  assert.match(r.stderr, /was not kept/);
  assert.not.ok(existsSync(store));
});

test('an existing store is kept when a later learn stores nothing', () => {
  const store = join(work, 'd');
  let r = run(['learn', '--store', store, '--backbone', 'engram-glyph', '--label', '0', join(work, 'train', '0')]);
  assert.is(r.status, 0, r.stderr);
  r = run(['learn', '--store', store, '--label', 'x', join(work, 'bad.png')]);
  assert.is(r.status, 2);
  assert.ok(existsSync(store));
  const s = run(['stats', '--store', store, '--json']);
  assert.is(s.status, 0, s.stderr);
  assert.is(s.lines[0].classes, 1);
});

test('an empty folder given as a new store is removed again, not left half-made', () => {
  const store = join(work, 'e');
  mkdirSync(store);
  run(['learn', '--store', store, '--backbone', 'no-such-model', '--label', 'x', join(work, 'train', '0')]);
  assert.not.ok(existsSync(store));
});

test('codebook fit and learn share their defaults; options left out follow a pq codebook, options that say its opposite are refused', () => {
  const plain = join(work, 'plain.egc');
  let r = run([
    'codebook',
    'fit',
    '--backbone',
    'engram-glyph',
    '--parts',
    '8',
    '--anchors',
    '4',
    '--no-center',
    '-o',
    plain,
    join(work, 'train'),
    '--json',
  ]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.lines[0].kind, 'pq');
  const store = join(work, 'f');
  r = run([
    'learn',
    '--store',
    store,
    '--backbone',
    'engram-glyph',
    '--codebook',
    plain,
    '--parts',
    '8',
    '--anchors',
    '4',
    '--label',
    '0',
    join(work, 'train', '0'),
  ]);
  assert.is(r.status, 0, 'options left out follow the codebook');
  const s = run(['stats', '--store', store, '--json']).lines[0] as { quantizerOptions?: unknown };
  assert.ok(s);
  r = run([
    'learn',
    '--store',
    join(work, 'f2'),
    '--backbone',
    'engram-glyph',
    '--codebook',
    plain,
    '--parts',
    '8',
    '--anchors',
    '4',
    '--center',
    '--label',
    '0',
    join(work, 'train', '0'),
  ]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /fitted with center=false l2=true, the options say center=true l2=true; leave them out or give --no-center --l2/);
  assert.not.ok(existsSync(join(work, 'f2')), 'the refused first learn left no store');
  const both = join(work, 'both.egc');
  r = run(['codebook', 'fit', '--backbone', 'engram-glyph', '--parts', '8', '--anchors', '4', '-o', both, join(work, 'train')]);
  assert.is(r.status, 0, r.stderr);
  r = run([
    'learn',
    '--store',
    join(work, 'g'),
    '--backbone',
    'engram-glyph',
    '--codebook',
    both,
    '--parts',
    '8',
    '--anchors',
    '4',
    '--label',
    '0',
    join(work, 'train', '0'),
  ]);
  assert.is(r.status, 0, 'a codebook fitted with the defaults needs no flags at learn');
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
