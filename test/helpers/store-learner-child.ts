// Child process for the learner crash test: learns the deterministic example stream of store-learner-data
// into a store-backed Engram in strict mode, printing "ack <n>" after learn(n) resolves and saving a
// snapshot every SAVE_EVERY examples. Meant to be SIGKILLed. stdout is a pipe (synchronous on Linux).
import { Engram } from '../../src/learner/engram.js';
import { LEARNER_OPTIONS, exampleAt, learnedCount } from './store-learner-data.js';

const SAVE_EVERY = 20;
const dir = process.argv[2];
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const engram = await Engram.open({ store: dir, ...LEARNER_OPTIONS, durability: 'strict', onWarning: (w) => say(`warning ${w}`) });
  let n = learnedCount(engram);
  say(`ready ${n}`);
  for (;;) {
    n += 1;
    const { label, vector } = exampleAt(n);
    await engram.learn(label, [vector]);
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
