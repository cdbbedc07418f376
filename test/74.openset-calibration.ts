// How the "unknown" threshold is cut from its samples (learner/openset.ts), and that the samples follow the
// memory as it is after every learn: examples learned one at a time end with the same threshold as the same
// examples learned in one call, and the known samples score what held-out images of the class score.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenSetCalibration } from '../src/learner/openset.js';
import { Engram } from '../src/learner/engram.js';
import { DEFAULT_BACKBONE } from '../src/learner/backbone-ref.js';
import { loadMnist, indicesByClass, imageAt } from '../src/datasets/idx.js';
import { Rng } from '../src/util/rng.js';
import { engram, writeDigits } from './helpers/learner-files.js';

const rule = suite('OpenSetCalibration: the cut');

function calibration(known: number[], novel: number[]): OpenSetCalibration {
  const c = new OpenSetCalibration();
  c.replace(known, novel);
  return c;
}

/** `n` draws of a normal(mean, sd) clipped to 0..1, from a seeded generator. */
function normal(rng: Rng, n: number, mean: number, sd: number): number[] {
  return Array.from({ length: n }, () => {
    const u = Math.max(rng.next(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
    return Math.min(1, Math.max(0, mean + sd * z));
  });
}

{
  const cases: [string, number[], number[], number, string][] = [
    ['fewer than five of either: 0, never unknown', [0.9, 0.8, 0.85, 0.9], [0.1, 0.2, 0.3, 0.2, 0.1], 0, 'too few samples'],
    ['separated: the middle of the gap', [0.9, 0.95, 0.99, 0.97, 0.92], [0.1, 0.3, 0.5, 0.2, 0.4], 0.7, 'middle of the gap'],
    // Known: mean 0.8, spread 0.1; novel: mean 0.5, spread 0.2. Equal error at 0.5 + 0.2 * (0.3 / 0.3) = 0.7.
    [
      'overlapping: the equal-error point of normal fits',
      [0.7, 0.9, 0.7, 0.9, 0.8, 0.8],
      [0.3, 0.7, 0.3, 0.7, 0.5, 0.5],
      0.7,
      'equal error of normal fits',
    ],
    ['equal spreads: the midpoint of the means', [0.6, 0.8, 0.6, 0.8, 0.7], [0.5, 0.7, 0.5, 0.7, 0.6], 0.65, 'equal error of normal fits'],
    ['no spread at all, same score: that score', [0.5, 0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5, 0.5], 0.5, 'equal error of normal fits'],
  ];
  for (const [name, known, novel, want, how] of cases)
    rule(name, () => {
      const c = calibration(known, novel);
      assert.ok(Math.abs(c.threshold() - want) < 1e-9, `threshold ${c.threshold()}, expected ${want}`);
      assert.is(c.rule(), how);
    });
}

rule('the cut balances the two rates on the samples it was cut from', () => {
  const seed = 1601;
  const rng = new Rng(seed);
  const known = normal(rng, 300, 0.8, 0.05);
  const novel = normal(rng, 300, 0.7, 0.08);
  const t = calibration(known, novel).threshold();
  const knownBelow = known.filter((s) => s < t).length / known.length;
  const novelAbove = novel.filter((s) => s >= t).length / novel.length;
  assert.ok(Math.abs(knownBelow - novelAbove) < 0.06, `seed ${seed}: known below ${knownBelow}, novel above ${novelAbove}`);
});

rule('two draws from the same overlapping scores give nearly the same cut (the count-based best cut did not)', () => {
  const seed = 1602;
  const rng = new Rng(seed);
  const cuts = Array.from({ length: 20 }, () => calibration(normal(rng, 100, 0.8, 0.05), normal(rng, 100, 0.76, 0.05)).threshold());
  const spread = Math.max(...cuts) - Math.min(...cuts);
  // The equal-error point of these two is 0.78; the spread of a mean of 100 draws is 0.005.
  assert.ok(spread < 0.03, `seed ${seed}: cuts from ${Math.min(...cuts)} to ${Math.max(...cuts)}`);
});

rule('a new sample clears the cached cut', () => {
  const c = calibration([0.9, 0.9, 0.9, 0.9, 0.9], [0.1, 0.1, 0.1, 0.1, 0.1]);
  assert.ok(Math.abs(c.threshold() - 0.5) < 1e-9);
  for (let i = 0; i < 5; i++) c.observeNovel(0.7);
  assert.ok(Math.abs(c.threshold() - 0.8) < 1e-9, String(c.threshold()));
});

rule.run();

const learned = suite('calibration follows the memory after every learn');

const SHOTS = 20;
const KNOWN = [0, 1, 2, 3, 4];

learned('one image per call ends with the same threshold and samples as one call per digit', async () => {
  const train = loadMnist('train');
  const by = indicesByClass(train);
  const images = (d: number) =>
    by
      .get(d)!
      .slice(0, SHOTS)
      .map((i) => imageAt(train, i));
  const batch = await Engram.memory({ backbone: DEFAULT_BACKBONE });
  const single = await Engram.memory({ backbone: DEFAULT_BACKBONE });
  try {
    for (const d of KNOWN) {
      await batch.learn(String(d), images(d));
      for (const im of images(d)) await single.learn(String(d), [im]);
    }
    const a = batch.stats();
    const b = single.stats();
    assert.is(b.threshold, a.threshold);
    assert.equal(b.calibration, a.calibration);
    assert.is(a.calibration.rule, 'equal error of normal fits');
    assert.ok(a.threshold > 0.2 && a.threshold < 0.9, String(a.threshold));
  } finally {
    await batch.close();
    await single.close();
  }
});

learned('known samples score what held-out images of their class score', async () => {
  const train = loadMnist('train');
  const held = loadMnist('test');
  const trainBy = indicesByClass(train);
  const heldBy = indicesByClass(held);
  const e = await Engram.memory({ backbone: DEFAULT_BACKBONE });
  try {
    for (const d of KNOWN)
      await e.learn(
        String(d),
        trainBy
          .get(d)!
          .slice(0, SHOTS)
          .map((i) => imageAt(train, i)),
      );
    const scores: number[] = [];
    for (const d of KNOWN) {
      const ps = await e.predict(
        heldBy
          .get(d)!
          .slice(0, 50)
          .map((i) => imageAt(held, i)),
        { top: 1 },
      );
      for (const p of ps) if (p.top[0]?.label === String(d)) scores.push(p.top[0].score);
    }
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    // The samples themselves (stats() only counts them).
    const known = e.core.openset.known;
    const gap = Math.abs(mean(known) - mean(scores));
    console.log(`known samples ${mean(known).toFixed(3)}, held-out known images ${mean(scores).toFixed(3)}`);
    assert.ok(gap < 0.05, `known samples ${mean(known)} against held-out ${mean(scores)}`);
  } finally {
    await e.close();
  }
});

learned('engram threshold and stats name the rule the cut was made by', async () => {
  const work = mkdtempSync(join(tmpdir(), 'engram-openset-rule-'));
  try {
    const run = (args: string[]) => engram(args, { ENGRAM_MODELS_DIR: join(work, 'models') });
    const store = join(work, 'store');
    await writeDigits(work, 'train', [0, 1, 2], 8);
    let r = run(['learn', '--store', store, '--backbone', 'engram-glyph', '--labels-from', 'dir', join(work, 'train')]);
    assert.is(r.status, 0, r.stderr);
    r = run(['threshold', '--store', store]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /calibrated from \d+ known and \d+ novel scores \((equal error of normal fits|middle of the gap)\)/);
    r = run(['stats', '--store', store, '--json']);
    assert.match(String((r.lines[0].calibration as { rule: string }).rule), /^(equal error of normal fits|middle of the gap)$/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

learned.run();
