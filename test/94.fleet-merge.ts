// Fleet merge semantics (docs/fleet.md): merging is a join. Simulated devices (FleetMember, the same code
// `engram sync` runs) learn and forget at random while a simulated network delivers their changes late, twice,
// out of order and across partitions; once every change reached every device, all devices answer every query
// identically, and as one device that received everything. Seeded: SEED=n replays a failure.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LearnerCore, type CoreOptions } from '../src/learner/core.js';
import { FleetMember } from '../src/fleet/member.js';
import { FleetState, type Update } from '../src/fleet/state.js';
import { decodeUpdate, encodeUpdate } from '../src/fleet/codec.js';
import { readColumns, memoryFromColumns, sumColumns } from '../src/fleet/columns.js';
import { Rng } from '../src/util/rng.js';
import type { PrunePolicy } from '../src/learner/prune.js';

const SEED = Number(process.env.SEED ?? 2094);
console.log(`94.fleet-merge seed=${SEED}`);

const P = 16;
const K = 32;
const CLASS: CoreOptions = { neurons: P * K, active: P, counterBits: 8, refine: true, minCount: 1 };
const PLAIN: CoreOptions = { ...CLASS, refine: false };
const EXAMPLE: CoreOptions = { ...CLASS, refine: false, units: 'example', vote: 3 };
const COSINE: CoreOptions = { ...CLASS, counterBits: 4, read: 'cosine', blocks: [{ begin: 0, neurons: P * K, k: P }] };

