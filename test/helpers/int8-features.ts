// Child process of test/07.int8-exact: embeds 16 MNIST test digits with the shipped int8 backbone, through
// engram's session and through a plain onnxruntime session on the same prepared tensors
// (bench/lib/int8-embed.ts), and prints one JSON line: the addon's int8Dot(), the session line, and both
// feature sets in base64. Run natively and under qemu-x86_64 emulating other CPUs.
import { join } from 'node:path';
import { loadMnist } from '../../src/datasets/idx.js';
import { loadBinding } from '../../src/native/index.js';
import { embedWith } from '../../bench/lib/int8-embed.js';
import { repoRoot } from './backbone-fixtures.js';

const manifestPath = join(repoRoot, 'models', 'engram-glyph.json');
const test = loadMnist('test');
const images = Array.from({ length: 16 }, (_, i) => ({
  data: test.images.subarray(i * 784, (i + 1) * 784),
  width: 28,
  height: 28,
  channels: 1 as const,
}));
const b64 = (f: Float32Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');

const engram = await embedWith(manifestPath, images, 'engram');
const plain = await embedWith(manifestPath, images, 'plain');
console.log(
  JSON.stringify({ int8Dot: loadBinding().int8Dot(), summary: engram.summary, engram: b64(engram.features), plain: b64(plain.features) }),
);
