// Corruption: random truncations and bit flips (TRIALS of them, 1000 by default), then overwritten and zeroed
// ranges, appended garbage and deleted files (OTHER_TRIALS more) in the snapshots and journal segments of a
// real store. Every case must either recover a state that equals the
// log's state at the recovered seq (and warn whenever anything was lost or routed around) or refuse with
// a StoreError ECORRUPT naming the store. Never a crash, never a wrong or silently shortened load.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Store, StoreError } from '../src/store/index.js';
import { RECORD_HEADER_BYTES, RECORD_TRAILER_BYTES, JOURNAL_HEADER_BYTES } from '../src/store/format.js';
import type { Rng } from '../src/util/rng.js';
import { copyDir, removeDir, scratchDir, seededRng } from './helpers/store-fs.js';
import { ModelState, encodeModelOp, opFor, probeCodes, stateFromRecovery } from './helpers/store-model.js';

/** Trials whose damage is a truncation or bit flips (issue #7 asks for at least 1000). */
const TRIALS = Number(process.env.ENGRAM_CORRUPTION_TRIALS ?? 1000);
/** Further trials spread over the other kinds of damage. */
const OTHER_TRIALS = Number(process.env.ENGRAM_CORRUPTION_OTHER_TRIALS ?? 300);
const TRUNCATE_OR_FLIP = ['truncate', 'flip', 'flips'];
const OTHER_DAMAGE = ['overwrite', 'zero', 'append', 'delete'];
const LAST = 60;
/** Seqs that hold metadata records instead of model ops, and the metadata each sets. */
const META_AT = new Map<number, Record<string, unknown>>([
  [1, { backbone: 'test', version: 1 }],
  [45, { backbone: 'test', version: 2 }],
]);

function expectedState(upto: number): ModelState {
  const s = ModelState.empty();
  for (let seq = 1; seq <= upto; seq++) if (!META_AT.has(seq)) s.apply(opFor(seq));
  return s;
}

function expectedMeta(upto: number): Record<string, unknown> {
  let meta: Record<string, unknown> = {};
  for (const [seq, m] of META_AT) if (seq <= upto) meta = m;
  return meta;
}

/** snapshots at 20 and 40, journal segments 21..40 and 41..60, metadata at 1 and 45. */
async function buildBase(dir: string): Promise<void> {
  const store = await Store.open(dir, { durability: 'batched' });
  const state = ModelState.empty();
  for (let seq = 1; seq <= LAST; seq++) {
    const meta = META_AT.get(seq);
    if (meta) await store.setMeta(meta);
    else {
      await store.append(1, encodeModelOp(opFor(seq)));
      state.apply(opFor(seq));
    }
    if (seq === 20 || seq === 40) await store.writeSnapshot(state.serialize());
  }
  await store.close();
}

type Mutation = { file: string; kind: string; truncatedTo?: number };

/** Damages `file` in one of `kinds` (deleting only snapshots: a missing segment is a different story). */
function mutate(dir: string, file: string, rng: Rng, kinds: string[]): Mutation {
  const path = join(dir, file);
  const buf = readFileSync(path);
  const allowed = file.startsWith('snapshot') ? kinds : kinds.filter((k) => k !== 'delete');
  const kind = allowed[rng.int(allowed.length)];
  const pos = () => rng.int(buf.length);
  switch (kind) {
    case 'truncate': {
      const to = rng.int(buf.length);
      writeFileSync(path, buf.subarray(0, to));
      return { file, kind, truncatedTo: to };
    }
    case 'flip':
    case 'flips': {
      const n = kind === 'flip' ? 1 : 2 + rng.int(7);
      for (let i = 0; i < n; i++) buf[pos()] ^= 1 << rng.int(8);
      break;
    }
    case 'overwrite':
    case 'zero': {
      const at = pos();
      const len = Math.min(1 + rng.int(64), buf.length - at);
      for (let i = at; i < at + len; i++) buf[i] = kind === 'zero' ? 0 : rng.int(256);
      break;
    }
    case 'append': {
      const extra = Buffer.alloc(1 + rng.int(100));
      for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256);
      writeFileSync(path, Buffer.concat([buf, extra]));
      return { file, kind };
    }
    case 'delete':
      unlinkSync(path);
      return { file, kind };
  }
  writeFileSync(path, buf);
  return { file, kind };
}

