// Backbone.open / embed on the real MobileNetV2 int8 model: preprocessing checked against known ImageNet
// classes, batching, every input form, sessions and providers, and bad input that leaves the backbone serving.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Backbone } from '../src/backbone/backbone.js';
import { resolveSessionConfig, sessionConfigFromProfile } from '../src/backbone/session.js';
import {
  CHELSEA_CLASSES,
  COFFEE_CLASS,
  IMAGENET_INPUT,
  argmax,
  chelsea,
  coffee,
  mobilenetPath,
  repoRoot,
  tempDir,
  writeManifest,
} from './helpers/backbone-fixtures.js';
import { rejects } from './helpers/backbone-assert.js';

const model = mobilenetPath();
const dir = tempDir();
let classifier = '';
if (model) {
  copyFileSync(model, join(dir, 'mnv2.onnx'));
  // The model zoo evaluates on a centre crop of the short side ('cover'); stretching a 3:2 photo to a square
  // ('fill') leaves coffee.png within one int8 logit step of 'strainer' (828), on either resize path.
  classifier = writeManifest(dir, 'mnv2', 'mnv2.onnx', { input: { ...IMAGENET_INPUT, fit: 'cover' } });
}
/** Registers a case that needs the shared model; without it the skip was already announced in one line. */
function withModel(s: ReturnType<typeof suite>, name: string, fn: () => Promise<void>): void {
  if (model) s(name, fn);
}

const known = suite('embed: known ImageNet classes (preprocessing is what the model expects)');

withModel(known, 'chelsea.png is a cat (281, 282 or 285) and coffee.png an espresso (967)', async () => {
  const b = await Backbone.open(classifier, { threads: 2 });
  try {
    const [cat, cup] = await b.embed([chelsea, coffee]);
    assert.is(cat.length, 1000);
    assert.ok(CHELSEA_CLASSES.includes(argmax(cat)), `chelsea top-1 ${argmax(cat)}`);
    assert.is(argmax(cup), COFFEE_CLASS);
  } finally {
    await b.close();
  }
});

withModel(known, 'the same photos as JPEG, WebP, Buffer, grey-free raw RGB and EXIF-rotated files get the same classes', async () => {
  const b = await Backbone.open(classifier);
  try {
    const jpeg = join(dir, 'coffee.jpg');
    await sharp(coffee).jpeg({ quality: 90 }).toFile(jpeg);
    const webp = await sharp(chelsea).webp({ quality: 90 }).toBuffer();
    const rawCat = await sharp(chelsea).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const rotated = join(dir, 'chelsea-rotated.jpg');
    // Pixels stored turned 90 degrees, tagged so a viewer turns them back.
    await sharp(chelsea).rotate(270).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toFile(rotated);
    const raw = { data: new Uint8Array(rawCat.data), width: rawCat.info.width, height: rawCat.info.height, channels: 3 as const };
    const v = await b.embed([jpeg, webp, raw, rotated]);
    assert.is(argmax(v[0]), COFFEE_CLASS);
    for (const k of [1, 2, 3]) assert.ok(CHELSEA_CLASSES.includes(argmax(v[k])), `input ${k}: top-1 ${argmax(v[k])}`);
  } finally {
    await b.close();
  }
});

const batching = suite('embed: batching');

withModel(batching, 'results do not depend on batch size, and come back in input order', async () => {
  const b = await Backbone.open(classifier);
  try {
    const inputs = [chelsea, coffee, coffee, chelsea, coffee];
    const one = await b.embed(inputs, { batchSize: 1 });
    const three = await b.embed(inputs, { batchSize: 3 });
    const all = await b.embed(inputs, { batchSize: 32 });
    assert.is(one.length, 5);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 1000; j++) {
        if (Math.abs(one[i][j] - three[i][j]) > 1e-3 || Math.abs(one[i][j] - all[i][j]) > 1e-3)
          assert.unreachable(`image ${i} value ${j} differs between batch sizes`);
      }
    }
    assert.equal(
      inputs.map((_, i) => argmax(all[i]) === COFFEE_CLASS),
      [false, true, true, false, true],
    );
    assert.equal(await b.embed([]), []);
  } finally {
    await b.close();
  }
});

