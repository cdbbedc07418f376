// The learner core on synthetic codes: learning, prediction, unknowns, forgetting, pruning, refinement,
// journal records and snapshots. Codes are drawn so that each class has its own preferred neurons.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LearnerCore } from '../src/learner/core.js';
import { decodeOp, encodeOp, type LearnerOp } from '../src/learner/ops.js';
import { parsePrunePolicy } from '../src/learner/prune.js';
import { parseMemoryOptions, parseQuantizerOptions } from '../src/learner/config.js';
import { OpenSetCalibration } from '../src/learner/openset.js';
import { Rng } from '../src/util/rng.js';

const SEED = Number(process.env.SEED ?? 4242);
console.log(`31.learner-core seed=${SEED}`);

const P = 16; // parts
const K = 32; // anchors per part
const OPTS = { neurons: P * K, active: P, counterBits: 4 as const, refine: true, minCount: 1 };

/** A class prototype: one preferred anchor per part; examples keep each part with probability `keep`. */
function makeClass(rng: Rng): number[] {
  return Array.from({ length: P }, () => rng.int(K));
}
function example(rng: Rng, proto: number[], keep: number): number[] {
  return proto.map((k, p) => p * K + (rng.next() < keep ? k : rng.int(K)));
}
/** The class's ideal code: its preferred anchor in every part. */
function ideal(proto: number[]): number[] {
  return proto.map((k, p) => p * K + k);
}
function codes(rows: number[][]): Uint32Array {
  return Uint32Array.from(rows.flat());
}

const Core = suite('LearnerCore');

Core('learns classes one at a time and predicts held-out examples well above chance', () => {
  const rng = new Rng(SEED);
  const core = new LearnerCore(OPTS);
  const protos = Array.from({ length: 8 }, () => makeClass(rng));
  protos.forEach((proto, c) => {
    const rows = Array.from({ length: 10 }, () => example(rng, proto, 0.7));
    core.learn(`class-${c}`, codes(rows), rows.length);
  });
  let correct = 0;
  for (let c = 0; c < protos.length; c++) {
    const rows = Array.from({ length: 20 }, () => example(rng, protos[c], 0.7));
    for (const p of core.predict(codes(rows), rows.length)) if (p.top[0].label === `class-${c}`) correct++;
  }
  assert.ok(correct / 160 > 0.9, `accuracy ${correct / 160}`);
});

Core('scores are shares of active neurons and the margin is best minus second', () => {
  const core = new LearnerCore(OPTS);
  const a = Array.from({ length: P }, (_, p) => p * K);
  const b = Array.from({ length: P }, (_, p) => p * K + (p < 4 ? 0 : 1));
  core.learn('a', codes([a]), 1);
  core.learn('b', codes([b]), 1);
  const [pred] = core.predict(codes([a]), 1);
  assert.is(pred.top[0].label, 'a');
  assert.is(pred.score, 1);
  assert.is(pred.top[1].score, 4 / P);
  assert.is(pred.margin, 1 - 4 / P);
});

Core('answers unknown for a class it has never seen once calibrated', () => {
  const rng = new Rng(SEED + 1);
  const core = new LearnerCore(OPTS);
  const protos = Array.from({ length: 6 }, () => makeClass(rng));
  for (let round = 0; round < 3; round++) {
    protos.forEach((proto, c) => {
      const rows = Array.from({ length: 4 }, () => example(rng, proto, 0.8));
      core.learn(`c${c}`, codes(rows), rows.length);
    });
  }
  assert.ok(core.threshold() > 0, `threshold ${core.threshold()}`);
  const novel = makeClass(rng);
  const rows = Array.from({ length: 20 }, () => example(rng, novel, 0.8));
  const unknown = core.predict(codes(rows), rows.length).filter((p) => p.label === null).length;
  assert.ok(unknown >= 18, `${unknown}/20 novel examples answered unknown`);
  const known = Array.from({ length: 20 }, () => example(rng, protos[2], 0.8));
  const named = core.predict(codes(known), known.length).filter((p) => p.label === 'c2').length;
  assert.ok(named >= 18, `${named}/20 known examples named`);
});

