// The model catalogue and `pullModel`, against a real HTTP server on loopback: download, resume with a
// Range request after a truncated transfer, sha256 rejection of a corrupted file, and that a failed pull
// never leaves a model (or half of one) where a model is expected.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pullModel, TruncatedDownloadError } from '../src/backbone/pull.js';
import { listModels, loadCatalogue, validateCatalogue, type Catalogue } from '../src/backbone/catalogue.js';
import { Backbone } from '../src/backbone/backbone.js';
import { tinyModel } from './helpers/backbone-tiny-onnx.js';
import { rejects } from './helpers/backbone-assert.js';
import { mobilenetPath, MOBILENET_SHA256, repoRoot, sha256, tempDir } from './helpers/backbone-fixtures.js';

const tiny = Buffer.from(tinyModel(3, 8));
const files: Record<string, Buffer> = { 'tiny.onnx': tiny };
const mnv2 = mobilenetPath();
if (mnv2) files['mobilenetv2-12-int8.onnx'] = readFileSync(mnv2);

/** Requests seen by the server: path and Range header. */
const seen: { path: string; range?: string }[] = [];

// /<mode>/<file>: good (honours Range), truncate (stops halfway), corrupt (one byte flipped),
// norange (always sends everything with 200), extra (sends more bytes than the file has).
function serve(req: IncomingMessage, res: ServerResponse): void {
  const [, mode, name] = (req.url ?? '').split('/');
  seen.push({ path: req.url ?? '', range: req.headers.range });
  const body = files[name ?? ''];
  if (!body) {
    res.writeHead(404).end('not found');
    return;
  }
  if (mode === 'truncate') {
    res.writeHead(200, { 'Content-Length': body.length });
    res.write(body.subarray(0, Math.floor(body.length / 2)));
    setTimeout(() => res.socket?.destroy(), 20);
    return;
  }
  if (mode === 'corrupt') {
    const bad = Buffer.from(body);
    bad[bad.length >> 1] ^= 0xff;
    res.writeHead(200, { 'Content-Length': bad.length }).end(bad);
    return;
  }
  if (mode === 'extra') {
    const more = Buffer.concat([body, Buffer.from('trailing junk')]);
    res.writeHead(200, { 'Content-Length': more.length }).end(more);
    return;
  }
  const range = req.headers.range?.match(/^bytes=(\d+)-$/);
  if (mode === 'good' && range) {
    const start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { 'Content-Length': body.length }).end(body);
}

const server = createServer(serve);
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function catalogue(mode = 'good'): Catalogue {
  return validateCatalogue({
    format: 'engram-catalogue/1',
    models: [
      {
        name: 'tiny',
        description: 'tiny test model',
        url: `${base}/${mode}/tiny.onnx`,
        file: 'tiny.onnx',
        sha256: sha256(tiny),
        size: tiny.length,
        license: 'CC0-1.0',
        cut: { at: 'pooled_q', name: 'tiny-features', file: 'tiny-features.onnx' },
        input: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
      },
      { name: 'builtin-one', builtin: true, description: 'shipped', manifest: 'builtin-one.json' },
    ],
  });
}

const pull = suite('pullModel over HTTP');

pull('downloads, verifies, places and cuts; progress reaches the size; the folder holds only finished files', async () => {
  const dir = tempDir();
  const progress: number[] = [];
  const r = await pullModel('tiny', {
    dir,
    catalogue: catalogue(),
    onProgress: (got, total) => {
      assert.is(total, tiny.length);
      progress.push(got);
    },
  });
  assert.is(r.action, 'downloaded');
  assert.is(r.bytes, tiny.length);
  assert.is(progress[progress.length - 1], tiny.length);
  assert.ok(
    progress.every((p, i) => i === 0 || p >= progress[i - 1]),
    'progress never goes back',
  );
  assert.equal(readdirSync(dir).sort(), ['tiny-features.json', 'tiny-features.onnx', 'tiny.onnx']);
  assert.is(sha256(readFileSync(join(dir, 'tiny.onnx'))), sha256(tiny));
  const b = await Backbone.open(r.manifest, { threads: 1 });
  assert.is(b.dim, 4);
  assert.equal(b.manifest.input.mean, [0.5, 0.5, 0.5], 'catalogue preprocessing reaches the manifest');
  await b.close();

  const before = seen.length;
  const again = await pullModel('tiny', { dir, catalogue: catalogue() });
  assert.is(again.action, 'present');
  assert.is(seen.length, before, 'a verified file is not fetched again');
});