/** Byte offsets at which the newest segment's records end: a cut exactly there looks like a shorter log. */
function recordBoundaries(segment: Buffer): Set<number> {
  const ends = new Set<number>([JOURNAL_HEADER_BYTES]);
  let at = JOURNAL_HEADER_BYTES;
  while (at < segment.length) {
    at += RECORD_HEADER_BYTES + segment.readUInt32LE(at) + RECORD_TRAILER_BYTES;
    ends.add(at);
  }
  return ends;
}

const REPAIR_EVERY = 5;
const SALVAGE_EVERY = 3;

type Outcome = { kind: 'refused'; warnings: string[] } | { kind: 'recovered'; last: number; warnings: string[] };

/** Opens the damaged store and checks what it recovered against the log; the store is closed again. */
async function judge(dir: string, readOnly: boolean, what: string, salvage = false): Promise<Outcome> {
  const warnings: string[] = [];
  let store: Store;
  try {
    store = await Store.open(dir, { readOnly, salvage, onWarning: (w) => warnings.push(w) });
  } catch (err) {
    if (!(err instanceof StoreError) || err.code !== 'ECORRUPT') {
      throw new Error(`${what}: open failed with something other than a clear store error: ${(err as Error).stack}`, { cause: err });
    }
    assert.ok(err.message.includes(`store ${dir}`), `${what}: the error names the store`);
    assert.match(err.message, /\.eg[sj]/, `${what}: the error names the file`);
    return { kind: 'refused', warnings };
  }
  const last = store.lastSeq;
  const rec = store.recovered!;
  const state = stateFromRecovery(rec.snapshot, rec.records);
  const expected = expectedState(last);
  assert.equal(state.serialize(), expected.serialize(), `${what}: recovered state differs from the log's at seq ${last}`);
  assert.equal(state.scores(PROBES), expected.scores(PROBES), `${what}: scores differ`);
  assert.equal(store.meta, expectedMeta(last), `${what}: metadata`);
  await store.close();
  return { kind: 'recovered', last, warnings };
}

const PROBES = probeCodes(16);

const Corruption = suite('corruption');

