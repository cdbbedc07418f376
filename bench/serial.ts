// bench:serial: PREDICT over the field link, engram serve in its own process on one end of a socat pty
// pair, the reference client on the other. For 115200 and 921600 baud: round-trip latency (stop-and-wait,
// median and p90 wall ms), frames per second stop-and-wait and pipelined (8 outstanding), for a 1280-d
// feature vector (MobileNetV2-sized) and a 64-d one. A pty moves bytes as fast as the CPU allows whatever
// baud is set, so the time the same bytes need on a real line at that baud is reported beside each
// measurement (computed, 10 bits per byte), with the round trip it implies. Last line: one JSON object.
// Usage: node dist/bench/serial.js [--quick]
import { Rng } from '../src/util/rng.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LinkClient } from '../src/link/client.js';
import { FrameReader, encodeFrame } from '../src/link/frame.js';
import { MessageType, PROTOCOL_VERSION, encodeRequest } from '../src/link/protocol.js';
import { closeSerial, openSerial } from '../src/link/serial.js';
import { writeChunked } from '../src/link/write.js';
import { socatMissing, startSocat } from '../test/helpers/link-socat.js';

const quick = process.argv.includes('--quick');
const ROUND_TRIPS = quick ? 60 : 300;
const WARMUP = 20;
const PIPELINED = quick ? 100 : 400;
const WINDOW = 8;
const CLASSES = 10;
const BAUDS = [115200, 921600];
const DIMS = [1280, 64];
/** Active neurons of the top-k quantizer; each class lights that many dimensions of its own. */
const topk = (dim: number) => (dim >= 320 ? 32 : 4);

function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function vector(dim: number, cls: number, r: () => number): Float32Array {
  const hot = topk(dim);
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = r() * 0.2;
  // Each class lights its own dimensions (10 classes x 4 fit in 64-d), so every answer can be checked.
  for (let k = 0; k < hot; k++) v[cls * hot + k] += 1;
  return v;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
}

const round = (x: number, d = 3) => Number(x.toFixed(d));