pull('a truncated download is rejected, leaves no model, and the next pull resumes with a Range request', async () => {
  const dir = tempDir();
  const err = await rejects(
    pullModel('tiny', { dir, catalogue: catalogue('truncate') }),
    /truncate\/tiny\.onnx: (connection lost after|download truncated at) \d+ of \d+ bytes.*run the same pull again to resume/,
  );
  assert.instance(err, TruncatedDownloadError);
  assert.equal(readdirSync(dir), ['tiny.onnx.part'], 'only the resumable part is left, no model');
  const partial = statSync(join(dir, 'tiny.onnx.part')).size;
  assert.ok(partial > 0 && partial < tiny.length, `part has ${partial} bytes`);

  const logs: string[] = [];
  const r = await pullModel('tiny', { dir, catalogue: catalogue('good'), log: (l) => logs.push(l) });
  assert.is(r.action, 'resumed');
  assert.is(r.bytes, tiny.length - partial);
  assert.is(seen[seen.length - 1].range, `bytes=${partial}-`);
  assert.match(logs.join('\n'), new RegExp(`resuming tiny at byte ${partial} of ${tiny.length}`));
  assert.is(sha256(readFileSync(join(dir, 'tiny.onnx'))), sha256(tiny));
  assert.not.ok(existsSync(join(dir, 'tiny.onnx.part')));
});

pull('a server that ignores Range restarts the download from the start', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'tiny.onnx.part'), tiny.subarray(0, 100));
  const r = await pullModel('tiny', { dir, catalogue: catalogue('norange') });
  assert.is(r.action, 'downloaded');
  assert.is(seen[seen.length - 1].range, 'bytes=100-');
  assert.is(sha256(readFileSync(join(dir, 'tiny.onnx'))), sha256(tiny));
});

pull('a corrupted download fails the sha256 check and nothing is left behind', async () => {
  const dir = tempDir();
  await rejects(
    pullModel('tiny', { dir, catalogue: catalogue('corrupt') }),
    new RegExp(`corrupt/tiny\\.onnx: sha256 mismatch for tiny: expected ${sha256(tiny)}, got [0-9a-f]{64}; the file was discarded`),
  );
  assert.equal(readdirSync(dir), []);
});

