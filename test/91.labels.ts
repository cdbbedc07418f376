// One rule for labels (1 to 255 bytes of valid UTF-8, no control characters, no U+FFFD), enforced the same
// way by the API, the CLI (before any model loads) and the serial link.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engram } from '../src/learner/engram.js';
import { checkLabel, labelProblem, LABEL_MAX_BYTES } from '../src/util/label.js';
import { decodeRequest, ErrorCode, MessageType, ProtocolError } from '../src/link/protocol.js';
import { engram, writeDigits } from './helpers/learner-files.js';

const work = mkdtempSync(join(tmpdir(), 'engram-labels-'));
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');

/** [label, what labelProblem must say (null: accepted)] */
const CASES: [string, RegExp | null][] = [
  ['cat', null],
  ['Kätzchen 猫 🐈', null],
  ['a'.repeat(LABEL_MAX_BYTES), null],
  ['é'.repeat(127), null], // 254 bytes
  ['', /^is empty$/],
  ['a'.repeat(LABEL_MAX_BYTES + 1), /^is 256 UTF-8 bytes long, more than 255$/],
  ['é'.repeat(128), /^is 256 UTF-8 bytes long, more than 255$/],
  ['x'.repeat(30000), /^is 30000 UTF-8 bytes long, more than 255$/],
  ['two\nlines', /^has control character U\+000A at index 3$/],
  ['tab\there', /^has control character U\+0009 at index 3$/],
  ['nul\0', /^has control character U\+0000 at index 3$/],
  ['del\x7f', /^has control character U\+007F at index 3$/],
  ['c1\u0085', /^has control character U\+0085 at index 2$/],
  ['ls\u2028', /^has control character U\+2028 at index 2$/],
  ['bad\ufffd', /^has U\+FFFD at index 3 \(what bytes that are not valid UTF-8 become\)$/],
  ['lone\ud800', /^has a lone surrogate U\+D800 at index 4 \(not valid UTF-8\)$/],
  ['\udc00x', /^has a lone surrogate U\+DC00 at index 0 \(not valid UTF-8\)$/],
];

/** A table pattern without its anchors, to find inside a longer message. */
const inner = (re: RegExp) => re.source.replace(/^\^/, '').replace(/\$$/, '');

const rule = suite('the label rule');

rule('labelProblem accepts and refuses the table', () => {
  for (const [label, want] of CASES) {
    const got = labelProblem(label);
    if (want === null) assert.is(got, null, JSON.stringify(label.slice(0, 20)));
    else assert.match(got ?? 'accepted', want, JSON.stringify(label.slice(0, 20)));
  }
});

rule('checkLabel: TypeError for a non-string, RangeError naming the parameter and the rule otherwise', () => {
  assert.throws(
    () => checkLabel('label', 5),
    (e: Error) =>
      e instanceof TypeError &&
      /^label: expected a label of 1 to 255 bytes of valid UTF-8 without control characters, got number 5$/.test(e.message),
  );
  assert.throws(
    () => checkLabel('label', 'a\nb'),
    (e: Error) =>
      e instanceof RangeError &&
      /^label: expected a label of .*, got string "a\\nb", which has control character U\+000A at index 1$/.test(e.message),
  );
});

const api = suite('the API refuses what the rule refuses, before any work');

api('learn and forget', async () => {
  const e = await Engram.memory({ backbone: null, quantizer: { kind: 'sign', dim: 8 } });
  const x = [new Float32Array([1, -1, 1, -1, 1, -1, 1, -1])];
  for (const [label, want] of CASES) {
    if (want === null) {
      assert.is((await e.learn(label, x)).stored, 1);
      continue;
    }
    for (const op of [() => e.learn(label, x), () => e.forget(label)]) {
      try {
        await op();
        assert.unreachable(`accepted ${JSON.stringify(label.slice(0, 20))}`);
      } catch (err) {
        assert.instance(err, RangeError);
        assert.match((err as Error).message, new RegExp(`^label: expected a label of .*, which ${inner(want)}$`, 's'));
      }
    }
  }
  assert.is(e.stats().classes, 4, 'only the good labels became classes');
  await e.close();
});

