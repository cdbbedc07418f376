// The learner CLI end to end with MobileNetV2 int8 (../shared/models): pull it offline with --from,
// fit a codebook on unlabelled images the device has seen, learn, predict, refuse another backbone, forget a
// class and prune to a byte budget.
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

  test('right after models pull, learn and predict work with no quantizer options (the sparse default)', () => {
    const plain = join(work, 'plain');
    let r = run(['learn', '--store', plain, '--backbone', 'mobilenetv2-12-int8', '--labels-from', 'dir', join(work, 'train'), '--json']);
    assert.is(r.status, 0, r.stderr);
    r = run(['predict', '--store', plain, join(work, 'test'), '--json']);
    assert.is(r.status, 0, r.stderr);
    const correct = r.lines.filter((l) => String(l.file).split('/').at(-2) === (l.top as { label: string }[])[0].label).length;
    console.log(`MobileNetV2 int8, defaults, 5 digits x 60 shots: held-out accuracy ${correct}%`);
    assert.ok(correct >= 75, `accuracy ${correct}% (chance 20%)`);
    const s = run(['stats', '--store', plain, '--json']).lines[0] as { quantizer: { kind: string } };
    assert.is(s.quantizer.kind, 'sparse');
  });

  test('codebook fit --labels-from dir makes a whitening that learn --codebook takes', () => {
    const w = join(work, 'digits.egw');
    let r = run(['codebook', 'fit', '--backbone', 'mobilenetv2-12-int8', '--labels-from', 'dir', '-o', w, join(work, 'train'), '--json']);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.lines[0].kind, 'whitening');
    assert.is(r.lines[0].withinClass, true);
    const white = join(work, 'white');
    r = run([
      'learn',
      '--store',
      white,
      '--backbone',
      'mobilenetv2-12-int8',
      '--codebook',
      w,
      '--labels-from',
      'dir',
      join(work, 'train'),
      '--json',
    ]);
    assert.is(r.status, 0, r.stderr);
    r = run(['predict', '--store', white, join(work, 'test'), '--json']);
    assert.is(r.status, 0, r.stderr);
    const correct = r.lines.filter((l) => String(l.file).split('/').at(-2) === (l.top as { label: string }[])[0].label).length;
    console.log(`MobileNetV2 int8, whitened, 5 digits x 60 shots: held-out accuracy ${correct}%`);
    assert.ok(correct >= 75, `accuracy ${correct}% (chance 20%)`);
    r = run(['learn', '--store', white, '--label', '9', join(work, 'test', '4')]);
    assert.is(r.status, 0, 'the store keeps its whitening: no --codebook needed later');
    r = run(['learn', '--store', white, '--codebook', join(work, 'missing.egw'), '--label', '9', join(work, 'test', '4')]);
    assert.is(r.status, 2);
  });

  test('codebook fit, learn and predict reach well above chance', () => {
    const cb = join(work, 'digits.egc');
    let r = run([
      'codebook',
      'fit',
      '--backbone',
      'mobilenetv2-12-int8',
      '--parts',
      '32',
      '--anchors',
      '64',
      '-o',
      cb,
      join(work, 'train'),
      '--json',
    ]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.lines[0].parts, 32);
    r = run([
      'learn',
      '--store',
      store,
      '--backbone',
      'mobilenetv2-12-int8',
      '--codebook',
      cb,
      '--parts',
      '32',
      '--anchors',
      '64',
      '--labels-from',
      'dir',
      join(work, 'train'),
      '--json',
    ]);
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

  test('forget removes a class: its images are answered as other classes or unknown', () => {
    const r = run(['forget', '--store', store, '4', '--json']);
    assert.is(r.status, 0, r.stderr);
    assert.ok((r.lines[0].removed as number) > 0);
    const p = run(['predict', '--store', store, join(work, 'test', '4'), '--json']);
    assert.is(p.status, 0, p.stderr);
    assert.is(p.lines.length, 20);
    assert.ok(p.lines.every((l) => l.label !== '4' && (l.top as { label: string }[]).every((t) => t.label !== '4')));
    assert.is(run(['stats', '--store', store, '--json']).lines[0].classes, 4);
  });

  test('prune to a byte budget shrinks the compressed size and the remaining classes are still recognised', () => {
    const before = run(['stats', '--store', store, '--json']).lines[0] as { compressedBytes: number; connections: number; bytes: number };
    const max = Math.floor(before.compressedBytes * 0.7);
    const r = run(['prune', '--store', store, '--max-bytes', String(max), '--json']);
    assert.is(r.status, 0, r.stderr);
    const line = r.lines[0] as { removed: number; compressedBytes: number; connections: number; bytes: number };
    assert.ok(line.removed > 0);
    assert.ok(line.compressedBytes <= max, `${line.compressedBytes} <= ${max}`);
    assert.is(line.connections, before.connections - line.removed);
    assert.is(line.bytes, before.bytes, 'resident size is fixed by neurons and class capacity');
    const p = run(['predict', '--store', store, ...[0, 1, 2, 3].map((d) => join(work, 'test', String(d))), '--json']);
    assert.is(p.status, 0, p.stderr);
    const correct = p.lines.filter((l) => String(l.file).split('/').at(-2) === (l.top as { label: string }[])[0].label).length;
    console.log(`MobileNetV2 int8, 4 digits after pruning to ${line.compressedBytes} compressed bytes: held-out accuracy ${correct}/80`);
    assert.ok(correct >= 56, `${correct}/80 (chance 20)`);
  });

  test.after(() => rmSync(work, { recursive: true, force: true }));
}

test.run();
