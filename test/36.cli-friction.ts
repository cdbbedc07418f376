// What a new user meets first, through the CLI on real image files: folder scans, a label that is a split
// name, missing and undecodable paths, --json error lines and learn's summary, `backbone embed` on what
// `learn` accepts, a --store that is not a store, singular counts, and the journal compacted into snapshots.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engram, writeDigits } from './helpers/learner-files.js';
import { journalWantsSnapshot, COMPACT_MIN_BYTES, COMPACT_MAX_BYTES } from '../src/learner/persistence.js';

const work = mkdtempSync(join(tmpdir(), 'engram-friction-'));
// An empty model cache: the embedded backbone, whatever this machine has pulled.
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');
let digits: string;
// 4 x 40 examples journal about 83 KB: past the 64 KiB below which a store is not compacted.
const PER = 40;

const Scan = suite('folder scans and labels from folders');

Scan.before(async () => {
  await writeDigits(work, 'train', [0, 1, 2, 3], PER);
  digits = join(work, 'train');
});

Scan('hidden files and folders are skipped: ".x.png", macOS "._x.png" copies, ".thumbs/"', () => {
  const dir = join(work, 'hidden');
  for (const d of ['0', '1']) {
    mkdirSync(join(dir, d, '.thumbs'), { recursive: true });
    const src = join(digits, d);
    const files = readdirSync(src).slice(0, 3);
    for (const f of files) copyFileSync(join(src, f), join(dir, d, f));
    copyFileSync(join(src, files[0]), join(dir, d, `.copy-${files[0]}`));
    copyFileSync(join(src, files[0]), join(dir, d, '.thumbs', files[0]));
    // What macOS writes beside a copied file: not an image at all.
    writeFileSync(join(dir, d, `._${files[0]}`), Buffer.from('\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ', 'latin1'));
  }
  const r = engram(['learn', '--store', join(work, 'hidden-store'), '--labels-from', 'dir', dir, '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(
    r.lines.filter((l) => 'label' in l).map((l) => [l.label, l.stored]),
    [
      ['0', 3],
      ['1', 3],
    ],
  );
  assert.not.ok(
    r.lines.some((l) => 'error' in l),
    'no error for skipped files',
  );
  const help = engram(['predict', '--help']);
  assert.match(help.stdout, /skipping\s+hidden names/);
});

Scan('a label that looks like a split name ("test") gets one warning naming it; real classes do not', () => {
  const dir = join(work, 'photos');
  for (const [from, to] of [
    ['0', 'cat'],
    ['1', 'dog'],
    ['2', 'test'],
  ]) {
    mkdirSync(join(dir, to), { recursive: true });
    for (const f of readdirSync(join(digits, from)).slice(0, 2)) copyFileSync(join(digits, from, f), join(dir, to, f));
  }
  const r = engram(['learn', '--store', join(work, 'photos-store'), '--labels-from', 'dir', dir]);
  assert.is(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => /data split/.test(l));
  assert.is(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /^warning: label "test" \(2 files in .*photos\/test\) looks like the name of a data split/);
  assert.not.match(r.stderr, /label "(cat|dog)"/);
  // --label names the class explicitly: no guess to warn about.
  const explicit = engram(['learn', '--store', join(work, 'photos-store'), '--label', 'test', join(dir, 'test')]);
  assert.is(explicit.status, 0, explicit.stderr);
  assert.not.match(explicit.stderr, /data split/);
});

const Errors = suite('missing and undecodable paths, --json error lines, the learn summary');
const store = join(work, 'store');

Errors('learn --json reports a bad file with its "file", learns the rest and ends with one summary line', () => {
  const bad = join(work, 'bad');
  mkdirSync(join(bad, '7'), { recursive: true });
  for (const f of readdirSync(join(digits, '3')).slice(0, 4)) copyFileSync(join(digits, '3', f), join(bad, '7', f));
  writeFileSync(join(bad, '7', 'broken.png'), 'not a png');
  let r = engram(['learn', '--store', store, '--labels-from', 'dir', join(digits, '0'), join(digits, '1'), '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines[r.lines.length - 1], {
    summary: true,
    stored: 2 * PER,
    failed: 0,
    interrupted: false,
    classes: 2,
    bytes: r.lines[r.lines.length - 1].bytes,
    compressedBytes: r.lines[r.lines.length - 1].compressedBytes,
    pruned: 0,
  });
  r = engram(['learn', '--store', store, '--labels-from', 'dir', join(bad, '7'), '--json']);
  assert.is(r.status, 2, r.stderr);
  const errors = r.lines.filter((l) => 'error' in l);
  assert.is(errors.length, 1);
  assert.is(errors[0].file, join(bad, '7', 'broken.png'));
  assert.match(String(errors[0].error), /broken\.png/);
  const last = r.lines[r.lines.length - 1];
  assert.is(last.summary, true);
  assert.is(last.stored, 4);
  assert.is(last.failed, 1);
  assert.is(last.classes, 3);
  assert.equal(r.lines.filter((l) => l.summary).length, 1);
});

Errors('predict answers every file it can: a missing path is reported with its "file" and the exit code is 2', () => {
  const missing = join(work, 'no-such.png');
  const garbage = join(work, 'garbage.png');
  writeFileSync(garbage, 'not a png either');
  const good = readdirSync(join(digits, '0'))
    .slice(0, 3)
    .map((f) => join(digits, '0', f));
  const r = engram(['predict', '--store', store, good[0], missing, good[1], garbage, good[2], '--json']);
  assert.is(r.status, 2, r.stderr);
  assert.equal(
    r.lines.filter((l) => 'label' in l).map((l) => l.file),
    good,
  );
  const errors = r.lines.filter((l) => 'error' in l);
  assert.equal(errors.map((l) => l.file).sort(), [garbage, missing].sort());
  assert.match(String(errors.find((l) => l.file === missing)!.error), /no-such\.png: no such file or folder/);
  // Without --json: the answers on stdout, the missing path on stderr.
  const text = engram(['predict', '--store', store, missing, good[0]]);
  assert.is(text.status, 2);
  assert.match(text.stdout, new RegExp(`${good[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\t0\\t`));
  assert.match(text.stderr, /no-such\.png: no such file or folder/);
  // Nothing there at all: still an input error, and no answers.
  const none = engram(['predict', '--store', store, missing]);
  assert.is(none.status, 2);
  assert.is(none.stdout, '');
});

Errors('backbone embed takes a catalogue name and folders, as learn does, and reports a missing path', () => {
  const missing = join(work, 'gone.png');
  const r = engram(['backbone', 'embed', 'engram-glyph', join(digits, '2'), missing, '--json']);
  assert.is(r.status, 2, r.stderr);
  const vectors = r.lines.filter((l) => 'dim' in l);
  assert.is(vectors.length, PER);
  assert.ok(vectors.every((l) => l.dim === 128 && typeof l.norm === 'number' && l.norm > 0));
  assert.equal(
    r.lines.filter((l) => 'error' in l && 'file' in l).map((l) => l.file),
    [missing],
  );
  const ok = engram(['backbone', 'embed', 'engram-glyph', join(digits, '2')]);
  assert.is(ok.status, 0, ok.stderr);
  const bad = engram(['backbone', 'embed', 'no-such-backbone', join(digits, '2')]);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /backbone "no-such-backbone": not found/);
});

