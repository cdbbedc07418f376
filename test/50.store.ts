// The durable store in one process on the real file system: formats, recovery, durability modes,
// snapshots and compaction, metadata, validation.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store, StoreError, DEFAULT_BATCH_MS } from '../src/store/index.js';
import {
  checksum,
  encodeRecord,
  readRecordAt,
  scanSegment,
  encodeJournalHeader,
  encodeSnapshot,
  decodeSnapshot,
  FormatDamage,
  journalName,
} from '../src/store/format.js';
import { rejects, removeDir, scratchDir } from './helpers/store-fs.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const texts = (store: Store) => store.recovered!.records.map((r) => `${r.seq}:${r.type}:${r.payload.toString()}`);

async function openQuiet(dir: string, opts: Parameters<typeof Store.open>[1] = {}) {
  const warnings: string[] = [];
  const store = await Store.open(dir, { ...opts, onWarning: (w) => warnings.push(w) });
  return { store, warnings };
}

// ---------------------------------------------------------------- format

const Format = suite('format');

Format('checksum is CRC-32 (IEEE) on the standard check string', () => {
  assert.is(checksum(bytes('123456789')), 0xcbf43926);
  assert.is(checksum(new Uint8Array(0)), 0);
});

Format('a record reads back whole, and any flipped bit makes it unreadable', () => {
  const rec = encodeRecord(42, 7, bytes('hello'));
  assert.is(rec.length, 13 + 5 + 4);
  const back = readRecordAt(rec, 0)!;
  assert.is(back.record.seq, 42);
  assert.is(back.record.type, 7);
  assert.is(back.record.payload.toString(), 'hello');
  assert.is(back.end, rec.length);
  for (let bit = 0; bit < rec.length * 8; bit++) {
    const bad = Buffer.from(rec);
    bad[bit >> 3] ^= 1 << (bit & 7);
    assert.is(readRecordAt(bad, 0), null, `bit ${bit}`);
  }
  assert.is(readRecordAt(rec.subarray(0, rec.length - 1), 0), null);
});

Format('a snapshot decodes to what was encoded; damage is reported with a reason', () => {
  const file = encodeSnapshot(9, { a: 1 }, bytes('payload'));
  const ok = decodeSnapshot(file);
  assert.not.instance(ok, FormatDamage);
  assert.equal(ok, { uptoSeq: 9, meta: { a: 1 }, payload: bytes('payload') });
  const flipped = Buffer.from(file);
  flipped[45] ^= 0x10;
  assert.match((decodeSnapshot(flipped) as FormatDamage).reason, /checksum/);
  assert.match((decodeSnapshot(file.subarray(0, 30)) as FormatDamage).reason, /too short/);
  assert.match((decodeSnapshot(Buffer.concat([file, bytes('x')])) as FormatDamage).reason, /header says/);
  const foreign = Buffer.from(file);
  foreign.write('PNG', 1, 'latin1');
  assert.match((decodeSnapshot(foreign) as FormatDamage).reason, /bad magic/);
});

Format('a segment scan tells a torn tail from damage in the middle', () => {
  const recs = [1, 2, 3].map((s) => encodeRecord(s, 1, bytes(`r${s}`)));
  const whole = Buffer.concat([encodeJournalHeader(1), ...recs]);
  const clean = scanSegment(whole);
  assert.not.instance(clean, FormatDamage);
  if (clean instanceof FormatDamage) return;
  assert.is(clean.end, 'clean');
  assert.is(clean.records.length, 3);

  const torn = scanSegment(whole.subarray(0, whole.length - 3));
  if (torn instanceof FormatDamage) return assert.unreachable('header is intact');
  assert.is(torn.end, 'torn');
  assert.is(torn.records.length, 2);

  const middle = Buffer.from(whole);
  middle[32 + recs[0].length + 14] ^= 1; // payload of record 2
  const damaged = scanSegment(middle);
  if (damaged instanceof FormatDamage) return assert.unreachable('header is intact');
  assert.is(damaged.end, 'damaged');
  assert.is(damaged.records.length, 1);
});

Format.run();

// ---------------------------------------------------------------- open, append, reopen

const Basics = suite('open and append');

