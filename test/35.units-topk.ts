// Example units (one memory column per stored example, read by a vote), the two-sided top-k quantizer and
// the per-class share prune: against plain references computed here, through snapshots, the journal and
// a store directory, and with the errors a user meets.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LearnerCore } from '../src/learner/core.js';
import { parseMemoryOptions, parseQuantizerOptions } from '../src/learner/config.js';
import { parsePrunePolicy } from '../src/learner/prune.js';
import { Engram } from '../src/learner/engram.js';
import { TopKQuantizer } from '../src/quantize/quantizer.js';
import { Rng } from '../src/util/rng.js';

const SEED = Number(process.env.SEED ?? 3535);
console.log(`35.units-topk seed=${SEED}`);

const P = 12;
const K = 8;
const UNITS = { neurons: P * K, active: P, counterBits: 0 as const, refine: false, minCount: 1, units: 'example' as const, vote: 3 };

function randomCode(rng: Rng): number[] {
  return Array.from({ length: P }, (_, p) => p * K + rng.int(K));
}
/** A noisy copy: each part keeps its anchor with probability `keep`. */
function near(rng: Rng, code: number[], keep: number): number[] {
  return code.map((n, p) => (rng.next() < keep ? n : p * K + rng.int(K)));
}

/** Reference: score-weighted vote of the `vote` best stored examples (ties: earlier example first). */
function referenceScores(stored: { label: string; code: number[] }[], query: number[], vote: number): Map<string, number> {
  const q = new Set(query);
  const ranked = stored.map((s, i) => ({ ...s, i, m: s.code.filter((n) => q.has(n)).length })).sort((a, b) => b.m - a.m || a.i - b.i);
  const out = new Map<string, number>();
  for (const s of ranked.slice(0, vote)) out.set(s.label, (out.get(s.label) ?? 0) + s.m / (P * vote));
  return out;
}

async function assertRejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable(`expected a rejection matching ${re}`);
}

const Units = suite('example units');

Units('every stored example gets a column; scores equal a plain k-nearest vote over the stored codes', () => {
  const rng = new Rng(SEED);
  const core = new LearnerCore(UNITS);
  const stored: { label: string; code: number[] }[] = [];
  const modes = Array.from({ length: 4 }, () => [randomCode(rng), randomCode(rng)]);
  for (let c = 0; c < 4; c++) {
    const rows = Array.from({ length: 6 }, (_, i) => near(rng, modes[c][i % 2], 0.7));
    core.learn(`c${c}`, Uint32Array.from(rows.flat()), rows.length);
    for (const code of rows) stored.push({ label: `c${c}`, code });
  }
  assert.is(core.memory.classCount, 24);
  assert.equal(core.unitLabel, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3]);
  let checked = 0;
  for (let t = 0; t < 40; t++) {
    const c = t % 4;
    const query = near(rng, modes[c][t % 2], 0.6);
    const [pred] = core.predict(Uint32Array.from(query), 1, 4);
    const want = referenceScores(stored, query, UNITS.vote);
    for (const { label, score } of pred.top) {
      assert.ok(
        Math.abs(score - (want.get(label) ?? 0)) < 1e-12,
        `query ${t}: ${label} scored ${score}, reference ${want.get(label) ?? 0}`,
      );
      checked++;
    }
    const best = [...want.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    assert.is(pred.top[0].label, best[0]);
  }
  assert.ok(checked >= 40);
});