withModel(batching, 'batch tensors are reused: repeated and concurrent calls give the vectors of the first call', async () => {
  const b = await Backbone.open(classifier);
  try {
    const inputs = [chelsea, coffee, chelsea, coffee, coffee];
    const first = await b.embed(inputs, { batchSize: 2 });
    // Two calls at once draw on the same spare tensors: neither may write into a tensor the other is using.
    const [again, swapped] = await Promise.all([b.embed(inputs, { batchSize: 2 }), b.embed([...inputs].reverse(), { batchSize: 2 })]);
    for (let i = 0; i < inputs.length; i++) {
      assert.equal([...again[i]], [...first[i]], `image ${i}, second call`);
      assert.is(argmax(swapped[inputs.length - 1 - i]), argmax(first[i]), `image ${i}, concurrent call in reverse order`);
    }
    // A failed batch hands its tensor back; the next call still gets the same vectors.
    await rejects(b.embed([coffee, join(dir, 'missing.jpg')], { batchSize: 2 }), /missing\.jpg: file not found/);
    const after = await b.embed(inputs, { batchSize: 2 });
    for (let i = 0; i < inputs.length; i++) assert.equal([...after[i]], [...first[i]], `image ${i}, after a failed call`);
  } finally {
    await b.close();
  }
});

