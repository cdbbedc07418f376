// bench:fleet: what sharing memories costs. (1) Bytes on the wire per learned example and per class, signed
// change messages against sending the whole snapshot after each change; (2) time for 10 local devices x 10
// classes each (100 classes) to converge through a real Mosquitto with `engram sync` processes; (3) the merge
// cost: applying a change, rebuilding the memory from the merged state, the state's size against the memory's.
// Default quantizer geometry (sparse: 3072 neurons, 768 active) on synthetic 64-d features. Writes
// bench/results/fleet.json; the last line printed is the same JSON. Usage: node dist/bench/fleet.js [--quick]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engram } from '../src/learner/engram.js';
import { FleetMember } from '../src/fleet/member.js';
import { FleetState } from '../src/fleet/state.js';
import { encodeUpdate, decodeUpdate } from '../src/fleet/codec.js';
import { signMessage, originOf } from '../src/fleet/sign.js';
import { generateKeyPairSync } from 'node:crypto';
import { Broker, freePort, mosquittoPath, sleep } from '../test/helpers/fleet-broker.js';
import { Rng } from '../src/util/rng.js';
import { changeOnly } from '../src/fleet/sync.js';

/** Every message carries its sender's space id (16 hex digits, as sync sends). */
const SPACE_ID = '0123456789abcdef';

const quick = process.argv.includes('--quick');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'engram.js');
const DIM = 64;
const QUANTIZER = { dim: DIM, whiten: 'off' as const };
const rng = new Rng(20261203);
const protos: Float32Array[] = [];
function proto(c: number): Float32Array {
  while (protos.length <= c) protos.push(Float32Array.from({ length: DIM }, () => rng.next() * 2 - 1));
  return protos[c];
}
function features(c: number, n: number): Float32Array[] {
  return Array.from({ length: n }, () => Float32Array.from(proto(c), (v) => v + 0.3 * (rng.next() - 0.5)));
}
/** n feature vectors of class c, flat (what quantizer.encode takes). */
function flat(c: number, n: number): Float32Array {
  const out = new Float32Array(n * DIM);
  features(c, n).forEach((f, i) => out.set(f, i * DIM));
  return out;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const key = () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(privateKey.export({ format: 'jwk' }).x!, 'base64url');
  return { privateKey, publicRaw: raw, origin: originOf(raw) };
};

async function wire(): Promise<Record<string, number>> {
  // One device learns CLASSES classes, EXAMPLES examples each, one example per change (the worst case for
  // messages: a camera teaching frame by frame).
  const CLASSES = quick ? 5 : 20;
  const EXAMPLES = 20;
  const e = await Engram.memory({ quantizer: QUANTIZER, backbone: null });
  const k = key();
  const m = FleetMember.empty(k.origin, e.core.options);
  let changeBytes = 0;
  let snapshotBytes = 0;
  let changes = 0;
  for (let c = 0; c < CLASSES; c++) {
    for (const f of features(c, EXAMPLES)) {
      const codes = e.quantizer.encode(f, 1);
      m.applyOwn({ op: 'learn', label: `c${c}`, codes, rows: 1, active: e.quantizer.active });
      const u = m.takeChange()!;
      changeBytes += signMessage(k, 'bench', SPACE_ID, encodeUpdate(changeOnly(u))).length;
      snapshotBytes += m.view().serialize().length;
      changes++;
    }
  }
  const state = signMessage(k, 'bench', SPACE_ID, encodeUpdate(m.state.of(k.origin))).length;
  await e.close();
  return {
    neurons: e.quantizer.neurons,
    active: e.quantizer.active,
    examples: changes,
    change_bytes_per_example: Math.round(changeBytes / changes),
    snapshot_bytes_per_example: Math.round(snapshotBytes / changes),
    state_bytes_per_class: Math.round(state / CLASSES),
    memory_serialized_bytes_per_class: Math.round(m.view().serialize().length / CLASSES),
  };
}

