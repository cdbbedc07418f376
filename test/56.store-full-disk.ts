// A full disk, for real: the store lives on a tiny tmpfs. A snapshot that does not fit fails cleanly and
// leaves the store usable; appends that do not fit fail with EFAILED, the store refuses further writes,
// and a reopen finds every acknowledged record. Needs root (mount); elsewhere the case is skipped, visibly.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Store, StoreError } from '../src/store/index.js';
import { mountTmpfs, rejects, removeDir, scratchDir } from './helpers/store-fs.js';

const SIZE = 96 * 1024;

const root = scratchDir('full-disk');
const mountDir = join(root, 'mnt');
mkdirSync(mountDir);
const why = mountTmpfs(mountDir, SIZE);
if (why) console.log(`56.store-full-disk: SKIPPED: cannot mount a ${SIZE / 1024} KiB tmpfs (${why}); run as root to test a full disk`);

const Full = suite('full disk');

(why ? Full.skip : Full)(
  'a snapshot that does not fit fails cleanly; appends that do not fit fail and lose nothing acknowledged',
  async () => {
    const dir = join(mountDir, 'store');
    const record = (seq: number) => Buffer.alloc(1000, seq % 251);
    const store = await Store.open(dir);
    const acked: number[] = [];
    for (let i = 0; i < 20; i++) acked.push(await store.append(1, record(i + 1)));

    const tooBig = await rejects(
      store.writeSnapshot(Buffer.alloc(SIZE * 2)),
      /writing snapshot snapshot-0000000000000020\.egs failed \(ENOSPC.*the store is unchanged/,
    );
    assert.is((tooBig as StoreError).code, 'EWRITE');
    assert.is(store.info().snapshotSeq, 0);
    acked.push(await store.append(1, record(21))); // the store stays usable after a failed snapshot

    let failure: Error | null = null;
    for (let seq = 22; seq < 1000 && !failure; seq++) {
      try {
        acked.push(await store.append(1, record(seq)));
      } catch (err) {
        failure = err as Error;
      }
    }
    if (!failure) return assert.unreachable('the disk never filled up');
    assert.instance(failure, StoreError);
    assert.is((failure as StoreError).code, 'EFAILED');
    assert.match(failure.message, /writing the journal failed \(ENOSPC.*records after seq \d+ may be lost; reopen the store/);
    assert.throws(() => store.append(1, record(0)), /writing the journal failed/);
    await rejects(store.close(), /writing the journal failed/);
    assert.not.ok(existsSync(join(dir, 'LOCK')), 'close released the lock even after the failure');

    const warnings: string[] = [];
    const again = await Store.open(dir, { readOnly: true, onWarning: (w) => warnings.push(w) });
    const recs = again.recovered!.records;
    assert.ok(recs.length >= acked.length, `recovered ${recs.length} records, ${acked.length} were acknowledged`);
    acked.forEach((seq, i) => {
      assert.is(recs[i].seq, seq);
      assert.equal(recs[i].payload, record(seq));
    });
    for (const w of warnings) assert.match(w, /interrupted write/);
    console.log(
      `56.store-full-disk: ${acked.length} records acknowledged before ENOSPC, all recovered${warnings.length ? ' (a torn tail was dropped)' : ''}`,
    );
    await again.close();
  },
);

Full.after(() => {
  if (!why) execFileSync('umount', [mountDir]);
  removeDir(root);
});

Full.run();