Basics('a new directory opens empty, and is created', async () => {
  const root = scratchDir('store');
  const dir = join(root, 'a', 'b');
  try {
    const { store, warnings } = await openQuiet(dir);
    assert.equal(store.recovered, { snapshot: null, snapshotSeq: 0, records: [] });
    assert.equal(store.meta, {});
    assert.is(store.lastSeq, 0);
    assert.equal(warnings, []);
    await store.close();
    assert.ok(existsSync(join(dir, journalName(1))));
    assert.not.ok(existsSync(join(dir, 'LOCK')), 'close releases the lock');
  } finally {
    removeDir(root);
  }
});

Basics('strict appends are numbered from 1 and come back in order after reopening', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    assert.is(await store.append(1, bytes('a')), 1);
    assert.is(await store.append(200, bytes('b')), 2);
    assert.is(await store.append(3, new Uint8Array(0)), 3);
    assert.is(store.info().durableSeq, 3, 'strict: resolved means fsynced');
    await store.close();
    const again = await openQuiet(dir);
    assert.equal(texts(again.store), ['1:1:a', '2:200:b', '3:3:']);
    assert.equal(again.warnings, []);
    assert.is(await again.store.append(1, bytes('c')), 4);
    await again.store.close();
  } finally {
    removeDir(dir);
  }
});

Basics('concurrent strict appends share fsyncs and keep their order', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    const seqs = await Promise.all(Array.from({ length: 200 }, (_, i) => store.append(1, bytes(`x${i}`))));
    assert.equal(
      seqs,
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    await store.close();
    const again = await openQuiet(dir);
    assert.equal(
      again.store.recovered!.records.map((r) => r.payload.toString()),
      Array.from({ length: 200 }, (_, i) => `x${i}`),
    );
    await again.store.close();
  } finally {
    removeDir(dir);
  }
});

Basics('batched appends are fsynced within batchMs without a flush', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir, { durability: 'batched', batchMs: 20 });
    for (let i = 0; i < 50; i++) await store.append(1, bytes(`b${i}`));
    assert.is(store.lastSeq, 50);
    const deadline = Date.now() + 2000;
    while (store.info().durableSeq < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.is(store.info().durableSeq, 50);
    await store.close();
  } finally {
    removeDir(dir);
  }
});

Basics('whenDurable waits for the group commit of a batched record', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir, { durability: 'batched', batchMs: 30 });
    const seq = await store.append(1, bytes('x'));
    assert.is(store.info().durableSeq, 0, 'batched: acknowledged before it is durable');
    await store.whenDurable(seq);
    assert.ok(store.info().durableSeq >= seq);
    await store.whenDurable(0);
    assert.throws(() => store.whenDurable(seq + 1), /seq: expected an integer in \[0, 1\], got number 2/);
    await store.close();
  } finally {
    removeDir(dir);
  }
});

Basics('flush makes batched appends durable; close flushes', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir, { durability: 'batched', batchMs: 60_000 });
    assert.is(store.info().batchMs, 60_000);
    for (let i = 0; i < 10; i++) await store.append(2, bytes(`f${i}`));
    await store.flush();
    assert.is(store.info().durableSeq, 10);
    for (let i = 10; i < 20; i++) void store.append(2, bytes(`f${i}`));
    await store.close();
    const again = await openQuiet(dir);
    assert.is(again.store.recovered!.records.length, 20);
    await again.store.close();
  } finally {
    removeDir(dir);
  }
});

Basics('the batched default interval is documented as 100 ms', () => {
  assert.is(DEFAULT_BATCH_MS, 100);
});

Basics.run();

// ---------------------------------------------------------------- snapshots, compaction, meta

const Snapshots = suite('snapshots');

Snapshots('a snapshot replaces the journal before it; later records replay after it', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    for (let i = 1; i <= 5; i++) await store.append(1, bytes(`r${i}`));
    await store.writeSnapshot(bytes('state@5'));
    await store.append(1, bytes('r6'));
    await store.close();
    const again = await openQuiet(dir);
    assert.is(again.store.recovered!.snapshot!.toString(), 'state@5');
    assert.is(again.store.recovered!.snapshotSeq, 5);
    assert.equal(texts(again.store), ['6:1:r6']);
    assert.equal(again.warnings, []);
    await again.store.close();
  } finally {
    removeDir(dir);
  }
});

Snapshots('a snapshot may cover fewer records than were appended', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    for (let i = 1; i <= 6; i++) await store.append(1, bytes(`r${i}`));
    await store.writeSnapshot(bytes('state@4'), 4);
    await store.close();
    const again = await openQuiet(dir);
    assert.is(again.store.recovered!.snapshotSeq, 4);
    assert.equal(texts(again.store), ['5:1:r5', '6:1:r6']);
    await again.store.close();
  } finally {
    removeDir(dir);
  }
});

