// "Acknowledged only after fsync", above the store: through Engram (strict: learn, forget and prune resolve
// after their record is durable; batched: they resolve once queued and whenDurable waits for the group
// commit), through the serial-link server (an ACK leaves only once its record is durable, in both modes),
// and through the CLI's options (strict unless told otherwise; --batch-ms checked). Also: an op memory
// would refuse is never journaled, and a failed journal write leaves memory as it was (a real full disk).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { Engram, type EngramOptions } from '../src/learner/engram.js';
import { StoreError } from '../src/store/index.js';
import { LinkServer } from '../src/link/server.js';
import { LinkClient } from '../src/link/client.js';
import { engramOptions, modelOptions, storeOptions, type StoreFlags } from '../src/cli/learner-options.js';
import { openMockPair } from './helpers/link-mock.js';
import { LINK_DIM, LINK_TOPK, classVector } from './helpers/link-vectors.js';
import { mountTmpfs, rejects, removeDir, scratchDir } from './helpers/store-fs.js';

const FEATURES: Pick<EngramOptions, 'backbone' | 'quantizer'> = {
  backbone: null,
  quantizer: { kind: 'topk', dim: LINK_DIM, k: LINK_TOPK },
};
/** Long enough that a record cannot become durable by chance before the test looks. */
const SLOW_BATCH_MS = 400;

function durableSeq(e: Engram): number {
  return e.journal()!.durableSeq;
}

const ViaEngram = suite('Engram acknowledges per its durability mode');

ViaEngram('strict (the default): learn, forget and prune resolve only once their record is fsynced', async () => {
  const dir = scratchDir('ack-strict');
  const e = await Engram.open({ store: dir, ...FEATURES });
  try {
    assert.is(e.journal()!.durability, 'strict');
    for (let i = 0; i < 10; i++) {
      const r = await e.learn(`c${i % 3}`, [classVector(i % 3, i)]);
      assert.ok(r.seq > 0, 'a store-backed learn has a journal seq');
      assert.ok(durableSeq(e) >= r.seq, `learn ${i}: resolved with record ${r.seq}, durable only up to ${durableSeq(e)}`);
    }
    const p = await e.prune({ kind: 'count', minCount: 2 });
    assert.ok(durableSeq(e) >= p.seq, 'prune resolved before its record was durable');
    const f = await e.forget('c1');
    assert.ok(durableSeq(e) >= f.seq, 'forget resolved before its record was durable');
    assert.ok(f.seq > p.seq, 'seqs follow the order of the ops');
  } finally {
    await e.close();
    removeDir(dir);
  }
});

ViaEngram('batched: learn resolves once queued; whenDurable(seq) waits for the group commit of batchMs', async () => {
  const dir = scratchDir('ack-batched');
  const e = await Engram.open({ store: dir, ...FEATURES, durability: 'batched', batchMs: SLOW_BATCH_MS });
  try {
    assert.equal([e.journal()!.durability, e.journal()!.batchMs], ['batched', SLOW_BATCH_MS]);
    const r = await e.learn('a', [classVector(0, 1)]);
    // Proves that learn alone promises nothing in this mode, so what follows tests whenDurable.
    assert.ok(durableSeq(e) < r.seq, `batched learn was durable at once (durable ${durableSeq(e)}, seq ${r.seq})`);
    const t0 = performance.now();
    await e.whenDurable(r.seq);
    const waited = performance.now() - t0;
    assert.ok(durableSeq(e) >= r.seq, `whenDurable(${r.seq}) resolved with durable ${durableSeq(e)}`);
    // The group commit comes batchMs after the write (timers do not fire early; slack for clock granularity).
    assert.ok(waited >= SLOW_BATCH_MS * 0.9, `durable after ${waited.toFixed(0)} ms, before the ${SLOW_BATCH_MS} ms window`);

    const many = await Promise.all([0, 1, 2, 3].map((i) => e.learn(`b${i}`, [classVector(i, 7)])));
    await Promise.all(many.map((m) => e.whenDurable(m.seq)));
    assert.ok(durableSeq(e) >= Math.max(...many.map((m) => m.seq)), 'every awaited record is durable');
    await e.whenDurable(r.seq); // an old seq resolves at once
  } finally {
    await e.close();
    removeDir(dir);
  }
});

