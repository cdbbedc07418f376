// The AUROC engram eval and bench/openset.ts report: the Mann-Whitney statistic, ties counting half, and the
// evaluation report's field (null without both known and novel items).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { auroc, report, type EvalAnswer } from '../src/learner/evaluate.js';
import { Rng } from '../src/util/rng.js';

const test = suite('auroc');

test('1 when every known score is above every novel one, 0 when below, 0.5 for ties', () => {
  assert.is(auroc([0.9, 0.8], [0.1, 0.2, 0.3]), 1);
  assert.is(auroc([0.1], [0.5, 0.6]), 0);
  assert.is(auroc([0.5, 0.5], [0.5]), 0.5);
  assert.is(auroc([0.2, 0.6], [0.4]), 0.5);
  assert.is(auroc([0.4, 0.6], [0.4]), 0.75, 'a tie counts half');
});

test('equals the pairwise count on random scores (printed seed)', () => {
  const seed = Number(process.env.ENGRAM_TEST_SEED ?? Date.now() % 1e6);
  console.log(`73.auroc: seed ${seed} (replay with ENGRAM_TEST_SEED=${seed})`);
  const rng = new Rng(seed);
  for (let t = 0; t < 20; t++) {
    const known = Array.from({ length: 1 + rng.int(30) }, () => rng.int(10) / 10);
    const novel = Array.from({ length: 1 + rng.int(30) }, () => rng.int(10) / 10);
    let pairs = 0;
    for (const k of known) for (const n of novel) pairs += k > n ? 1 : k === n ? 0.5 : 0;
    assert.ok(Math.abs(auroc(known, novel) - pairs / (known.length * novel.length)) < 1e-12);
  }
});

test('needs both kinds; the eval report gives it, or null without novel items', () => {
  assert.throws(() => auroc([], [0.1]), /auroc: needs at least one known and one novel score/);
  const a = (truth: string, score: number, label: string | null): EvalAnswer => ({ index: 0, truth, label, best: 'a', score, margin: 0 });
  assert.is(report(['a'], [a('a', 0.9, 'a'), a('z', 0.2, null), a('z', 0.95, 'a')], []).openSet.auroc, 0.5);
  assert.is(report(['a'], [a('a', 0.9, 'a')], []).openSet.auroc, null);
});

test.run();