Snapshots('compaction keeps two snapshots and only the journal they need', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    for (let round = 1; round <= 5; round++) {
      for (let i = 0; i < 3; i++) await store.append(1, bytes(`x`));
      await store.writeSnapshot(bytes(`s${round}`));
    }
    await store.append(1, bytes('tail'));
    const names = readdirSync(dir)
      .filter((n) => n !== 'LOCK')
      .sort();
    assert.equal(names, [
      'journal-0000000000000013.egj',
      'journal-0000000000000016.egj',
      'snapshot-0000000000000012.egs',
      'snapshot-0000000000000015.egs',
    ]);
    const info = store.info();
    assert.equal(
      info.snapshots.map((s) => s.seq),
      [12, 15],
    );
    assert.is(
      info.bytes,
      names.reduce((n, f) => n + statSync(join(dir, f)).size, 0),
    );
    await store.close();
  } finally {
    removeDir(dir);
  }
});

Snapshots('snapshots never move backwards, even when queued out of order', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    for (let i = 1; i <= 10; i++) await store.append(1, bytes(`r${i}`));
    const newer = store.writeSnapshot(bytes('state@10'), 10);
    const older = store.writeSnapshot(bytes('state@5'), 5);
    await newer;
    await rejects(older, /uptoSeq: expected an integer in \[10, 10\], got number 5/);
    assert.is(store.info().snapshotSeq, 10);
    await store.close();
  } finally {
    removeDir(dir);
  }
});

Snapshots('a damaged newest snapshot falls back to the previous one plus the journal, and says so', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    await store.append(1, bytes('a'));
    await store.writeSnapshot(bytes('S1'));
    await store.append(1, bytes('b'));
    await store.writeSnapshot(bytes('S2'));
    await store.append(1, bytes('c'));
    await store.close();
    const newest = join(dir, 'snapshot-0000000000000002.egs');
    const buf = readFileSync(newest);
    buf[buf.length - 6] ^= 0x01;
    writeFileSync(newest, buf);

    const again = await openQuiet(dir);
    assert.is(again.store.recovered!.snapshot!.toString(), 'S1');
    assert.equal(texts(again.store), ['2:1:b', '3:1:c']);
    assert.ok(
      again.warnings.some((w) => /snapshot-0000000000000002\.egs is damaged \(body checksum mismatch/.test(w)),
      again.warnings.join('\n'),
    );
    assert.ok(existsSync(`${newest}.damaged`), 'the damaged file is kept aside');
    await again.store.close();

    const third = await openQuiet(dir);
    assert.equal(third.warnings, [], 'the next open is quiet');
    await third.store.close();
  } finally {
    removeDir(dir);
  }
});

Snapshots('a torn last record is dropped with a warning and truncated away', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    await store.append(1, bytes('kept'));
    await store.close();
    const journal = join(dir, journalName(1));
    const sizeBefore = statSync(journal).size;
    appendFileSync(journal, encodeRecord(2, 1, bytes('torn away')).subarray(0, 10));

    const again = await openQuiet(dir);
    assert.equal(texts(again.store), ['1:1:kept']);
    assert.is(again.warnings.length, 1);
    assert.match(again.warnings[0], /interrupted write: dropped 10 bytes after seq 1/);
    assert.is(statSync(journal).size, sizeBefore, 'truncated on the writable open');
    assert.is(await again.store.append(1, bytes('next')), 2);
    await again.store.close();

    const third = await openQuiet(dir);
    assert.equal(texts(third.store), ['1:1:kept', '2:1:next']);
    assert.equal(third.warnings, []);
    await third.store.close();
  } finally {
    removeDir(dir);
  }
});

Snapshots('damage in the middle of the journal is refused with an error naming the file', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    for (let i = 0; i < 3; i++) await store.append(1, bytes(`r${i}`));
    await store.close();
    const journal = join(dir, journalName(1));
    const buf = readFileSync(journal);
    buf[32 + 14] ^= 0x40; // payload of record 1
    writeFileSync(journal, buf);
    const err = await rejects(Store.open(dir), /journal-0000000000000001\.egj is damaged at byte 32 .*nothing was loaded/);
    assert.instance(err, StoreError);
    assert.is((err as StoreError).code, 'ECORRUPT');
    assert.not.ok(existsSync(join(dir, 'LOCK')), 'a failed open releases the lock');
  } finally {
    removeDir(dir);
  }
});