Units('a class made of two distant modes is recognised in both, where one ORed column is not', () => {
  const rng = new Rng(SEED + 1);
  const units = new LearnerCore(UNITS);
  const classes = new LearnerCore({ ...UNITS, units: 'class', counterBits: 0 });
  // "a" has two modes; "b" sits between them (half of each), so the ORed column of "a" covers b's code too.
  const m1 = randomCode(rng);
  const m2 = m1.map((n, p) => p * K + ((n - p * K + 4) % K));
  const between = m1.map((n, p) => (p % 2 === 0 ? n : m2[p]));
  for (const core of [units, classes]) {
    core.learn('a', Uint32Array.from([...m1, ...m2]), 2);
    core.learn('b', Uint32Array.from([...between, ...between]), 2);
  }
  const q = Uint32Array.from(between);
  assert.is(units.predict(q, 1)[0].label === null ? units.predict(q, 1)[0].top[0].label : units.predict(q, 1)[0].label, 'b');
  // With class columns "a" ties "b" on this code (both connect to every active neuron).
  const [cls] = classes.predict(q, 1, 2);
  assert.is(cls.top[0].score, cls.top[1].score);
});

Units('forget clears every column of the label, others predict as before, the label can come back', () => {
  const rng = new Rng(SEED + 2);
  const core = new LearnerCore(UNITS);
  const protos = Array.from({ length: 3 }, () => randomCode(rng));
  protos.forEach((p, c) => {
    const rows = Array.from({ length: 4 }, () => near(rng, p, 0.8));
    core.learn(`c${c}`, Uint32Array.from(rows.flat()), 4);
  });
  const probe = Uint32Array.from([...near(rng, protos[0], 0.8), ...near(rng, protos[2], 0.8)]);
  const before = core.predict(probe, 2);
  const removed = core.forget('c1');
  assert.is(removed, 4 * P);
  assert.equal(core.unitLabel!.slice(4, 8), [-1, -1, -1, -1]);
  assert.equal(core.activeLabels(), ['c0', 'c2']);
  assert.equal(
    core.predict(probe, 2).map((p) => p.top[0].label),
    before.map((p) => p.top[0].label),
  );
  assert.throws(() => core.forget('c1'), /no class named "c1"/);
  core.learn('c1', Uint32Array.from(protos[1]), 1);
  assert.is(core.predict(Uint32Array.from(protos[1]), 1)[0].top[0].label, 'c1');
  assert.is(core.unitLabel!.length, 13);
});

Units('snapshot round trip keeps columns, labels and predictions; a damaged unit table is refused', () => {
  const rng = new Rng(SEED + 3);
  const core = new LearnerCore(UNITS);
  for (let c = 0; c < 3; c++) core.learn(`c${c}`, Uint32Array.from(Array.from({ length: 5 }, () => randomCode(rng)).flat()), 5);
  core.forget('c1');
  const probe = Uint32Array.from(Array.from({ length: 8 }, () => randomCode(rng)).flat());
  const copy = LearnerCore.deserialize(core.serialize());
  assert.equal(copy.unitLabel, core.unitLabel);
  assert.equal(copy.predict(probe, 8), core.predict(probe, 8));
  // Rewrite the JSON header's unit table with a label id that does not exist.
  const bytes = core.serialize();
  const n = bytes.readUInt32LE(8);
  const head = JSON.parse(bytes.toString('utf8', 12, 12 + n));
  head.unitLabel[0] = 7;
  const json = Buffer.from(JSON.stringify(head), 'utf8');
  const bad = Buffer.concat([bytes.subarray(0, 8), Buffer.from(Uint32Array.of(json.length).buffer), json, bytes.subarray(12 + n)]);
  assert.throws(() => LearnerCore.deserialize(bad, 'test'), /test: damaged example-unit table/);
});

