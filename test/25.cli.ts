// The backbone and models commands, run as a user runs them: `node bin/engram.js ...` in a child process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyModel } from './helpers/backbone-tiny-onnx.js';
import { chelsea, coffee, mobilenetPath, repoRoot, tempDir } from './helpers/backbone-fixtures.js';

const bin = join(repoRoot, 'bin', 'engram.js');
function engram(args: string[], cwd = repoRoot) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ENGRAM_MODELS_DIR: join(dir, 'models') },
  });
  return { code: r.status, out: r.stdout, err: r.stderr, lines: r.stdout.split('\n').filter(Boolean) };
}
const dir = tempDir();
const tinyPath = join(dir, 'tiny.onnx');
writeFileSync(tinyPath, tinyModel(3, 8));

const cut = suite('engram backbone cut');

cut('writes the feature model and its manifest and prints one JSON line with --json', () => {
  const r = engram([
    'backbone',
    'cut',
    tinyPath,
    '--at',
    'pooled_q',
    '--out',
    join(dir, 'f.onnx'),
    '--mean',
    '0.5,0.5,0.5',
    '--std',
    '0.2,0.2,0.2',
    '--json',
  ]);
  assert.is(r.code, 0, r.err);
  assert.is(r.lines.length, 1);
  const o = JSON.parse(r.lines[0]);
  assert.equal([o.dim, o.dequantized, o.output, o.manifest], [4, true, 'features', join(dir, 'f.json')]);
  assert.ok(existsSync(join(dir, 'f.onnx')));
});

cut('default output goes to the current folder as <model>.features.onnx', () => {
  const cwd = tempDir();
  const r = engram(['backbone', 'cut', tinyPath, '--at', 'pooled'], cwd);
  assert.is(r.code, 0, r.err);
  assert.equal(readdirSync(cwd).sort(), ['tiny.features.json', 'tiny.features.onnx']);
  assert.match(r.out, /wrote .*tiny\.features\.onnx \(\d+ bytes, output features \[N, 4\], \d+ unused nodes dropped\)/);
});

cut('missing --at is a usage error (1); a bad tensor or bad numbers are named (2 and 1)', () => {
  const a = engram(['backbone', 'cut', tinyPath]);
  assert.is(a.code, 1);
  assert.match(a.err, /required option '--at <tensor>' not specified/);
  const b = engram(['backbone', 'cut', tinyPath, '--at', 'nope', '--out', join(dir, 'n.onnx')]);
  assert.is(b.code, 2);
  assert.match(b.err, /tiny\.onnx: no tensor named nope is produced by any node/);
  const c = engram(['backbone', 'cut', tinyPath, '--at', 'pooled', '--mean', '0.5,x,0.5', '--out', join(dir, 'n.onnx')]);
  assert.is(c.code, 1);
  assert.match(c.err, /--mean: expected comma-separated numbers, got "0\.5,x,0\.5"/);
});

const embed = suite('engram backbone info / embed');

embed('info describes the backbone and the session line', () => {
  const r = engram(['backbone', 'info', join(dir, 'f.onnx'), '--threads', '1', '--providers', 'cuda', '--json']);
  assert.is(r.code, 0, r.err);
  const o = JSON.parse(r.lines[0]);
  assert.is(o.dim, 4);
  assert.is(o.provider, 'cpu');
  assert.match(o.session, /execution provider cpu, 1 thread, .*skipped cuda: /);
});

embed('a bad file among good ones is reported by name, the others are still embedded, and the exit code is 2', () => {
  const bad = join(dir, 'broken.jpg');
  writeFileSync(bad, 'not a jpeg');
  const r = engram(['backbone', 'embed', join(dir, 'f.json'), chelsea, bad, coffee, join(dir, 'gone.png'), '--json']);
  assert.is(r.code, 2);
  const results = r.lines.map((l) => JSON.parse(l));
  const ok = results.filter((x) => x.input);
  assert.equal(
    ok.map((x) => x.input),
    [chelsea, coffee],
  );
  assert.ok(ok.every((x) => x.dim === 4 && x.head.length === 4));
  assert.match(r.err, /broken\.jpg: cannot decode image/);
  assert.match(r.err, /gone\.png: no such file or folder/);
  assert.match(r.err, /2 of 4 images could not be embedded/);
});

const models = suite('engram models list / pull');

models('list shows the catalogue with download size and built-in entries', () => {
  const r = engram(['models', 'list', '--json']);
  assert.is(r.code, 0, r.err);
  const rows = r.lines.map((l) => JSON.parse(l));
  const m = rows.find((x) => x.name === 'mobilenetv2-12-int8');
  assert.equal([m.kind, m.installed, m.size], ['download', false, 3655033]);
  assert.ok(rows.some((x) => x.kind === 'builtin'));
  const human = engram(['models', 'list']);
  assert.match(human.out, /mobilenetv2-12-int8\tnot pulled, 3\.5 MiB, Apache-2\.0/);
});

models('pull of an unknown name fails with the names there are', () => {
  const r = engram(['models', 'pull', 'resnet50']);
  assert.is(r.code, 2);
  assert.match(r.err, /unknown name "resnet50" \(catalogue has: mobilenetv2-12-int8/);
});

const model = mobilenetPath();
if (model) {
  models('pull --from a local copy installs MobileNetV2 int8 as a 1280-d feature extractor; a second pull finds it present', () => {
    const target = join(dir, 'pulled');
    const r = engram(['models', 'pull', 'mobilenetv2-12-int8', '--from', model, '--dir', target, '--json']);
    assert.is(r.code, 0, r.err);
    const o = JSON.parse(r.lines[0]);
    assert.is(o.action, 'copied');
    assert.is(o.manifest, join(target, 'mobilenetv2-int8-features.json'));
    const again = JSON.parse(engram(['models', 'pull', 'mobilenetv2-12-int8', '--dir', target, '--json']).lines[0]);
    assert.is(again.action, 'present');
    const info = JSON.parse(engram(['backbone', 'info', o.manifest, '--json']).lines[0]);
    assert.is(info.dim, 1280);
    const list = engram(['models', 'list', '--dir', target, '--json']).lines.map((l) => JSON.parse(l));
    assert.is(list.find((x) => x.name === 'mobilenetv2-12-int8').installed, true);
  });
}

cut.run();
embed.run();
models.run();