withModel(batching, 'prepare(into) writes into the given tensor and gives what a new tensor gets', async () => {
  const b = await Backbone.open(classifier);
  try {
    const fresh = await b.prepare([coffee, chelsea]);
    const into = new Float32Array(3 * 150528).fill(Number.NaN);
    const t = await b.prepare([coffee, chelsea], 0, into);
    assert.is(t.length, 2 * 150528);
    assert.is(t.buffer, into.buffer);
    assert.ok(
      t.every((v, i) => v === fresh[i]),
      'same values as a new tensor',
    );
    // A failed batch settles only after its other images: nothing writes into the tensor afterwards.
    const jpeg = join(dir, 'coffee-into.jpg');
    await sharp(coffee).jpeg({ quality: 90 }).toFile(jpeg);
    into.fill(Number.NaN);
    await rejects(b.prepare([jpeg, join(dir, 'missing.jpg')], 0, into), /missing\.jpg: file not found/);
    const after = into.slice();
    assert.ok(
      after.subarray(0, 150528).every((v) => !Number.isNaN(v)),
      'the good image was written before the rejection',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(
      into.every((v, k) => Object.is(v, after[k])),
      'nothing written after the rejection',
    );
    await rejects(
      b.prepare([coffee], 0, new Float32Array(100)),
      /prepare into: expected a Float32Array of at least 150528 values \(1 images\), got/,
    );
    await rejects(
      b.prepare([coffee], 0, new Float64Array(150528) as unknown as Float32Array),
      /prepare into: expected a Float32Array, got/,
    );
  } finally {
    await b.close();
  }
});

const bad = suite('embed: bad input is named and the backbone keeps serving');

withModel(bad, 'a missing file, a non-image and a wrong raw buffer reject naming the input; the next call works', async () => {
  const b = await Backbone.open(classifier);
  try {
    const text = join(dir, 'readme.png');
    writeFileSync(text, 'not an image');
    await rejects(b.embed([chelsea, join(dir, 'missing.jpg')]), /missing\.jpg: file not found/);
    await rejects(b.embed([coffee, coffee, chelsea, text], { batchSize: 2 }), /readme\.png: cannot decode image/);
    await rejects(
      b.embed([chelsea, { data: new Uint8Array(5), width: 2, height: 2, channels: 3 }]),
      /input\[1\] \(raw 2x2x3\): raw data has 5 bytes, expected/,
    );
    const [cup] = await b.embed([coffee]);
    assert.is(argmax(cup), COFFEE_CLASS);
  } finally {
    await b.close();
  }
});

withModel(bad, 'concurrent requests: a bad one fails alone while good ones running at the same time succeed', async () => {
  const b = await Backbone.open(classifier);
  try {
    const results = await Promise.allSettled([
      b.embed([coffee]),
      b.embed([join(dir, 'nowhere.png')]),
      b.embed([chelsea, coffee], { batchSize: 1 }),
    ]);
    assert.is(results[0].status, 'fulfilled');
    assert.is(results[1].status, 'rejected');
    assert.match(String((results[1] as PromiseRejectedResult).reason?.message), /nowhere\.png: file not found/);
    assert.is(results[2].status, 'fulfilled');
    const [cat, cup] = (results[2] as PromiseFulfilledResult<Float32Array[]>).value;
    assert.is(argmax(cup), COFFEE_CLASS);
    assert.ok(CHELSEA_CLASSES.includes(argmax(cat)));
  } finally {
    await b.close();
  }
});

withModel(bad, 'a tensor of the wrong size is refused naming the input tensor', async () => {
  const b = await Backbone.open(classifier);
  try {
    await rejects(b.forward(new Float32Array(10), 1), /tensor input: 10 values is not a whole batch of 1 images of 150528 values/);
    const t = await b.prepare([coffee]);
    assert.is(t.length, 150528);
    assert.is(argmax((await b.forward(t, 1))[0]), COFFEE_CLASS);
  } finally {
    await b.close();
  }
});

withModel(bad, 'bad arguments: not an array, misspelled option, batch size 0, closed backbone', async () => {
  const b = await Backbone.open(classifier);
  await rejects(b.embed(chelsea as unknown as string[]), /inputs: expected an array of images/);
  await rejects(b.embed([chelsea], { batch: 4 } as never), /embed options: unknown option "batch" \(known: batchSize, mirror\)/);
  await rejects(b.embed([chelsea], { batchSize: 0 }), /embed options\.batchSize: expected an integer in \[1, 4096\], got number 0/);
  await b.close();
  assert.ok(b.closed);
  await rejects(b.embed([chelsea]), /backbone mnv2 is closed/);
});

const open = suite('Backbone.open: the model must match its manifest');

withModel(open, 'identity, dim and manifest are exposed; an .onnx path finds its sidecar manifest', async () => {
  const b = await Backbone.open(join(dir, 'mnv2.onnx'));
  try {
    assert.is(b.dim, 1000);
    assert.is(b.identity.name, 'mnv2');
    assert.is(b.identity.sha256, 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f');
    assert.is(b.id, `mnv2@sha256:${b.identity.sha256}`);
    assert.is(b.manifest.modelPath, join(dir, 'mnv2.onnx'));
  } finally {
    await b.close();
  }
});

withModel(open, 'a manifest object with baseDir opens too', async () => {
  const m = JSON.parse(readFileSync(classifier, 'utf8'));
  const b = await Backbone.open(m, { baseDir: dir });
  assert.is(b.dim, 1000);
  await b.close();
  await rejects(Backbone.open(m), /baseDir: expected the folder the manifest's file is relative to/);
});

withModel(open, 'wrong sha256, missing model file, missing output tensor, wrong input size and wrong input name are named', async () => {
  const good = JSON.parse(readFileSync(classifier, 'utf8'));
  const variant = (name: string, patch: Record<string, unknown>) => {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify({ ...good, name, ...patch }));
    return path;
  };
  await rejects(
    Backbone.open(variant('badsha', { sha256: '0'.repeat(64) })),
    /mnv2\.onnx: sha256 mismatch: manifest says 0{64}, file has cc028fe6/,
  );
  await rejects(
    Backbone.open(variant('nofile', { file: 'gone.onnx' })),
    /gone\.onnx: cannot read model file named by .*nofile\.json \(file not found\)/,
  );
  await rejects(
    Backbone.open(variant('noout', { output: { name: 'features', dim: 1280 } })),
    /model has no output tensor named "features" \(outputs: output\).*engram backbone cut/,
  );
  await rejects(
    Backbone.open(variant('small', { input: { ...good.input, width: 160, height: 160 } })),
    /input tensor "input" has shape \[batch_size, 3, 224, 224\], manifest says NCHW \[N, 3, 160, 160\]/,
  );
  await rejects(
    Backbone.open(variant('nhwc', { input: { ...good.input, layout: 'NHWC' } })),
    /input tensor "input" has shape \[batch_size, 3, 224, 224\], manifest says NHWC/,
  );
  await rejects(
    Backbone.open(variant('inname', { input: { ...good.input, name: 'data' } })),
    /model has no input tensor named "data" \(inputs: input\)/,
  );
  await rejects(
    Backbone.open(variant('baddim', { output: { name: 'output', dim: 1280 } })).then(async (b) => {
      try {
        await b.embed([chelsea]);
      } finally {
        await b.close();
      }
    }),
    /output tensor output has shape \[1, 1000\], expected 1280 values per image/,
  );
});

withModel(open, 'a file that is not an ONNX model is refused by the runtime with the file named', async () => {
  const junk = join(dir, 'junk.onnx');
  writeFileSync(junk, 'definitely not protobuf');
  writeManifest(dir, 'junk', 'junk.onnx');
  await rejects(Backbone.open(join(dir, 'junk.json')), /backbone junk: onnxruntime cannot load the model/);
});

const sessions = suite('sessions: threads, optimisation, providers from a device profile');

withModel(sessions, 'an unavailable provider falls back to CPU with one line saying why', async () => {
  const lines: string[] = [];
  const b = await Backbone.open(classifier, {
    executionProviders: ['cuda', 'cpu'],
    threads: 1,
    graphOptimization: 'basic',
    log: (l) => lines.push(l),
  });
  try {
    assert.is(b.provider, 'cpu');
    assert.is(lines.length, 1);
    assert.match(lines[0], /^backbone mnv2: execution provider cpu, 1 thread, graph optimisation basic; skipped cuda: /);
    assert.ok(CHELSEA_CLASSES.includes(argmax((await b.embed([chelsea]))[0])));
  } finally {
    await b.close();
  }
});

withModel(sessions, 'without a log callback nothing is written to stderr: the caller decides where notes go', async () => {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  let b: Backbone | undefined;
  try {
    b = await Backbone.open(classifier, { executionProviders: ['tensorrt'] });
  } finally {
    process.stderr.write = write;
    await b?.close();
  }
  assert.equal(written, []);
  // The same fallback goes to the callback when there is one.
  const lines: string[] = [];
  const c = await Backbone.open(classifier, { executionProviders: ['tensorrt'], log: (l) => lines.push(l) });
  await c.close();
  assert.is(lines.length, 1);
  assert.match(lines[0], /^backbone mnv2: execution provider cpu, .*skipped tensorrt: /);
});

withModel(sessions, 'CPU as first choice says so', async () => {
  const lines: string[] = [];
  const b = await Backbone.open(classifier, { log: (l) => lines.push(l) });
  await b.close();
  assert.match(lines[0], /execution provider cpu, \d+ threads?, graph optimisation all \(first choice\)/);
});

sessions('options are validated: misspelled option, bad thread count, unknown optimisation level', async () => {
  await rejects(Backbone.open('x.json', { thread: 2 } as never), /Backbone\.open options: unknown option "thread"/);
  assert.throws(() => resolveSessionConfig({ threads: 0 }), /options\.threads: expected an integer in \[1, 256\], got number 0/);
  assert.throws(
    () => resolveSessionConfig({ graphOptimization: 'max' }),
    /options\.graphOptimization: expected one of disabled, basic, extended, all, got string "max"/,
  );
  assert.throws(() => resolveSessionConfig({ executionProviders: 'cuda' }), /executionProviders: expected an array of provider names/);
});

sessions('providers are tried in order and always end with cpu', () => {
  assert.equal(resolveSessionConfig({ executionProviders: ['CUDA'] }).executionProviders, ['cuda', 'cpu']);
  assert.equal(resolveSessionConfig({ executionProviders: ['cpu', 'cuda'] }).executionProviders, ['cpu']);
  assert.equal(resolveSessionConfig({}).executionProviders, ['cpu']);
});

sessions('a device profile gives threads, providers and optimisation (top level or under backbone/onnx)', () => {
  assert.equal(sessionConfigFromProfile({ name: 'pi4', threads: 4, executionProviders: ['xnnpack', 'cpu'] }), {
    threads: 4,
    executionProviders: ['xnnpack', 'cpu'],
  });
  assert.equal(sessionConfigFromProfile({ onnx: { intraOpThreads: 2, graphOptimization: 'extended' }, threads: 6 }), {
    threads: 2,
    graphOptimization: 'extended',
  });
  assert.equal(sessionConfigFromProfile({ backbone: { providers: ['cuda'] } }), { executionProviders: ['cuda'] });
  assert.throws(() => sessionConfigFromProfile({ threads: -1 }), /profile\.threads: expected an integer/);
  assert.throws(() => sessionConfigFromProfile(null), /profile: expected a device profile object/);
});

sessions('the shipped device profiles (devices/*.json) give the session their threads and providers', () => {
  const folder = join(repoRoot, 'devices');
  const profiles = existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.json') && f !== 'schema.json') : [];
  if (profiles.length === 0) {
    console.log(`SKIP: no device profiles in ${folder}`);
    return;
  }
  for (const f of profiles) {
    const p = JSON.parse(readFileSync(join(folder, f), 'utf8'));
    const cfg = resolveSessionConfig(sessionConfigFromProfile(p));
    assert.is(cfg.threads, p.threads, `${f} threads`);
    assert.equal(
      cfg.executionProviders,
      [...p.executionProviders.map((e: string) => e.toLowerCase()).filter((e: string) => e !== 'cpu'), 'cpu'],
      `${f} providers`,
    );
  }
});

known.run();
batching.run();
bad.run();
open.run();
sessions.run();