ViaEngram('batchMs is checked and needs the batched mode; whenDurable checks its seq', async () => {
  const dir = scratchDir('ack-options');
  try {
    await rejects(
      Engram.open({ store: dir, ...FEATURES, batchMs: 50 }),
      /options\.batchMs: only applies with durability 'batched', got durability "strict"/,
    );
    await rejects(Engram.open({ store: dir, ...FEATURES, durability: 'batched', batchMs: 0 }), /options\.batchMs: expected an integer/);
    await rejects(Engram.open({ store: dir, ...FEATURES, durability: 'batched', batchMs: 1.5 }), /options\.batchMs/);
    await rejects(
      Engram.open({ store: dir, ...FEATURES, durability: 'batched', batchMs: '100' as unknown as number }),
      /options\.batchMs: expected/,
    );
    const e = await Engram.open({ store: dir, ...FEATURES });
    try {
      assert.throws(() => e.whenDurable(-1), /seq: expected an integer/);
      assert.throws(() => e.whenDurable(e.journal()!.lastSeq + 5), /seq: expected an integer/);
    } finally {
      await e.close();
    }
  } finally {
    removeDir(dir);
  }
});

ViaEngram('an op memory refuses is not journaled: the journal and the memory stay as they were', async () => {
  const dir = scratchDir('ack-refused');
  const e = await Engram.open({ store: dir, ...FEATURES });
  try {
    await e.learn('a', [classVector(0, 1)]);
    const before = e.journal()!.lastSeq;
    await rejects(e.forget('nobody'), /no class named "nobody" is stored/);
    await rejects(e.prune({ kind: 'class', label: 'nobody' }), /no class named "nobody" is stored/);
    assert.is(e.journal()!.lastSeq, before, 'a refused op took a journal record');
    await e.forget('a');
    await rejects(e.forget('a'), /no class named "a" is stored/);
  } finally {
    await e.close();
  }
  // The journal replays: a refused op in it would make the store unopenable.
  const again = await Engram.open({ store: dir, ...FEATURES });
  assert.equal(again.stats().labels, []);
  await again.close();
  removeDir(dir);
});

const ViaServer = suite('the link server ACKs a change only once it is durable');

for (const durability of ['strict', 'batched'] as const) {
  ViaServer(`${durability}: when LEARN, FORGET and PRUNE are ACKed, their record is on stable storage`, async () => {
    const dir = scratchDir(`ack-serve-${durability}`);
    const e = await Engram.open({ store: dir, ...FEATURES, durability, ...(durability === 'batched' ? { batchMs: SLOW_BATCH_MS } : {}) });
    const pair = await openMockPair();
    const detach = new LinkServer(e, { featureDim: LINK_DIM }).attach(pair.a);
    const client = new LinkClient(pair.b, { timeoutMs: 5000 });
    try {
      const acked = async (what: string, request: () => Promise<unknown>) => {
        const t0 = performance.now();
        await request();
        const ms = performance.now() - t0;
        const j = e.journal()!;
        assert.ok(j.durableSeq >= j.lastSeq, `${what} ACKed with record ${j.lastSeq} not durable (durable up to ${j.durableSeq})`);
        return ms;
      };
      const learnMs = await acked('LEARN', () => client.learn('a', classVector(0, 1)));
      await acked('LEARN', () => client.learn('b', classVector(1, 2)));
      await acked('PRUNE', () => client.prune({ kind: 'count', minCount: 2 }));
      await acked('FORGET', () => client.forget('b'));
      if (durability === 'batched')
        assert.ok(
          learnMs >= SLOW_BATCH_MS * 0.9,
          `batched LEARN ACKed after ${learnMs.toFixed(0)} ms, inside the ${SLOW_BATCH_MS} ms window`,
        );
      // The learner's state is what was ACKed.
      const s = await client.stats();
      assert.equal([s.classes, s.labels], [1, ['a']]);
    } finally {
      client.close();
      detach();
      await pair.close();
      await e.close();
      removeDir(dir);
    }
  });
}

const ViaCli = suite('CLI durability options');

function parse(args: string[]): StoreFlags {
  const cmd = modelOptions(storeOptions(new Command('learn').exitOverride()));
  cmd.parse(args, { from: 'user' });
  return cmd.opts<StoreFlags>();
}

ViaCli('strict unless --durability batched is given; --batch-ms reaches EngramOptions', () => {
  const warn = () => undefined;
  assert.is(engramOptions(parse(['--store', 'x']), warn).durability, 'strict');
  assert.is(engramOptions(parse(['--store', 'x']), warn).batchMs, undefined);
  const o = engramOptions(parse(['--store', 'x', '--durability', 'batched', '--batch-ms', '250']), warn);
  assert.equal([o.durability, o.batchMs], ['batched', 250]);
});

ViaCli('a bad --batch-ms is a usage error naming the option', () => {
  const warn = () => undefined;
  for (const bad of ['0', '-5', 'abc', '1.5', '60001', '']) {
    assert.throws(
      () => engramOptions(parse(['--store', 'x', '--durability', 'batched', '--batch-ms', bad]), warn),
      /--batch-ms: expected a whole number of milliseconds from 1 to 60000/,
    );
  }
  assert.throws(
    () => engramOptions(parse(['--store', 'x', '--batch-ms', '50']), warn),
    /--batch-ms: only applies with --durability batched \(durability is strict\)/,
  );
});