Core('forget removes a class; it is never predicted again and others are untouched', () => {
  const rng = new Rng(SEED + 2);
  const core = new LearnerCore(OPTS);
  const protos = [makeClass(rng), makeClass(rng), makeClass(rng)];
  protos.forEach((proto, c) => core.learn(`c${c}`, codes([ideal(proto), example(rng, proto, 0.9)]), 2));
  const c0Before = core.predict(codes([ideal(protos[0])]), 1)[0].top.find((t) => t.label === 'c0');
  const removed = core.forget('c1');
  assert.ok(removed > 0);
  assert.equal(core.activeLabels(), ['c0', 'c2']);
  const preds = core.predict(codes([ideal(protos[1]), ideal(protos[0])]), 2);
  assert.not.equal(preds[0].label, 'c1');
  assert.ok(preds[0].top.every((t) => t.label !== 'c1'));
  assert.equal(
    preds[1].top.find((t) => t.label === 'c0'),
    c0Before,
    'c0 scores as before',
  );
  assert.throws(() => core.forget('c1'), /no class named "c1"/);
  assert.throws(() => core.forget('nope'), /no class named "nope"/);
});

Core('a forgotten label can be learned again', () => {
  const core = new LearnerCore(OPTS);
  const a = Array.from({ length: P }, (_, p) => p * K + 3);
  core.learn('x', codes([a]), 1);
  core.forget('x');
  core.learn('x', codes([a]), 1);
  assert.is(core.predict(codes([a]), 1)[0].top[0].label, 'x');
});

Core('count pruning drops connections seen once and keeps the repeated ones', () => {
  const rng = new Rng(SEED + 3);
  const core = new LearnerCore({ ...OPTS, refine: false });
  const proto = makeClass(rng);
  const rows = Array.from({ length: 12 }, () => example(rng, proto, 0.6));
  core.learn('c', codes(rows), rows.length);
  const before = core.memory.stats().connections;
  const removed = core.prune({ kind: 'count', minCount: 2 });
  assert.ok(removed > 0 && removed < before);
  assert.is(core.memory.stats().connections, before - removed);
  assert.is(core.predict(codes([ideal(proto)]), 1)[0].score, 1, 'every prototype connection was seen often enough to stay');
});

Core('a prune or a forget recalibrates "unknown" from the kept probe codes; snapshots keep the probes', () => {
  const rng = new Rng(SEED + 9);
  const core = new LearnerCore({ ...OPTS, refine: false });
  const protos = Array.from({ length: 4 }, () => makeClass(rng));
  protos.forEach((proto, c) => {
    const rows = Array.from({ length: 12 }, () => example(rng, proto, 0.7));
    core.learn(`c${c}`, codes(rows), rows.length);
  });
  assert.is(core.probes.probes.length, 48);
  const before = core.threshold();
  assert.ok(before > 0);
  // Fan-in 1 keeps only neurons no two classes share: every score drops, and so must the threshold.
  core.prune({ kind: 'fanin', maxClasses: 1 });
  const after = core.threshold();
  assert.ok(after < before, `threshold ${before} -> ${after}`);
  const held = protos.map((proto) => example(rng, proto, 0.7));
  const answered = core.predict(codes(held), held.length).filter((p, i) => p.label === `c${i}`).length;
  assert.ok(answered >= 3, `known examples answered right after the prune: ${answered} of 4`);
  const back = LearnerCore.deserialize(core.serialize());
  assert.is(back.threshold(), after);
  assert.equal(back.probes.probes, core.probes.probes);
  back.forget('c0');
  core.forget('c0');
  assert.is(back.threshold(), core.threshold(), 'a reloaded core recalibrates as the live one does');
  assert.ok(
    core.probes.probes.filter((p) => p.label === 0).every((p) => p.column === -1),
    "the forgotten class's probes are no longer stored",
  );
  const damaged = core.serialize();
  damaged[damaged.length - 1] ^= 0x01;
  assert.throws(() => LearnerCore.deserialize(damaged), /damaged calibration probe/);
});