Corruption(
  `${TRIALS} random truncations and bit flips, ${OTHER_TRIALS} other damages: a recovered state equal to the log's, or a clear error`,
  async () => {
    const { rng } = seededRng('53.store-corruption');
    const root = scratchDir('corrupt');
    const base = join(root, 'base');
    await buildBase(base);
    const files = readdirSync(base).sort();
    assert.equal(files, [
      'journal-0000000000000021.egj',
      'journal-0000000000000041.egj',
      'snapshot-0000000000000020.egs',
      'snapshot-0000000000000040.egs',
    ]);
    const newestSegment = files[1];
    const boundaries = recordBoundaries(readFileSync(join(base, newestSegment)));
    const tally = { exact: 0, warned: 0, refused: 0, silentCut: 0, salvaged: 0, salvageRefused: 0 };
    let repaired = 0;
    const byKind = new Map<string, { exact: number; warned: number; refused: number }>();
    let truncatedOrFlipped = 0;

    try {
      for (let trial = 0; trial < TRIALS + OTHER_TRIALS; trial++) {
        const dir = join(root, `t${trial}`);
        copyDir(base, dir);
        const mutations = [mutate(dir, files[rng.int(files.length)], rng, trial < TRIALS ? TRUNCATE_OR_FLIP : OTHER_DAMAGE)];
        if (TRUNCATE_OR_FLIP.includes(mutations[0].kind)) truncatedOrFlipped += 1;
        if (rng.next() < 0.2) {
          const other = files.filter((f) => f !== mutations[0].file);
          mutations.push(mutate(dir, other[rng.int(other.length)], rng, [...TRUNCATE_OR_FLIP, ...OTHER_DAMAGE]));
        }
        const what = `trial ${trial}: ${mutations.map((m) => `${m.kind} ${m.file}${m.truncatedTo !== undefined ? ` to ${m.truncatedTo}` : ''}`).join(' + ')}`;
        const key = mutations.map((m) => `${m.kind} ${m.file.slice(0, m.file.indexOf('-'))}`).join(' + ');
        const kindTally = byKind.get(key) ?? { exact: 0, warned: 0, refused: 0 };
        byKind.set(key, kindTally);

        // Every trial is judged on a read-only open (no fsync: fast); every REPAIR_EVERY-th trial also on a
        // writable open, which repairs what it routed around, and a second open that must then be quiet.
        const outcome = await judge(dir, true, what);
        if (trial % REPAIR_EVERY === 0) {
          const writable = await judge(dir, false, what);
          assert.equal(
            { ...writable, warnings: undefined },
            { ...outcome, warnings: undefined },
            `${what}: a writable open recovers the same`,
          );
          if (writable.kind !== 'refused') {
            const again: string[] = [];
            const reopened = await Store.open(dir, { onWarning: (w) => again.push(w) });
            assert.is(reopened.lastSeq, writable.last, `${what}: reopen finds the same last seq`);
            assert.equal(again, [], `${what}: the open after a repair is quiet`);
            await reopened.close();
            repaired += 1;
          }
        }
        if (outcome.kind === 'refused') {
          tally.refused += 1;
          kindTally.refused += 1;
          if (trial % SALVAGE_EVERY === 0) {
            // The user's way out: salvage keeps a prefix equal to the log's (judge checks it) and says so.
            const salvaged = await judge(dir, false, `${what} (salvage)`, true);
            if (salvaged.kind === 'refused') tally.salvageRefused += 1;
            else {
              assert.ok(salvaged.warnings.length > 0, `${what}: salvage warns`);
              const again: string[] = [];
              const reopened = await Store.open(dir, { onWarning: (w) => again.push(w) });
              assert.is(reopened.lastSeq, salvaged.last, `${what}: reopen after salvage finds the salvaged seq`);
              assert.equal(again, [], `${what}: the open after a salvage is quiet`);
              await reopened.close();
              tally.salvaged += 1;
            }
          }
        } else if (outcome.warnings.length === 0) {
          const silentCut = mutations.some((m) => m.file === newestSegment && m.truncatedTo !== undefined && boundaries.has(m.truncatedTo));
          assert.ok(outcome.last === LAST || silentCut, `${what}: recovered only up to seq ${outcome.last} of ${LAST} without a warning`);
          if (outcome.last < LAST) tally.silentCut += 1;
          else {
            tally.exact += 1;
            kindTally.exact += 1;
          }
        } else {
          tally.warned += 1;
          kindTally.warned += 1;
        }
        removeDir(dir);
      }
    } finally {
      removeDir(root);
    }
    console.log(
      `53.store-corruption: ${TRIALS + OTHER_TRIALS} trials (${truncatedOrFlipped} truncations or bit flips), ${JSON.stringify(tally)}, ${repaired} repaired by a writable open`,
    );
    for (const [k, t] of [...byKind].sort()) if (!k.includes(' + ')) console.log(`  ${k}: ${JSON.stringify(t)}`);
    assert.ok(tally.exact > 0 && tally.warned > 0 && tally.refused > 0, 'all three outcomes occurred');
    assert.ok(tally.salvaged > 0, 'salvage recovered refused stores');
    assert.is(tally.exact + tally.warned + tally.refused + tally.silentCut, TRIALS + OTHER_TRIALS);
    assert.ok(truncatedOrFlipped >= TRIALS, `${truncatedOrFlipped} truncations or bit flips, ${TRIALS} asked`);
    for (const kind of [...TRUNCATE_OR_FLIP, ...OTHER_DAMAGE])
      assert.ok(
        [...byKind.keys()].some((k) => k.startsWith(`${kind} `)),
        `damage kind ${kind} was tried`,
      );
  },
);

Corruption.run();
