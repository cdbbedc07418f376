// engram export / import on real stores made from real images (MNIST digits as PNG/JPEG files, the
// embedded backbone): a memory moves to a new device, merges into another, imports are idempotent, a forget
// travels, and a file made for another space or damaged is refused with a message saying why.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engram, writeDigits } from './helpers/learner-files.js';
import { exportStore, importFile } from '../src/fleet/index.js';

const work = mkdtempSync(join(tmpdir(), 'engram-95-'));
const A = join(work, 'a');
const B = join(work, 'b');
const fileA = join(work, 'a.egf');
const test = suite('export and import');

/** Label answered for each test image of `digits`, one per line (what a user sees). */
function answers(store: string, digits: number[]): string[] {
  const r = engram(['predict', '--store', store, '--json', ...digits.map((d) => join(work, 'test', String(d)))]);
  assert.is(r.status, 0, r.stderr);
  return r.lines.map((l) => `${String(l.file).split('/').slice(-2).join('/')} ${String(l.label)} ${Number(l.score).toFixed(6)}`);
}
function accuracy(store: string, digits: number[]): number {
  const lines = answers(store, digits);
  return lines.filter((l) => l.split('/')[0] === l.split(' ')[1]).length / lines.length;
}

test.before(async () => {
  await writeDigits(work, 'train', [0, 1, 2, 3, 4], 15);
  await writeDigits(work, 'test', [0, 1, 2, 3, 4], 10);
  for (const [store, digits] of [
    [A, [0, 1, 2]],
    [B, [3, 4]],
  ] as const) {
    for (const d of digits) {
      const r = engram(['learn', '--store', store, '--whiten', 'off', '--label', String(d), join(work, 'train', String(d))]);
      assert.is(r.status, 0, r.stderr);
    }
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test('export writes one file naming the space and the classes', () => {
  const r = engram(['export', '--store', A, '-o', fileA, '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines[0].classes, ['0', '1', '2']);
  assert.is(r.lines[0].examples, 45);
  const bytes = readFileSync(fileA);
  assert.is(bytes.toString('latin1', 0, 4), 'EGFX');
  const head = JSON.parse(bytes.toString('utf8', 12, 12 + bytes.readUInt32LE(8)));
  assert.is(head.space.backbone.name, 'engram-glyph');
  assert.match(head.space.backbone.sha256, /^[0-9a-f]{64}$/);
  assert.is(head.space.quantizer.kind, 'sparse');
  assert.equal(
    head.classes.map((c: { label: string }) => c.label),
    ['0', '1', '2'],
  );
  assert.ok(head.classes.every((c: { connections: number }) => c.connections > 0));
});

test('a new device made from the file answers exactly as the one that learned', () => {
  const C = join(work, 'c');
  const r = engram(['import', '--store', C, fileA, '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.lines[0].created, true);
  assert.equal(answers(C, [0, 1, 2, 3, 4]), answers(A, [0, 1, 2, 3, 4]));
});

test('import merges into a store that learned other classes; twice changes nothing', () => {
  const before = accuracy(B, [0, 1, 2, 3, 4]);
  let r = engram(['import', '--store', B, fileA, '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines[0].changed, ['0', '1', '2']);
  assert.equal(r.lines[0].classes, ['0', '1', '2', '3', '4']);
  const once = answers(B, [0, 1, 2, 3, 4]);
  const after = accuracy(B, [0, 1, 2, 3, 4]);
  assert.ok(before <= 0.4 && after >= 0.8, `accuracy on five digits: ${before} before, ${after} after the import`);
  r = engram(['import', '--store', B, fileA, '--json']);
  assert.equal(r.lines[0].changed, []);
  assert.equal(answers(B, [0, 1, 2, 3, 4]), once);
  // And learning on B keeps working on top of what it imported.
  r = engram(['learn', '--store', B, '--label', '4', join(work, 'train', '4')]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(engram(['stats', '--store', B, '--json']).lines[0].classes, 5);
});

test('a forget travels, and the older file does not bring the class back', async () => {
  let r = engram(['forget', '--store', B, '1']);
  assert.is(r.status, 0, r.stderr);
  const fileB = join(work, 'b.egf');
  r = engram(['export', '--store', B, '-o', fileB, '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines[0].forgotten, ['1']);
  const D = join(work, 'd');
  // Through the API this time: B's file first, then A's older one (which still holds class 1).
  await importFile(D, fileB);
  const r2 = await importFile(D, fileA);
  assert.equal(r2.classes, ['0', '2', '3', '4']);
  // A hears of the forget too.
  await importFile(A, fileB);
  const { head } = await exportStore(A);
  assert.equal(
    head.classes.map((c) => c.label),
    ['0', '2', '3', '4'],
  );
});

test('--class exports only the classes named; an unknown one is an error', () => {
  const f = join(work, 'two.egf');
  let r = engram(['export', '--store', A, '-o', f, '--class', '0', '2', '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines[0].classes, ['0', '2']);
  r = engram(['export', '--store', A, '-o', join(work, 'none.egf'), '--class', 'zebra']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /no class named "zebra"/);
  assert.not.ok(existsSync(join(work, 'none.egf')));
});

test('a file made for another whitening or quantizer is refused, saying what differs', () => {
  const W = join(work, 'w');
  let r = engram(['learn', '--store', W, '--label', '0', join(work, 'train', '0')]);
  assert.is(r.status, 0, r.stderr);
  r = engram(['import', '--store', W, fileA]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /was made for another memory space than store .*: quantizer whiten: "off" in .*a\.egf, "auto" in /);
  assert.not.ok(existsSync(join(W, 'fleet')), 'a refused store does not become a fleet member');
  const N = join(work, 'n');
  r = engram(['learn', '--store', N, '--whiten', 'off', '--neurons', '2048', '--label', '0', join(work, 'train', '0')]);
  assert.is(r.status, 0, r.stderr);
  r = engram(['import', '--store', N, fileA]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /quantizer neurons: 3072 in .*, 2048 in /);
  assert.match(r.stderr, /memory neurons/);
});

test('a file from a store whose images got other input conventions is refused, naming them', async () => {
  // Digits fed as they are (--conventions off) and inverted and framed (auto) give codes that must not merge.
  const O = join(work, 'off');
  let r = engram(['learn', '--store', O, '--whiten', 'off', '--conventions', 'off', '--label', '0', join(work, 'train', '0')]);
  assert.is(r.status, 0, r.stderr);
  r = engram(['import', '--store', O, fileA]);
  assert.is(r.status, 2);
  assert.match(
    r.stderr,
    /another memory space .*backbone: engram-glyph \(sha256 \w{12}, 128-d, input conventions auto\) in .*a\.egf, engram-glyph \(sha256 \w{12}, 128-d, input conventions off\) in /,
  );
  assert.not.match(r.stderr, /quantizer \w+:|memory \w+:/, 'only the conventions differ');
  // The default (auto) is not written into a space, so the ids of fleets made with it stay what they were.
  const { head } = await exportStore(A);
  assert.not.ok('conventions' in head.space.backbone!);
  assert.not.ok(existsSync(join(O, 'fleet')), 'a refused store does not become a fleet member');
  // A store created from the file takes the file's conventions with it.
  const C = join(work, 'created-off');
  const fileO = join(work, 'off.egf');
  r = engram(['export', '--store', O, '-o', fileO]);
  assert.is(r.status, 0, r.stderr);
  r = engram(['import', '--store', C, fileO]);
  assert.is(r.status, 0, r.stderr);
  r = engram(['learn', '--store', C, '--conventions', 'auto', '--label', '1', join(work, 'train', '1')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /built with input conventions off; refusing auto/);
});

test('a damaged or foreign file is refused and the store is unchanged', () => {
  const before = answers(B, [0, 3]);
  const bad = Buffer.from(readFileSync(fileA));
  bad[bad.length >> 1] ^= 0x40;
  const f = join(work, 'bad.egf');
  writeFileSync(f, bad);
  let r = engram(['import', '--store', B, f]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /checksum mismatch/);
  writeFileSync(f, readFileSync(fileA).subarray(0, 100));
  r = engram(['import', '--store', B, f]);
  assert.match(r.stderr, /checksum mismatch|not an engram fleet file/);
  writeFileSync(f, 'hello');
  r = engram(['import', '--store', B, f]);
  assert.match(r.stderr, /not an engram fleet file/);
  assert.equal(answers(B, [0, 3]), before);
});

test.run();
