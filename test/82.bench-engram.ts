// The engram side of the benchmarks: EngramMethod (the product's LearnerCore on PQ codes) and the research
// prototype ResearchMemory, on tiny synthetic features. The prototype with bits only and threshold 1 must
// predict exactly what the product's OR memory predicts, so its other settings are measured against the
// real thing; per-class relative thresholds keep a 1-shot class while pruning a many-shot one.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fitCodebook } from '../src/quantize/codebook.js';
import { EngramMethod } from '../bench/lib/engram-method.js';
import { ResearchMemory, type ResearchSettings } from '../bench/lib/research.js';
import { SubclassMemory } from '../bench/lib/subclass.js';
import { Rng } from '../src/util/rng.js';
import { blobs, centres } from './helpers/bench-blobs.js';

const SEED = Number(process.env.SEED ?? 8282);
console.log(`82.bench-engram seed=${SEED}`);

const BASE: ResearchSettings = { counterMax: 1, scoring: 'bits', minCount: 1, storeOnError: false, warmup: 0, queryProbes: 1, relative: 0 };

function data(seed: number) {
  const rng = new Rng(seed);
  const c = centres(rng, 4, 16, 1);
  return { train: blobs(rng, c, 30, 0.6), test: blobs(rng, c, 30, 0.6) };
}

const Same = suite('prototype vs product');

Same('bits-only prototype with threshold 1 predicts exactly as the product OR memory', () => {
  const { train, test } = data(SEED);
  const cb = fitCodebook(train.features, 16, { parts: 8, anchors: 8, center: true, l2: true, seed: 1 });
  const product = new EngramMethod(cb, { deployment: 'binary', probes: 1, minCount: 1, refine: false });
  const proto = new ResearchMemory([cb], BASE);
  for (let k = 0; k < 4; k++) {
    const f = train.features.subarray(k * 30 * 16, (k + 1) * 30 * 16);
    const y = train.labels.subarray(k * 30, (k + 1) * 30);
    product.learn(f, y);
    proto.learn(f, y);
  }
  const a = product.predict(test.features);
  const b = proto.predict(test.features);
  assert.equal(Array.from(b), Array.from(a));
  assert.is(proto.connections(), product.core.memory.stats().connections);
  let ok = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === test.labels[i]) ok++;
  assert.ok(ok / a.length > 0.7, `accuracy ${ok / a.length}`);
});

Same('bytes per class: N/8 for bits, N*(1+4)/8 when log scoring keeps 4-bit counters', () => {
  const { train } = data(SEED + 1);
  const cb = fitCodebook(train.features, 16, { parts: 8, anchors: 8, seed: 1 });
  assert.is(new ResearchMemory([cb], BASE).bytesPerClass(), 8);
  assert.is(new ResearchMemory([cb], { ...BASE, counterMax: 15, scoring: 'log' }).bytesPerClass(), 40);
  assert.is(new ResearchMemory([cb, cb], BASE).bytesPerClass(), 16);
  const pruned = new EngramMethod(cb, { deployment: 'pruned', probes: 1, minCount: 2, refine: false });
  const counters = new EngramMethod(cb, { deployment: 'counters', probes: 1, minCount: 2, refine: false });
  assert.is(pruned.bytesPerClass(), 8);
  assert.is(counters.bytesPerClass(), 40);
});

const Thresholds = suite('count thresholds');

Thresholds('a fixed threshold above the shots erases a few-shot class; a relative one keeps it', () => {
  const { train, test } = data(SEED + 2);
  const cb = fitCodebook(train.features, 16, { parts: 8, anchors: 8, center: true, l2: true, seed: 1 });
  const fixed = new EngramMethod(cb, { deployment: 'pruned', probes: 1, minCount: 4, refine: false });
  const relative = new ResearchMemory([cb], { ...BASE, counterMax: 15, relative: 0.1 });
  // Class 0 with 30 examples, class 1 with a single one (8 parts: 8 connections when kept).
  for (const m of [fixed, relative]) m.learn(train.features.subarray(0, 30 * 16), train.labels.subarray(0, 30));
  const before = relative.connections();
  for (const m of [fixed, relative]) m.learn(train.features.subarray(30 * 16, 31 * 16), train.labels.subarray(30, 31));
  assert.is(fixed.core.memory.stats().connectionsPerClass[1], 0, 'the pruned 1-shot class has no connections left');
  assert.is(relative.connections() - before, 8, 'relative threshold 1 for a 1-shot class keeps all its connections');
  const q = test.features.subarray(30 * 16, 60 * 16);
  assert.is(fixed.predict(q).filter((c) => c === 1).length, 0, 'nothing is ever predicted as the erased class');
  // The 30-shot class is pruned at round(0.1 * 30) = 3: fewer connections than kept with threshold 1.
  const plain = new ResearchMemory([cb], { ...BASE, counterMax: 15 });
  plain.learn(train.features.subarray(0, 30 * 16), train.labels.subarray(0, 30));
  const rel0 = new ResearchMemory([cb], { ...BASE, counterMax: 15, relative: 0.1 });
  rel0.learn(train.features.subarray(0, 30 * 16), train.labels.subarray(0, 30));
  assert.ok(rel0.connections() < plain.connections(), `${rel0.connections()} < ${plain.connections()}`);
});

const Columns = suite('several columns per class');

Columns('one column per class is the relative-threshold memory; more columns cost proportionally more bytes', () => {
  const { train, test } = data(SEED + 3);
  const cb = fitCodebook(train.features, 16, { parts: 8, anchors: 8, center: true, l2: true, seed: 1 });
  const one = new SubclassMemory(cb, 1, 0.1);
  const proto = new ResearchMemory([cb], { ...BASE, counterMax: 15, relative: 0.1 });
  one.learn(train.features, train.labels);
  proto.learn(train.features, train.labels);
  assert.equal(Array.from(one.predict(test.features)), Array.from(proto.predict(test.features)));
  assert.is(new SubclassMemory(cb, 4, 0.1).bytesPerClass(), 4 * one.bytesPerClass());
});

Columns('each class opens its columns with its first examples and never more than asked', () => {
  const { train } = data(SEED + 4);
  const cb = fitCodebook(train.features, 16, { parts: 8, anchors: 8, seed: 1 });
  const m = new SubclassMemory(cb, 3, 0.1);
  m.learn(train.features, train.labels);
  assert.equal(m.labelOf, [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  const q = m.predict(train.features);
  let ok = 0;
  for (let i = 0; i < q.length; i++) if (q[i] === train.labels[i]) ok++;
  assert.ok(ok / q.length > 0.7, `training accuracy ${ok / q.length}`);
});

Same.run();
Columns.run();
Thresholds.run();
