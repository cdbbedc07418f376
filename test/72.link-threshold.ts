// The serial link reads the open-set threshold (STATS with flags 1, docs/protocol.md 5.6) and prunes by share
// (kind 5): the document's worked bytes, then engram serve on a socat pty with a store of real digit images,
// where `engram client stats` shows the threshold the store holds, a `client prune --share` recalibrates it, and
// the store says the same once serve has stopped. `client prune --fanin` (the old name) still works.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFrame } from '../src/link/frame.js';
import { MessageType, decodeAck, decodeRequest, encodeAck, encodeRequest } from '../src/link/protocol.js';
import { socatMissing, startSocat, type SocatPair } from './helpers/link-socat.js';
import { startServe } from './helpers/link-serve-proc.js';
import { engram, writeDigits } from './helpers/learner-files.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
const text = readFileSync(join(root, 'docs', 'protocol.md'), 'utf8');
function example(name: string): string {
  const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`\\n([0-9a-f \\n]+)\`\`\``).exec(text);
  assert.ok(m, `docs/protocol.md has example ${name}`);
  return m[1].replace(/\s+/g, ' ').trim();
}

const wire = suite('STATS threshold and share pruning on the wire');

wire("docs/protocol.md's worked STATS with the threshold, and its ACK", () => {
  const { type, body } = encodeRequest({ type: 'stats', threshold: true });
  assert.is(hex(encodeFrame({ version: 2, type, id: 5, body })), example('stats-v2-threshold'));
  assert.equal(decodeRequest(type, body, 2), { type: 'stats', first: 0, threshold: true });
  const reply = {
    type: 'stats' as const,
    classes: 2,
    examples: 3,
    bytes: 4096,
    compressedBytes: 50,
    density: 0.25,
    labelsTotal: 2,
    first: 0,
    labels: ['ok', 'no'],
    threshold: { value: 0.5, source: 'calibrated' as const, known: 40, novel: 42 },
  };
  const ack = encodeAck(reply, { version: 2 });
  assert.is(hex(encodeFrame({ version: 2, type: MessageType.ACK, id: 5, body: ack })), example('stats-v2-threshold-ack'));
  assert.equal(decodeAck(ack, 2), reply);
});

wire('a version 1 answer and an answer nobody asked the threshold for keep their old layouts', () => {
  const reply = {
    type: 'stats' as const,
    classes: 1,
    examples: 1,
    bytes: 64,
    compressedBytes: 8,
    density: 0.5,
    labelsTotal: 1,
    first: 0,
    labels: ['a'],
  };
  const plain = encodeAck(reply, { version: 2 });
  assert.is(
    hex(encodeAck({ ...reply, threshold: { value: 0.3, source: 'fixed', known: 1, novel: 2 } }, { version: 1 })),
    hex(encodeAck(reply, { version: 1 })),
  );
  assert.equal(decodeAck(plain, 2), reply);
  assert.is(encodeRequest({ type: 'stats' }).body.length, 0);
});

wire('bad STATS flags and a bad share are BAD_REQUEST material; share round-trips to six decimals', () => {
  assert.throws(() => decodeRequest(MessageType.STATS, Buffer.from([0, 0, 2]), 2), /STATS flags must be 1/);
  const share = encodeRequest({ type: 'prune', policy: { kind: 'share', share: 0.1 } });
  assert.equal(decodeRequest(share.type, share.body, 2), { type: 'prune', policy: { kind: 'share', share: 0.1 } });
  const bad = Buffer.from(share.body);
  bad.writeFloatLE(1.5, 1);
  assert.throws(() => decodeRequest(share.type, bad, 2), /share must be in \(0, 1\]/);
  assert.throws(() => encodeRequest({ type: 'prune', policy: { kind: 'share', share: 0 } }), /policy\.share/);
});

wire.run();

const live = suite('engram client stats and prune over a socat pty');
const missing = socatMissing();
if (missing) console.log(`SKIP 72.link-threshold (pty part): ${missing}`);
else {
  const ctx = {} as { dir: string; pair: SocatPair; store: string };
  live.before(async () => {
    ctx.dir = mkdtempSync(join(tmpdir(), 'engram-link-threshold-'));
    ctx.store = join(ctx.dir, 'store');
    await writeDigits(ctx.dir, 'train', [0, 1, 2], 15);
    const r = engram(['learn', '--store', ctx.store, '--backbone', 'engram-glyph', '--labels-from', 'dir', join(ctx.dir, 'train')]);
    assert.is(r.status, 0, r.stderr);
    ctx.pair = await startSocat(ctx.dir);
  });
  live.after(async () => {
    await ctx.pair?.stop();
    rmSync(ctx.dir, { recursive: true, force: true });
  });

  live("client stats shows the store's threshold; prune --share over the link recalibrates it; --fanin still taken", async () => {
    const local = engram(['threshold', '--store', ctx.store, '--json']).lines[0] as {
      threshold: number;
      source: string;
      calibration: { known: number; novel: number };
    };
    assert.is(local.source, 'calibrated');
    const serve = await startServe(['--serial', ctx.pair.ptys[0], '--store', ctx.store], 60000);
    const client = (...a: string[]) => engram(['client', '--serial', ctx.pair.ptys[1], '--timeout', '20000', ...a]);
    let after: { value: number; source: string; known: number; novel: number };
    try {
      const s = client('stats', '--json');
      assert.is(s.status, 0, s.stderr);
      const t = s.lines.at(-1)!.threshold as typeof after;
      assert.equal(t, {
        value: Math.fround(local.threshold),
        source: 'calibrated',
        known: local.calibration.known,
        novel: local.calibration.novel,
      });
      assert.match(client('stats').stdout, /unknown threshold: \d\.\d{3}, calibrated \(from \d+ known and \d+ novel samples\)/);
      const p = client('prune', '--share', '0.5', '--json');
      assert.is(p.status, 0, p.stderr);
      assert.ok((p.lines.at(-1)!.removed as number) > 0, 'share 0.5 removes connections');
      const f = client('prune', '--fanin', '3', '--json');
      assert.is(f.status, 0, f.stderr);
      after = client('stats', '--json').lines.at(-1)!.threshold as typeof after;
      assert.is(after.source, 'calibrated');
      assert.ok(after.known > 0 && after.novel > 0);
      const both = client('prune', '--fanin', '3', '--max-classes', '3');
      assert.is(both.status, 1);
      assert.match(both.stderr, /--fanin is the old name of --max-classes/);
    } finally {
      assert.is((await serve.interrupt()).code, 130);
    }
    const stored = engram(['threshold', '--store', ctx.store, '--json']).lines[0] as { threshold: number };
    assert.is(Math.fround(stored.threshold), after!.value, 'the store holds the threshold the link reported after the prune');
    const help = spawnSync(process.execPath, [join(root, 'bin', 'engram.js'), 'client', 'prune', '--help'], { encoding: 'utf8' });
    assert.match(help.stdout, /--max-classes <m>/);
    assert.match(help.stdout, /--share <s>/);
  });
  live.run();
}
