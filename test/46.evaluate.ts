// Engram.evaluate on real MNIST digit files and raw pixels against a real store: every number of the report
// is recomputed here from predict's own answers on the same inputs, with and without novel labels; unreadable
// files are listed, not fatal; bad arguments are refused with errors that name them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engram, type EngramInput, type EvalReport, type Prediction } from '../src/index.js';
import { loadMnist, indicesByClass, imageAt } from '../src/datasets/idx.js';
import { writeDigits } from './helpers/learner-files.js';

const KNOWN = [0, 1, 2, 3, 4];
const NOVEL = [7, 8];
const work = mkdtempSync(join(tmpdir(), 'engram-eval-'));
const store = join(work, 'store');

interface Item {
  input: EngramInput;
  label: string;
}

let known: Item[] = [];
let novel: Item[] = [];

/** The report's numbers worked out directly from predict's answers, one simple loop per quantity. */
function expected(items: Item[], preds: Prediction[], storeLabels: string[]) {
  const isKnown = (l: string) => storeLabels.includes(l);
  const k = items.map((it, i) => ({ truth: it.label, p: preds[i] })).filter((x) => isKnown(x.truth));
  const n = items.map((it, i) => ({ truth: it.label, p: preds[i] })).filter((x) => !isKnown(x.truth));
  const cell = new Map<string, number>();
  items.forEach((it, i) => {
    const key = `${it.label}->${preds[i].label ?? '<null>'}`;
    cell.set(key, (cell.get(key) ?? 0) + 1);
  });
  return {
    top1: k.filter((x) => x.p.top[0]?.label === x.truth).length,
    knownRight: k.filter((x) => x.p.label === x.truth).length,
    knownWrong: k.filter((x) => x.p.label !== null && x.p.label !== x.truth).length,
    knownUnknown: k.filter((x) => x.p.label === null).length,
    novelUnknown: n.filter((x) => x.p.label === null).length,
    novelLabelled: n.filter((x) => x.p.label !== null).length,
    known: k.length,
    novel: n.length,
    cell,
  };
}

function checkAgainstPredict(report: EvalReport, items: Item[], preds: Prediction[]): void {
  const e = expected(items, preds, report.storeLabels);
  assert.is(report.counts.items, items.length);
  assert.is(report.counts.evaluated, items.length);
  assert.is(report.counts.failed, 0);
  assert.is(report.counts.known, e.known);
  assert.is(report.counts.novel, e.novel);
  assert.equal(report.top1, { count: e.top1, of: e.known, rate: e.known ? e.top1 / e.known : null });
  assert.is(report.openSet.known.right.count, e.knownRight);
  assert.is(report.openSet.known.wrong.count, e.knownWrong);
  assert.is(report.openSet.known.unknown.count, e.knownUnknown);
  assert.is(report.openSet.novel.unknown.count, e.novelUnknown);
  assert.is(report.openSet.novel.labelled.count, e.novelLabelled);
  assert.equal(report.openSet.accuracy, {
    count: e.knownRight + e.novelUnknown,
    of: items.length,
    rate: (e.knownRight + e.novelUnknown) / items.length,
  });
  // Every cell of the confusion matrix, and nothing outside it.
  const { rows, columns, counts } = report.confusion;
  let total = 0;
  rows.forEach((r, i) =>
    columns.forEach((c, j) => {
      assert.is(counts[i][j], e.cell.get(`${r}->${c ?? '<null>'}`) ?? 0, `cell ${r} -> ${c}`);
      total += counts[i][j];
    }),
  );
  assert.is(total, items.length);
  assert.is(columns.at(-1), null, 'unknown is the last column');
  // Per class: recall is the right share of the row, top-1 the best-class share; mistakes are the wrong answers.
  for (const c of report.classes) {
    const mine = items.map((it, i) => ({ it, p: preds[i] })).filter((x) => x.it.label === c.label);
    const right = mine.filter((x) => x.p.label === (c.known ? c.label : null)).length;
    assert.is(c.items, mine.length);
    assert.is(c.correct, right);
    assert.is(c.recall, right / mine.length);
    assert.is(c.top1, c.known ? mine.filter((x) => x.p.top[0]?.label === c.label).length / mine.length : null);
    assert.is(c.unknown, mine.filter((x) => x.p.label === null).length);
  }
  assert.is(report.mistakes.length, items.length - e.knownRight - e.novelUnknown);
  for (const m of report.mistakes) {
    assert.is(m.truth, items[m.index].label);
    assert.is(m.label, preds[m.index].label);
    assert.ok(m.label !== m.truth);
  }
}