ViaCli('engram learn: --help shows the strict default; a bad --batch-ms exits 1 before touching the store', () => {
  const help = spawnSync(process.execPath, [join('bin', 'engram.js'), 'learn', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /--durability <mode>[\s\S]*default:\s+"strict"/);
  assert.match(help.stdout, /--batch-ms <ms>/);
  const dir = scratchDir('ack-cli');
  try {
    const store = join(dir, 'store');
    const r = spawnSync(
      process.execPath,
      [
        join('bin', 'engram.js'),
        'learn',
        '--store',
        store,
        '--label',
        'x',
        '--durability',
        'batched',
        '--batch-ms',
        'soon',
        'test/fixtures',
      ],
      { encoding: 'utf8' },
    );
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /--batch-ms: expected a whole number of milliseconds from 1 to 60000, got "soon"/);
    assert.is(spawnSync('test', ['-e', store]).status, 1, 'the store was not created');
  } finally {
    removeDir(dir);
  }
});

const FullDisk = suite('a failed journal write leaves memory as it was');

const DISK_BYTES = 64 * 1024;

const diskRoot = scratchDir('ack-full');
const mnt = join(diskRoot, 'mnt');
mkdirSync(mnt);
const noMount = mountTmpfs(mnt, DISK_BYTES);
if (noMount)
  console.log(`57.store-ack: SKIPPED the full-disk case: cannot mount a ${DISK_BYTES / 1024} KiB tmpfs (${noMount}); run as root`);

(noMount ? FullDisk.skip : FullDisk)(
  'learns that do not fit fail, and memory equals a learner rebuilt from the acknowledged ones',
  async () => {
    const batch = (i: number) => Array.from({ length: 20 }, (_, j) => classVector(i % 4, i * 100 + j));
    const rebuilt = await Engram.memory(FEATURES);
    const e = await Engram.open({ store: join(mnt, 'store'), ...FEATURES });
    try {
      let acked = 0;
      let failure: Error | null = null;
      for (let i = 0; i < 1000 && !failure; i++) {
        try {
          await e.learn(`c${i % 4}`, batch(i));
          acked += 1;
          await rebuilt.learn(`c${i % 4}`, batch(i));
        } catch (err) {
          failure = err as Error;
        }
      }
      if (!failure) return assert.unreachable('the disk never filled up');
      assert.instance(failure, StoreError);
      assert.match(failure.message, /writing the journal failed \(ENOSPC/);
      assert.ok(acked > 0, 'some learns fit');

      const probes = Array.from({ length: 12 }, (_, i) => classVector(i % 4, 5000 + i));
      const same = async (when: string) => {
        const { examples, connections, labels } = e.stats();
        const want = rebuilt.stats();
        assert.equal(
          { examples, connections, labels },
          { examples: want.examples, connections: want.connections, labels: want.labels },
          `${when}: memory differs from the acknowledged learns`,
        );
        assert.equal(await e.predict(probes), await rebuilt.predict(probes), `${when}: predictions differ`);
      };
      await same('after the failed learn');
      // The store now refuses writes; neither a forget nor a prune may change memory behind its back.
      await rejects(e.forget('c0'), /writing the journal failed/);
      await rejects(e.prune({ kind: 'count', minCount: 2 }), /writing the journal failed/);
      await rejects(e.learn('c9', batch(0)), /writing the journal failed/);
      await same('after refused forget, prune and learn');
      await rejects(e.close(), /writing the journal failed/);
      // What the disk holds is what was acknowledged: nothing more, nothing less.
      const reopened = await Engram.open({ store: join(mnt, 'store'), readOnly: true });
      try {
        assert.equal(reopened.stats().examples, rebuilt.stats().examples, 'the reopened store holds the acknowledged learns');
        assert.equal(await reopened.predict(probes), await rebuilt.predict(probes), 'the reopened store predicts like the rebuilt learner');
      } finally {
        await reopened.close();
      }
      console.log(
        `57.store-ack: ${acked} learns of 20 examples fit in ${DISK_BYTES / 1024} KiB; the next failed with ENOSPC and memory stayed at the acknowledged state`,
      );
    } finally {
      await e.close().catch(() => undefined);
      await rebuilt.close();
    }
  },
);

FullDisk.after(() => {
  if (!noMount) execFileSync('umount', [mnt]);
  removeDir(diskRoot);
});

ViaEngram.run();
ViaServer.run();
ViaCli.run();
FullDisk.run();
