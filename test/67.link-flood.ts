// Line noise against a peer that does not read (issue: every garbage block became an ERROR frame chained on an
// unbounded queue; 12.5 MB of `01 00` took engram serve from 104 MB to 4.1 GB and it then ignored SIGINT).
// engram serve runs as its own process on a socat pty; the test writes garbage into the other end and never
// reads what comes back, then checks serve's resident memory stayed bounded, that a request sent once the
// controller reads again is answered, and that SIGINT ends serve within a second while nobody reads.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkClient } from '../src/link/client.js';
import { closeSerial, openSerial } from '../src/link/serial.js';
import { socatMissing, startSocat, type SocatPair } from './helpers/link-socat.js';
import { startServe, type ServeProc } from './helpers/link-serve-proc.js';
import { LINK_DIM, LINK_TOPK, classVector } from './helpers/link-vectors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const missing = socatMissing() ?? (process.platform === 'linux' ? null : 'resident memory is read from /proc (Linux only)');
const flood = suite('engram serve under line noise, peer not reading');
/** Garbage written per round: 1 MiB of `01 00`, half a million blocks that are each an unreadable frame. */
const FLOOD_BYTES = 1 << 20;
/** Growth of serve's resident memory allowed over its idle size. Without the bound it grows by hundreds of MB. */
const RSS_BOUND = 48 * 1024 * 1024;

const ctx = {} as { dir: string; pair: SocatPair; serve: ServeProc };

/** Writes `bytes` of `01 00` into the pty without ever reading it; samples serve's peak RSS meanwhile. */
async function noise(path: string, bytes: number): Promise<number> {
  const fh = await open(path, constants.O_RDWR | constants.O_NOCTTY);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, ctx.serve.rss() ?? 0)), 50);
  try {
    const block = Buffer.alloc(4096);
    for (let i = 0; i < block.length; i += 2) block[i] = 1;
    for (let sent = 0; sent < bytes; sent += block.length) await fh.write(block);
    // Let serve work through what the pty buffered.
    await sleep(1500);
    peak = Math.max(peak, ctx.serve.rss() ?? 0);
  } finally {
    clearInterval(sampler);
    await fh.close();
  }
  return peak;
}

flood.before(async () => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'engram-link-flood-'));
  ctx.pair = await startSocat(ctx.dir);
  ctx.serve = await startServe([
    '--serial',
    ctx.pair.ptys[0],
    '--store',
    join(ctx.dir, 'store'),
    '--features',
    String(LINK_DIM),
    '--topk',
    String(LINK_TOPK),
    '--baud',
    '115200',
  ]);
});

flood.after(async () => {
  ctx.serve?.kill();
  await ctx.pair?.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
});

flood('resident memory stays bounded, the next request is answered, SIGINT exits within a second', async () => {
  await sleep(300);
  const idle = ctx.serve.rss()!;
  const peak = await noise(ctx.pair.ptys[1], FLOOD_BYTES);
  console.log(
    `  serve resident memory: ${(idle / 1048576).toFixed(1)} MB idle, ${(peak / 1048576).toFixed(1)} MB at most under ${FLOOD_BYTES >> 20} MiB of noise`,
  );
  assert.ok(peak - idle < RSS_BOUND, `serve grew by ${((peak - idle) / 1048576).toFixed(1)} MB (bound ${RSS_BOUND / 1048576} MB)`);

  // The controller reads again: a request is answered (the error frames still queued come first and are skipped).
  const port = await openSerial({ path: ctx.pair.ptys[1], baudRate: 115200 });
  const client = new LinkClient(port, { timeoutMs: 5000 });
  try {
    const stale = await client.discardInput(200);
    assert.ok(stale < 256 * 1024, `what serve still had queued for the controller is bounded: ${stale} bytes`);
    const r = await client.learn('after-the-noise', classVector(1, 1));
    assert.equal([r.label, r.stored], ['after-the-noise', 1]);
    assert.is((await client.stats()).classes, 1);
  } finally {
    client.close();
    await closeSerial(port);
  }

  // Noise again with nobody reading, then Ctrl-C: serve must not hang on answers nobody reads.
  await noise(ctx.pair.ptys[1], FLOOD_BYTES / 4);
  const stop = await ctx.serve.interrupt(5000);
  assert.ok(stop.ms !== null, 'serve exited after SIGINT');
  assert.ok(stop.ms < 1000, `serve took ${stop.ms} ms to exit after SIGINT`);
  assert.is(stop.code, 130);
  const done = JSON.parse(ctx.serve.stdout().trim().split('\n').at(-1)!);
  assert.is(done.event, 'stopped');
  assert.ok(done.dropped > 0, `error frames nobody read were dropped and counted: ${done.dropped}`);
  assert.ok(done.faults > done.dropped, 'every fault was counted');
});

if (missing) console.log(`SKIP 67.link-flood: ${missing}`);
else flood.run();