async function mergeCost(): Promise<Record<string, number>> {
  // DEVICES devices x CLASSES_EACH classes of 20 examples, merged into one state; then one more change.
  const DEVICES = 10;
  const CLASSES_EACH = quick ? 3 : 10;
  const e = await Engram.memory({ quantizer: QUANTIZER, backbone: null });
  const updates: Buffer[] = [];
  const members: FleetMember[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const m = FleetMember.empty(`dev${d}`, e.core.options);
    for (let c = 0; c < CLASSES_EACH; c++) {
      const cls = d * CLASSES_EACH + c;
      m.applyOwn({ op: 'learn', label: `c${cls}`, codes: e.quantizer.encode(flat(cls, 20), 20), rows: 20, active: e.quantizer.active });
    }
    updates.push(encodeUpdate(m.takeChange()!));
    members.push(m);
  }
  const state = new FleetState();
  const t0 = performance.now();
  for (const u of updates) state.merge(decodeUpdate(u));
  const mergeAllMs = performance.now() - t0;
  const views: number[] = [];
  for (let i = 0; i < (quick ? 3 : 7); i++) {
    const t = performance.now();
    state.view(e.core.options);
    views.push(performance.now() - t);
  }
  // One more example on one device: decode + merge its change, then rebuild.
  members[0].applyOwn({ op: 'learn', label: 'c0', codes: e.quantizer.encode(flat(0, 1), 1), rows: 1, active: e.quantizer.active });
  const change = encodeUpdate(members[0].takeChange()!);
  const t1 = performance.now();
  state.merge(decodeUpdate(change));
  const mergeOneMs = performance.now() - t1;
  const view = state.view(e.core.options);
  const classes = DEVICES * CLASSES_EACH;
  await e.close();
  return {
    devices: DEVICES,
    classes,
    merge_all_ms: round(mergeAllMs),
    merge_one_change_ms: round(mergeOneMs),
    view_rebuild_ms: round(median(views)),
    state_bytes: encodeUpdate(state.all()).length,
    memory_serialized_bytes: view.serialize().length,
    memory_resident_bytes: view.memory.stats().bytes,
  };
}

async function converge(): Promise<Record<string, number | string>> {
  const bin = mosquittoPath();
  if (!bin) return { skipped: 'mosquitto is not installed' };
  const DEVICES = 10;
  const CLASSES_EACH = quick ? 2 : 10;
  const work = mkdtempSync(join(tmpdir(), 'engram-bench-fleet-'));
  const broker = new Broker(bin, work, await freePort());
  const procs: ChildProcess[] = [];
  try {
    await broker.start();
    const stores = Array.from({ length: DEVICES }, (_, d) => join(work, `dev${d}`));
    const lines: string[] = [];
    for (let d = 0; d < DEVICES; d++) {
      const e = await Engram.open({ store: stores[d], quantizer: QUANTIZER, backbone: null });
      for (let c = 0; c < CLASSES_EACH; c++) await e.learn(`c${d * CLASSES_EACH + c}`, features(d * CLASSES_EACH + c, 20));
      await e.close();
      const r = spawnSync(process.execPath, [BIN, 'sync', '--store', stores[d], '--print-key'], { encoding: 'utf8' });
      lines.push(r.stdout.trim());
    }
    writeFileSync(join(work, 'allow.txt'), `${lines.join('\n')}\n`);
    const total = DEVICES * CLASSES_EACH;
    const seen = stores.map(() => new Set<string>());
    const start = performance.now();
    let wireBytes = 0;
    const connected = new Set<number>();
    let allConnected = 0;
    const done = new Promise<number>((resolve) => {
      stores.forEach((s, d) => {
        const p = spawn(
          process.execPath,
          [
            BIN,
            'sync',
            '--json',
            '--store',
            s,
            '--broker',
            broker.url,
            '--fleet',
            'bench',
            '--allow',
            join(work, 'allow.txt'),
            '--interval',
            '200',
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        procs.push(p);
        let buf = '';
        p.stdout.on('data', (chunk: Buffer) => {
          buf += chunk.toString();
          const parts = buf.split('\n');
          buf = parts.pop()!;
          for (const l of parts) {
            if (!l.startsWith('{')) continue;
            const ev = JSON.parse(l) as { event: string; labels?: string[]; classes?: string[]; bytes?: number };
            if (ev.event === 'ready') for (const x of ev.classes ?? []) seen[d].add(x);
            if (ev.event === 'applied') for (const x of ev.labels ?? []) seen[d].add(x);
            if (ev.event === 'published') wireBytes += ev.bytes ?? 0;
            if (ev.event === 'connected' && connected.add(d).size === DEVICES && !allConnected) allConnected = performance.now();
          }
          if (seen.every((s2) => s2.size === total)) resolve(performance.now() - start);
        });
      });
    });
    const ms = await Promise.race([done, sleep(120_000).then(() => -1)]);
    return {
      devices: DEVICES,
      classes: total,
      converge_ms: Math.round(ms),
      converge_after_connected_ms: ms < 0 ? -1 : Math.round(start + ms - allConnected),
      published_bytes: wireBytes,
      note: `converge_ms: from starting ${DEVICES} engram sync processes (each holding ${CLASSES_EACH} classes of its own) until every device has applied all ${total}, process start-up on the shared cores included; converge_after_connected_ms: from the last device connecting to the broker`,
    };
  } finally {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGTERM');
          }),
      ),
    );
    await broker.stop();
    rmSync(work, { recursive: true, force: true, maxRetries: 5 });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

const result = {
  bench: 'fleet',
  date: new Date().toISOString().slice(0, 10),
  cpus: cpus().length,
  quick,
  wire: await wire(),
  merge: await mergeCost(),
  converge: await converge(),
};
if (!quick) {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'fleet.json'), `${JSON.stringify(result, null, 2)}\n`);
}
console.log(JSON.stringify(result));
