// What a device profile decides for a learner: the backbone of a new learner (an existing store keeps its
// own), the memory budget a learn prunes back to, and what happens when the profile's backbone is not
// installed (named profile: an error saying how to fix it; detected profile: the embedded backbone, one warning).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engram } from '../src/learner/engram.js';
import { resolveProfile } from '../src/devices/index.js';
import { Rng } from '../src/util/rng.js';
import { writeGlyphFp32, writeProfile } from './helpers/learner-glyph-fp32.js';

const SEED = Number(process.env.SEED ?? 3401);
console.log(`34.device-profile seed=${SEED}`);
const work = mkdtempSync(join(tmpdir(), 'engram-profile-'));
// No pulled models: whatever the machine's cache holds, mobilenetv2 is "not installed" here.
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');
mkdirSync(process.env.ENGRAM_MODELS_DIR);

const DIM = 1024;
/** Sign codes of random vectors: 1024 of 2048 neurons each, so every class costs 256 compressed bytes at most. */
function vectors(rng: Rng, n: number): Float32Array[] {
  return Array.from({ length: n }, () => Float32Array.from({ length: DIM }, () => rng.next() - 0.5));
}
const BUDGET = 1024;
const budgetProfile = writeProfile(work, 'tiny-budget', { memoryBudgetBytes: BUDGET });

async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, `expected an error matching ${re}`);
  assert.match(err.message, re);
}

const Budget = suite('memoryBudgetBytes');

Budget('a learn that takes the memory over the budget prunes it back, and says so in its result', async () => {
  const rng = new Rng(SEED);
  const e = await Engram.memory({ backbone: null, quantizer: { kind: 'sign', dim: DIM }, profile: budgetProfile });
  assert.equal(e.stats().budget, { profile: 'tiny-budget', bytes: BUDGET });
  for (let c = 0; c < 4; c++) {
    const r = await e.learn(`c${c}`, vectors(rng, 6));
    assert.is(r.pruned, undefined, `class ${c}: ${e.stats().compressedBytes} bytes is within the budget`);
  }
  const before = e.stats().connections;
  const r = await e.learn('c4', vectors(rng, 6));
  assert.ok(r.pruned, 'the fifth class goes over 1024 bytes');
  assert.ok(r.pruned.removed > 0);
  assert.ok(r.pruned.compressedBytes <= BUDGET, `${r.pruned.compressedBytes} bytes after pruning`);
  assert.equal(r.pruned.budget, { profile: 'tiny-budget', bytes: BUDGET });
  const s = e.stats();
  assert.is(s.compressedBytes, r.pruned.compressedBytes);
  assert.ok(s.connections < before + 2048, 'connections were removed');
  assert.is(s.classes, 5);
  await e.close();
});

Budget('the pruning is journalled: a reopened store has the same connections', async () => {
  const rng = new Rng(SEED + 1);
  const store = join(work, 'budget-store');
  const e = await Engram.open({ store, backbone: null, quantizer: { kind: 'sign', dim: DIM }, profile: budgetProfile });
  let pruned = 0;
  for (let c = 0; c < 6; c++) if ((await e.learn(`c${c}`, vectors(rng, 6))).pruned) pruned++;
  assert.is(pruned, 2, 'the fifth and sixth learns went over');
  const s = e.stats();
  await e.close();
  const again = await Engram.open({ store, readOnly: true });
  const t = again.stats();
  assert.is(t.connections, s.connections);
  assert.is(t.compressedBytes, s.compressedBytes);
  assert.ok(t.compressedBytes <= BUDGET);
  await again.close();
});

Budget('a profile file is checked like the shipped ones', async () => {
  const bad = writeProfile(work, 'too-small', { memoryBudgetBytes: 100 });
  await rejects(
    () => Engram.memory({ backbone: null, quantizer: { kind: 'sign', dim: DIM }, profile: bad }),
    /too-small\.json is invalid:[\s\S]*memoryBudgetBytes/,
  );
  await rejects(
    () => Engram.memory({ backbone: null, quantizer: { kind: 'sign', dim: DIM }, profile: join(work, 'absent.json') }),
    /absent\.json: cannot read \(ENOENT\)/,
  );
});

const Backbone = suite("the profile's backbone");
// The quantizer does not matter here; sign needs no codebook fit, which keeps these cases quick.
const SIGN = { kind: 'sign' } as const;

Backbone('is the backbone of a new learner or store when none is named', async () => {
  const fp32 = writeGlyphFp32(work);
  const board = writeProfile(work, 'fp32-board', { backbone: fp32 });
  const mem = await Engram.memory({ profile: board, quantizer: SIGN });
  assert.is(mem.stats().backbone, 'engram-glyph-fp32');
  await mem.close();
  const store = join(work, 'fp32-store');
  const e = await Engram.open({ store, profile: board, quantizer: SIGN });
  assert.is(e.stats().backbone, 'engram-glyph-fp32');
  assert.is(e.storeMeta!.backbone!.name, 'engram-glyph-fp32');
  await e.close();
});

Backbone('does not replace the backbone an existing store was made with', async () => {
  const board = writeProfile(work, 'fp32-board-2', { backbone: writeGlyphFp32(work) });
  const store = join(work, 'glyph-store');
  const e = await Engram.open({ store, backbone: 'engram-glyph', quantizer: SIGN });
  await e.close();
  const again = await Engram.open({ store, profile: board });
  assert.is(again.stats().backbone, 'engram-glyph');
  await again.close();
});

Backbone('not installed, a named profile is an error that says how to fix it', async () => {
  const board = writeProfile(work, 'mnv2-board', { backbone: 'mobilenetv2-12-int8' });
  await rejects(
    () => Engram.memory({ profile: board }),
    /device profile mnv2-board uses backbone "mobilenetv2-12-int8" by default, but backbone "mobilenetv2-12-int8" is not installed here: run "engram models pull mobilenetv2-12-int8".*--backbone engram-glyph/,
  );
  // Naming a backbone needs nothing from the profile's.
  const e = await Engram.memory({ profile: board, backbone: 'engram-glyph', quantizer: SIGN });
  assert.is(e.stats().backbone, 'engram-glyph');
  await e.close();
});

Backbone('not installed, a detected profile falls back to the embedded backbone with one warning', async () => {
  const detected = resolveProfile().profile;
  if (!detected || detected.backbone === 'engram-glyph') {
    console.log(
      `SKIP 34 detected fallback: the profile detected here (${detected?.id ?? 'none'}) uses the embedded backbone, so there is nothing to fall back from`,
    );
    return;
  }
  const warnings: string[] = [];
  const e = await Engram.memory({ onWarning: (w) => warnings.push(w), quantizer: SIGN });
  assert.is(e.stats().backbone, 'engram-glyph');
  const fallback = warnings.filter((w) => /uses backbone/.test(w));
  assert.is(fallback.length, 1, warnings.join('\n'));
  assert.match(
    fallback[0],
    new RegExp(
      `device profile ${detected.id} \\(detected\\) uses backbone "${detected.backbone}" by default, but .*not installed here: run "engram models pull ${detected.backbone}".*Using engram-glyph`,
    ),
  );
  await e.close();
});

Backbone.after(() => rmSync(work, { recursive: true, force: true }));

Budget.run();
Backbone.run();
