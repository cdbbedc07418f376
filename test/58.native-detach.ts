// The addon's async jobs against a caller who takes the memory away while they run: the input or the output
// typed array detached (transferred to a MessagePort or by structuredClone) or a resizable buffer shrunk, then
// collected. Borrowing the memory, as the jobs once did, read and wrote freed memory (a segfault on the first
// round); now a job works on its own copy, finishes correctly, and refuses to write into a tensor that is gone.
// Also: misuse of the raw binding names the member or parameter, never a bare "Invalid argument".
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import sharp from 'sharp';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MessageChannel } from 'node:worker_threads';
import { loadBinding } from '../src/native/index.js';
import { tapsFor } from '../src/images/resample.js';
import { affineFor, type NormalizeSpec } from '../src/images/normalize.js';
import { chelsea } from './helpers/backbone-fixtures.js';
import { rejects } from './helpers/backbone-assert.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const b = loadBinding();
const ROUNDS = 4;

/** Frees what was detached: the transferred backing store has no owner left once its clone is collected. */
const collect = () => {
  gc();
  gc();
};

/** Detaches the ArrayBuffer under `view` and drops the clone, as a transfer to a worker that exits would. */
const detachAndDrop = (view: ArrayBufferView) => {
  structuredClone(view.buffer, { transfer: [view.buffer as ArrayBuffer] });
  collect();
};

/** A 3000x2000 camera-sized JPEG (several MB: large allocations are unmapped when freed) in a fresh ArrayBuffer. */
const bigJpeg = async () => new Uint8Array(await sharp(chelsea).resize(3000, 2000, { fit: 'fill' }).jpeg({ quality: 98 }).toBuffer());

const LEVELS: NormalizeSpec = { layout: 'NCHW', channels: 3, colorOrder: 'RGB', range: [0, 255], mean: [0, 0, 0], std: [1, 1, 1] };

/** decodeJpegInto of `jpeg` into a width x height slot of `out` at offset 0. */
function decodeInto(jpeg: Uint8Array, width: number, height: number, out: Float32Array): Promise<boolean> {
  const plan = b.jpegPlan(jpeg, width, height, 3)!;
  const { h, v } = tapsFor(plan.width, plan.height, { x: 0, y: 0, width: plan.width, height: plan.height }, width, height, 'bilinear');
  const a = affineFor(LEVELS);
  return b.decodeJpegInto(
    jpeg,
    { minWidth: width, minHeight: height, channels: 3, width: plan.width, height: plan.height },
    { h, v },
    { width, height, channels: 3, nchw: true, scale: a.scale, bias: a.bias, source: a.source, out, offset: 0 },
  );
}

const input = suite('async jobs keep their input when the caller detaches it');