Snapshots('salvage keeps the history before damage, says what is given up, and goes on', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    for (let i = 1; i <= 5; i++) await store.append(1, bytes(`r${i}`));
    await store.close();
    const journal = join(dir, journalName(1));
    const buf = readFileSync(journal);
    const third = 32 + 2 * (13 + 2 + 4);
    buf[third + 14] ^= 0x01; // payload of record 3
    writeFileSync(journal, buf);
    await rejects(Store.open(dir), /intact records follow it.*open it with \{ salvage: true \}/);

    const salvaged = await openQuiet(dir, { salvage: true });
    assert.equal(texts(salvaged.store), ['1:1:r1', '2:1:r2']);
    assert.match(salvaged.warnings.join('\n'), /damaged at byte 70 .*salvaged the history up to seq 2, every later record is given up/);
    assert.match(salvaged.warnings.join('\n'), /kept a copy of the damaged journal as journal-0000000000000001\.egj\.damaged/);
    assert.equal(readFileSync(`${journal}.damaged`), buf, 'the damaged original is kept');
    assert.is(await salvaged.store.append(1, bytes('new3')), 3);
    await salvaged.store.close();

    const again = await openQuiet(dir);
    assert.equal(texts(again.store), ['1:1:r1', '2:1:r2', '3:1:new3']);
    assert.equal(again.warnings, []);
    await again.store.close();
  } finally {
    removeDir(dir);
  }
});

Snapshots('metadata is journaled, recovered, and carried into snapshots', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    await store.setMeta({ backbone: 'mobilenetv2', p: 64 });
    await store.append(1, bytes('x'));
    await store.setMeta({ backbone: 'mobilenetv2', p: 32 });
    assert.equal(store.meta, { backbone: 'mobilenetv2', p: 32 });
    await store.writeSnapshot(bytes('S'), 2); // covers the first meta only
    await store.close();
    const again = await openQuiet(dir);
    assert.equal(again.store.meta, { backbone: 'mobilenetv2', p: 32 });
    assert.equal(texts(again.store), [], 'meta records are not user records');
    await again.store.writeSnapshot(bytes('S3'));
    await again.store.close();
    const third = await openQuiet(dir);
    assert.equal(third.store.meta, { backbone: 'mobilenetv2', p: 32 });
    const m = third.store.meta;
    m.p = 1;
    assert.equal(third.store.meta.p, 32, 'meta is returned as a copy');
    await third.store.close();
  } finally {
    removeDir(dir);
  }
});

Snapshots.run();

// ---------------------------------------------------------------- modes, errors, validation

const Errors = suite('errors and validation');

Errors('bad arguments throw TypeError or RangeError naming the parameter', async () => {
  const dir = scratchDir('store');
  try {
    await rejects(
      Store.open(dir, { durability: 'fast' as never }),
      /options\.durability: expected one of strict, batched, got string "fast"/,
    );
    await rejects(Store.open(dir, { batchMs: -1 }), /options\.batchMs: expected an integer in \[1, 60000\], got number -1/);
    await rejects(Store.open(dir, { batchMS: 5 } as never), /unknown option "batchMS"/);
    await rejects(Store.open(dir, { salvage: 'yes' } as never), /options\.salvage: expected a boolean, got string "yes"/);
    await rejects(Store.open(42 as never), /dir: expected a directory path string, got number 42/);
    const { store } = await openQuiet(dir);
    assert.throws(() => store.append(0, bytes('x')), /type: expected an integer in \[1, 255\], got number 0/);
    assert.throws(() => store.append(256, bytes('x')), RangeError);
    assert.throws(() => store.append(1.5, bytes('x')), RangeError);
    assert.throws(() => store.append(NaN, bytes('x')), /got NaN/);
    assert.throws(() => store.append('1' as never, bytes('x')), TypeError);
    assert.throws(() => store.append(1, 'text' as never), /payload: expected a Uint8Array or Buffer, got string "text"/);
    assert.throws(() => store.writeSnapshot(bytes('s'), 5), /uptoSeq: expected an integer in \[0, 0\], got number 5/);
    assert.throws(() => store.writeSnapshot([1, 2] as never), /bytes: expected a Uint8Array/);
    assert.throws(() => store.setMeta([] as never), /meta: expected a plain JSON object/);
    assert.throws(() => store.setMeta({ n: 1n }), /meta: expected a JSON-serialisable object \(.*BigInt/);
    await store.close();
  } finally {
    removeDir(dir);
  }
});

Errors('a closed store refuses writes; a second open in one process names the holder', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    const err = await rejects(Store.open(dir), new RegExp(`locked by pid ${process.pid} on host .* since \\d{4}-`));
    assert.is((err as StoreError).code, 'ELOCKED');
    await store.close();
    assert.throws(() => store.append(1, bytes('x')), /is closed/);
    await store.close(); // twice is harmless
    const again = await openQuiet(dir);
    await again.store.close();
  } finally {
    removeDir(dir);
  }
});

