// Child process for the learner crash test: runs the deterministic op stream of store-learner-data (learns,
// and a prune every PRUNE_EVERY ops) on a store-backed Engram in strict mode, printing "ack <n>" after op n
// resolves and saving a snapshot every SAVE_EVERY ops. Meant to be SIGKILLed. stdout is a pipe (synchronous
// on Linux).
import { Engram } from '../../src/learner/engram.js';
import { LEARNER_OPTIONS, applyOp, opsHeld } from './store-learner-data.js';

const SAVE_EVERY = 20;
const dir = process.argv[2];
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const engram = await Engram.open({ store: dir, ...LEARNER_OPTIONS, durability: 'strict', onWarning: (w) => say(`warning ${w}`) });
  let n = opsHeld(engram);
  say(`ready ${n}`);
  for (;;) {
    n += 1;
    await applyOp(engram, n);
    say(`ack ${n}`);
    if (n % SAVE_EVERY === 0) {
      await engram.save();
      say(`snap ${n}`);
    }
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
