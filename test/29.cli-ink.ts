// Ink on paper through the CLI, as a user brings it: MNIST digits written as dark ink on a larger white page,
// off-centre, with paper grain and uneven light, saved as real PNG and JPEG files; learned and predicted with
// the embedded backbone. With its input conventions (the default) they are inverted and framed as the model's
// training images were, and recognised; fed as they are (--conventions off) they are mostly not.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageAt, indicesByClass, loadMnist } from '../src/datasets/idx.js';
import { inkPage, writeGrey } from '../bench/lib/ink-pages.js';
import { engram, ROOT } from './helpers/learner-files.js';

const LEARN = 5;
const TEST = 4;
const work = mkdtempSync(join(tmpdir(), 'engram-ink-cli-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
// An empty model cache: the embedded backbone whatever this machine has pulled.
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');

/** Where each page's digit frame sits, by file. */
const placed = new Map<string, { x: number; y: number; size: number }>();

async function writePages(split: 'train' | 'test', folder: string, perClass: number): Promise<void> {
  const set = loadMnist(split);
  for (const [digit, ids] of indicesByClass(set)) {
    mkdirSync(join(work, folder, String(digit)), { recursive: true });
    for (const [k, i] of ids.slice(0, perClass).entries()) {
      const page = inkPage(imageAt(set, i).data, i + (split === 'test' ? 100_000 : 0));
      // Half PNG, half JPEG, in learning and in queries.
      const file = join(work, folder, String(digit), `${i}.${k % 2 ? 'jpg' : 'png'}`);
      await writeGrey(file, page, k % 2 ? 'jpeg' : 'png');
      placed.set(file, page.at);
    }
  }
}

interface Answer {
  file: string;
  label: string | null;
  top: { label: string }[];
  conventions: {
    polarity: string;
    inverted: boolean;
    ink: { x: number; y: number; width: number; height: number } | null;
    crop: { width: number } | null;
  } | null;
}

function predict(store: string, extra: string[] = []): Answer[] {
  const r = engram(['predict', '--store', store, '--json', ...extra, join(work, 'test')]);
  assert.is(r.status, 0, r.stderr);
  return r.lines as unknown as Answer[];
}

const top1 = (answers: Answer[]) => answers.filter((a) => a.top[0]?.label === a.file.split('/').at(-2)).length / answers.length;

const ink = suite('ink on paper through the CLI');

ink.before(async () => {
  await writePages('train', 'learn', LEARN);
  await writePages('test', 'test', TEST);
});

ink('dark-on-light PNG and JPEG pages are inverted, framed and recognised; predict --json says what was applied', () => {
  const store = join(work, 'auto');
  const learned = engram(['learn', '--store', store, '--labels-from', 'dir', '--backbone', 'engram-glyph', '--quiet', join(work, 'learn')]);
  assert.is(learned.status, 0, learned.stderr);
  const answers = predict(store);
  assert.is(answers.length, 10 * TEST);
  const accuracy = top1(answers);
  console.log(
    `  ink on paper, ${LEARN} pages learned per digit, ${answers.length} queries: top-1 ${(100 * accuracy).toFixed(1)}% with conventions`,
  );
  assert.ok(accuracy >= 0.8, `top-1 ${accuracy}`);
  for (const a of answers) {
    assert.is(a.conventions?.polarity, 'dark-on-light', a.file);
    assert.is(a.conventions?.inverted, true, a.file);
    const at = placed.get(a.file)!;
    const box = a.conventions!.ink!;
    // The ink's box lies inside the digit's frame on the page (a pixel of slack for JPEG ringing).
    assert.ok(
      box.x >= at.x - 1 && box.y >= at.y - 1 && box.x + box.width <= at.x + at.size + 1 && box.y + box.height <= at.y + at.size + 1,
      `${a.file}: ${JSON.stringify(box)} outside ${JSON.stringify(at)}`,
    );
    assert.ok(a.conventions!.crop!.width > box.width, "the crop pads the ink to the model's framing");
  }
});

ink("fed as they are (--conventions off) the same pages are mostly misread: the gain is the feature's", () => {
  const store = join(work, 'off');
  const learned = engram([
    'learn',
    '--store',
    store,
    '--labels-from',
    'dir',
    '--backbone',
    'engram-glyph',
    '--conventions',
    'off',
    '--quiet',
    join(work, 'learn'),
  ]);
  assert.is(learned.status, 0, learned.stderr);
  const answers = predict(store);
  const accuracy = top1(answers);
  console.log(`  the same without conventions: top-1 ${(100 * accuracy).toFixed(1)}%`);
  assert.ok(accuracy <= 0.5, `top-1 ${accuracy}`);
  assert.ok(answers.every((a) => a.conventions === null));
});

ink('a store keeps the conventions it was made with and refuses the other', () => {
  const r = engram(['predict', '--store', join(work, 'auto'), '--conventions', 'off', join(work, 'test')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, /was built with input conventions auto; refusing off/);
  // Repeating the store's own choice is fine.
  assert.is(predict(join(work, 'off'), ['--conventions', 'off']).length, 10 * TEST);
});

ink('backbone embed --json says per image which path decoded it and what the conventions did', () => {
  const files = [...placed.keys()].filter((f) => f.includes('/test/0/')).slice(0, 2);
  const r = engram(['backbone', 'embed', join(ROOT, 'models', 'engram-glyph.json'), '--json', ...files]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(
    r.lines.map((l) => (l.conventions as Answer['conventions'])?.inverted),
    [true, true],
  );
  assert.ok(r.lines.every((l) => ['png', 'jpeg', 'decode'].includes(l.by as string)));
  const off = engram(['backbone', 'embed', join(ROOT, 'models', 'engram-glyph.json'), '--json', '--conventions', 'off', files[0]]);
  assert.is(off.lines[0].conventions, null);
});

ink.run();
