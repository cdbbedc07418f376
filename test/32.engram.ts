// The Engram API on feature vectors (no backbone): in-memory and store-backed learners, reopening,
// refusing mismatched configuration, bad input, and journal replay equal to a rebuilt memory.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engram } from '../src/learner/engram.js';
import { encodeCodebook, fitCodebook } from '../src/quantize/codebook.js';
import { Rng } from '../src/util/rng.js';

const SEED = Number(process.env.SEED ?? 777);
console.log(`32.engram seed=${SEED}`);
const DIM = 32;

/** Gaussian-ish clusters: class c centred on its own random direction. */
function makeData(seed: number, classes: number, perClass: number) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: classes }, () => Float32Array.from({ length: DIM }, () => rng.next() * 2 - 1));
  const draw = (c: number) => Float32Array.from(centres[c], (v) => v + (rng.next() - 0.5) * 0.6);
  return { draw, sets: centres.map((_, c) => Array.from({ length: perClass }, () => draw(c))) };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'engram-test-'));
}

const Api = suite('Engram (feature vectors)');

Api('an in-memory learner learns classes incrementally and predicts them', async () => {
  const { draw, sets } = makeData(SEED, 6, 10);
  const e = await Engram.memory({ backbone: null, quantizer: { kind: 'sign', dim: DIM } });
  for (let c = 0; c < sets.length; c++) {
    const r = await e.learn(`k${c}`, sets[c]);
    assert.is(r.stored, 10);
    assert.is(r.classes, c + 1);
  }
  let correct = 0;
  for (let c = 0; c < 6; c++) {
    const preds = await e.predict(Array.from({ length: 10 }, () => draw(c)));
    correct += preds.filter((p) => p.top[0].label === `k${c}`).length;
  }
  assert.ok(correct >= 54, `${correct}/60 correct`);
  const s = e.stats();
  assert.is(s.classes, 6);
  assert.equal(s.examples.k0, 10);
  assert.is(s.quantizer.kind, 'sign');
  await e.close();
});

Api('bad input is refused with errors that name it, and nothing learned is lost', async () => {
  const { sets } = makeData(SEED + 1, 2, 3);
  const e = await Engram.memory({ backbone: null, quantizer: { kind: 'topk', k: 4, dim: DIM } });
  await e.learn('a', sets[0]);
  const before = e.stats();
  await assertRejects(
    () => e.learn('', sets[1]),
    /^label: expected a label of 1 to 255 bytes of valid UTF-8 without control characters, got string "", which is empty$/,
  );
  await assertRejects(() => e.learn('b', []), /inputs: expected at least one input/);
  await assertRejects(() => e.learn('b', [new Float32Array(DIM - 1)]), /inputs\[0\]: expected a feature vector of length 32/);
  await assertRejects(() => e.learn('b', [Float32Array.from({ length: DIM }, () => NaN)]), /not finite/);
  await assertRejects(() => e.learn('b', ['photo.png']), /has no backbone, so it takes feature vectors/);
  await assertRejects(
    () => e.learn('b', [42 as unknown as Float32Array]),
    /inputs\[0\]: expected a file path, image bytes, raw pixels or a Float32Array, got number 42/,
  );
  await assertRejects(() => e.forget('zzz'), /no class named "zzz"/);
  await assertRejects(() => e.predict(sets[0], { top: 0 }), /options\.top/);
  assert.equal(e.stats(), before);
  await e.close();
  await assertRejects(() => e.predict(sets[0]), /closed/);
});

Api('options are validated: misspellings, missing dimension, store on the in-memory variant', async () => {
  await assertRejects(() => Engram.memory({ backbone: null, quantizr: {} } as never), /unknown option "quantizr"/);
  await assertRejects(
    () => Engram.memory({ backbone: null, quantizer: { kind: 'sign' } }),
    /quantizer\.dim: a learner without a backbone needs the feature dimension/,
  );
  await assertRejects(() => Engram.memory({ store: '/tmp/x' } as never), /Engram\.memory keeps nothing on disk/);
  await assertRejects(() => Engram.memory({ backbone: null, quantizer: { kind: 'pq', dim: DIM } }), /needs quantizer\.codebook/);
});

const Stored = suite('Engram (store directory)');