pull('more bytes than the catalogue size, HTTP 404 and a closed port fail cleanly', async () => {
  const dir = tempDir();
  await rejects(pullModel('tiny', { dir, catalogue: catalogue('extra') }), /more data than the catalogue's \d+ bytes; wrong file/);
  assert.equal(readdirSync(dir), []);
  await rejects(pullModel('tiny', { dir, catalogue: catalogue(), from: `${base}/good/none.onnx` }), /none\.onnx: HTTP 404/);
  assert.equal(readdirSync(dir), []);
  await rejects(
    pullModel('tiny', { dir, catalogue: catalogue(), from: 'http://127.0.0.1:1/tiny.onnx' }),
    /127\.0\.0\.1:1\/tiny\.onnx: cannot connect/,
  );
  assert.equal(readdirSync(dir), []);
});

pull('--from a local file copies and verifies; a wrong local file is refused and removed', async () => {
  const dir = tempDir();
  const src = join(tempDir(), 'mirror.onnx');
  writeFileSync(src, tiny);
  const before = seen.length;
  const r = await pullModel('tiny', { dir, catalogue: catalogue(), from: src });
  assert.is(r.action, 'copied');
  assert.is(seen.length, before, 'no network for a local file');
  assert.ok(existsSync(r.manifest));

  const other = tempDir();
  const wrong = join(other, 'wrong.onnx');
  writeFileSync(wrong, Buffer.concat([tiny.subarray(0, 10), Buffer.alloc(tiny.length - 10)]));
  await rejects(
    pullModel('tiny', { dir: other + '/models', catalogue: catalogue(), from: wrong }),
    /wrong\.onnx: sha256 mismatch for tiny/,
  );
  assert.equal(readdirSync(join(other, 'models')), []);
  await rejects(
    pullModel('tiny', { dir: other + '/models', catalogue: catalogue(), from: join(other, 'absent.onnx') }),
    /absent\.onnx: cannot read --from file \(file not found\)/,
  );
  assert.equal(readdirSync(join(other, 'models')), []);
});

pull('unknown names list the catalogue; built-in models need no download; options are checked', async () => {
  await rejects(pullModel('resnet', { catalogue: catalogue() }), /model: unknown name "resnet" \(catalogue has: tiny, builtin-one\)/);
  const r = await pullModel('builtin-one', { catalogue: catalogue(), dir: tempDir() });
  assert.is(r.action, 'builtin');
  assert.match(r.manifest, /models\/builtin-one\.json$/);
  await rejects(pullModel('tiny', { directory: '/tmp' } as never), /pull options: unknown option "directory"/);
  await rejects(pullModel('tiny', { onProgress: 5 } as never), /pull options\.onProgress: expected a function/);
});

if (mnv2) {
  pull('the shipped catalogue entry for MobileNetV2 int8 pulls from a mirror URL and yields the 1280-d feature extractor', async () => {
    const dir = tempDir();
    const r = await pullModel('mobilenetv2-12-int8', { dir, from: `${base}/good/mobilenetv2-12-int8.onnx` });
    assert.is(r.action, 'downloaded');
    const b = await Backbone.open(r.manifest, { threads: 2 });
    try {
      assert.is(b.dim, 1280);
      assert.is(b.manifest.name, 'mobilenetv2-int8-features');
      assert.is(b.manifest.cut?.fromSha256, MOBILENET_SHA256);
      assert.is(b.manifest.license, 'Apache-2.0');
    } finally {
      await b.close();
    }
  });
}

const cat = suite('catalogue');

cat('the shipped catalogue is valid and pins MobileNetV2 int8 to its official URL and sha256', () => {
  const c = loadCatalogue(join(repoRoot, 'models', 'catalogue.json'));
  const m = c.models.find((e) => e.name === 'mobilenetv2-12-int8');
  assert.ok(m && m.kind === 'download');
  if (m?.kind !== 'download') return;
  assert.is(m.sha256, MOBILENET_SHA256);
  assert.is(m.size, 3_655_033);
  assert.is(m.url, 'https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx');
  assert.equal(m.cut, { at: '464_quantized', name: 'mobilenetv2-int8-features', file: 'mobilenetv2-int8-features.onnx' });
  assert.ok(
    c.models.some((e) => e.kind === 'builtin'),
    'the embedded default backbone is listed',
  );
});

cat('invalid entries are named: bad sha, missing cut, duplicate name, non-http URL, unknown field', () => {
  const entry = () => ({
    name: 'x',
    url: 'https://e.invalid/x.onnx',
    file: 'x.onnx',
    sha256: 'b'.repeat(64),
    size: 10,
    license: 'MIT',
    cut: { at: 't', name: 'x-f', file: 'x-f.onnx' },
  });
  const check = (models: unknown[], re: RegExp) =>
    assert.throws(() => validateCatalogue({ format: 'engram-catalogue/1', models }, 'c.json'), re);
  check([{ ...entry(), sha256: 'B'.repeat(64) }], /c\.json\.models\[0\]\.sha256: expected 64 lowercase hex digits/);
  check([{ ...entry(), cut: undefined }], /c\.json\.models\[0\]\.cut: required field is missing/);
  check([entry(), entry()], /c\.json\.models\[1\]\.name: duplicate model name "x"/);
  check([{ ...entry(), url: 'ftp://e.invalid/x.onnx' }], /c\.json\.models\[0\]\.url: expected an http\(s\) URL/);
  check([{ ...entry(), checksum: 'x' }], /c\.json\.models\[0\]: unknown field "checksum"/);
  check([{ ...entry(), file: '../x.onnx' }], /c\.json\.models\[0\]\.file: expected a plain file name/);
  assert.throws(() => validateCatalogue({ format: 'v2', models: [] }, 'c.json'), /c\.json\.format: expected "engram-catalogue\/1"/);
});

cat('listModels says what is pulled and finds built-in manifests in the models folder', async () => {
  const dir = tempDir();
  const shipped = tempDir();
  await pullModel('tiny', { dir, catalogue: catalogue() });
  // A built-in folder with the listed manifest and one the catalogue does not mention.
  const bytes = tinyModel(1, 8);
  writeFileSync(join(shipped, 'g.onnx'), bytes);
  const manifest = (name: string) =>
    JSON.stringify({
      format: 'engram-backbone/1',
      name,
      file: 'g.onnx',
      sha256: sha256(bytes),
      input: {
        name: 'input',
        layout: 'NCHW',
        width: 8,
        height: 8,
        channels: 1,
        colorOrder: 'gray',
        range: [0, 1],
        mean: [0],
        std: [1],
        resize: 'bilinear',
        dtype: 'float32',
      },
      output: { name: 'output', dim: 3 },
      precision: 'fp32',
      license: 'CC0-1.0',
      source: 'test',
    });
  writeFileSync(join(shipped, 'builtin-one.json'), manifest('builtin-one'));
  writeFileSync(join(shipped, 'extra.json'), manifest('extra'));
  writeFileSync(join(shipped, 'notes.json'), '{"not": "a manifest"}');
  const rows = listModels(catalogue(), dir, shipped);
  assert.equal(
    rows.map((r) => [r.name, r.kind, r.installed]),
    [
      ['tiny', 'download', true],
      ['builtin-one', 'builtin', true],
      ['extra', 'builtin', true],
    ],
  );
  assert.is(rows[0].manifest, join(dir, 'tiny-features.json'));
  assert.equal(
    listModels(catalogue(), tempDir(), tempDir()).map((r) => r.installed),
    [false, false],
  );
});

pull.after(() => {
  server.close();
});
cat.run();
pull.run();
