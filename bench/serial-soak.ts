// bench:serial-soak: engram serve under a serial flood, in its own process on one end of a socat pty pair.
// The other end carries, at line rate (paced to --baud, 10 bits per byte), in turn: garbage (`01 00` and random
// bytes) and valid requests (PREDICT, one LEARN in ten, sent without waiting for answers), each once with a peer
// that reads everything and once with a peer that never reads. serve's resident memory is sampled every
// second. Afterwards a controller reads again and sends requests that must all be answered right, then, with
// noise flowing and nobody reading, SIGINT must end serve within a second. Last line: one JSON object.
// Usage: node dist/bench/serial-soak.js [--minutes 10] [--phase-seconds 30] [--baud 921600] [--out FILE]
//        node dist/bench/serial-soak.js --render FILE.json [--update-doc docs/protocol.md]   (the paragraph the docs quote)
import { Rng } from '../src/util/rng.js';
import { parseArgs } from 'node:util';
import { constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import type { SerialPort } from 'serialport';
import { LinkClient } from '../src/link/client.js';
import { encodeFrame } from '../src/link/frame.js';
import { PROTOCOL_VERSION, encodeRequest } from '../src/link/protocol.js';
import { closeSerial, openSerial } from '../src/link/serial.js';
import { socatMissing, startSocat } from '../test/helpers/link-socat.js';
import { startServe, type ServeProc } from '../test/helpers/link-serve-proc.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'phase-seconds': { type: 'string', default: '30' },
    baud: { type: 'string', default: '921600' },
    'rss-bound-mb': { type: 'string', default: '160' },
    out: { type: 'string' },
    render: { type: 'string' },
    'update-doc': { type: 'string' },
  },
});
const MINUTES = Number(values.minutes);
const PHASE_S = Number(values['phase-seconds']);
const BAUD = Number(values.baud);
const RSS_BOUND_MB = Number(values['rss-bound-mb']);
for (const [name, v] of Object.entries({ MINUTES, PHASE_S, BAUD, RSS_BOUND_MB })) {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name}: expected a positive number, got ${v}`);
}
const DIM = 64;
const TOPK = 4;
const CLASSES = 10;

type Traffic = 'garbage' | 'requests';
interface Phase {
  traffic: Traffic;
  reading: boolean;
  seconds: number;
  /** Bytes sent at line rate, and the part the pty took (the rest was lost: serve was not reading). */
  bytesSent: number;
  bytesTaken: number;
  /** Bytes of answers the peer read. */
  bytesRead: number;
  rssMaxMb: number;
  rssEndMb: number;
}

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}
const rand = rng(20261203);

function vector(cls: number): Float32Array {
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = rand() * 0.2;
  for (let k = 0; k < TOPK; k++) v[cls * TOPK + k] += 1;
  return v;
}

/** Line noise: runs of `01 00` (each an unreadable frame) and random bytes. */
function garbage(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rand() < 0.5 ? (i % 2 === 0 ? 1 : 0) : Math.floor(rand() * 256);
  return b;
}

let nextId = 1;
function requests(n: number): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < n) {
    const cls = Math.floor(rand() * CLASSES);
    const req =
      rand() < 0.1
        ? ({ type: 'learn', label: `class-${cls}`, input: { kind: 'features', vector: vector(cls) } } as const)
        : ({ type: 'predict', top: 3, input: { kind: 'features', vector: vector(cls) } } as const);
    const { type, body } = encodeRequest(req);
    const f = encodeFrame({ version: PROTOCOL_VERSION, type, id: nextId, body });
    nextId = nextId === 0xffff ? 1 : nextId + 1;
    parts.push(f);
    size += f.length;
  }
  return Buffer.concat(parts);
}

/**
 * Writes `traffic` into the pty at BAUD / 10 bytes per second for `seconds`, as a UART sends whether or not the
 * other side keeps up: the pty is non-blocking, and what it does not take (serve not reading) is lost, as
 * bytes are on a line without flow control. Returns the bytes offered and the bytes the pty took.
 */
async function pace(fh: FileHandle, traffic: Traffic, seconds: number, sample: () => void): Promise<{ offered: number; taken: number }> {
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((BAUD / 10) * (tickMs / 1000)));
  const t0 = Date.now();
  let sent = 0;
  let taken = 0;
  let lastSample = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const due = Math.floor(((Date.now() - t0) / tickMs + 1) * perTick);
    if (sent < due) {
      const chunk = traffic === 'garbage' ? garbage(due - sent) : requests(due - sent);
      try {
        taken += (await fh.write(chunk)).bytesWritten;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      sent += chunk.length;
    }
    if (Date.now() - lastSample >= 1000) {
      sample();
      lastSample = Date.now();
    }
    await sleep(tickMs);
  }
  return { offered: sent, taken };
}

async function main(): Promise<void> {
  const why = socatMissing();
  if (why) {
    console.log(JSON.stringify({ bench: 'serial-soak', skipped: why }));
    process.exitCode = 1;
    return;
  }
  // The code measured is the code at the start (the tree may move on during a long run).
  const commit = gitCommit();
  const dir = mkdtempSync(join(os.tmpdir(), 'engram-serial-soak-'));
  const pair = await startSocat(dir);
  let serve: ServeProc | null = null;
  const phases: Phase[] = [];
  let writer: FileHandle | null = null;
  try {
    serve = await startServe([
      '--serial',
      pair.ptys[0],
      '--baud',
      String(BAUD),
      '--store',
      join(dir, 'store'),
      '--features',
      String(DIM),
      '--topk',
      String(TOPK),
      '--quiet',
    ]);
    const s = serve;
    // Teach the classes so PREDICTs are real work with real answers.
    console.error('serve is listening; teaching the classes');
    {
      const port = await openSerial({ path: pair.ptys[1], baudRate: BAUD });
      const c = new LinkClient(port, { timeoutMs: 5000 });
      for (let k = 0; k < CLASSES; k++) await c.learn(`class-${k}`, vector(k));
      c.close();
      await closeSerial(port);
    }
    await sleep(500);
    const rssStartMb = mb(s.rss()!);
    let rssMax = s.rss()!;
    writer = await open(pair.ptys[1], constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    const plan: { traffic: Traffic; reading: boolean }[] = [
      { traffic: 'garbage', reading: true },
      { traffic: 'garbage', reading: false },
      { traffic: 'requests', reading: true },
      { traffic: 'requests', reading: false },
    ];
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < MINUTES * 60_000; i++) {
      const { traffic, reading } = plan[i % plan.length];
      const seconds = Math.min(PHASE_S, Math.max(1, (MINUTES * 60_000 - (Date.now() - t0)) / 1000));
      console.error(`phase ${i}: ${traffic}, peer ${reading ? 'reading' : 'not reading'}`);
      let reader: SerialPort | null = null;
      let bytesRead = 0;
      if (reading) {
        reader = await openSerial({ path: pair.ptys[1], baudRate: BAUD });
        reader.on('data', (d: Buffer) => (bytesRead += d.length));
      }
      let phaseMax = 0;
      const sample = () => {
        const r = s.rss();
        if (r === null) throw new Error(`engram serve died: ${s.stderr()}`);
        phaseMax = Math.max(phaseMax, r);
        rssMax = Math.max(rssMax, r);
      };
      const { offered: bytesSent, taken: bytesTaken } = await pace(writer, traffic, seconds, sample);
      if (reader) await closeSerial(reader);
      sample();
      const phase: Phase = {
        traffic,
        reading,
        seconds: Math.round(seconds),
        bytesSent,
        bytesTaken,
        bytesRead,
        rssMaxMb: mb(phaseMax),
        rssEndMb: mb(s.rss()!),
      };
      phases.push(phase);
      console.log(
        `${Math.round((Date.now() - t0) / 1000)} s: ${traffic}, peer ${reading ? 'reading' : 'not reading'}: ${bytesSent} bytes sent, ${bytesTaken} taken by the pty, ${bytesRead} read; serve RSS max ${phase.rssMaxMb} MB, end ${phase.rssEndMb} MB`,
      );
    }
    const soakSeconds = Math.round((Date.now() - t0) / 1000);

    // The controller reads again: every request is answered, and right.
    console.error('soak over: requests from a controller that reads');
    await sleep(1000);
    const port = await openSerial({ path: pair.ptys[1], baudRate: BAUD });
    const c = new LinkClient(port, { timeoutMs: 5000 });
    const discarded = await c.discardInput(300, 10_000);
    let answered = 0;
    let right = 0;
    const AFTER = 50;
    for (let i = 0; i < AFTER; i++) {
      const cls = i % CLASSES;
      const p = await c.predict(vector(cls), { top: 3 });
      answered++;
      if (p.label === `class-${cls}`) right++;
    }
    c.close();
    await closeSerial(port);

    // Noise with nobody reading, then SIGINT.
    console.error('noise with nobody reading, then SIGINT');
    const noise = pace(writer, 'garbage', 3, () => {});
    await sleep(2000);
    const stop = await s.interrupt(10_000);
    await noise.catch(() => undefined);
    const stopped = JSON.parse(
      s
        .stdout()
        .trim()
        .split('\n')
        .filter((l) => l.includes('"stopped"'))
        .at(-1) ?? '{}',
    );
    const rssMaxMb = mb(rssMax);
    const result = {
      bench: 'serial-soak',
      machine: { cpus: os.cpus().length, arch: process.arch, node: process.version, model: os.cpus()[0]?.model },
      commit,
      baud: BAUD,
      soakSeconds,
      phaseSeconds: PHASE_S,
      rssStartMb,
      rssMaxMb,
      rssBoundMb: RSS_BOUND_MB,
      rssWithinBound: rssMaxMb <= RSS_BOUND_MB,
      afterwards: { requests: AFTER, answered, right, staleBytesDiscarded: discarded },
      sigint: { exitCode: stop.code, ms: stop.ms, withinOneSecond: stop.ms !== null && stop.ms < 1000 },
      serve: stopped,
      phases,
    };
    const line = JSON.stringify(result);
    if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
    console.log(line);
    if (!result.rssWithinBound || answered !== AFTER || right !== AFTER || !result.sigint.withinOneSecond) process.exitCode = 1;
  } finally {
    await writer?.close().catch(() => undefined);
    serve?.kill();
    await pair.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Result = {
  machine: { cpus: number; model?: string };
  commit: string | null;
  baud: number;
  soakSeconds: number;
  rssStartMb: number;
  rssMaxMb: number;
  rssBoundMb: number;
  afterwards: { requests: number; answered: number; right: number };
  sigint: { exitCode: number | null; ms: number | null };
  serve: { frames?: number; faults?: number; dropped?: number; acks?: number };
  phases: Phase[];
};

/** The paragraph docs/protocol.md quotes, from a result. */
function render(r: Result): string {
  const phase = (traffic: Traffic, reading: boolean) => {
    const ps = r.phases.filter((p) => p.traffic === traffic && p.reading === reading);
    return {
      max: Math.max(...ps.map((p) => p.rssMaxMb)),
      sent: ps.reduce((n, p) => n + p.bytesSent, 0),
      taken: ps.reduce((n, p) => n + p.bytesTaken, 0),
    };
  };
  const rows = (['garbage', 'requests'] as const).flatMap((t) =>
    [true, false].map((reading) => {
      const p = phase(t, reading);
      return `| ${t === 'garbage' ? 'garbage' : 'valid requests'} | ${reading ? 'reads' : 'never reads'} | ${(p.sent / 1e6).toFixed(1)} MB | ${(p.taken / 1e6).toFixed(1)} MB | ${p.max} MB |`;
    }),
  );
  return [
    `${Math.round(r.soakSeconds / 60)} minutes at ${r.baud} baud on a ${r.machine.cpus}-core ${r.machine.model ?? ''} machine (commit ${r.commit}):`,
    '',
    '| traffic | peer | sent at line rate | taken in (the rest was lost while serve, blocked on output, did not read) | serve resident memory, max |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Resident memory: ${r.rssStartMb} MB at the start, at most ${r.rssMaxMb} MB (bound checked: ${r.rssBoundMb} MB). serve read ` +
      `${r.serve.frames} frames and ${r.serve.faults} unreadable blocks, and dropped ${r.serve.dropped} error frames nobody read. ` +
      `Afterwards ${r.afterwards.answered} of ${r.afterwards.requests} requests were answered, ${r.afterwards.right} of them right; ` +
      `SIGINT with noise flowing and nobody reading: exit ${r.sigint.exitCode} after ${r.sigint.ms} ms.`,
  ].join('\n');
}

function updateDoc(path: string, text: string): void {
  const doc = readFileSync(path, 'utf8');
  const re = /(<!-- serial-soak:begin -->\n)[\s\S]*?(\n<!-- serial-soak:end -->)/;
  if (!re.test(doc)) throw new Error(`${path}: no <!-- serial-soak:begin --> ... <!-- serial-soak:end --> markers`);
  writeFileSync(
    path,
    doc.replace(re, (_m, a: string, b: string) => a + text + b),
  );
}

function gitCommit(): string | null {
  try {
    const head = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return null;
  }
}

if (values.render) {
  const text = render(JSON.parse(readFileSync(values.render, 'utf8')) as Result);
  if (values['update-doc']) updateDoc(values['update-doc'], text);
  console.log(text);
} else await main();
