// The sparse quantizer's own whitening: a new store fits one on the examples it keeps once they reach 16, refits
// it as they double and codes its memory anew each time, until the fit on CALIBRATION_ROWS examples, after which the
// features are dropped; whiten 'off' keeps the raw block alone; a refit a crash cut short is completed on open.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Engram } from '../src/learner/engram.js';
import { SPARSE_DEFAULTS, SparseQuantizer } from '../src/quantize/sparse.js';
import {
  CALIBRATION_ROWS,
  FINAL_SHRINK,
  OWN_CENTRE_LABELS,
  OWN_REFIT_LABELS,
  OWN_WHITENING_FIRST,
  OWN_WHITENING_SPREAD,
  keptRows,
  ownShrink,
} from '../src/learner/own-whitening.js';
import { whiteLayoutId } from '../src/learner/build-quantizer.js';
import { encodeWhitening, whiteningId } from '../src/quantize/whitening.js';
import { Rng } from '../src/util/rng.js';

const SEED = Number(process.env.SEED ?? 4242);
console.log(`49.self-whiten seed=${SEED}`);
const DIM = 160; // more than the whitening's 128 directions: a store fits its own only then
const QUANT = { kind: 'sparse' as const, dim: DIM, neurons: 512, k: 128 };

/** Classes on their own random directions, with a strong shared nuisance direction. */
function data(seed: number) {
  const rng = new Rng(seed);
  const nuisance = Float32Array.from({ length: DIM }, () => rng.next() * 2 - 1);
  const centres = Array.from({ length: 4 }, () => Float32Array.from({ length: DIM }, () => rng.next() * 2 - 1));
  return (c: number) => {
    const n = (rng.next() - 0.5) * 6;
    return Float32Array.from(centres[c], (v, t) => v + n * nuisance[t] + (rng.next() - 0.5) * 0.8);
  };
}

