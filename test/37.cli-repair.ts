// A store whose journal is damaged in the middle: refused with the exact command to run, then salvaged by
// `engram repair` (and Engram.open({ salvage: true })), which keeps the history before the damage, says what
// was kept and given up, and sets the damaged file aside. Real store files, a real flipped byte.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engram, writeDigits } from './helpers/learner-files.js';
import { Engram } from '../src/learner/engram.js';
import { rejects } from './helpers/store-fs.js';
import { JOURNAL_HEADER_BYTES, RECORD_HEADER_BYTES, RECORD_TRAILER_BYTES } from '../src/store/format.js';

const work = mkdtempSync(join(tmpdir(), 'engram-repair-'));
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');
const pristine = join(work, 'pristine');

/** Byte offsets where each journal record ends. */
function recordEnds(buf: Buffer): number[] {
  const ends: number[] = [];
  let at = JOURNAL_HEADER_BYTES;
  while (at < buf.length) {
    at += RECORD_HEADER_BYTES + buf.readUInt32LE(at) + RECORD_TRAILER_BYTES;
    ends.push(at);
  }
  return ends;
}

/** A copy of the pristine store with one byte flipped inside the record that learned "1". */
function damagedCopy(name: string): string {
  const dir = join(work, name);
  cpSync(pristine, dir, { recursive: true });
  const journal = join(
    dir,
    readdirSync(dir).find((f) => f.endsWith('.egj'))!,
  );
  const buf = readFileSync(journal);
  // Records: the store's metadata, then one per learn ("0", "1", "2").
  const ends = recordEnds(buf);
  assert.is(ends.length, 4, 'metadata + three learns');
  buf[ends[1] + RECORD_HEADER_BYTES + 20] ^= 0x5a;
  writeFileSync(journal, buf);
  return dir;
}

const Repair = suite('engram repair');

Repair.before(async () => {
  await writeDigits(work, 'train', [0, 1, 2], 5);
  for (const d of ['0', '1', '2']) {
    const r = engram(['learn', '--store', pristine, '--label', d, join(work, 'train', d)]);
    assert.is(r.status, 0, r.stderr);
  }
});

Repair('a damaged journal is refused, and the message names the command that salvages it', () => {
  const dir = damagedCopy('refused');
  for (const cmd of ['stats', 'predict', 'learn']) {
    const args =
      cmd === 'stats'
        ? [cmd, '--store', dir]
        : cmd === 'predict'
          ? [cmd, '--store', dir, join(work, 'train', '0')]
          : [cmd, '--store', dir, '--label', '0', join(work, 'train', '0')];
    const r = engram(args);
    assert.is(r.status, 2, cmd);
    assert.match(r.stderr, /is damaged at byte \d+/);
    assert.ok(r.stderr.includes(`run "engram repair --store ${dir}"`), r.stderr);
    assert.not.match(r.stderr, /\{ salvage: true \}[^)]/, 'API advice only as the aside for code');
  }
  assert.not.ok(
    readdirSync(dir).some((f) => f.endsWith('.damaged')),
    'a refused open changes nothing',
  );
});

Repair('--dry-run says what would be kept and given up and changes nothing', () => {
  const dir = damagedCopy('dry');
  const before = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]);
  const r = engram(['repair', '--store', dir, '--dry-run']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /would keep: 1 class, 5 examples \(journal up to record 2\): 0/);
  assert.match(r.stdout, /would give up: record 3: damaged, unreadable; record 4: learn "2" \(5 examples\)\n/);
  assert.equal(
    readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]),
    before,
  );
});

Repair('repair keeps the history before the damage, reports it, sets the damaged journal aside; the store works again', () => {
  const dir = damagedCopy('repaired');
  const r = engram(['repair', '--store', dir, '--json']);
  assert.is(r.status, 0, r.stderr);
  const report = r.lines[0];
  assert.is(report.repaired, true);
  assert.is(report.lost, true);
  assert.is(report.lastSeq, 2);
  assert.equal(report.examples, { 0: 5 });
  // What was lost, record by record: the damaged one, and what the intact one after it held.
  assert.equal(
    (report.givenUp as { seq: number; op: string; label?: string; examples?: number }[]).map(({ seq, op, label, examples }) => ({
      seq,
      op,
      label,
      examples,
    })),
    [
      { seq: 3, op: 'unreadable', label: undefined, examples: undefined },
      { seq: 4, op: 'learn', label: '2', examples: 5 },
    ],
  );
  const aside = report.setAside as { file: string; bytes: number }[];
  assert.is(aside.length, 1);
  assert.match(aside[0].file, /^journal-\d+\.egj\.damaged$/);
  assert.ok(existsSync(join(dir, aside[0].file)));
  assert.ok((report.notes as string[]).some((n) => /salvaged the history up to seq 2, every later record is given up/.test(n)));

  const s = engram(['stats', '--store', dir, '--json']);
  assert.is(s.status, 0, s.stderr);
  assert.is(s.stderr, '', 'the open after a repair is quiet');
  assert.equal(s.lines[0].labels, ['0']);
  // What was given up can be learned again.
  const again = engram(['learn', '--store', dir, '--label', '1', join(work, 'train', '1')]);
  assert.is(again.status, 0, again.stderr);
  const again2 = engram(['repair', '--store', dir]);
  assert.is(again2.status, 0);
  assert.match(again2.stdout, /nothing to repair/);
  assert.match(again2.stdout, /given up: nothing/);
});

Repair('repair of a missing or foreign directory is an input error and creates nothing', () => {
  const r = engram(['repair', '--store', join(work, 'nowhere')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /does not exist/);
  assert.not.ok(existsSync(join(work, 'nowhere')));
});

const Api = suite('Engram.open({ salvage })');

Api('refuses the damaged store by default and salvages it on request, saying what was given up', async () => {
  const dir = damagedCopy('api');
  await rejects(Engram.open({ store: dir }), /engram repair --store .*salvage: true/);
  const warnings: string[] = [];
  const e = await Engram.open({ store: dir, salvage: true, onWarning: (w) => warnings.push(w) });
  try {
    assert.equal(e.stats().labels, ['0']);
  } finally {
    await e.close();
  }
  assert.ok(
    warnings.some((w) => /given up/.test(w)),
    warnings.join('\n'),
  );
  await rejects(
    Engram.open({ store: dir, salvage: 'yes' as unknown as boolean }),
    /options\.salvage: expected a boolean, got string "yes"/,
  );
});

Repair.run();
Api.run();
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
