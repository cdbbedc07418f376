// Crash test through the learner: a child process runs a store-backed Engram (strict) that learns an
// example stream continuously, pruning every few ops and saving snapshots as it goes, and is SIGKILLed at
// random moments (50 times by default, as issue #7 asks). After each kill the store reopens holding every
// acknowledged op, and its predictions and stats equal those of an in-memory learner rebuilt from the
// acknowledged stream. (52.store-crash.ts does the same at the store
// level, 50 kills; this one covers the learner's own journaling and snapshots.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engram } from '../src/learner/engram.js';
import { removeDir, scratchDir, seededRng } from './helpers/store-fs.js';
import { runAndKill } from './helpers/store-kill.js';
import { LEARNER_OPTIONS, applyOp, learnedCount, learnsUpTo, opsHeld, probes, pruneAt } from './helpers/store-learner-data.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'store-learner-child.js');
const KILLS = Number(process.env.ENGRAM_LEARNER_CRASH_KILLS ?? 50);
const MAX_DELAY_MS = 300;

const Crash = suite('learner crash');

Crash(`a learner killed ${KILLS} times keeps every acknowledged learn and prune and predicts like a rebuilt one`, async () => {
  const { rng } = seededRng('54.learner-crash');
  const dir = scratchDir('learner-crash');
  const probe = probes(12);
  // The in-memory learner follows the acknowledged stream; it only ever moves forward.
  const rebuilt = await Engram.memory(LEARNER_OPTIONS);
  let rebuiltCount = 0;
  let maxAcked = 0;
  let acks = 0;
  let saves = 0;
  let prunes = 0;
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      const delay = rng.int(MAX_DELAY_MS + 1);
      const run = await runAndKill(CHILD, [dir], delay);
      const where = `kill ${kill + 1} after ${delay} ms`;
      assert.ok(run.readySeq >= maxAcked, `${where}: the child started from ${run.readySeq} < acknowledged ${maxAcked}`);
      run.acked.forEach((n, i) => assert.is(n, run.readySeq + 1 + i, `${where}: acks are consecutive`));
      if (run.acked.length) maxAcked = run.acked[run.acked.length - 1];
      acks += run.acked.length;
      prunes += run.acked.filter((n) => pruneAt(n) !== null).length;
      saves += run.snapshots;
      for (const w of run.warnings) assert.match(w, /interrupted write|stale lock/, `${where}: unexpected warning in the child`);

      const warnings: string[] = [];
      const reopened = await Engram.open({ store: dir, onWarning: (w) => warnings.push(w) });
      try {
        const held = opsHeld(reopened);
        assert.ok(held >= maxAcked, `${where}: the store holds ${held} ops, ${maxAcked} were acknowledged`);
        assert.ok(held <= maxAcked + 1, `${where}: the store holds ${held} ops, only ${maxAcked} (+1 in flight) were run`);
        assert.is(learnedCount(reopened), learnsUpTo(held), `${where}: examples held`);
        while (rebuiltCount < held) {
          rebuiltCount += 1;
          await applyOp(rebuilt, rebuiltCount);
        }
        assert.equal(await reopened.predict(probe, { top: 5 }), await rebuilt.predict(probe, { top: 5 }), `${where}: predictions differ`);
        const { examples, labels, connections, density } = reopened.stats();
        const want = rebuilt.stats();
        assert.equal(
          { examples, labels, connections, density },
          { examples: want.examples, labels: want.labels, connections: want.connections, density: want.density },
          `${where}: stats differ`,
        );
        for (const w of warnings) assert.match(w, /interrupted write|stale lock/, `${where}: unexpected warning on reopen`);
        maxAcked = held;
      } finally {
        await reopened.close();
      }
    }
    console.log(
      `54.learner-crash: ${KILLS} kills, ${acks} acknowledged ops of which ${prunes} prunes (store holds ${maxAcked}), ${saves} snapshots saved`,
    );
    assert.ok(acks >= KILLS, 'the children made progress between kills');
    assert.ok(saves > 0, 'snapshots were saved, so kills could land in them');
    assert.ok(prunes > 0, 'prunes were acknowledged, so kills could land in and after them');
  } finally {
    await rebuilt.close();
    removeDir(dir);
  }
});

Crash.run();
