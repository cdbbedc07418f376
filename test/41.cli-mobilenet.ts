// The learner CLI end to end with MobileNetV2 int8 (../shared/models): pull it offline with --from,
// fit a codebook on unlabelled images the device has seen, learn, predict, and refuse another backbone.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engram, sharedModels, writeDigits } from './helpers/learner-files.js';

const models = sharedModels();
const test = suite('CLI end to end with MobileNetV2 int8');

if (!models) {
  console.log('SKIP 41.cli-mobilenet: ../shared/models/mobilenetv2-12-int8.onnx not found (set ENGRAM_SHARED_MODELS)');
} else {
  const work = mkdtempSync(join(tmpdir(), 'engram-mnv2-'));
  const env = { ENGRAM_MODELS_DIR: join(work, 'models') };
  const store = join(work, 'store');
  const run = (args: string[]) => engram(args, env);

  test.before(async () => {
    await writeDigits(work, 'train', [0, 1, 2, 3, 4], 60);
    await writeDigits(work, 'test', [0, 1, 2, 3, 4], 20);
  });

  test('models pull --from a local file installs the feature extractor offline', () => {
    const r = run(['models', 'pull', 'mobilenetv2-12-int8', '--from', join(models, 'mobilenetv2-12-int8.onnx'), '--json']);
    assert.is(r.status, 0, r.stderr);
  });

  test('codebook fit, learn and predict reach well above chance', () => {
    const cb = join(work, 'digits.egc');
    let r = run(['codebook', 'fit', '--backbone', 'mobilenetv2-12-int8', '--parts', '32', '--anchors', '64', '-o', cb, join(work, 'train'), '--json']);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.lines[0].parts, 32);
    r = run(['learn', '--store', store, '--backbone', 'mobilenetv2-12-int8', '--codebook', cb, '--parts', '32', '--anchors', '64', '--labels-from', 'dir', join(work, 'train'), '--json']);
    assert.is(r.status, 0, r.stderr);
    r = run(['predict', '--store', store, join(work, 'test'), '--json']);
    assert.is(r.status, 0, r.stderr);
    const correct = r.lines.filter((l) => String(l.file).split('/').at(-2) === (l.top as { label: string }[])[0].label).length;
    console.log(`MobileNetV2 int8, 5 digits x 60 shots: held-out accuracy ${correct}%`);
    assert.is(r.lines.length, 100);
    assert.ok(correct >= 75, `accuracy ${correct}% (chance 20%)`);
  });

  test('the store refuses the default backbone instead of mixing feature spaces', () => {
    const r = run(['learn', '--store', store, '--backbone', 'engram-glyph', '--label', '7', join(work, 'test', '4')]);
    assert.is(r.status, 2);
    assert.match(r.stderr, /was built with backbone mobilenetv2-int8-features.*refusing/);
    const s = run(['stats', '--store', store, '--json']);
    assert.is(s.lines[0].classes, 5, 'nothing was added by the refused command');
  });

  test.after(() => rmSync(work, { recursive: true, force: true }));
}

test.run();