const link = suite('the serial link refuses what the rule refuses, with BAD_REQUEST');

const body = (label: Buffer, extra: number[] = []) => Buffer.concat([Buffer.from([label.length]), label, Buffer.from(extra)]);
function refused(type: number, payload: Buffer, pattern: RegExp): void {
  try {
    decodeRequest(type, payload);
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.is((err as ProtocolError).code, ErrorCode.BAD_REQUEST);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${pattern} to be refused`);
}

link('LEARN and FORGET labels', () => {
  for (const [label, want] of CASES) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length > 255) continue; // the one-byte length cannot even say it
    if (want === null) {
      const req = decodeRequest(MessageType.FORGET, body(bytes));
      assert.equal(req, { type: 'forget', label });
      continue;
    }
    if (/surrogate/.test(want.source)) continue; // a lone surrogate has no UTF-8 form; see the bytes case below
    refused(MessageType.FORGET, body(bytes), new RegExp(`^FORGET: label ${inner(want)} \\(a label is 1 to 255 bytes`));
  }
  refused(MessageType.FORGET, body(Buffer.from([0x66, 0xff, 0x6f])), /FORGET: label is not valid UTF-8/);
  refused(
    MessageType.LEARN,
    body(Buffer.from('a\tb')),
    /^LEARN: label has control character U\+0009 at index 1 \(a label is 1 to 255 bytes/,
  );
});

const cli = suite('the CLI checks labels before the backbone loads');

cli('--label and forget: exit 1 with the rule; nothing is created', () => {
  const store = join(work, 'store-a');
  const png = join(work, 'x.png');
  writeFileSync(png, 'not read');
  for (const [label, want] of [
    ['two\nlines', /--label: .*which has control character U\+000A/],
    ['x'.repeat(30000), /--label: .*which is 30000 UTF-8 bytes long/],
    ['bad\ufffd', /--label: .*U\+FFFD/],
  ] as const) {
    const r = engram(['learn', '--store', store, '--label', label, png]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, want);
    assert.not.match(r.stderr, /backbone/, 'no backbone was loaded');
  }
  const f = engram(['forget', '--store', store, 'a\tb']);
  assert.is(f.status, 1);
  assert.match(f.stderr, /label: .*control character U\+0009/);
});

cli('a non-UTF-8 --label byte is refused, not stored as U+FFFD', async () => {
  const { spawnSync } = await import('node:child_process');
  const { BIN } = await import('./helpers/learner-files.js');
  // Through a shell, so the argument reaches engram as the raw bytes 0x66 0xff.
  const r = spawnSync(
    '/bin/sh',
    ['-c', `"${process.execPath}" "${BIN}" learn --store "${join(work, 'store-b')}" --label "$(printf 'f\\377')" x.png`],
    { cwd: work, encoding: 'utf8' },
  );
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /--label: .*which has U\+FFFD at index 1 \(what bytes that are not valid UTF-8 become\)/);
});

cli('--labels-from dir: a folder name that breaks the rule is an input error naming the folder, before any learning', async () => {
  const root = join(work, 'photos');
  await writeDigits(root, 'train', [1], 2);
  const bad = join(root, 'train', 'tab\there');
  mkdirSync(bad);
  await writeDigits(join(work, 'other'), 'train', [2], 1);
  const { copyFileSync, readdirSync } = await import('node:fs');
  const src = join(work, 'other', 'train', '2');
  copyFileSync(join(src, readdirSync(src)[0]), join(bad, 'a.png'));
  const store = join(work, 'store-c');
  const r = engram(['learn', '--store', store, '--labels-from', 'dir', root]);
  assert.is(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /--labels-from dir: the folder of .*tab\there\/a\.png: expected a label of .*which has control character U\+0009 at index 3/,
  );
  assert.not.match(r.stderr, /backbone/);
});

rule.run();
api.run();
link.run();
cli.run();
