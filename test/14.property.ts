// Property test: thousands of random operation sequences run on BinaryMemory (native) and ReferenceMemory
// (TypeScript) must give identical results, scores, stats and serialized bytes at every step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BinaryMemory, ReferenceMemory, type CodeBatch, type CounterBits, type PrunePolicy } from '../src/memory/index.js';
import { below, randomCodes, rng, seedFor } from './helpers/memory-random.js';

const seed = seedFor('14.property');
const SEQUENCES = Number(process.env.ENGRAM_PROPERTY_SEQUENCES ?? 2000);

type Pair = { n: BinaryMemory; r: ReferenceMemory };

function randomBatch(r: () => number, neurons: number, active: number): CodeBatch {
  const batch = 1 + below(r, 4);
  const pick = r();
  if (pick < 0.4) return { indices: randomCodes(r, batch, active, neurons), active };
  if (pick < 0.55) {
    const words = Math.ceil(neurons / 32);
    const bitset = new Uint32Array(batch * words);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < active; i++) {
        const n = below(r, neurons);
        bitset[b * words + (n >> 5)] |= 1 << (n & 31);
      }
    }
    return { bitset };
  }
  // variable length, duplicates allowed: the definition counts every listed index
  const offsets = new Uint32Array(batch + 1);
  const idx: number[] = [];
  for (let b = 0; b < batch; b++) {
    const len = below(r, 2 * active + 1);
    for (let i = 0; i < len; i++) idx.push(below(r, neurons));
    offsets[b + 1] = idx.length;
  }
  return { indices: new Uint32Array(idx), offsets };
}

function randomLabels(r: () => number, batch: number, classes: number): Uint32Array {
  return Uint32Array.from({ length: batch }, () => below(r, classes));
}

function batchSize(c: CodeBatch, neurons: number): number {
  if (c instanceof Uint32Array) throw new Error('unused');
  if ('bitset' in c) return c.bitset.length / Math.ceil(neurons / 32);
  return 'offsets' in c ? c.offsets.length - 1 : c.indices.length / c.active;
}

function randomPolicy(r: () => number, classes: number, counterBits: number): PrunePolicy {
  const kinds = [
    'maxFanIn',
    'maxDensity',
    'maxBytes',
    ...(classes > 0 ? ['classId'] : []),
    ...(counterBits ? ['minCount', 'minCountPerClass'] : []),
  ];
  switch (kinds[below(r, kinds.length)]) {
    case 'maxFanIn':
      return { maxFanIn: below(r, classes + 1) };
    case 'maxDensity':
      return { maxDensity: r() * 0.5 };
    case 'maxBytes':
      return { maxBytes: below(r, 400) };
    case 'classId':
      return { classId: below(r, classes) };
    case 'minCountPerClass':
      return { minCountPerClass: Array.from({ length: classes }, () => 1 + below(r, 5)) };
    default:
      return { minCount: below(r, 6) };
  }
}

/** Runs the same call on both; both must return equal values or throw the same message. */
function same<T>(log: string[], what: string, pair: Pair, call: (m: BinaryMemory | ReferenceMemory) => T): T | undefined {
  log.push(what);
  let a: T | undefined,
    b: T | undefined,
    ea = '',
    eb = '';
  try {
    a = call(pair.n);
  } catch (e) {
    ea = (e as Error).message;
  }
  try {
    b = call(pair.r);
  } catch (e) {
    eb = (e as Error).message;
  }
  assert.is(ea, eb, `${what}: errors differ\n${log.join('\n')}`);
  assert.equal(a, b, `${what}: results differ\n${log.join('\n')}`);
  return a;
}

function checkState(log: string[], pair: Pair): void {
  assert.equal(pair.n.stats(), pair.r.stats(), `stats differ\n${log.join('\n')}`);
  assert.ok(pair.n.serialize().equals(pair.r.serialize()), `serialized bytes differ\n${log.join('\n')}`);
}

test(`${SEQUENCES} random operation sequences agree (native vs reference)`, () => {
  const r = rng(seed);
  let ops = 0;
  for (let s = 0; s < SEQUENCES; s++) {
    const neurons = 1 + below(r, r() < 0.8 ? 64 : 600);
    const counterBits = ([0, 4, 8] as CounterBits[])[below(r, 3)];
    const active = 1 + below(r, Math.min(neurons, 8));
    const classes = below(r, 4);
    const opts = { neurons, counterBits, classes, active };
    const pair: Pair = { n: new BinaryMemory(opts), r: new ReferenceMemory(opts) };
    const log = [`sequence ${s}: ${JSON.stringify(opts)}`];
    const steps = 5 + below(r, 25);
    for (let k = 0; k < steps; k++, ops++) {
      const C = pair.n.classCount;
      const op = below(r, 10);
      if (op === 0 || C === 0) {
        const grow = r() < 0.1 ? 60 + below(r, 80) : 1;
        same(log, `addClass x${grow}`, pair, (m) => Array.from({ length: grow }, () => m.addClass()));
      } else if (op <= 3) {
        const codes = randomBatch(r, neurons, active);
        const labels = randomLabels(r, batchSize(codes, neurons), C);
        same(
          log,
          `store ${JSON.stringify(codes, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Uint32Array) : v))} -> ${String(labels)}`,
          pair,
          (m) => m.store(codes, labels),
        );
      } else if (op === 4) {
        const codes = randomBatch(r, neurons, active);
        const delta = below(r, 21) - 10;
        const label = below(r, C);
        same(log, `adjust delta ${delta} label ${label}`, pair, (m) => m.adjust(codes, label, delta));
      } else if (op === 5) {
        const policy = randomPolicy(r, C, counterBits);
        same(log, `prune ${JSON.stringify(policy)}`, pair, (m) => m.prune(policy));
      } else if (op === 6) {
        const other = { neurons, counterBits, classes: below(r, C + 3), active };
        const o: Pair = { n: new BinaryMemory(other), r: new ReferenceMemory(other) };
        for (let i = 0; i < 3 && other.classes > 0; i++) {
          const codes = randomBatch(r, neurons, active);
          const labels = randomLabels(r, batchSize(codes, neurons), other.classes);
          o.n.store(codes, labels);
          o.r.store(codes, labels);
        }
        log.push(`merge with ${JSON.stringify(other)}`);
        pair.n.merge(o.n);
        pair.r.merge(o.r);
      } else if (op === 7) {
        // a clone keeps the class capacity; a deserialized memory gets the capacity its classes need
        if (r() < 0.5) {
          log.push('clone');
          pair.n = pair.n.clone();
          pair.r = pair.r.clone();
        } else {
          log.push('deserialize(serialize)');
          pair.n = BinaryMemory.deserialize(pair.n.serialize(), { active });
          pair.r = ReferenceMemory.deserialize(pair.r.serialize(), { active });
        }
      } else {
        const codes = randomBatch(r, neurons, active);
        const minCount = counterBits && r() < 0.3 ? below(r, 5) : undefined;
        same(log, `score minCount ${minCount}`, pair, (m) => m.score(codes, minCount === undefined ? undefined : { minCount }));
      }
      if (r() < 0.3) checkState(log, pair);
    }
    checkState(log, pair);
  }
  console.log(`${SEQUENCES} sequences, ${ops} operations compared`);
});

test.run();