function protos(rng: Rng, n: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: P }, () => rng.int(K)));
}
function examples(rng: Rng, proto: number[], rows: number): Uint32Array {
  return Uint32Array.from(Array.from({ length: rows }, () => proto.map((k, p) => p * K + (rng.next() < 0.7 ? k : rng.int(K)))).flat());
}
function shuffle<T>(rng: Rng, a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
/** Everything a core answers from, as bytes (labels, examples, columns, calibration, threshold). */
function answerBytes(core: LearnerCore): string {
  return core.serialize().toString('base64');
}
function answers(core: LearnerCore, queries: Uint32Array, rows: number): string {
  return JSON.stringify(core.predict(queries, rows, 5));
}

interface Run {
  devices: FleetMember[];
  /** Every change made, as the bytes a device would publish. */
  sent: Buffer[];
  queries: Uint32Array;
}

/**
 * D devices, each doing `steps` random things: learn a label (from a shared pool, so devices overlap), forget a
 * label it knows of, or receive a pending message (random order, sometimes twice). Partitions: for the first
 * half, devices only hear from their own half of the fleet.
 */
function simulate(rng: Rng, options: CoreOptions, D: number, steps: number, pool: number, forgetRate: number): Run {
  const ps = protos(rng, pool);
  const devices = Array.from({ length: D }, (_, d) => FleetMember.empty(`dev${d}`, options));
  const sent: Buffer[] = [];
  const from: number[] = [];
  const inbox: number[][] = devices.map(() => []);
  const post = (d: number, u: Update | null) => {
    if (!u) return;
    sent.push(encodeUpdate(u));
    from.push(d);
    const m = sent.length - 1;
    devices.forEach((_, e) => {
      if (e !== d) inbox[e].push(m);
    });
  };
  for (let s = 0; s < steps; s++) {
    const partitioned = s < steps / 2;
    const d = rng.int(D);
    const dev = devices[d];
    const r = rng.next();
    if (r < 0.45) {
      const c = rng.int(pool);
      const rows = 1 + rng.int(4);
      dev.applyOwn({ op: 'learn', label: `c${c}`, codes: examples(rng, ps[c], rows), rows, active: P });
      post(d, dev.takeChange());
    } else if (r < 0.45 + forgetRate) {
      const known = dev.view().activeLabels();
      if (known.length) {
        dev.applyOwn({ op: 'forget', label: known[rng.int(known.length)] });
        post(d, dev.takeChange());
      }
    } else {
      // Deliver one pending message; the same message may come again later (at-least-once delivery).
      const box = inbox[d].filter((m) => !partitioned || from[m] % 2 === d % 2);
      if (box.length) {
        const m = box[rng.int(box.length)];
        if (rng.next() < 0.7) inbox[d].splice(inbox[d].indexOf(m), 1);
        dev.merge(decodeUpdate(sent[m]));
        // A device that forgot a class because of a forget it heard of says nothing new: no change to post.
        post(d, dev.takeChange());
      }
    }
  }
  // Heal: every device gets every message, in its own random order, some twice.
  devices.forEach((dev, d) => {
    const all = shuffle(
      rng,
      [...sent.keys(), ...[...sent.keys()].filter(() => rng.next() < 0.3)].filter((m) => from[m] !== d),
    );
    for (const m of all) dev.merge(decodeUpdate(sent[m]));
  });
  // A forget a device hears of recalibrates its own learning (the calibration follows the memory): its new
  // samples are a change like any other, delivered to every device.
  for (let round = 0; round < 4; round++) {
    const more = devices.map((dev) => dev.takeChange());
    if (more.every((u) => !u)) break;
    more.forEach((u, d) => {
      if (!u) return;
      sent.push(encodeUpdate(u));
      from.push(d);
      devices.forEach((dev, e) => e !== d && dev.merge(decodeUpdate(sent[sent.length - 1])));
    });
  }
  const qp = protos(rng, 1)[0];
  const queries = Uint32Array.from(
    [...Array.from({ length: pool }, (_, c) => examples(rng, ps[c], 1)), examples(rng, qp, 1)].flatMap((a) => [...a]),
  );
  return { devices, sent, queries };
}

/** A device that heard every message but learned nothing itself: "one device that received everything". */
function observer(options: CoreOptions, sent: Buffer[], rng: Rng): FleetMember {
  const o = FleetMember.empty('observer', options);
  for (const m of shuffle(rng, [...sent.keys()])) o.merge(decodeUpdate(sent[m]));
  return o;
}

const Join = suite('merge is a join');

for (const [name, options] of [
  ['class units with refinement', CLASS],
  ['example units', EXAMPLE],
  ['cosine read, 4-bit counters', COSINE],
] as const) {
  Join(`${name}: devices that received the same changes answer identically, in any order, with duplicates and partitions`, () => {
    for (let trial = 0; trial < 6; trial++) {
      const rng = new Rng(SEED * 100 + trial);
      const D = 3 + rng.int(3);
      const run = simulate(rng, options, D, 120, 6, 0.1);
      const obs = observer(options, run.sent, rng);
      // Every device's own change after healing is already known: nothing is pending.
      for (const dev of run.devices) assert.is(dev.takeChange(), null, `trial ${trial}: a device still had an unpublished change`);
      const want = answerBytes(obs.view());
      const rows = run.queries.length / P;
      run.devices.forEach((dev, d) => {
        assert.is(answerBytes(dev.view()), want, `trial ${trial}: device ${d} differs from the observer`);
        assert.is(answers(dev.view(), run.queries, rows), answers(obs.view(), run.queries, rows));
      });
      assert.ok(obs.view().activeLabels().length > 0, `trial ${trial}: the run learned nothing`);
    }
  });
}

Join('merge is commutative, associative and idempotent on the state itself', () => {
  const rng = new Rng(SEED + 7);
  const run = simulate(rng, CLASS, 4, 80, 5, 0.15);
  const updates = run.sent.map((b) => decodeUpdate(b));
  const stateOf = (order: number[]) => {
    const s = new FleetState();
    for (const i of order) s.merge(updates[i]);
    return encodeUpdate(s.all()).toString('base64');
  };
  const base = stateOf([...updates.keys()]);
  for (let i = 0; i < 5; i++) assert.is(stateOf(shuffle(rng, [...updates.keys()])), base);
  assert.is(stateOf([...updates.keys(), ...updates.keys()]), base, 'every update twice');
  // (a merged into b) merged into c equals a into (b into c): merge whole states with one another.
  const parts = [0, 1, 2].map(() => new FleetState());
  updates.forEach((u, i) => parts[i % 3].merge(u));
  const left = new FleetState();
  left.merge(parts[0].all());
  left.merge(parts[1].all());
  left.merge(parts[2].all());
  const right = new FleetState();
  const bc = new FleetState();
  bc.merge(parts[2].all());
  bc.merge(parts[1].all());
  right.merge(bc.all());
  right.merge(parts[0].all());
  assert.is(encodeUpdate(left.all()).toString('base64'), base);
  assert.is(encodeUpdate(right.all()).toString('base64'), base);
});

const Same = suite('the fleet answers as one device that learned everything');

Same('without refinement, a class learned across devices holds the counters one device would', () => {
  const rng = new Rng(SEED + 11);
  const ps = protos(rng, 8);
  const single = new LearnerCore(PLAIN);
  const devices = Array.from({ length: 4 }, (_, d) => FleetMember.empty(`dev${d}`, PLAIN));
  const sent: Update[] = [];
  for (let i = 0; i < 60; i++) {
    const c = rng.int(8);
    const d = rng.int(4);
    const rows = 1 + rng.int(3);
    const codes = examples(rng, ps[c], rows);
    single.apply({ op: 'learn', label: `c${c}`, codes, rows, active: P });
    devices[d].applyOwn({ op: 'learn', label: `c${c}`, codes, rows, active: P });
    const u = devices[d].takeChange();
    if (u) sent.push(u);
  }
  for (const dev of devices) for (const u of shuffle(rng, [...sent])) dev.merge(u);
  const rows = 16;
  const queries = Uint32Array.from(Array.from({ length: rows }, () => [...examples(rng, ps[rng.int(8)], 1)]).flat());
  const byLabel = (core: LearnerCore) => {
    const cols = readColumns(core.memory);
    return Object.fromEntries(
      core.labels.map((l, id) => [l, { examples: core.examples[id], n: [...cols[id].neurons], c: [...cols[id].counts] }]),
    );
  };
  for (const dev of devices) {
    const view = dev.view();
    assert.equal(byLabel(view), byLabel(single));
    // Same columns, so the same scores for every query (the threshold is calibrated from other samples).
    assert.equal(
      view.predict(queries, rows, 8).map((p) => p.top),
      single.predict(queries, rows, 8).map((p) => p.top),
    );
  }
});

const Forget = suite('forget');

Forget('an old copy does not bring a forgotten class back; learning it after the forget does', () => {
  const rng = new Rng(SEED + 13);
  const [pa, pb] = protos(rng, 2);
  const a = FleetMember.empty('a', PLAIN);
  const b = FleetMember.empty('b', PLAIN);
  const c = FleetMember.empty('c', PLAIN);
  a.applyOwn({ op: 'learn', label: 'mug', codes: examples(rng, pa, 3), rows: 3, active: P });
  const learned = a.takeChange()!;
  b.merge(learned);
  b.applyOwn({ op: 'forget', label: 'mug' });
  const forgot = b.takeChange()!;
  assert.is(forgot.tombstones.length, 1);
  // c hears the forget first, then the old copy: mug stays forgotten.
  c.merge(forgot);
  c.merge(learned);
  assert.equal(c.view().activeLabels(), []);
  // a hears of the forget: its own memory drops mug, and what it publishes next does not carry it.
  a.merge(forgot);
  assert.equal(a.own.activeLabels(), []);
  a.applyOwn({ op: 'learn', label: 'cup', codes: examples(rng, pb, 2), rows: 2, active: P });
  const later = a.takeChange()!;
  assert.equal(
    later.contributions.map((x) => x.label),
    ['cup'],
  );
  // Taught again after the forget was heard: the new contribution is stamped after it and survives.
  a.applyOwn({ op: 'learn', label: 'mug', codes: examples(rng, pa, 2), rows: 2, active: P });
  const again = a.takeChange()!;
  for (const dev of [b, c]) {
    dev.merge(later);
    dev.merge(again);
    dev.merge(learned);
    assert.equal(dev.view().activeLabels(), ['cup', 'mug']);
    assert.is(dev.view().examples[dev.view().classOf('mug')], 2, 'only the examples taught after the forget');
  }
});

Forget('a learn concurrent with a forget resolves the same way on every device', () => {
  const rng = new Rng(SEED + 17);
  const [p] = protos(rng, 1);
  const a = FleetMember.empty('a', PLAIN);
  const b = FleetMember.empty('b', PLAIN);
  a.applyOwn({ op: 'learn', label: 'x', codes: examples(rng, p, 2), rows: 2, active: P });
  const first = a.takeChange()!;
  b.merge(first);
  // Concurrently: a adds examples, b forgets.
  a.applyOwn({ op: 'learn', label: 'x', codes: examples(rng, p, 2), rows: 2, active: P });
  const more = a.takeChange()!;
  b.applyOwn({ op: 'forget', label: 'x' });
  const gone = b.takeChange()!;
  a.merge(gone);
  b.merge(more);
  // a's examples were all started before the forget (same contribution, stamped before it): gone everywhere.
  assert.equal(a.view().activeLabels(), []);
  assert.equal(b.view().activeLabels(), []);
  assert.is(answerBytes(a.view()), answerBytes(b.view()));
});

const Local = suite('local policies');

Local('pruning and a fixed threshold stay on the device that set them', () => {
  const rng = new Rng(SEED + 19);
  const ps = protos(rng, 3);
  const a = FleetMember.empty('a', CLASS);
  const b = FleetMember.empty('b', CLASS);
  ps.forEach((p, i) => a.applyOwn({ op: 'learn', label: `c${i}`, codes: examples(rng, p, 6), rows: 6, active: P }));
  a.applyOwn({ op: 'prune', policy: { kind: 'count', minCount: 3 } });
  a.applyOwn({ op: 'threshold', value: 0.9 });
  const u = a.takeChange()!;
  b.merge(u);
  assert.ok(a.view().memory.stats().connections < b.view().memory.stats().connections, 'a pruned its view');
  assert.is(a.view().threshold(), 0.9);
  assert.is.not(b.view().threshold(), 0.9);
  // The facts themselves are unpruned: a third device gets b's view from a's change.
  assert.is(a.own.memory.stats().connections, b.view().memory.stats().connections);
});

Local("a pruned view is recalibrated from the device's own examples, as its own learner would be", () => {
  for (const options of [PLAIN, COSINE, EXAMPLE]) {
    const rng = new Rng(SEED + 31);
    const ps = protos(rng, 4);
    const a = FleetMember.empty('a', options);
    const b = FleetMember.empty('b', options);
    // One device alone first: its pruned view is its own learner pruned, threshold and all.
    ps.forEach((p, i) => a.applyOwn({ op: 'learn', label: `c${i}`, codes: examples(rng, p, 8), rows: 8, active: P }));
    b.merge(a.takeChange()!);
    const policy: PrunePolicy = options.units === 'example' ? { kind: 'budget', maxBytes: 40 } : { kind: 'share', share: 0.5 };
    a.applyOwn({ op: 'prune', policy });
    const alone = LearnerCore.deserialize(a.own.serialize());
    alone.prune(policy);
    const pruned = a.view();
    assert.ok(pruned.memory.stats().connections < b.view().memory.stats().connections, `${options.read ?? options.units}: pruned`);
    assert.is(pruned.threshold(), alone.threshold(), `${options.read ?? options.units}: threshold of the pruned view`);
    assert.is.not(pruned.threshold(), b.view().threshold(), `${options.read ?? options.units}: the threshold followed the prune`);
    // With another device's classes in the view, the probes still point at this device's own columns.
    const q = ps.map((p) => examples(rng, p, 1));
    b.applyOwn({ op: 'learn', label: 'c9', codes: examples(rng, protos(rng, 1)[0], 8), rows: 8, active: P });
    a.merge(b.takeChange()!);
    const merged = a.view();
    assert.equal(merged.activeLabels(), ['c0', 'c1', 'c2', 'c3', 'c9']);
    q.forEach((codes, i) => assert.is(merged.predict(codes, 1, 1)[0].label, `c${i}`, `${options.read ?? options.units}: c${i} answered`));
  }
});

const Codec = suite('update bytes');

Codec('encode and decode round-trip; damage is named', () => {
  const rng = new Rng(SEED + 23);
  const run = simulate(rng, EXAMPLE, 3, 40, 4, 0.1);
  for (const b of run.sent) assert.equal(encodeUpdate(decodeUpdate(b)), b);
  const b = run.sent.find((x) => x.length > 40)!;
  assert.throws(() => decodeUpdate(b.subarray(0, b.length - 3)), /truncated update|trailing bytes|exceeds/);
  assert.throws(() => decodeUpdate(Buffer.from('nope!')), /bad magic/);
  const v = Buffer.from(b);
  v[4] = 9;
  assert.throws(() => decodeUpdate(v), /version 9 is not supported/);
});

Codec('columns move between memories exactly; sums saturate', () => {
  const rng = new Rng(SEED + 29);
  const core = new LearnerCore(PLAIN);
  protos(rng, 5).forEach((p, i) => core.learn(`c${i}`, examples(rng, p, 400), 400));
  const cols = readColumns(core.memory);
  assert.ok(
    cols.some((c) => c.counts.includes(255)),
    'some counter saturated',
  );
  const copy = memoryFromColumns(cols, CLASS.neurons, 8, P);
  assert.equal(copy.serialize(), core.memory.serialize());
  const s = sumColumns([cols[0], cols[0]], 255);
  assert.ok(s.counts.every((v, i) => v === Math.min(255, 2 * cols[0].counts[i])));
  for (const bits of [0, 4] as const) {
    const m = new LearnerCore({ ...CLASS, counterBits: bits, refine: false });
    m.learn('x', examples(rng, protos(rng, 1)[0], 20), 20);
    assert.equal(memoryFromColumns(readColumns(m.memory), CLASS.neurons, bits, P).serialize(), m.memory.serialize());
  }
});

Join.run();
Same.run();
Forget.run();
Local.run();
Codec.run();
