// The backbone manifest: what a valid one looks like, and that every wrong field is named in the error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifest, manifestPathFor, validateManifest, manifestJson, withPaths } from '../src/backbone/manifest.js';
import { IMAGENET_INPUT, tempDir } from './helpers/backbone-fixtures.js';

const SHA = 'a'.repeat(64);
function valid(): Record<string, any> {
  return {
    format: 'engram-backbone/1',
    name: 'mobilenetv2-int8-features',
    file: 'm.features.onnx',
    sha256: SHA,
    input: structuredClone(IMAGENET_INPUT),
    output: { name: 'features', dim: 1280 },
    precision: 'int8',
    license: 'Apache-2.0',
    source: 'https://example.invalid/m.onnx',
  };
}

const validate = suite('validateManifest');

validate('accepts the documented example and keeps every field', () => {
  const m = validateManifest(valid());
  assert.is(m.name, 'mobilenetv2-int8-features');
  assert.equal(m.input.mean, [0.485, 0.456, 0.406]);
  assert.is(m.output.dim, 1280);
  assert.is(m.input.fit, undefined);
});

validate('accepts the optional fields: grey input, polarity, framing, fit, codebook, calibration, cut, description', () => {
  const g = valid();
  Object.assign(g.input, { channels: 1, colorOrder: 'gray', mean: [0.1], std: [0.3], fit: 'cover' });
  Object.assign(g, {
    polarity: 'light-on-dark',
    framing: { kind: 'stroke', fill: 0.714, centre: 'mass' },
    codebook: { m: 8 },
    calibration: { file: 'x.f32' },
    description: 'd',
    cut: { from: 'm.onnx', fromSha256: SHA, at: '464_quantized' },
  });
  const m = validateManifest(g);
  assert.is(m.input.channels, 1);
  assert.is(m.polarity, 'light-on-dark');
  assert.equal(m.framing, { kind: 'stroke', fill: 0.714, centre: 'mass' });
  assert.equal(m.codebook, { m: 8 });
  assert.is(m.cut?.at, '464_quantized');
});