Units('count, share, fan-in and density pruning are refused; a byte budget evicts the oldest columns of the largest label', () => {
  const rng = new Rng(SEED + 4);
  const core = new LearnerCore(UNITS);
  core.learn('big', Uint32Array.from(Array.from({ length: 12 }, () => randomCode(rng)).flat()), 12);
  core.learn('small', Uint32Array.from(Array.from({ length: 2 }, () => randomCode(rng)).flat()), 2);
  for (const policy of [
    { kind: 'count', minCount: 2 },
    { kind: 'share', share: 0.5 },
    { kind: 'fanin', maxClasses: 3 },
  ] as const) {
    assert.throws(() => core.prune(policy), new RegExp(`${policy.kind} pruning does not apply to example units`));
  }
  assert.throws(() => core.prune({ kind: 'budget', maxDensity: 0.1 }), /every example unit has the same density/);
  const full = core.compressedBytes();
  const budget = Math.floor(full * 0.6);
  const removed = core.prune({ kind: 'budget', maxBytes: budget });
  assert.ok(core.compressedBytes() <= budget, `${core.compressedBytes()} > ${budget}`);
  assert.is(removed % P, 0);
  const evicted = removed / P;
  assert.ok(evicted > 0);
  // Only "big" lost columns, the oldest first.
  assert.equal(core.unitLabel!.slice(0, evicted), Array(evicted).fill(-1));
  assert.equal(core.unitLabel!.slice(12), [1, 1]);
  assert.is(core.examples[0], 12 - evicted);
  // A budget no memory meets keeps each label's last column.
  core.prune({ kind: 'budget', maxBytes: 0 });
  assert.is(core.examples[0], 1);
  assert.is(core.examples[1], 1);
});

Units('memory options: example units keep no counters, and vote belongs to example units', () => {
  assert.equal(parseMemoryOptions({ units: 'example' }), {
    counterBits: 0,
    refine: false,
    minCount: 1,
    keepFeatures: false,
    units: 'example',
    vote: 5,
  });
  assert.is(parseMemoryOptions({}).units, 'class');
  assert.throws(() => parseMemoryOptions({ units: 'example', counterBits: 4 }), /memory\.counterBits: example units keep no counters/);
  assert.throws(() => parseMemoryOptions({ units: 'example', refine: true }), /memory\.refine: does not apply to example units/);
  assert.throws(() => parseMemoryOptions({ units: 'example', minCount: 3 }), /memory\.minCount: does not apply to example units/);
  assert.throws(() => parseMemoryOptions({ vote: 3 }), /memory\.vote: only applies with units "example"/);
  assert.throws(() => parseMemoryOptions({ units: 'examples' }), /memory\.units/);
  assert.throws(() => parseMemoryOptions({ units: 'example', vote: 0 }), /memory\.vote/);
});