Core('refinement weakens a wrong winner when an example is misclassified at learn time', () => {
  const core = new LearnerCore(OPTS);
  const shared = Array.from({ length: P }, (_, p) => p * K);
  core.learn('big', codes([shared]), 1);
  // An example of "small" that "big" wins: refinement removes big's connections on it (count 1 -> 0).
  core.learn('small', codes([shared.map((n, p) => (p < 2 ? n + 1 : n))]), 1);
  const out = core.learn('small', codes([shared]), 1);
  assert.is(out.refined, 1);
  const [pred] = core.predict(codes([shared]), 1);
  assert.is(pred.top[0].label, 'small');
});

Core('ops replayed on a fresh core give the same scores and snapshot bytes', () => {
  const rng = new Rng(SEED + 4);
  const ops: LearnerOp[] = [];
  const a = new LearnerCore(OPTS);
  const protos = Array.from({ length: 5 }, () => makeClass(rng));
  protos.forEach((proto, c) => {
    const rows = Array.from({ length: 6 }, () => example(rng, proto, 0.7));
    ops.push({ op: 'learn', label: `c${c}`, codes: codes(rows), rows: rows.length, active: P });
  });
  ops.push({ op: 'forget', label: 'c3' }, { op: 'prune', policy: { kind: 'count', minCount: 2 } });
  for (const op of ops) a.apply(op);
  const b = new LearnerCore(OPTS);
  for (const op of ops) b.apply(decodeOp(encodeOp(op)));
  assert.ok(a.serialize().equals(b.serialize()));
  const probe = codes(protos.map((p) => example(rng, p, 0.7)));
  assert.equal(a.predict(probe, protos.length), b.predict(probe, protos.length));
  const c = LearnerCore.deserialize(a.serialize());
  assert.equal(c.predict(probe, protos.length), a.predict(probe, protos.length));
  assert.ok(c.serialize().equals(a.serialize()));
});

Core('a damaged snapshot is an error, not a silent load', () => {
  const core = new LearnerCore(OPTS);
  core.learn('a', codes([Array.from({ length: P }, (_, p) => p * K)]), 1);
  const bytes = core.serialize();
  assert.throws(() => LearnerCore.deserialize(Buffer.from('garbage')), /not an engram learner snapshot/);
  assert.throws(() => LearnerCore.deserialize(bytes.subarray(0, 20)), /truncated/);
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 3] ^= 0x40;
  assert.throws(() => LearnerCore.deserialize(flipped));
});

const Records = suite('journal records and policies');

Records('every op kind round-trips', () => {
  const ops: LearnerOp[] = [
    { op: 'learn', label: 'ünïcode label', codes: Uint32Array.from([1, 2, 3, 4]), rows: 2, active: 2 },
    { op: 'forget', label: 'x' },
    { op: 'prune', policy: { kind: 'budget', maxBytes: 1000 } },
    { op: 'prune', policy: { kind: 'fanin', maxClasses: 3 } },
  ];
  for (const op of ops) assert.equal(decodeOp(encodeOp(op)), op);
});

Records('malformed records are errors naming the problem', () => {
  assert.throws(() => decodeOp(new Uint8Array([])), /empty/);
  assert.throws(() => decodeOp(new Uint8Array([9])), /unknown type 9/);
  const learn = encodeOp({ op: 'learn', label: 'a', codes: Uint32Array.from([1, 2]), rows: 1, active: 2 });
  assert.throws(() => decodeOp(learn.subarray(0, learn.length - 1)), /expects 1 x 2 codes/);
});

