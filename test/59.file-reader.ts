// The one file reader (src/util/read-file.ts): a directory, a FIFO, a device that never ends (/dev/zero) and a
// file over its kind's limit are refused before anything is read, with the file named; then the same for each
// kind of file a user passes on the command line (image, codebook, profile, manifest, model, file list).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_LIMITS, FileReadError, readFileChecked, readFileCheckedAsync } from '../src/util/read-file.js';
import { engram, writeDigits } from './helpers/learner-files.js';

const work = mkdtempSync(join(tmpdir(), 'engram-reader-'));
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');
const fifo = join(work, 'fifo');
execFileSync('mkfifo', [fifo]);
const dir = join(work, 'a-folder');
mkdirSync(dir);
/** A sparse file one byte over `limit`: costs no disk. */
const oversized = (name: string, limit: number) => {
  const p = join(work, name);
  writeFileSync(p, '');
  truncateSync(p, limit + 1);
  return p;
};

const reader = suite('readFileChecked / readFileCheckedAsync');

reader('a regular file within its limit is read whole, also when it grew after the check', async () => {
  const p = join(work, 'ok.bin');
  writeFileSync(p, Buffer.alloc(70_000, 7));
  assert.equal(readFileChecked(p, 'codebook'), Buffer.alloc(70_000, 7));
  assert.equal(await readFileCheckedAsync(p, 'codebook'), Buffer.alloc(70_000, 7));
  writeFileSync(join(work, 'empty'), '');
  assert.is(readFileChecked(join(work, 'empty'), 'image').length, 0);
});

reader('directory, FIFO, /dev/zero, missing file and oversized file: one error each, naming file and kind', async () => {
  const cases: [string, number | undefined, RegExp][] = [
    [dir, undefined, new RegExp(`^${dir}: expected a regular file \\(codebook\\), got a directory$`)],
    [fifo, undefined, new RegExp(`^${fifo}: expected a regular file \\(codebook\\), got a FIFO \\(named pipe\\)$`)],
    ['/dev/zero', undefined, /^\/dev\/zero: expected a regular file \(codebook\), got a character device$/],
    [join(work, 'missing'), undefined, /missing: cannot read this codebook: no such file$/],
    [oversized('big-1k', 1024), 1024, /big-1k: the codebook is 1025 bytes, more than the 1024-byte limit for a codebook$/],
  ];
  for (const [path, limit, pattern] of cases) {
    assert.throws(
      () => readFileChecked(path, 'codebook', limit),
      (e: Error) => e instanceof FileReadError && pattern.test(e.message),
    );
    try {
      await readFileCheckedAsync(path, 'codebook', limit);
      assert.unreachable(path);
    } catch (err) {
      assert.instance(err, FileReadError);
      assert.match((err as Error).message, pattern);
    }
  }
});

reader('every kind has a limit', () => {
  for (const [kind, limit] of Object.entries(FILE_LIMITS)) assert.ok(Number.isSafeInteger(limit) && limit > 0, kind);
});

const cli = suite('each kind of file a user passes on the command line');

/** Runs engram and expects exit 2 with the path named, in well under the time a hang or /dev/zero would take. */
function refused(args: string[], pattern: RegExp): void {
  const t0 = Date.now();
  const r = engram(args);
  assert.is(r.status, 2, `${args.join(' ')}\n${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.ok(Date.now() - t0 < 60_000, 'no hang');
}

const kinds = (_name: string) =>
  [
    [dir, 'a directory'],
    [fifo, 'a FIFO \\(named pipe\\)'],
    ['/dev/zero', 'a character device'],
  ] as const;

cli('image files: predict', async () => {
  const [png] = await writeDigits(join(work, 'digits'), 'train', [1], 1);
  const store = join(work, 'store');
  assert.is(engram(['learn', '--store', store, '--label', 'one', png]).status, 0);
  for (const [path, what] of kinds('image')) {
    if (path === dir) continue; // a folder is walked for images, not read
    refused(['predict', '--store', store, path], new RegExp(`${path}: not a file: expected a regular file \\(image\\), got ${what}`));
  }
  refused(
    ['predict', '--store', store, oversized('huge.png', FILE_LIMITS.image)],
    /huge\.png: the image is 268435457 bytes, more than the 268435456-byte limit for a image/,
  );
});

cli('--codebook', async () => {
  const [png] = await writeDigits(join(work, 'digits-cb'), 'train', [2], 1);
  for (const [path, what] of kinds('codebook')) {
    refused(
      ['learn', '--store', join(work, 'store-cb'), '--label', 'two', '--codebook', path, png],
      new RegExp(`${path}: expected a regular file \\(codebook\\), got ${what}`),
    );
  }
  refused(
    ['learn', '--store', join(work, 'store-cb'), '--label', 'two', '--codebook', oversized('huge.egc', FILE_LIMITS.codebook), png],
    /huge\.egc: the codebook is \d+ bytes, more than the 268435456-byte limit/,
  );
});

cli('--profile', async () => {
  const [png] = await writeDigits(join(work, 'digits-pf'), 'train', [3], 1);
  const learn = (profile: string) => ['learn', '--store', join(work, 'store-pf'), '--label', 'three', '--profile', profile, png];
  // A profile is read as a file when its name ends in .json (otherwise it is an id): links with such names.
  for (const [path, what] of kinds('profile')) {
    const link = join(work, `profile-${what.split(' ')[1]}.json`);
    symlinkSync(path, link);
    refused(learn(link), new RegExp(`device profile ${link}: cannot read \\(expected a regular file \\(profile\\), got ${what}\\)`));
  }
  refused(
    learn(oversized('huge.json', FILE_LIMITS.profile)),
    /huge\.json: cannot read \(the profile is 1048577 bytes, more than the 1048576-byte limit/,
  );
});

cli('backbone manifest and model files', () => {
  for (const [path, what] of kinds('manifest')) {
    const link = join(work, `manifest-${what.split(' ')[1]}.json`);
    symlinkSync(path, link);
    refused(['backbone', 'info', link], new RegExp(`${link}: expected a regular file \\(manifest\\), got ${what}`));
  }
  const modelDir = join(work, 'dir.onnx');
  mkdirSync(modelDir);
  refused(
    ['backbone', 'cut', modelDir, '--at', 'x', '--out', join(work, 'cut.onnx')],
    /dir\.onnx: cannot read model \(expected a regular file \(model\), got a directory\)/,
  );
  refused(
    ['backbone', 'info', oversized('big.features.json', FILE_LIMITS.manifest)],
    /big\.features\.json: the manifest is 4194305 bytes, more than the 4194304-byte limit/,
  );
  refused(
    ['backbone', 'cut', '/dev/zero', '--at', 'x', '--out', join(work, 'cut.onnx')],
    /\/dev\/zero: cannot read model \(expected a regular file \(model\), got a character device\)/,
  );
  refused(
    ['backbone', 'cut', fifo, '--at', 'x', '--out', join(work, 'cut.onnx')],
    /fifo: cannot read model \(expected a regular file \(model\), got a FIFO/,
  );
  refused(
    ['backbone', 'cut', oversized('big.onnx', FILE_LIMITS.model), '--at', 'x', '--out', join(work, 'cut.onnx')],
    /big\.onnx: cannot read model \(the model is 2147483648 bytes, more than the 2147483647-byte limit for a model\)/,
  );
});

reader.run();
cli.run();