Units('a store with example units reopens identical, journals its columns, and refuses other units', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-units-'));
  try {
    const rng = new Rng(SEED + 5);
    const dim = 24;
    const centres = Array.from({ length: 3 }, () => Float32Array.from({ length: dim }, () => rng.next() * 2 - 1));
    const draw = (c: number) => Float32Array.from(centres[c], (v) => v + (rng.next() - 0.5) * 0.5);
    const opts = { store: dir, backbone: null, quantizer: { kind: 'sign' as const, dim }, memory: { units: 'example' as const, vote: 3 } };
    const a = await Engram.open(opts);
    for (let c = 0; c < 3; c++)
      await a.learn(
        `c${c}`,
        Array.from({ length: 4 }, () => draw(c)),
      );
    const probe = [draw(0), draw(1), draw(2)];
    const want = await a.predict(probe);
    assert.equal(
      want.map((p) => p.top[0].label),
      ['c0', 'c1', 'c2'],
    );
    assert.equal(a.stats().units, { kind: 'example', columns: 12, vote: 3 });
    await a.close();
    const b = await Engram.open({ store: dir });
    assert.equal(await b.predict(probe), want);
    assert.equal(b.stats().units, { kind: 'example', columns: 12, vote: 3 });
    await b.close();
    await assertRejects(
      () => Engram.open({ ...opts, memory: { units: 'class' } }),
      /was built with memory\.units = example; refusing class/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const TopK = suite('two-sided top-k');

TopK('activates the k largest and the k smallest standardised values, as a plain sort says', () => {
  const rng = new Rng(SEED + 6);
  const dim = 40;
  const k = 6;
  const mean = Float32Array.from({ length: dim }, () => rng.next() - 0.5);
  const std = Float32Array.from({ length: dim }, () => 0.5 + rng.next());
  const q = TopKQuantizer.twoSided(dim, k, { mean, std });
  assert.is(q.neurons, 2 * dim);
  assert.is(q.active, 2 * k);
  const rows = 5;
  const x = Float32Array.from({ length: rows * dim }, () => rng.next() * 4 - 2);
  const codes = q.encode(x, rows);
  for (let r = 0; r < rows; r++) {
    const z = Array.from({ length: dim }, (_, t) => ({ t, v: (x[r * dim + t] - mean[t]) / std[t] })).sort((a, b) => b.v - a.v);
    const high = z
      .slice(0, k)
      .map((e) => e.t)
      .sort((a, b) => a - b);
    const low = z
      .slice(dim - k)
      .map((e) => dim + e.t)
      .sort((a, b) => a - b);
    assert.equal(Array.from(codes.subarray(r * 2 * k, (r + 1) * 2 * k)), [...high, ...low]);
  }
  assert.throws(() => TopKQuantizer.twoSided(dim, dim / 2 + 1), /k: expected an integer in \[1, 20\], got number 21/);
});

TopK('quantizer options: twoSided only with kind topk', () => {
  assert.equal(parseQuantizerOptions({ kind: 'topk', k: 8, twoSided: true }), { kind: 'topk', k: 8, twoSided: true });
  assert.equal(parseQuantizerOptions({ kind: 'topk', k: 8, twoSided: false }), { kind: 'topk', k: 8 });
  assert.throws(() => parseQuantizerOptions({ kind: 'pq', twoSided: true }), /quantizer\.twoSided: only applies to kind "topk"/);
  assert.throws(() => parseQuantizerOptions({ kind: 'topk', twoSided: 'yes' }), /quantizer\.twoSided/);
});

const Share = suite('share pruning');

Share('each class keeps the connections seen in at least its share of its own examples', () => {
  const rng = new Rng(SEED + 7);
  const core = new LearnerCore({ neurons: P * K, active: P, counterBits: 8, refine: false, minCount: 1 });
  const counts = [new Map<number, number>(), new Map<number, number>()];
  const sizes = [40, 3];
  const protos = [randomCode(rng), randomCode(rng)];
  sizes.forEach((n, c) => {
    const rows = Array.from({ length: n }, () => near(rng, protos[c], 0.75));
    for (const code of rows) for (const neuron of code) counts[c].set(neuron, (counts[c].get(neuron) ?? 0) + 1);
    core.learn(`c${c}`, Uint32Array.from(rows.flat()), n);
  });
  const share = 0.2;
  const expectKept = counts.map((m, c) => [...m.values()].filter((v) => v >= Math.max(1, Math.round(share * sizes[c]))).length);
  const expectRemoved = counts.reduce((s, m) => s + m.size, 0) - expectKept[0] - expectKept[1];
  assert.ok(expectRemoved > 0);
  assert.is(core.prune({ kind: 'share', share }), expectRemoved);
  // The 3-shot class's threshold is 1: it lost nothing.
  assert.is(expectKept[1], counts[1].size);
  assert.equal(parsePrunePolicy({ kind: 'share', share: 0.5 }), { kind: 'share', share: 0.5 });
  assert.throws(() => parsePrunePolicy({ kind: 'share', share: 0 }), /policy\.share: expected a share above 0/);
  assert.throws(() => parsePrunePolicy({ kind: 'share', share: 1.5 }), /policy\.share/);
  const bits = new LearnerCore({ neurons: P * K, active: P, counterBits: 0, refine: false, minCount: 1 });
  assert.throws(() => bits.prune({ kind: 'share', share: 0.1 }), /share pruning needs counters/);
});

Units.run();
TopK.run();
Share.run();
