// "unknown" follows the memory (issue #16): a store of five digits learned from real image files through the
// CLI, then each change a user makes (every prune kind, a forget, a device profile's budget prune on the next
// learn) applied to a copy; `engram eval` on held-out digits, known and never learned, before and after. The
// threshold is recalibrated from what the store keeps, so known digits keep being answered and novel ones
// keep being turned away, with no relearning. Before this, `prune --max-classes 3` left every known digit
// unknown and `--max-bytes 1000` half of them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, engram, writeDigits } from './helpers/learner-files.js';

const work = mkdtempSync(join(tmpdir(), 'engram-openset-prune-'));
const env = { ENGRAM_MODELS_DIR: join(work, 'models') };
const run = (args: string[]) => engram(args, env);
const base = join(work, 'store');
const test = suite('open set after prune, forget and a budget, through the CLI');

interface Rates {
  threshold: number;
  knownRight: number;
  novelUnknown: number;
  auroc: number;
}

function evalRates(store: string): Rates {
  const r = run(['eval', '--store', store, '--labels-from', 'dir', join(work, 'test'), '--json']);
  assert.is(r.status, 0, r.stderr);
  const o = r.lines.at(-1)!.openSet as { known: { right: { rate: number } }; novel: { unknown: { rate: number } }; auroc: number };
  const t = run(['threshold', '--store', store, '--json']).lines[0] as { threshold: number; source: string };
  assert.is(t.source, 'calibrated');
  return { threshold: t.threshold, knownRight: o.known.right.rate, novelUnknown: o.novel.unknown.rate, auroc: o.auroc };
}

let asLearned: Rates;
test.before(async () => {
  await writeDigits(work, 'train', [0, 1, 2, 3, 4], 20);
  await writeDigits(join(work, 'more'), 'train', [0], 20, 20);
  await writeDigits(work, 'test', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 20);
  const r = run(['learn', '--store', base, '--backbone', 'engram-glyph', '--labels-from', 'dir', join(work, 'train')]);
  assert.is(r.status, 0, r.stderr);
  asLearned = evalRates(base);
  console.log(`as learned: ${JSON.stringify(asLearned)}`);
  assert.ok(asLearned.knownRight >= 0.85 && asLearned.novelUnknown >= 0.5, JSON.stringify(asLearned));
});

// Each change, and the least the open-set rates may be after it (from bench/results/openset.json's digits store).
const cases: [string, () => string[], { knownRight: number; novelUnknown: number }][] = [
  ['prune --min-count 2', () => ['prune', '--min-count', '2'], { knownRight: 0.85, novelUnknown: 0.6 }],
  ['prune --share 0.1', () => ['prune', '--share', '0.1'], { knownRight: 0.85, novelUnknown: 0.6 }],
  ['prune --max-bytes 1000', () => ['prune', '--max-bytes', '1000'], { knownRight: 0.8, novelUnknown: 0.6 }],
  ['prune --max-classes 3', () => ['prune', '--max-classes', '3'], { knownRight: 0.85, novelUnknown: 0.25 }],
  ['forget 4', () => ['forget', '4'], { knownRight: 0.85, novelUnknown: 0.6 }],
  [
    'a device budget pruned on the next learn',
    () => ['learn', '--profile', tightProfile(), '--label', '0', join(work, 'more', 'train', '0')],
    { knownRight: 0.75, novelUnknown: 0.6 },
  ],
];

function tightProfile(): string {
  const file = join(work, 'tight.json');
  const generic = JSON.parse(readFileSync(join(ROOT, 'devices', 'generic-x86_64.json'), 'utf8')) as Record<string, unknown>;
  delete generic.$schema;
  writeFileSync(file, JSON.stringify({ ...generic, id: 'tight', memoryBudgetBytes: 1024 }));
  return file;
}

cases.forEach(([name, args, least], i) =>
  test(`${name}: the threshold follows the memory; known digits answered, novel ones turned away`, () => {
    const store = join(work, `store-${i}`);
    cpSync(base, store, { recursive: true });
    const before = run(['stats', '--store', store, '--json']).lines[0] as { connections: number };
    const r = run([...args(), '--store', store, '--json']);
    assert.is(r.status, 0, r.stderr);
    const after = run(['stats', '--store', store, '--json']).lines[0] as {
      connections: number;
      calibration: { known: number; novel: number; rule: string };
    };
    if (!name.startsWith('a device')) assert.ok(after.connections < before.connections, 'the change removed connections');
    assert.ok(after.calibration.known > 0 && after.calibration.novel > 0, JSON.stringify(after.calibration));
    assert.match(after.calibration.rule, /^(equal error of normal fits|middle of the gap)$/);
    const rates = evalRates(store);
    console.log(`${name}: ${JSON.stringify(rates)}`);
    // Known items of a forgotten class are novel now; the rest still have to be answered right.
    assert.ok(rates.knownRight >= least.knownRight, `known digits answered right: ${rates.knownRight}`);
    assert.ok(rates.novelUnknown >= least.novelUnknown, `novel digits answered unknown: ${rates.novelUnknown}`);
  }),
);

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