if (!b.jpeg().available) console.log('SKIP 58.native-detach decodeJpeg/decodeJpegInto cases: the addon was built without libjpeg');
else {
  input('decodeJpeg: input transferred and collected mid-job still decodes to the same pixels', async () => {
    const jpeg = await bigJpeg();
    const expected = (await b.decodeJpeg(new Uint8Array(jpeg), 0, 0, 3))!;
    for (let round = 0; round < ROUNDS; round++) {
      const bytes = new Uint8Array(jpeg);
      const job = b.decodeJpeg(bytes, 0, 0, 3);
      detachAndDrop(bytes);
      assert.is(bytes.byteLength, 0, 'detached');
      const got = await job;
      assert.ok(got, `round ${round}: decoded`);
      assert.equal([got.width, got.height], [expected.width, expected.height]);
      assert.ok(Buffer.compare(got.data, expected.data) === 0, `round ${round}: same pixels as an undisturbed decode`);
    }
  });

  input('decodeJpeg: the new owner of transferred input may overwrite it; the job does not see that', async () => {
    const jpeg = await bigJpeg();
    const expected = (await b.decodeJpeg(new Uint8Array(jpeg), 0, 0, 3))!;
    const bytes = new Uint8Array(jpeg);
    const job = b.decodeJpeg(bytes, 0, 0, 3);
    const moved = new Uint8Array(structuredClone(bytes.buffer, { transfer: [bytes.buffer] }));
    moved.fill(0);
    const got = await job;
    assert.ok(got && Buffer.compare(got.data, expected.data) === 0);
  });

  input('decodeJpegInto: input posted to a MessagePort mid-job; the slot is written as usual', async () => {
    const jpeg = await bigJpeg();
    const expected = new Float32Array(224 * 224 * 3);
    assert.is(await decodeInto(new Uint8Array(jpeg), 224, 224, expected), true);
    const { port1, port2 } = new MessageChannel();
    for (let round = 0; round < ROUNDS; round++) {
      const bytes = new Uint8Array(jpeg);
      const out = new Float32Array(224 * 224 * 3);
      const job = decodeInto(bytes, 224, 224, out);
      port1.postMessage(bytes.buffer, [bytes.buffer]);
      collect();
      assert.is(await job, true, `round ${round}`);
      assert.equal(out, expected, `round ${round}: same values`);
    }
    port1.close();
    port2.close();
  });

  const output = suite('decodeJpegInto never writes into a tensor taken away mid-job');

  output('output transferred and collected: rejects naming out, for several rounds, and the process lives', async () => {
    const jpeg = await bigJpeg();
    for (let round = 0; round < ROUNDS; round++) {
      // 1500x1000x3 floats (18 MB): when freed it is unmapped, so a late write would fault.
      const out = new Float32Array(1500 * 1000 * 3);
      const job = decodeInto(jpeg, 1500, 1000, out);
      detachAndDrop(out);
      await rejects(
        job,
        /^slot\.out: the Float32Array was detached or shrunk while decodeJpegInto ran \(it holds 0 values, the slot needs 4500000\); nothing was written$/,
      );
    }
  });

  output('output transferred to a kept clone: nothing is written into the clone', async () => {
    const jpeg = await bigJpeg();
    const out = new Float32Array(640 * 480 * 3);
    const job = decodeInto(jpeg, 640, 480, out);
    const kept = new Float32Array(structuredClone(out.buffer, { transfer: [out.buffer] }));
    await rejects(job, /^slot\.out: the Float32Array was detached/);
    assert.ok(
      kept.every((x) => x === 0),
      "the new owner's memory is untouched",
    );
  });

  output('a resizable buffer shrunk under the output: rejects, and the bytes left are untouched', async () => {
    const jpeg = await bigJpeg();
    const n = 640 * 480 * 3;
    const ab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(
      n * 4,
      { maxByteLength: n * 4 },
    );
    const tracking = new Float32Array(ab);
    const job = decodeInto(jpeg, 640, 480, tracking);
    ab.resize(400);
    await rejects(
      job,
      /^slot\.out: the Float32Array was detached or shrunk while decodeJpegInto ran \(it holds 100 values, the slot needs 921600\)/,
    );
    assert.ok(new Float32Array(ab).every((x) => x === 0));
  });

  output('an output detached before the call is refused up front', async () => {
    const jpeg = await bigJpeg();
    const out = new Float32Array(224 * 224 * 3);
    structuredClone(out.buffer, { transfer: [out.buffer] });
    assert.throws(
      () => decodeInto(jpeg, 224, 224, out),
      /^slot\.out: expected a Float32Array of at least 150528 values, got Float32Array of length 0$/,
    );
  });

  input.run();
  output.run();
}

const misuse = suite('misusing the raw binding names the member or parameter');

misuse('getters and methods called on something that is not a Memory', () => {
  const proto = b.Memory.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const getter = (name: string) => Object.getOwnPropertyDescriptor(b.Memory.prototype, name)!.get!;
  for (const name of ['neurons', 'classes', 'counterBits', 'capacity']) {
    assert.throws(
      () => getter(name).call(Object.create(b.Memory.prototype)),
      (e: Error) => e instanceof TypeError && e.message === `${name}: expected \`this\` to be a Memory, got an object that is not one`,
    );
  }
  for (const name of ['store', 'score', 'serialize', 'clone', 'merge', 'pruneTo', 'addClasses', 'connections']) {
    assert.throws(
      () => proto[name].call({}),
      (e: Error) => e instanceof TypeError && e.message === `${name}: expected \`this\` to be a Memory, got an object that is not one`,
    );
  }
  const m = new b.Memory(16, 4, 2);
  assert.equal([m.neurons, m.classes, m.counterBits], [16, 2, 4], 'the getters still work on a Memory');
  assert.throws(() => m.merge({} as never), /^other: expected a BinaryMemory, got an object$/);
  assert.throws(() => m.merge(Object.create(b.Memory.prototype)), /^other: expected a BinaryMemory, got an object$/);
});

misuse('a typed array whose constructor getter throws is still described by its element type', () => {
  const t = new Float32Array(4);
  Object.defineProperty(t, 'constructor', {
    get() {
      throw new Error("the caller's getter ran");
    },
  });
  assert.throws(
    () => (b.decodeJpeg as (...a: unknown[]) => unknown)(t, 0, 0, 3),
    /^data: expected a Uint8Array, got Float32Array of length 4$/,
  );
  const u = new Int16Array(2);
  Object.defineProperty(u, 'constructor', { value: 5 });
  assert.throws(
    () => b.pqEncode(u as never, new Float32Array(4), 1, 4, 1, 1, 1),
    /^features: expected a Float32Array, got Int16Array of length 2$/,
  );
});

misuse.run();