Errors('read-only opens beside a writer, sees its records, and refuses writes', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    await store.append(1, bytes('seen'));
    const reader = await Store.open(dir, { readOnly: true });
    assert.equal(texts(reader), ['1:1:seen']);
    assert.is(reader.info().lock, null);
    assert.throws(() => reader.append(1, bytes('x')), /opened read-only/);
    await reader.close();
    await store.close();
    const missing = await rejects(Store.open(join(dir, 'missing'), { readOnly: true }), /store .*missing does not exist/);
    assert.is((missing as StoreError).code, 'ENOSTORE');
  } finally {
    removeDir(dir);
  }
});

Errors("side files round-trip, are checksummed, and cannot take the store's own names", async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    assert.is(await store.readFile('codebook.egc'), null);
    await store.writeFile('codebook.egc', bytes('anchors'));
    assert.is((await store.readFile('codebook.egc'))!.toString(), 'anchors');
    const path = join(dir, 'codebook.egc');
    const raw = readFileSync(path);
    assert.is(raw.subarray(0, 8).toString('latin1'), 'ENGRFILE');
    raw[30] ^= 0x04;
    writeFileSync(path, raw);
    const err = await rejects(store.readFile('codebook.egc'), /codebook\.egc is damaged \(body checksum mismatch/);
    assert.is((err as StoreError).code, 'ECORRUPT');
    for (const bad of ['LOCK', 'journal-0000000000000001.egj', 'snapshot-0000000000000001.egs', '../x', 'a/b', '', 'x.tmp', '.hidden']) {
      await rejects(store.writeFile(bad, bytes('x')), /name: expected a plain file name/);
    }
    await rejects(store.writeFile(7 as never, bytes('x')), /name: expected a file name string, got number 7/);
    await store.close();
    const again = await openQuiet(dir);
    assert.equal(again.warnings, [], 'side files do not disturb recovery');
    await again.store.close();
  } finally {
    removeDir(dir);
  }
});

Errors('files of a newer format version are refused, not treated as damage', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    await store.append(1, bytes('a'));
    await store.writeSnapshot(bytes('S'));
    await store.close();
    const snap = join(dir, 'snapshot-0000000000000001.egs');
    const buf = readFileSync(snap);
    buf.writeUInt32LE(2, 8);
    buf.writeUInt32LE(checksum(buf.subarray(0, 36)), 36);
    buf.writeUInt32LE(checksum(buf.subarray(0, buf.length - 4)), buf.length - 4);
    writeFileSync(snap, buf);
    const err = await rejects(Store.open(dir), /snapshot-0000000000000001\.egs has format version 2, this engram reads version 1/);
    assert.is((err as StoreError).code, 'EVERSION');
    assert.ok(existsSync(snap), 'the newer file is left alone');
  } finally {
    removeDir(dir);
  }
});

Errors('a file that is not a store snapshot is never loaded', async () => {
  const dir = scratchDir('store');
  try {
    const { store } = await openQuiet(dir);
    await store.append(1, bytes('a'));
    await store.close();
    writeFileSync(join(dir, 'snapshot-0000000000000001.egs'), Buffer.alloc(100, 0x41));
    const again = await openQuiet(dir);
    assert.is(again.store.recovered!.snapshot, null);
    assert.equal(texts(again.store), ['1:1:a']);
    assert.match(again.warnings.join('\n'), /snapshot-0000000000000001\.egs is damaged \(not an engram snapshot/);
    await again.store.close();
  } finally {
    removeDir(dir);
  }
});

Errors.run();
