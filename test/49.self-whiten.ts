// The sparse quantizer's own whitening: a new store's first learn of 64+ examples fits one on them and keeps
// it; fewer examples, a later learn, or whiten 'off' leave the raw block alone; a whitening file left by a
// first learn that never reached its record is ignored on reopen.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engram } from '../src/learner/engram.js';
import { SparseQuantizer } from '../src/quantize/sparse.js';
import { Rng } from '../src/util/rng.js';

const SEED = Number(process.env.SEED ?? 4242);
console.log(`49.self-whiten seed=${SEED}`);
const DIM = 48;
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

const work = mkdtempSync(join(tmpdir(), 'engram-selfw-'));
const test = suite('a new store fits its own whitening on its first learn');

test('64+ examples on the first learn: whitening.egw is written, the code gains the whitened block, reopening keeps it', async () => {
  const draw = data(SEED);
  const store = join(work, 'a');
  const e = await Engram.open({ store, backbone: null, quantizer: QUANT });
  assert.is(e.quantizer.neurons, 512);
  await e.learn(
    'a',
    Array.from({ length: 80 }, () => draw(0)),
  );
  await e.learn(
    'b',
    Array.from({ length: 20 }, () => draw(1)),
  );
  const q = e.quantizer as SparseQuantizer;
  assert.ok(q.whitening, 'the first learn fitted a whitening');
  assert.is(q.blocks.length, 2);
  assert.ok(existsSync(join(store, 'whitening.egw')));
  const queries = [draw(0), draw(1), draw(0)];
  const before = await e.predict(queries);
  const id = e.quantizerState.codebookId;
  assert.not.equal(id, 'none');
  await e.close();
  const again = await Engram.open({ store });
  assert.is(again.quantizerState.codebookId, id);
  assert.equal(await again.predict(queries), before, 'the reopened store answers the same');
  assert.equal(
    before.map((p) => p.top[0].label),
    ['a', 'b', 'a'],
  );
  await again.close();
});

test('fewer than 64 on the first learn: raw block only, and a later large learn does not add a whitening', async () => {
  const draw = data(SEED + 1);
  const store = join(work, 'b');
  const e = await Engram.open({ store, backbone: null, quantizer: QUANT });
  await e.learn(
    'a',
    Array.from({ length: 10 }, () => draw(0)),
  );
  await e.learn(
    'b',
    Array.from({ length: 100 }, () => draw(1)),
  );
  assert.is((e.quantizer as SparseQuantizer).whitening, null);
  assert.is(e.quantizerState.codebookId, 'none');
  assert.not.ok(existsSync(join(store, 'whitening.egw')));
  await e.close();
});

test("whiten 'off' keeps the raw block whatever the first learn brings", async () => {
  const draw = data(SEED + 2);
  const e = await Engram.memory({ backbone: null, quantizer: { ...QUANT, whiten: 'off' } });
  await e.learn(
    'a',
    Array.from({ length: 100 }, () => draw(0)),
  );
  assert.is((e.quantizer as SparseQuantizer).whitening, null);
  await e.close();
});

test('a whitening file without the metadata that names it (a first learn cut short) is ignored on reopen', async () => {
  const draw = data(SEED + 3);
  const donor = join(work, 'donor');
  const d = await Engram.open({ store: donor, backbone: null, quantizer: QUANT });
  await d.learn(
    'a',
    Array.from({ length: 70 }, () => draw(0)),
  );
  await d.close();
  const store = join(work, 'c');
  const e = await Engram.open({ store, backbone: null, quantizer: QUANT });
  await e.learn(
    'a',
    Array.from({ length: 5 }, () => draw(0)),
  );
  await e.close();
  writeFileSync(join(store, 'whitening.egw'), readFileSync(join(donor, 'whitening.egw')));
  const again = await Engram.open({ store });
  assert.is(again.quantizerState.codebookId, 'none');
  assert.is(again.quantizer.neurons, 512);
  await again.learn('b', [draw(1)]);
  assert.equal(again.stats().labels, ['a', 'b']);
  await again.close();
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