const Stores = suite('--store that is not a store, and counts in words');

Stores('a folder of other files is "not an engram store": nothing is written, nobody is told to learn into it', () => {
  const foreign = join(work, 'etc');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  for (const args of [
    ['stats', '--store', foreign],
    ['predict', '--store', foreign, join(digits, '0')],
    ['learn', '--store', foreign, '--label', 'x', join(digits, '0')],
  ]) {
    const r = engram(args);
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, /is not an engram store/);
    assert.not.match(r.stderr, /engram learn --store/);
  }
  assert.equal(readdirSync(foreign), ['passwd']);
  const file = engram(['stats', '--store', join(foreign, 'passwd')]);
  assert.is(file.status, 2);
  assert.match(file.stderr, /is a file, not an engram store/);
});

Stores('one class, one example, one connection are singular', () => {
  const one = join(work, 'one');
  const img = join(digits, '0', readdirSync(join(digits, '0'))[0]);
  const r = engram(['learn', '--store', one, '--label', 'zero', img]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /learned 1 example of "zero"/);
  assert.match(r.stderr, /stored 1, 0 failed; 1 class,/);
  const s = engram(['stats', '--store', one]);
  assert.match(s.stdout, /zero: 1 example\n/);
  assert.not.match(s.stdout + s.stderr, /\b1 (classes|examples|connections)\b/);
  const f = engram(['forget', '--store', one, 'zero']);
  assert.is(f.status, 0, f.stderr);
  assert.match(f.stdout, /0 classes left/);
});

const Compact = suite('the journal is compacted into snapshots by one rule, for the CLI as for the API');

Compact("the rule: past the last snapshot's size, at least 64 KiB and at most 8 MiB of journal", () => {
  assert.not.ok(journalWantsSnapshot(COMPACT_MIN_BYTES, 0));
  assert.ok(journalWantsSnapshot(COMPACT_MIN_BYTES + 1, 0));
  assert.not.ok(journalWantsSnapshot(300_000, 300_000));
  assert.ok(journalWantsSnapshot(300_001, 300_000));
  assert.ok(journalWantsSnapshot(COMPACT_MAX_BYTES + 1, 100 * COMPACT_MAX_BYTES));
});

Compact('engram learn writes a snapshot once the journal outgrows the rule, and the store reopens whole', () => {
  const dir = join(work, 'compacted');
  const r = engram(['learn', '--store', dir, '--labels-from', 'dir', digits, '--batch', '8', '--json']);
  assert.is(r.status, 0, r.stderr);
  const files = readdirSync(dir);
  assert.ok(
    files.some((f) => /^snapshot-\d+\.egs$/.test(f)),
    `a snapshot was written: ${files.join(', ')}`,
  );
  const s = engram(['stats', '--store', dir, '--json']);
  assert.is(s.status, 0, s.stderr);
  assert.equal(s.lines[0].examples, { 0: PER, 1: PER, 2: PER, 3: PER });
  const p = engram(['predict', '--store', dir, join(digits, '1'), '--json']);
  assert.ok(
    p.lines.filter((l) => (l.top as { label: string }[])[0]?.label === '1').length >= PER - 3,
    'the reopened store still knows what it learned',
  );
});

Scan.run();
Errors.run();
Stores.run();
Compact.run();
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