const Api = suite('Engram.evaluate');

Api.before(async () => {
  const train = await writeDigits(work, 'train', KNOWN, 12);
  const e = await Engram.open({ store, backbone: 'engram-glyph' });
  for (const d of KNOWN)
    await e.learn(
      String(d),
      train.filter((f) => f.includes(`/train/${d}/`)),
    );
  await e.close();
  const test = await writeDigits(work, 'test', [...KNOWN, ...NOVEL], 15);
  const labelOf = (f: string) => f.split('/').at(-2)!;
  known = test.filter((f) => KNOWN.includes(Number(labelOf(f)))).map((f) => ({ input: f, label: labelOf(f) }));
  novel = test.filter((f) => NOVEL.includes(Number(labelOf(f)))).map((f) => ({ input: f, label: labelOf(f) }));
});

Api.after(() => rmSync(work, { recursive: true, force: true }));

Api('a known-only test set: every number agrees with predict on the same files', async () => {
  const e = await Engram.open({ store, readOnly: true });
  try {
    const report = await e.evaluate(known, { batch: 16 });
    const preds = await e.predict(known.map((x) => x.input));
    checkAgainstPredict(report, known, preds);
    assert.equal(report.storeLabels, KNOWN.map(String));
    assert.equal(report.confusion.rows, KNOWN.map(String));
    assert.equal(
      report.confusion.columns.slice(0, KNOWN.length),
      KNOWN.map(String),
      'known rows and columns line up: right answers on the diagonal',
    );
    assert.is(report.counts.novelLabels, 0);
    assert.equal(report.openSet.novel.unknown, { count: 0, of: 0, rate: null });
    console.log(
      `known digits: top-1 ${report.top1.rate}, right ${report.openSet.known.right.rate}, unknown ${report.openSet.known.unknown.rate}`,
    );
    assert.ok(report.top1.rate! >= 0.85, `top-1 ${report.top1.rate} (chance 0.2)`);
  } finally {
    await e.close();
  }
});

Api('novel labels: rows after the known ones, their right answer is unknown', async () => {
  const e = await Engram.open({ store, readOnly: true });
  try {
    const items = [...novel.slice(0, 10), ...known, ...novel.slice(10)];
    const report = await e.evaluate(items);
    const preds = await e.predict(items.map((x) => x.input));
    checkAgainstPredict(report, items, preds);
    assert.equal(report.confusion.rows, [...KNOWN, ...NOVEL].map(String));
    assert.equal(
      report.classes.map((c) => c.known),
      [...KNOWN.map(() => true), ...NOVEL.map(() => false)],
    );
    assert.is(report.counts.novel, NOVEL.length * 15);
    assert.is(report.counts.novelLabels, NOVEL.length);
    // Novel digits look less like the stored ones than the stored ones' own test images do.
    assert.ok(report.openSet.novel.unknown.rate! > report.openSet.known.unknown.rate!, JSON.stringify(report.openSet));
  } finally {
    await e.close();
  }
});

Api('raw pixels are evaluated like the PNG files holding the same digits', async () => {
  const set = loadMnist('test');
  const by = indicesByClass(set);
  // writeDigits wrote test/<d>/<i>.png for the first 15 of each class, JPEG for every fifth index.
  const items: Item[] = [];
  const files: Item[] = [];
  for (const d of KNOWN) {
    for (const i of by
      .get(d)!
      .slice(0, 15)
      .filter((i) => i % 5 !== 0)) {
      const img = imageAt(set, i);
      items.push({ input: { data: img.data, width: img.width, height: img.height, channels: 1 }, label: String(d) });
      files.push({ input: join(work, 'test', String(d), `${i}.png`), label: String(d) });
    }
  }
  const e = await Engram.open({ store, readOnly: true });
  try {
    const raw = await e.evaluate(items);
    const png = await e.evaluate(files);
    assert.equal(raw.confusion, png.confusion);
    assert.equal(raw.top1, png.top1);
    assert.ok(
      raw.mistakes.every((m) => m.file === undefined),
      'raw inputs have no file name',
    );
  } finally {
    await e.close();
  }
});

