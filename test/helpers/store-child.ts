// A second process for the store tests, driven by argv and reporting on stdout, one line per event
// (stdout is a pipe, which Node writes synchronously on Linux: a printed line is never lost to SIGKILL).
//   hold <dir>          open the store, print "open", keep it until stdin closes, then close
//   try <dir>           like hold, but print "locked <message>" instead of failing when the lock is taken
//   crash-writer <dir>  append model ops forever in strict mode, printing "ack <seq>" after each one resolves
//                       and snapshotting every SNAPSHOT_EVERY ops; meant to be killed
//   batched-writer <dir> the same in batched mode: "ack" once queued, "durable <seq>" after whenDurable
import { Store, StoreError } from '../../src/store/index.js';
import { encodeModelOp, opFor, stateFromRecovery } from './store-model.js';

const SNAPSHOT_EVERY = 25;
const [mode, dir] = process.argv.slice(2);
const say = (line: string) => process.stdout.write(`${line}\n`);

async function holdUntilStdinCloses(store: Store): Promise<void> {
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
  await store.close();
  say('closed');
}

async function main(): Promise<void> {
  if (mode === 'hold' || mode === 'try') {
    let store: Store;
    try {
      store = await Store.open(dir, { onWarning: (w) => say(`warning ${w}`) });
    } catch (err) {
      if (mode === 'try' && err instanceof StoreError && err.code === 'ELOCKED') {
        say(`locked ${err.message}`);
        return;
      }
      throw err;
    }
    say('open');
    await holdUntilStdinCloses(store);
    return;
  }
  if (mode === 'crash-writer') {
    const store = await Store.open(dir, { durability: 'strict', onWarning: (w) => say(`warning ${w}`) });
    const state = stateFromRecovery(store.recovered!.snapshot, store.recovered!.records);
    store.releaseRecovered();
    say(`ready ${store.lastSeq}`);
    for (;;) {
      const seq = store.lastSeq + 1;
      const op = opFor(seq);
      const acked = await store.append(1, encodeModelOp(op));
      if (acked !== seq) throw new Error(`append returned seq ${acked}, expected ${seq}`);
      state.apply(op);
      say(`ack ${seq}`);
      if (seq % SNAPSHOT_EVERY === 0) {
        await store.writeSnapshot(state.serialize());
        say(`snap ${seq}`);
      }
    }
  }
  if (mode === 'batched-writer') {
    const store = await Store.open(dir, { durability: 'batched', batchMs: 20, onWarning: (w) => say(`warning ${w}`) });
    const state = stateFromRecovery(store.recovered!.snapshot, store.recovered!.records);
    store.releaseRecovered();
    say(`ready ${store.lastSeq}`);
    for (;;) {
      const seq = store.lastSeq + 1;
      const op = opFor(seq);
      await store.append(1, encodeModelOp(op));
      state.apply(op);
      say(`ack ${seq}`);
      if (seq % 40 === 0) {
        await store.whenDurable(seq);
        say(`durable ${seq}`);
      }
      if (seq % 100 === 0) {
        await store.writeSnapshot(state.serialize());
        say(`snap ${seq}`);
      }
    }
  }
  throw new Error(`store-child: unknown mode ${mode}`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