const BIN = fileURLToPath(new URL('../../bin/engram.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'engram-selfw-'));
const test = suite('a store fits its own whitening on the examples it learns');

/** The learner's whitening written as a file `engram codebook fit` would write. */
function whiteningOf(e: Engram, name: string): string {
  const path = join(work, name);
  writeFileSync(path, encodeWhitening((e.quantizer as SparseQuantizer).whitening!));
  return path;
}

/** As if a refit had written `donor`'s whitening file into `store` and died before the snapshot: reopens it. */
async function reopenWithFileOf(store: string, donor: string): Promise<Engram> {
  writeFileSync(join(store, 'whitening.egw'), readFileSync(join(donor, 'whitening.egw')));
  return Engram.open({ store });
}

/** n examples of classes 0..3 in turn, one per call. */
async function teach(e: Engram, draw: (c: number) => Float32Array, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) await e.learn('abcd'[i % 4], [draw(i % 4)]);
}

test('examples one per call: the first fit at 16 kept, refits at 32 and 64; the memory is coded anew each time, and a reopen answers the same', async () => {
  const draw = data(SEED);
  const store = join(work, 'a');
  const e = await Engram.open({ store, backbone: null, quantizer: QUANT });
  await teach(e, draw, OWN_WHITENING_FIRST - 1);
  assert.is((e.quantizer as SparseQuantizer).whitening, null, 'no fit before 16 examples, and no centring of 4 labels');
  assert.ok(e.core.archive, 'the features are kept while the store fits its whitening');
  assert.equal(e.stats().ownWhitening, {
    fittedOn: 0,
    centred: false,
    keptExamples: OWN_WHITENING_FIRST - 1,
    nextFitAt: OWN_WHITENING_FIRST,
  });
  await teach(e, draw, 1, OWN_WHITENING_FIRST - 1);
  const first16 = e.quantizer as SparseQuantizer;
  assert.is(first16.whitening?.samples, OWN_WHITENING_FIRST);
  assert.ok(first16.whitening?.withinClass, 'fitted on the within-class scatter of the labelled examples');
  assert.is(first16.whitening?.shrink, ownShrink(OWN_WHITENING_FIRST), 'shrinkage heavier for few examples');
  assert.ok(ownShrink(16) > ownShrink(512) && ownShrink(512) === ownShrink(2048));
  assert.is(first16.blocks.length, 2);
  assert.equal(e.stats().ownWhitening, {
    fittedOn: OWN_WHITENING_FIRST,
    centred: false,
    keptExamples: OWN_WHITENING_FIRST,
    nextFitAt: 2 * OWN_WHITENING_FIRST,
  });
  assert.ok(existsSync(join(store, 'whitening.egw')));
  const first = e.quantizerState.codebookId;
  await teach(e, draw, OWN_WHITENING_FIRST, OWN_WHITENING_FIRST);
  assert.is((e.quantizer as SparseQuantizer).whitening?.samples, 2 * OWN_WHITENING_FIRST);
  await teach(e, draw, 2 * OWN_WHITENING_FIRST, 2 * OWN_WHITENING_FIRST);
  assert.is((e.quantizer as SparseQuantizer).whitening?.samples, 4 * OWN_WHITENING_FIRST);
  const id = e.quantizerState.codebookId;
  assert.not.equal(id, first, 'refitted');
  assert.equal(e.stats().examples, { a: 16, b: 16, c: 16, d: 16 });
  const queries = [draw(0), draw(1), draw(2), draw(3)];
  const before = await e.predict(queries);
  assert.equal(
    before.map((p) => p.top[0].label),
    ['a', 'b', 'c', 'd'],
  );
  await e.close();
  const again = await Engram.open({ store });
  assert.is(again.quantizerState.codebookId, id);
  assert.equal(await again.predict(queries), before, 'the reopened store answers the same');
  // The memory is what a store given this whitening from the start would hold.
  const given = await Engram.memory({ backbone: null, quantizer: { ...QUANT, codebook: whiteningOf(again, 'a.egw') } });
  for (const op of again.core.archive!.ops) if (op.op === 'learn') await given.learn(op.label, [op.features!]);
  assert.equal(
    (await given.predict(queries)).map((p) => p.top),
    before.map((p) => p.top),
  );
  await given.close();
  await again.close();
  // engram stats says where the whitening stands.
  const stats = spawnSync(process.execPath, [BIN, 'stats', '--store', store], { encoding: 'utf8' });
  assert.is(stats.status, 0, stats.stderr);
  assert.match(
    stats.stdout,
    /own whitening: fitted on 64 examples; next fit at 128 examples or when new labels arrive \(64 kept with their features/,
  );
});

test('a label the fit never saw refits it before the examples double; past OWN_REFIT_LABELS labels, an eighth more do', async () => {
  const draw = data(SEED + 9);
  const e = await Engram.memory({ backbone: null, quantizer: QUANT });
  const samples = () => (e.quantizer as SparseQuantizer).whitening?.samples;
  await e.learn(
    'a',
    Array.from({ length: 20 }, () => draw(0)),
  );
  assert.is(samples(), 20, 'the first fit, on one label');
  await e.learn(
    'a',
    Array.from({ length: 5 }, () => draw(0)),
  );
  assert.is(samples(), 20, 'more of a label it saw: no refit before 40 examples');
  await e.learn(
    'b',
    Array.from({ length: 3 }, () => draw(1)),
  );
  assert.is(samples(), 28, 'a new label refits at once');
  assert.equal(e.stats().ownWhitening, { fittedOn: 28, centred: false, keptExamples: 28, nextFitAt: 56 });
  await e.learn('b', [draw(1)]);
  assert.is(samples(), 28);
  await e.close();

  // Many labels of two examples each: every new label refits until the fit has seen OWN_REFIT_LABELS of them.
  const m = await Engram.memory({ backbone: null, quantizer: QUANT });
  const pair = (i: number) => [draw(i % 4), draw(i % 4)];
  let fits = 0;
  let last: number | undefined;
  for (let i = 0; i < OWN_REFIT_LABELS; i++) {
    await m.learn(`l${i}`, pair(i));
    const now = (m.quantizer as SparseQuantizer).whitening?.samples;
    if (now !== last) fits++;
    last = now;
  }
  assert.is(last, 2 * OWN_REFIT_LABELS, 'refitted at the last new label');
  assert.is(fits, OWN_REFIT_LABELS - OWN_WHITENING_FIRST / 2 + 1, 'from the first fit on, at every label');
  // Past them, a new label alone does not refit: an eighth more labels (8 here) do.
  const eighth = OWN_REFIT_LABELS / 8;
  for (let i = OWN_REFIT_LABELS; i < OWN_REFIT_LABELS + eighth - 1; i++) {
    await m.learn(`l${i}`, pair(i));
    assert.is((m.quantizer as SparseQuantizer).whitening?.samples, 2 * OWN_REFIT_LABELS, `no refit at label ${i}`);
  }
  await m.learn(`l${OWN_REFIT_LABELS + eighth - 1}`, pair(0));
  assert.is((m.quantizer as SparseQuantizer).whitening?.samples, 2 * (OWN_REFIT_LABELS + eighth));
  await m.close();
});

test('one example each of 8 labels or more: the store centres its codes on their mean at every learn, in the white layout, until a label has two', async () => {
  const draw = data(SEED + 6);
  const store = join(work, 'centred');
  // Ten labels of one example each: 4 directions of data() plus noise give distinct examples.
  const one = (i: number) => Float32Array.from(draw(i % 4), (v, t) => v + Math.sin(t * (i + 3)));
  let e = await Engram.open({ store, backbone: null, quantizer: QUANT });
  for (let i = 0; i < OWN_CENTRE_LABELS - 1; i++) await e.learn(`l${i}`, [one(i)]);
  assert.is((e.quantizer as SparseQuantizer).whitening, null, `no centring of ${OWN_CENTRE_LABELS - 1} labels`);
  for (let i = OWN_CENTRE_LABELS - 1; i < 10; i++) await e.learn(`l${i}`, [one(i)]);
  const centred = e.quantizer as SparseQuantizer;
  const kept = e.core.archive!.ops.flatMap((op) => (op.op === 'learn' ? [op.features!] : []));
  assert.is(kept.length, 10, 'the features are kept');
  assert.is(centred.whitening?.d, 0, 'a centring');
  assert.is(centred.whitening?.samples, 10, 'redone at every learn');
  for (const t of [0, 7, DIM - 1]) {
    const m = kept.reduce((sum, f) => sum + f[t], 0) / kept.length;
    assert.ok(Math.abs(centred.whitening!.mean[t] - m) < 1e-5, `centre ${t}: ${centred.whitening!.mean[t]} against ${m}`);
  }
  assert.is(centred.blocks.length, 1, 'every neuron in one centred block');
  assert.is(centred.neurons, QUANT.neurons + SPARSE_DEFAULTS.whiteNeurons);
  assert.is(e.quantizerState.codebookId, whiteLayoutId(centred.whitening!));
  assert.equal(e.stats().ownWhitening, { fittedOn: 10, centred: true, keptExamples: 10, nextFitAt: OWN_WHITENING_FIRST });
  // The stored examples themselves: each code is its own label's column.
  const probes = kept;
  const answers = await e.predict(probes);
  assert.equal(
    answers.map((p) => p.top[0].label),
    probes.map((_, i) => `l${i}`),
    "each example is its own label's best",
  );
  await e.close();
  // A reopen builds the same layout and answers the same; engram stats says the store is centred.
  e = await Engram.open({ store });
  assert.is(e.quantizerState.codebookId, whiteLayoutId(centred.whitening!));
  assert.equal(await e.predict(probes), answers);
  await e.close();
  const stats = spawnSync(process.execPath, [BIN, 'stats', '--store', store], { encoding: 'utf8' });
  assert.is(stats.status, 0, stats.stderr);
  assert.match(stats.stdout, /own whitening: centred on the mean of 10 examples; next fit at 16 examples \(10 kept/);
  // A second example of a label: the raw codes again (its open-set threshold is calibrated from now on).
  e = await Engram.open({ store });
  await e.learn('l0', [one(0)]);
  assert.is((e.quantizer as SparseQuantizer).whitening, null, 'no centring once a label has two examples');
  assert.equal((e.quantizer as SparseQuantizer).blocks, [{ name: 'raw', begin: 0, neurons: QUANT.neurons, k: QUANT.k }]);
  assert.is(e.quantizerState.codebookId, 'none');
  assert.equal(e.stats().ownWhitening, { fittedOn: 0, centred: false, keptExamples: 11, nextFitAt: OWN_WHITENING_FIRST });
  const raw = await e.predict(probes);
  await e.close();
  e = await Engram.open({ store });
  assert.is(e.quantizerState.codebookId, 'none', 'reopened with the raw codes, the centring file left aside');
  assert.equal(await e.predict(probes), raw);
  // The first whitening: split layout.
  for (let i = 1; i < OWN_WHITENING_SPREAD; i++) await e.learn(`l${i % 2}`, [one(i % 2)]);
  assert.is((e.quantizer as SparseQuantizer).whitening?.d, 10 + OWN_WHITENING_SPREAD - 1, 'a whitening of n - 1 directions');
  assert.is((e.quantizer as SparseQuantizer).blocks.length, 2);
  await e.close();
});

test('the fit that sees CALIBRATION_ROWS examples is the last: the features are dropped and later learns keep none', async () => {
  const draw = data(SEED + 1);
  const store = join(work, 'b');
  // A first learn of A examples (fitted on all of them), then one that passes the last fit's size.
  const A = Math.round(0.75 * CALIBRATION_ROWS);
  const B = Math.round(0.3 * CALIBRATION_ROWS);
  const e = await Engram.open({ store, backbone: null, quantizer: QUANT });
  await e.learn(
    'a',
    Array.from({ length: A }, () => draw(0)),
  );
  assert.is((e.quantizer as SparseQuantizer).whitening?.samples, A);
  assert.ok(e.core.archive);
  await e.learn(
    'b',
    Array.from({ length: B }, () => draw(1)),
  );
  assert.is((e.quantizer as SparseQuantizer).whitening?.samples, CALIBRATION_ROWS, `a sample of the ${A + B} examples`);
  assert.is(e.core.archive, null, 'features dropped');
  assert.equal(e.core.ownWhitening?.fixed, true);
  assert.equal(e.stats().ownWhitening, { fittedOn: CALIBRATION_ROWS, centred: false, keptExamples: 0, nextFitAt: null });
  // The last fit is coded in the white layout: every neuron in one white block, the same code size; the store
  // records it by its own id (not the whitening file's), with the lighter shrinkage of the last fit.
  const q = e.quantizer as SparseQuantizer;
  assert.equal(q.blocks, [{ name: 'white', begin: 0, neurons: 512 + 2048, k: 128 + 512 }]);
  assert.is(q.whitening?.shrink, FINAL_SHRINK);
  assert.is(e.quantizerState.codebookId, whiteLayoutId(q.whitening!));
  assert.is.not(e.quantizerState.codebookId, whiteningId(q.whitening!));
  assert.equal(e.core.ownWhitening, { codebookId: e.quantizerState.codebookId, fixed: true });
  const id = e.quantizerState.codebookId;
  await e.learn('c', [draw(2), draw(2)]);
  const queries = [draw(0), draw(1), draw(2)];
  const before = (await e.predict(queries)).map((p) => p.top);
  await e.close();
  const again = await Engram.open({ store });
  assert.is(again.quantizerState.codebookId, id);
  assert.equal((again.quantizer as SparseQuantizer).blocks.length, 1, 'reopened in the white layout');
  assert.is(again.core.archive, null);
  assert.equal(again.stats().examples, { a: A, b: B, c: 2 });
  assert.equal(
    (await again.predict(queries)).map((p) => p.top),
    before,
  );
  await again.close();
});

test('the last fit cut short after its whitening file: the reopened store codes its memory in the white layout', async () => {
  const draw = data(SEED + 4);
  // A donor reaches its last fit: its whitening file is one a last fit writes.
  const donor = join(work, 'last-donor');
  const d = await Engram.open({ store: donor, backbone: null, quantizer: QUANT });
  await d.learn(
    'a',
    Array.from({ length: CALIBRATION_ROWS + 10 }, () => draw(0)),
  );
  const final = (d.quantizer as SparseQuantizer).whitening!;
  assert.is(final.samples, CALIBRATION_ROWS);
  await d.close();
  // A store between its fits, as if its last refit had written that file and died before the snapshot.
  const store = join(work, 'last');
  const e = await Engram.open({ store, backbone: null, quantizer: QUANT });
  await e.learn(
    'a',
    Array.from({ length: Math.round(0.6 * CALIBRATION_ROWS) }, () => draw(0)),
  );
  await e.learn(
    'b',
    Array.from({ length: 20 }, () => draw(1)),
  );
  assert.is(e.core.ownWhitening?.fixed, false);
  await e.close();
  const again = await reopenWithFileOf(store, donor);
  assert.is(again.quantizerState.codebookId, whiteLayoutId(final));
  assert.equal((again.quantizer as SparseQuantizer).blocks.length, 1, 'white layout');
  assert.equal(again.core.ownWhitening, { codebookId: whiteLayoutId(final), fixed: true });
  assert.is(again.core.archive, null, 'features dropped once final');
  const queries = [draw(0), draw(1)];
  const top = (await again.predict(queries)).map((p) => p.top);
  await again.close();
  // The rebuilt state was written: the next open takes it as it is.
  const third = await Engram.open({ store });
  assert.is(third.quantizerState.codebookId, whiteLayoutId(final));
  assert.equal(
    (await third.predict(queries)).map((p) => p.top),
    top,
  );
  await third.close();
});

test('many labels of one example each: centred until a class has a spread, and the features are not kept for ever', async () => {
  const e = await Engram.memory({ backbone: null, quantizer: QUANT });
  const one = (i: number) => Float32Array.from({ length: DIM }, (_, t) => Math.sin(t * (i + 1)) + 0.1 * Math.cos(t * i));
  for (let i = 0; i < 40; i++) await e.learn(`c${i}`, [one(i)]);
  assert.is(e.stats().classes, 40, 'every learn was taken');
  // Centred from 8 labels at every learn up to 16, then as the examples double; every learn tries for a whitening.
  assert.equal(e.stats().ownWhitening, { fittedOn: 32, centred: true, keptExamples: 40, nextFitAt: 33 });
  const codes = e.quantizerState.codebookId;
  await e.learn('c40', [one(40)]);
  assert.is(e.quantizerState.codebookId, codes, 'no new centring between doublings');
  // A spread appears: the next learn fits.
  await e.learn(
    'c0',
    Array.from({ length: OWN_WHITENING_SPREAD }, (_, j) => Float32Array.from(one(0), (v, t) => v + 0.05 * Math.sin(t * j))),
  );
  assert.equal(e.stats().ownWhitening, { fittedOn: 49, centred: false, keptExamples: 49, nextFitAt: 98 });
  assert.is((e.quantizer as SparseQuantizer).blocks.length, 2, 'fitted once one class varies: split layout');
  await e.close();
  // Only single examples up to the last fit's size: the centring on all of them is final, the features dropped.
  const f = await Engram.memory({ backbone: null, quantizer: { ...QUANT, neurons: 256, k: 64 } });
  for (let s = 0; s < CALIBRATION_ROWS; s += 256) for (let i = s; i < s + 256; i++) await f.learn(`d${i}`, [one(i % 97)]);
  assert.is(f.core.archive, null, 'features dropped');
  assert.equal(f.stats().ownWhitening, { fittedOn: CALIBRATION_ROWS, centred: true, keptExamples: 0, nextFitAt: null });
  assert.is((f.quantizer as SparseQuantizer).whitening?.d, 0);
  assert.is((f.quantizer as SparseQuantizer).blocks.length, 1);
  await f.close();
  // Not all of one example (no centring) and too little spread for a whitening: at the last fit's size the
  // store stops keeping features and keeps its raw codes.
  const g = await Engram.memory({ backbone: null, quantizer: { ...QUANT, neurons: 256, k: 64 } });
  await g.learn('twice', [one(1), one(2)]);
  for (let i = 1; i < CALIBRATION_ROWS - 2; i++) await g.learn(`d${i}`, [one(i % 97)]);
  assert.is(keptRows(g.core), CALIBRATION_ROWS - 1);
  assert.ok(g.core.archive, 'kept below the last fit');
  await g.learn('last', [one(5)]);
  assert.is(g.core.archive, null, 'features dropped');
  assert.is(g.stats().ownWhitening, null);
  assert.is((g.quantizer as SparseQuantizer).whitening, null);
  await g.close();
});

test("whiten 'off' keeps the raw block whatever the first learn brings", async () => {
  const draw = data(SEED + 2);
  const e = await Engram.memory({ backbone: null, quantizer: { ...QUANT, whiten: 'off' } });
  await e.learn(
    'a',
    Array.from({ length: 100 }, () => draw(0)),
  );
  assert.is((e.quantizer as SparseQuantizer).whitening, null);
  assert.is(e.core.archive, null, 'no features kept');
  assert.is(e.stats().ownWhitening, null);
  await e.close();
  // Features of no more dimensions than the whitening's 128 directions (the embedded backbone's): raw block only.
  const narrow = await Engram.memory({ backbone: null, quantizer: { kind: 'sparse', dim: 128 } });
  await narrow.learn(
    'a',
    Array.from({ length: 100 }, () => Float32Array.from({ length: 128 }, (_, t) => Math.sin(t) + Math.random())),
  );
  assert.is((narrow.quantizer as SparseQuantizer).whitening, null);
  assert.is(narrow.core.archive, null);
  await narrow.close();
});

test('a refit cut short after its whitening file: the reopened store codes its memory anew under that file', async () => {
  const draw = data(SEED + 3);
  const donor = join(work, 'donor');
  const d = await Engram.open({ store: donor, backbone: null, quantizer: QUANT });
  await teach(d, draw, 70);
  await d.close();
  const store = join(work, 'c');
  const e = await Engram.open({ store, backbone: null, quantizer: QUANT });
  await teach(e, draw, 80);
  const queries = [draw(0), draw(1), draw(2), draw(3)];
  await e.close();
  // As if a refit had replaced the whitening file and the process died before the snapshot.
  const again = await reopenWithFileOf(store, donor);
  const reader = await Engram.open({ store: donor, readOnly: true });
  const donorId = reader.quantizerState.codebookId;
  await reader.close();
  assert.is(again.quantizerState.codebookId, donorId);
  assert.is(again.core.ownWhitening?.codebookId, donorId);
  const given = await Engram.memory({ backbone: null, quantizer: { ...QUANT, codebook: whiteningOf(again, 'c.egw') } });
  for (const op of again.core.archive!.ops) if (op.op === 'learn') await given.learn(op.label, [op.features!]);
  assert.equal(
    (await again.predict(queries)).map((p) => p.top),
    (await given.predict(queries)).map((p) => p.top),
  );
  await given.close();
  await again.close();
  // The rebuilt state was written: the next open takes it as it is.
  const third = await Engram.open({ store });
  assert.is(third.quantizerState.codebookId, donorId);
  await third.close();
});

test('a centring cut short after its whitening file: the reopened store codes its memory centred on that mean', async () => {
  const draw = data(SEED + 5);
  const donor = join(work, 'centre-donor');
  const d = await Engram.open({ store: donor, backbone: null, quantizer: QUANT });
  const labelled = async (x: Engram, n: number, from = 0) => {
    for (let i = from; i < from + n; i++) await x.learn(`l${i}`, [Float32Array.from(draw(i % 4), (v, t) => v + Math.cos(t * (i + 2)))]);
  };
  await labelled(d, 8);
  const centre = (d.quantizer as SparseQuantizer).whitening!;
  assert.is(centre.d, 0);
  await d.close();
  const store = join(work, 'centre');
  const e = await Engram.open({ store, backbone: null, quantizer: QUANT });
  await labelled(e, 9, 100);
  await e.close();
  const again = await reopenWithFileOf(store, donor);
  assert.is(again.quantizerState.codebookId, whiteLayoutId(centre));
  assert.is((again.quantizer as SparseQuantizer).blocks.length, 1, 'white layout');
  assert.equal(again.core.ownWhitening, { codebookId: whiteLayoutId(centre), fixed: false });
  assert.equal(again.stats().ownWhitening, { fittedOn: 8, centred: true, keptExamples: 9, nextFitAt: OWN_WHITENING_FIRST });
  const queries = [draw(0), draw(1), draw(2), draw(3)];
  const answers = await again.predict(queries);
  await again.close();
  const third = await Engram.open({ store });
  assert.is(third.quantizerState.codebookId, whiteLayoutId(centre));
  assert.equal(await third.predict(queries), answers, 'the rebuilt state was written');
  // The next learn centres again on the store's own examples.
  await labelled(third, 1, 200);
  assert.equal(third.stats().ownWhitening, { fittedOn: 10, centred: true, keptExamples: 10, nextFitAt: OWN_WHITENING_FIRST });
  await third.close();
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