Api('an unreadable file is listed in failed and left out of every rate; the rest are answered', async () => {
  const bad = join(work, 'test', '2', 'broken.png');
  writeFileSync(bad, 'not a PNG at all');
  const missing = join(work, 'test', '3', 'missing.png');
  const items = [...known.slice(0, 20), { input: bad, label: '2' }, ...known.slice(20, 40), { input: missing, label: '3' }];
  const e = await Engram.open({ store, readOnly: true });
  try {
    const report = await e.evaluate(items, { batch: 8 });
    assert.is(report.counts.items, 42);
    assert.is(report.counts.evaluated, 40);
    assert.equal(
      report.failed.map((f) => [f.index, f.file, f.truth]),
      [
        [20, bad, '2'],
        [41, missing, '3'],
      ],
    );
    assert.match(report.failed[0].error, /broken\.png/);
    assert.match(report.failed[1].error, /missing\.png/);
    const good = [...known.slice(0, 20), ...known.slice(20, 40)];
    const clean = await e.evaluate(good);
    assert.equal(report.confusion, clean.confusion);
    assert.equal(report.openSet, clean.openSet);
  } finally {
    await e.close();
    rmSync(bad);
  }
});

Api('progress reaches the total; an aborted signal stops the evaluation', async () => {
  const e = await Engram.open({ store, readOnly: true });
  try {
    const seen: [number, number][] = [];
    await e.evaluate(known.slice(0, 25), { batch: 10, onProgress: (done, total) => seen.push([done, total]) });
    assert.equal(seen, [
      [10, 25],
      [20, 25],
      [25, 25],
    ]);
    const ctl = new AbortController();
    let calls = 0;
    const run = e.evaluate(known, {
      batch: 10,
      signal: ctl.signal,
      onProgress: () => {
        calls += 1;
        ctl.abort();
      },
    });
    await assertRejects(() => run, /abort/i);
    assert.is(calls, 1, 'no batch runs after the abort');
  } finally {
    await e.close();
  }
});

Api('bad arguments are refused with errors that name them', async () => {
  const e = await Engram.open({ store, readOnly: true });
  try {
    await assertRejects(() => e.evaluate([]), /items: expected at least one labelled input/);
    await assertRejects(() => e.evaluate('x' as never), /items: expected an array of \{ input, label \}/);
    await assertRejects(() => e.evaluate([{ input: known[0].input, label: '' }]), /items\[0\]\.label: expected a non-empty string/);
    await assertRejects(() => e.evaluate([known[0], { label: '1' } as never]), /items\[1\]: expected an object \{ input, label \}/);
    await assertRejects(() => e.evaluate(known, { bach: 3 } as never), /options: unknown option "bach"/);
    await assertRejects(() => e.evaluate(known, { batch: 0 }), /options\.batch: expected an integer/);
  } finally {
    await e.close();
  }
  await assertRejects(() => e.evaluate(known), /closed/);
});

Api('a learner that knows no class: every label is novel and every answer unknown', async () => {
  const e = await Engram.memory({ backbone: 'engram-glyph' });
  try {
    const report = await e.evaluate(known.slice(0, 15));
    assert.equal(report.storeLabels, []);
    assert.is(report.counts.known, 0);
    assert.equal(report.top1, { count: 0, of: 0, rate: null });
    assert.equal(report.openSet.novel.unknown, { count: 15, of: 15, rate: 1 });
    assert.equal(report.confusion.columns, [null]);
    assert.ok(report.classes.every((c) => c.top1 === null && c.recall === 1));
  } finally {
    await e.close();
  }
});

async function assertRejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  let error: unknown = null;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof Error, `expected a rejection matching ${re}, nothing was thrown`);
  assert.match(error.message, re);
}

Api.run();
