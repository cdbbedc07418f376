// Soak: a device learning 1e6 examples into a durable store in batched mode. Each example is one journal
// record (label + a product-quantizer-like code) and one store() into a BinaryMemory; a snapshot of the
// memory is written every --snapshot-every examples, which compacts the journal. Reports resident memory
// and store size over time, then reopens the store and checks the recovered memory equals the live one.
// Last line: one JSON object.
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../src/store/index.js';
import { BinaryMemory } from '../src/memory/binary-memory.js';
import { Rng } from '../src/util/rng.js';

const { values } = parseArgs({
  options: {
    examples: { type: 'string', default: '1000000' },
    'snapshot-every': { type: 'string', default: '100000' },
    'sample-every': { type: 'string', default: '50000' },
    'batch-ms': { type: 'string', default: '100' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const EXAMPLES = Number(values.examples);
const SNAPSHOT_EVERY = Number(values['snapshot-every']);
const SAMPLE_EVERY = Number(values['sample-every']);
const BATCH_MS = Number(values['batch-ms']);
for (const [name, v] of Object.entries({ EXAMPLES, SNAPSHOT_EVERY, SAMPLE_EVERY, BATCH_MS })) {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name}: expected a positive integer, got ${v}`);
}

// Geometry of the default pipeline: P = 64 parts x K = 256 anchors, one active neuron per part.
const PARTS = 64;
const ANCHORS = 256;
const NEURONS = PARTS * ANCHORS;
const CLASSES = 100;
/** Share of parts where an example departs from its class prototype. */
const NOISE = 0.2;

const rng = new Rng(20261127);
const prototypes = Array.from({ length: CLASSES }, () => Uint32Array.from({ length: PARTS }, (_, p) => p * ANCHORS + rng.int(ANCHORS)));

function example(label: number, codes: Uint32Array): void {
  const proto = prototypes[label];
  for (let p = 0; p < PARTS; p++) codes[p] = rng.next() < NOISE ? p * ANCHORS + rng.int(ANCHORS) : proto[p];
}

function encode(label: number, codes: Uint32Array, out: Buffer): Buffer {
  out.writeUInt16LE(label, 0);
  for (let p = 0; p < PARTS; p++) out.writeUInt32LE(codes[p], 2 + 4 * p);
  return out;
}

function decodeInto(payload: Buffer, codes: Uint32Array): number {
  for (let p = 0; p < PARTS; p++) codes[p] = payload.readUInt32LE(2 + 4 * p);
  return payload.readUInt16LE(0);
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

async function main(): Promise<void> {
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'engram-soak-'));
  const samples: { examples: number; seconds: number; rss_mb: number; heap_mb: number; store_mb: number }[] = [];
  const memory = new BinaryMemory({ neurons: NEURONS, counterBits: 4, classes: CLASSES, active: PARTS });
  const store = await Store.open(dir, { durability: 'batched', batchMs: BATCH_MS, onWarning: (w) => console.error(w) });
  if (store.lastSeq !== 0) throw new Error(`soak: ${dir} is not an empty store`);
  const codes = new Uint32Array(PARTS);
  const payload = Buffer.alloc(2 + 4 * PARTS);
  let peakRss = 0;
  const t0 = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
  let snapshotSeconds = 0;

  for (let i = 1; i <= EXAMPLES; i++) {
    const label = rng.int(CLASSES);
    example(label, codes);
    // The record is copied into the journal's queue by append, so one payload buffer serves every example.
    await store.append(1, encode(label, codes, payload));
    memory.store(codes, label);
    if (i % SNAPSHOT_EVERY === 0 && i < EXAMPLES) {
      const s = seconds();
      await store.writeSnapshot(memory.serialize());
      snapshotSeconds += seconds() - s;
    }
    if (i % SAMPLE_EVERY === 0 || i === EXAMPLES) {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      const sample = {
        examples: i,
        seconds: Math.round(seconds() * 10) / 10,
        rss_mb: mb(m.rss),
        heap_mb: mb(m.heapUsed),
        store_mb: mb(store.info().bytes),
      };
      samples.push(sample);
      console.error(JSON.stringify(sample));
    }
  }
  await store.flush();
  const learnSeconds = seconds();
  const info = store.info();
  await store.close();

  // Recovery: what a device does after a restart.
  const r0 = process.hrtime.bigint();
  const reopened = await Store.open(dir, { onWarning: (w) => console.error(w) });
  const openSeconds = Number(process.hrtime.bigint() - r0) / 1e9;
  const rec = reopened.recovered!;
  const recovered = rec.snapshot
    ? BinaryMemory.deserialize(rec.snapshot, { active: PARTS })
    : new BinaryMemory({ neurons: NEURONS, counterBits: 4, classes: CLASSES, active: PARTS });
  for (const r of rec.records) recovered.store(codes, decodeInto(r.payload, codes));
  const reopenSeconds = Number(process.hrtime.bigint() - r0) / 1e9;
  const recoveredEqual = recovered.serialize().equals(memory.serialize());
  const replayed = rec.records.length;
  reopened.releaseRecovered();
  await reopened.close();
  const rssAfterReopen = process.memoryUsage().rss;
  if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });

  const stats = memory.stats();
  const result = {
    bench: 'soak',
    machine: `${process.platform}-${process.arch} node ${process.version}`,
    examples: EXAMPLES,
    durability: 'batched',
    batch_ms: BATCH_MS,
    snapshot_every: SNAPSHOT_EVERY,
    record_bytes: payload.length + 17,
    learn_seconds: Math.round(learnSeconds * 10) / 10,
    examples_per_s: Math.round(EXAMPLES / learnSeconds),
    snapshot_seconds_total: Math.round(snapshotSeconds * 100) / 100,
    rss_mb_first: samples[0].rss_mb,
    rss_mb_last: samples[samples.length - 1].rss_mb,
    rss_mb_peak: mb(peakRss),
    rss_mb_after_reopen: mb(rssAfterReopen),
    store_mb_final: mb(info.bytes),
    store_files: info.snapshots.length + info.segments.length,
    snapshot_mb: mb(info.snapshots[info.snapshots.length - 1]?.bytes ?? 0),
    reopen_seconds: Math.round(reopenSeconds * 100) / 100,
    reopen_store_open_seconds: Math.round(openSeconds * 100) / 100,
    reopen_records_replayed: replayed,
    recovered_equal: recoveredEqual,
    memory_density: Math.round(stats.density * 1e4) / 1e4,
    samples,
  };
  console.log(JSON.stringify(result));
  if (!recoveredEqual) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