Stored('a store reopens with everything acknowledged, and refuses a different quantizer or backbone', async () => {
  const dir = tmp();
  try {
    const { draw, sets } = makeData(SEED + 2, 4, 8);
    const q = { kind: 'sign' as const, dim: DIM };
    const a = await Engram.open({ store: dir, backbone: null, quantizer: q });
    for (let c = 0; c < 4; c++) await a.learn(`c${c}`, sets[c]);
    await a.forget('c2');
    const probe = [draw(0), draw(1), draw(3)];
    const want = await a.predict(probe);
    await a.close();

    const b = await Engram.open({ store: dir });
    assert.equal(b.stats().labels, ['c0', 'c1', 'c3']);
    assert.equal(await b.predict(probe), want);
    await b.save();
    await b.learn('c4', [draw(2)]);
    await b.close();

    const c = await Engram.open({ store: dir });
    assert.equal(c.stats().labels, ['c0', 'c1', 'c3', 'c4']);
    await c.close();

    await assertRejects(
      () => Engram.open({ store: dir, quantizer: { kind: 'topk', k: 3, dim: DIM } }),
      /was built with quantizer .*refusing/,
    );
    await assertRejects(
      () => Engram.open({ store: dir, backbone: 'engram-nonexistent-backbone' }),
      /backbone "engram-nonexistent-backbone": not found/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Stored('a pq learner with a codebook file records it and refuses another codebook', async () => {
  const dir = tmp();
  try {
    const { draw, sets } = makeData(SEED + 3, 3, 40);
    const calib = new Float32Array(120 * DIM);
    sets.flat().forEach((v, i) => calib.set(v, i * DIM));
    const cbFile = join(dir, 'a.codebook');
    writeFileSync(cbFile, encodeCodebook(fitCodebook(calib, DIM, { parts: 8, anchors: 16, seed: 3 })));
    const store = join(dir, 'store');
    const e = await Engram.open({ store, backbone: null, quantizer: { kind: 'pq', parts: 8, anchors: 16, codebook: cbFile, dim: DIM } });
    for (let c = 0; c < 3; c++) await e.learn(`p${c}`, sets[c].slice(0, 10));
    const preds = await e.predict([draw(0), draw(1), draw(2)]);
    assert.equal(
      preds.map((p) => p.top[0].label),
      ['p0', 'p1', 'p2'],
    );
    assert.is(e.stats().neurons, 8 * 16);
    await e.close();

    const other = join(dir, 'b.codebook');
    writeFileSync(other, encodeCodebook(fitCodebook(calib, DIM, { parts: 8, anchors: 16, seed: 99 })));
    await assertRejects(
      () => Engram.open({ store, quantizer: { kind: 'pq', parts: 8, anchors: 16, codebook: other, dim: DIM } }),
      /built with quantizer|codebook/,
    );
    const again = await Engram.open({ store });
    assert.equal((await again.predict([draw(1)]))[0].top[0].label, 'p1');
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Stored('predict, forget and stats on a missing store are clear errors, and create nothing', async () => {
  const dir = join(tmp(), 'missing');
  await assertRejects(() => Engram.open({ store: dir, create: false }), /store .*missing does not exist/);
});

Stored('a store with keepFeatures refits its codebook into a new store; the old one is untouched', async () => {
  const dir = tmp();
  try {
    const { draw, sets } = makeData(SEED + 5, 4, 30);
    const calib = new Float32Array(120 * DIM);
    sets.flat().forEach((v, i) => calib.set(v, i * DIM));
    const cbFile = join(dir, 'first.egc');
    // A deliberately poor first codebook: fitted on noise, 4 anchors per part.
    const noise = new Rng(SEED).shuffle(Array.from(calib)).map((v) => v * 0.01);
    writeFileSync(cbFile, encodeCodebook(fitCodebook(Float32Array.from(noise), DIM, { parts: 8, anchors: 4, seed: 1 })));
    const from = join(dir, 'old');
    const e = await Engram.open({
      store: from,
      backbone: null,
      quantizer: { kind: 'pq', parts: 8, anchors: 4, codebook: cbFile, dim: DIM },
      memory: { keepFeatures: true },
    });
    for (let c = 0; c < 4; c++) await e.learn(`f${c}`, sets[c]);
    await e.forget('f3');
    await e.close();

    const { refitStore } = await import('../src/learner/refit.js');
    const to = join(dir, 'new');
    const r = await refitStore(from, to, { parts: 8, anchors: 16, seed: 2 });
    assert.is(r.classes, 3);
    assert.is(r.fittedOn, 90, 'the forgotten class left the archive');
    const next = await Engram.open({ store: to });
    assert.equal(next.stats().labels, ['f0', 'f1', 'f2']);
    assert.is(next.stats().neurons, 8 * 16);
    let correct = 0;
    for (let c = 0; c < 3; c++)
      correct += (await next.predict(Array.from({ length: 10 }, () => draw(c)))).filter((p) => p.top[0].label === `f${c}`).length;
    assert.ok(correct >= 27, `${correct}/30 after refit`);
    await next.close();
    const old = await Engram.open({ store: from });
    assert.is(old.stats().neurons, 8 * 4, 'the old store keeps its codebook');
    await old.close();
    await assertRejects(() => refitStore(from, to, { parts: 8, anchors: 16 }), /exists and is not empty/);
    const plain = join(dir, 'plain');
    const p = await Engram.open({ store: plain, backbone: null, quantizer: { kind: 'sign', dim: DIM } });
    await p.learn('x', sets[0]);
    await p.close();
    await assertRejects(() => refitStore(plain, join(dir, 'p2'), { parts: 8, anchors: 4 }), /keeps no features/);
    await assertRejects(() => Engram.open({ store: plain, memory: { keepFeatures: true } }), /memory\.keepFeatures = false; refusing true/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function assertRejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  let error: unknown = null;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof Error, `expected a rejection matching ${re}`);
  assert.match(error.message, re);
}

Api.run();
Stored.run();