Records('prune policies are validated', () => {
  assert.throws(() => parsePrunePolicy({ kind: 'budget' }), /needs maxBytes or maxDensity/);
  assert.throws(
    () => parsePrunePolicy({ kind: 'count', minCount: 0 }),
    /policy\.minCount: expected an integer in \[1, 255\], got number 0/,
  );
  assert.throws(() => parsePrunePolicy({ kind: 'fanin', maxClases: 2 }), /unknown option "maxClases"/);
  assert.throws(() => parsePrunePolicy({ kind: 'shrink' }), /policy\.kind: expected one of budget, fanin, count, share, class/);
  assert.throws(() => parsePrunePolicy('count'), TypeError);
  assert.equal(parsePrunePolicy({ kind: 'budget', maxDensity: 0.2 }), { kind: 'budget', maxDensity: 0.2 });
});

Records('quantizer and memory options have defaults and reject misspellings', () => {
  assert.equal(parseQuantizerOptions({}), { kind: 'sparse', neurons: 3072, k: 768, whiten: 'auto' });
  assert.equal(parseQuantizerOptions({ kind: 'pq' }), { kind: 'pq', parts: 32, anchors: 256, probes: 4, center: true, l2: true });
  assert.equal(parseQuantizerOptions({ kind: 'sparse', neurons: 1024 }), { kind: 'sparse', neurons: 1024, k: 256, whiten: 'auto' });
  assert.throws(() => parseQuantizerOptions({ kind: 'sparse', whiten: 'yes' }), /quantizer\.whiten/);
  assert.throws(() => parseQuantizerOptions({ kind: 'sparse', parts: 8 }), /quantizer\.parts: only applies to kind "pq"/);
  assert.throws(() => parseQuantizerOptions({ kind: 'topk', neurons: 8 }), /quantizer\.neurons: only applies to kind "sparse"/);
  assert.throws(() => parseQuantizerOptions({ kind: 'sparse', neurons: 64, k: 64 }), /quantizer\.k: expected an integer in \[1, 63\]/);
  assert.is(parseMemoryOptions({}, 'sparse').counterBits, 8);
  assert.is(parseMemoryOptions({}, 'pq').counterBits, 4);
  assert.equal(parseQuantizerOptions({ kind: 'topk', k: 8 }), { kind: 'topk', k: 8 });
  assert.throws(() => parseQuantizerOptions({ kind: 'pq', part: 3 }), /unknown option "part"/);
  assert.throws(() => parseQuantizerOptions({ kind: 'sign', anchors: 3 }), /quantizer\.anchors: only applies to kind "pq"/);
  assert.throws(() => parseQuantizerOptions({ parts: '8' }), TypeError);
  assert.throws(() => parseMemoryOptions({ counterBits: 3 }), /expected 0, 4 or 8/);
  assert.throws(() => parseMemoryOptions({ unknownThreshold: 2 }), RangeError);
});

const OpenSet = suite('OpenSetCalibration');

OpenSet('threshold separates novel from known scores, and is 0 before enough samples', () => {
  const c = new OpenSetCalibration();
  assert.is(c.threshold(), 0);
  for (const s of [0.8, 0.9, 0.85, 0.95, 0.7, 0.75]) c.observeKnown(s);
  for (const s of [0.2, 0.3, 0.25, 0.35, 0.4, 0.1]) c.observeNovel(s);
  const t = c.threshold();
  assert.ok(t > 0.4 && t <= 0.7, `threshold ${t}`);
  assert.equal(OpenSetCalibration.fromJSON(c.toJSON()).threshold(), t);
});

OpenSet('near-duplicate known scores (frames of one camera) put the threshold in the middle of the gap, not at their lowest', () => {
  const c = new OpenSetCalibration();
  for (const s of [1, 0.995, 0.999, 0.998, 1, 0.997]) c.observeKnown(s);
  for (const s of [0.3, 0.45, 0.4, 0.5, 0.35]) c.observeNovel(s);
  const t = c.threshold();
  assert.ok(Math.abs(t - (0.5 + 0.995) / 2) < 1e-9, `threshold ${t}`);
});

Core.run();
Records.run();
OpenSet.run();