async function startServe(pty: string, baud: number, store: string, dim: number): Promise<ChildProcess> {
  const bin = fileURLToPath(new URL('../../bin/engram.js', import.meta.url));
  const proc = spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--serial',
      pty,
      '--baud',
      String(baud),
      '--store',
      store,
      '--features',
      String(dim),
      '--topk',
      String(topk(dim)),
      '--json',
      '--quiet',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const t0 = Date.now();
  while (!/"event":"listening"/.test(out)) {
    if (proc.exitCode !== null || Date.now() - t0 > 20000) throw new Error(`engram serve did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return proc;
}

interface Run {
  baud: number;
  dim: number;
  requestBytes: number;
  answerBytes: number;
  medianMs: number;
  p90Ms: number;
  stopAndWaitFramesPerS: number;
  pipelinedFramesPerS: number;
  wireMsPerRoundTrip: number;
  lineRoundTripMs: number;
  lineFramesPerS: number;
}

async function measure(baud: number, dim: number, dir: string): Promise<Run> {
  const pair = await startSocat(dir);
  const store = mkdtempSync(join(dir, `store-${baud}-${dim}-`));
  const serve = await startServe(pair.ptys[0], baud, store, dim);
  const port = await openSerial({ path: pair.ptys[1], baudRate: baud });
  const client = new LinkClient(port, { timeoutMs: 5000, baudRate: baud });
  try {
    const r = rng(dim * 31 + baud);
    for (let c = 0; c < CLASSES; c++) await client.learn(`class-${c}`, vector(dim, c, r));
    const queries = Array.from({ length: 32 }, (_, i) => vector(dim, i % CLASSES, r));

    // Bytes on the wire for one PREDICT and its answer (top 3).
    const req = encodeRequest({ type: 'predict', top: 3, input: { kind: 'features', vector: queries[0] } });
    const requestBytes = encodeFrame({ version: PROTOCOL_VERSION, type: req.type, id: 1, body: req.body }).length;
    let answerBytes = 0;
    const sniff = new FrameReader();
    const onData = (chunk: Buffer) => {
      for (const ev of sniff.push(chunk)) if (ev.frame) answerBytes = Math.max(answerBytes, ev.frame.body.length + 8);
    };
    port.on('data', onData);

    const times: number[] = [];
    for (let i = 0; i < WARMUP + ROUND_TRIPS; i++) {
      const t0 = process.hrtime.bigint();
      const p = await client.predict(queries[i % queries.length], { top: 3 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const want = `class-${(i % queries.length) % CLASSES}`;
      if (p.label !== want) throw new Error(`wrong answer ${p.label} for ${want}`);
      if (i >= WARMUP) times.push(ms);
    }
    port.off('data', onData);
    // Stuffed size of the largest answer seen: body + header/CRC (8) + COBS overhead + 2 delimiters.
    answerBytes = answerBytes + Math.ceil(answerBytes / 254) + 3;
    client.close();

    // Pipelined: keep WINDOW requests outstanding, count answers per second.
    const frames = queries.map((q) => {
      const e = encodeRequest({ type: 'predict', top: 3, input: { kind: 'features', vector: q } });
      return (id: number) => encodeFrame({ version: PROTOCOL_VERSION, type: e.type, id, body: e.body });
    });
    const reader = new FrameReader();
    let answered = 0;
    let errors = 0;
    let sent = 0;
    let wake: () => void = () => {};
    port.on('data', (chunk: Buffer) => {
      for (const ev of reader.push(chunk)) {
        if (ev.frame?.type === MessageType.ACK) answered++;
        else errors++;
      }
      wake();
    });
    const t0 = process.hrtime.bigint();
    while (answered + errors < PIPELINED) {
      while (sent < PIPELINED && sent - answered - errors < WINDOW) {
        await writeChunked(port, frames[sent % frames.length](1 + (sent % 0xfffe)));
        sent++;
      }
      if (answered + errors >= PIPELINED) break;
      await new Promise<void>((r) => (wake = r));
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (errors) throw new Error(`${errors} pipelined requests failed`);

    const medianMs = quantile(times, 0.5);
    const wireMs = ((requestBytes + answerBytes) * 10 * 1000) / baud;
    return {
      baud,
      dim,
      requestBytes,
      answerBytes,
      medianMs: round(medianMs),
      p90Ms: round(quantile(times, 0.9)),
      stopAndWaitFramesPerS: round(1000 / medianMs, 1),
      pipelinedFramesPerS: round(answered / seconds, 1),
      wireMsPerRoundTrip: round(wireMs),
      lineRoundTripMs: round(medianMs + wireMs),
      lineFramesPerS: round(1000 / (medianMs + wireMs), 1),
    };
  } finally {
    await closeSerial(port);
    await new Promise<void>((resolve) => {
      serve.once('exit', () => resolve());
      serve.kill('SIGINT');
    });
    await pair.stop();
    rmSync(store, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const why = socatMissing();
  if (why) {
    console.log(JSON.stringify({ bench: 'serial', skipped: why }));
    process.exitCode = 1;
    return;
  }
  const dir = mkdtempSync(join(os.tmpdir(), 'engram-bench-serial-'));
  const runs: Run[] = [];
  try {
    for (const baud of BAUDS) {
      for (const dim of DIMS) {
        const run = await measure(baud, dim, dir);
        runs.push(run);
        console.log(
          `${baud} baud, ${dim}-d PREDICT: pty median ${run.medianMs} ms (p90 ${run.p90Ms}), ${run.stopAndWaitFramesPerS} frames/s stop-and-wait, ` +
            `${run.pipelinedFramesPerS} pipelined; ${run.requestBytes}+${run.answerBytes} bytes need ${run.wireMsPerRoundTrip} ms on a real line -> ` +
            `${run.lineRoundTripMs} ms, ${run.lineFramesPerS} frames/s`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify({
      bench: 'serial',
      machine: { cpus: os.cpus().length, arch: process.arch, node: process.version, model: os.cpus()[0]?.model },
      roundTrips: ROUND_TRIPS,
      pipelinedWindow: WINDOW,
      note: 'pty does not pace bytes at the baud rate: medianMs is the software round trip; lineRoundTripMs adds the computed wire time at that baud',
      runs,
    }),
  );
}

await main();