// Each row: how to break a valid manifest, and what the message must say.
const broken: [string, (m: Record<string, any>) => void, RegExp][] = [
  [
    'wrong format',
    (m) => {
      m.format = 'engram-backbone/2';
    },
    /m\.json\.format: expected "engram-backbone\/1", got string "engram-backbone\/2"/,
  ],
  [
    'missing sha256',
    (m) => {
      delete m.sha256;
    },
    /m\.json\.sha256: required field is missing/,
  ],
  [
    'sha256 not hex',
    (m) => {
      m.sha256 = 'xyz';
    },
    /m\.json\.sha256: expected 64 lowercase hex digits/,
  ],
  [
    'file not .onnx',
    (m) => {
      m.file = 'm.bin';
    },
    /m\.json\.file: expected a path ending in \.onnx/,
  ],
  [
    'unknown top-level field',
    (m) => {
      m.licence = 'MIT';
    },
    /m\.json: unknown field "licence"/,
  ],
  [
    'unknown input field',
    (m) => {
      m.input.colour = 'RGB';
    },
    /m\.json\.input: unknown field "colour"/,
  ],
  [
    'bad layout',
    (m) => {
      m.input.layout = 'CHW';
    },
    /m\.json\.input\.layout: expected one of NCHW, NHWC, got string "CHW"/,
  ],
  [
    'width not an integer',
    (m) => {
      m.input.width = 22.5;
    },
    /m\.json\.input\.width: expected an integer/,
  ],
  [
    'width as string',
    (m) => {
      m.input.width = '224';
    },
    /m\.json\.input\.width: expected an integer in \[1, 8192\], got string "224"/,
  ],
  [
    'channels 2',
    (m) => {
      m.input.channels = 2;
    },
    /m\.json\.input\.channels: expected 1 or 3/,
  ],
  [
    'gray with 3 channels',
    (m) => {
      m.input.colorOrder = 'gray';
    },
    /colorOrder: "gray" does not match channels 3/,
  ],
  [
    'mean of wrong length',
    (m) => {
      m.input.mean = [0.5];
    },
    /m\.json\.input\.mean: expected an array of 3 numbers, got an array of length 1/,
  ],
  [
    'std zero',
    (m) => {
      m.input.std = [0.2, 0, 0.2];
    },
    /m\.json\.input\.std\[1\]: expected a number > 0/,
  ],
  [
    'range reversed',
    (m) => {
      m.input.range = [1, 0];
    },
    /m\.json\.input\.range: expected \[low, high\] with low < high/,
  ],
  [
    'bad resize',
    (m) => {
      m.input.resize = 'area';
    },
    /m\.json\.input\.resize: expected one of bilinear, nearest, bicubic, lanczos/,
  ],
  [
    'dtype uint8',
    (m) => {
      m.input.dtype = 'uint8';
    },
    /m\.json\.input\.dtype: expected one of float32/,
  ],
  [
    'output dim 0',
    (m) => {
      m.output.dim = 0;
    },
    /m\.json\.output\.dim: expected an integer in \[1, /,
  ],
  [
    'output without name',
    (m) => {
      delete m.output.name;
    },
    /m\.json\.output\.name: required field is missing/,
  ],
  [
    'bad precision',
    (m) => {
      m.precision = 'int4';
    },
    /m\.json\.precision: expected one of int8, fp32, fp16, uint8/,
  ],
  [
    'empty license',
    (m) => {
      m.license = '';
    },
    /m\.json\.license: expected a non-empty string/,
  ],
  [
    'codebook not an object',
    (m) => {
      m.codebook = [1, 2];
    },
    /m\.json\.codebook: expected an object, got an array/,
  ],
  [
    'bad polarity',
    (m) => {
      m.polarity = 'inverted';
    },
    /m\.json\.polarity: expected one of light-on-dark, dark-on-light/,
  ],
  [
    'framing not an object',
    (m) => {
      m.framing = 'stroke';
    },
    /m\.json\.framing: expected an object, got string "stroke"/,
  ],
  [
    'framing of an unknown kind',
    (m) => {
      m.framing = { kind: 'photo', fill: 0.7, centre: 'mass' };
    },
    /m\.json\.framing\.kind: expected one of stroke, got string "photo"/,
  ],
  [
    'framing fill 0',
    (m) => {
      m.framing = { kind: 'stroke', fill: 0, centre: 'mass' };
    },
    /m\.json\.framing\.fill: expected a number in \(0, 1\], got number 0/,
  ],
  [
    'framing fill over 1',
    (m) => {
      m.framing = { kind: 'stroke', fill: 1.5, centre: 'mass' };
    },
    /m\.json\.framing\.fill: expected a number in \(0, 1\], got number 1\.5/,
  ],
  [
    'framing without centre',
    (m) => {
      m.framing = { kind: 'stroke', fill: 0.7 };
    },
    /m\.json\.framing\.centre: required field is missing/,
  ],
  [
    'framing centre misspelt',
    (m) => {
      m.framing = { kind: 'stroke', fill: 0.7, center: 'mass' };
    },
    /m\.json\.framing: unknown field "center" \(known: kind, fill, centre\)/,
  ],
  [
    'input not an object',
    (m) => {
      m.input = 'NCHW';
    },
    /m\.json\.input: expected an object, got string "NCHW"/,
  ],
];
for (const [what, breakIt, message] of broken) {
  validate(`rejects ${what}`, () => {
    const m = valid();
    breakIt(m);
    assert.throws(() => validateManifest(m, 'm.json'), message);
  });
}

validate('wrong type is a TypeError, out of range a RangeError', () => {
  const a = valid();
  a.input.width = '224';
  assert.throws(
    () => validateManifest(a),
    (e: unknown) => e instanceof TypeError,
  );
  const b = valid();
  b.input.width = 0;
  assert.throws(
    () => validateManifest(b),
    (e: unknown) => e instanceof RangeError,
  );
});

const load = suite('loadManifest');

load('reads a manifest file and resolves the model path against its folder', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'sub'));
  const path = join(dir, 'sub', 'm.json');
  writeFileSync(path, JSON.stringify(valid()));
  const m = loadManifest(path);
  assert.is(m.manifestPath, path);
  assert.is(m.modelPath, join(dir, 'sub', 'm.features.onnx'));
});

load('an .onnx path finds its sidecar <x>.json, or <x>.manifest.json', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.json'), JSON.stringify(valid()));
  assert.is(manifestPathFor(join(dir, 'a.onnx')), join(dir, 'a.json'));
  assert.is(loadManifest(join(dir, 'a.onnx')).name, 'mobilenetv2-int8-features');
  writeFileSync(join(dir, 'b.manifest.json'), JSON.stringify({ ...valid(), name: 'b' }));
  assert.is(loadManifest(join(dir, 'b.onnx')).name, 'b');
});

load('an .onnx without a sidecar names both places it looked', () => {
  const dir = tempDir();
  assert.throws(
    () => loadManifest(join(dir, 'c.onnx')),
    /c\.onnx: no manifest beside the model \(looked for c\.json and c\.manifest\.json\)/,
  );
});

load('missing file, invalid JSON and invalid fields name the file', () => {
  const dir = tempDir();
  assert.throws(() => loadManifest(join(dir, 'none.json')), /none\.json: manifest file not found/);
  writeFileSync(join(dir, 'bad.json'), '{ "format": ');
  assert.throws(() => loadManifest(join(dir, 'bad.json')), /bad\.json: not valid JSON/);
  writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ ...valid(), precision: 'int4' }));
  assert.throws(() => loadManifest(join(dir, 'wrong.json')), /wrong\.json\.precision: expected one of/);
});

load('manifestJson writes the manifest without the resolved paths and reads back equal', () => {
  const dir = tempDir();
  const m = withPaths(validateManifest(valid()), join(dir, 'm.json'));
  const text = manifestJson(m);
  assert.not.ok(text.includes('modelPath'));
  writeFileSync(join(dir, 'm.json'), text);
  assert.equal(validateManifest(JSON.parse(text)), validateManifest(valid()));
});

validate.run();
load.run();
