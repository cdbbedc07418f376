// pqEncode: the native encoder equals its TypeScript reference on random data, including ties.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pqEncode, pqEncodeReference } from '../src/quantize/pq-encode.js';
import { below, rng, seedFor } from './helpers/memory-random.js';

const seed = seedFor('16.pq');

test('native and reference agree on 300 random shapes', () => {
  const r = rng(seed);
  for (let i = 0; i < 300; i++) {
    const parts = 1 + below(r, 8);
    const sub = 1 + below(r, 6);
    const dims = parts * sub;
    const anchorCount = 1 + below(r, 40);
    const probes = 1 + below(r, Math.min(anchorCount, 4));
    const batch = below(r, 6);
    // quantised values make exact distance ties frequent
    const q = r() < 0.5 ? (x: number) => Math.round(x * 2) / 2 : (x: number) => x;
    const features = Float32Array.from({ length: batch * dims }, () => q(r() * 4 - 2));
    const anchors = Float32Array.from({ length: anchorCount * dims }, () => q(r() * 4 - 2));
    const shape = { batch, dims, parts, anchorCount, probes };
    assert.equal(pqEncode(features, anchors, shape), pqEncodeReference(features, anchors, shape), JSON.stringify(shape));
  }
});

test('codes are nearest-first neuron ids p * K + k', () => {
  const anchors = new Float32Array([0, 10, 20, /* part 1 */ 5, -5, 0]);
  const features = new Float32Array([11, -4, 19, 1]);
  const shape = { batch: 2, dims: 2, parts: 2, anchorCount: 3, probes: 2 };
  assert.equal(Array.from(pqEncode(features, anchors, shape)), [1, 2, 4, 5, 2, 1, 5, 3]);
});

test('MobileNet-sized input: 1280 dims, P = 64, K = 256', () => {
  const r = rng(seed + 1);
  const features = Float32Array.from({ length: 3 * 1280 }, () => r());
  const anchors = Float32Array.from({ length: 256 * 1280 }, () => r());
  const shape = { batch: 3, dims: 1280, parts: 64, anchorCount: 256, probes: 1 };
  const codes = pqEncode(features, anchors, shape);
  assert.is(codes.length, 3 * 64);
  assert.equal(codes, pqEncodeReference(features, anchors, shape));
  for (let p = 0; p < 64; p++) assert.ok(codes[p] >= p * 256 && codes[p] < (p + 1) * 256);
});

test('borrowed views with a byte offset are read at their offset', () => {
  const backing = new Float32Array(10);
  backing.set([1, 1], 6);
  const features = backing.subarray(6, 8);
  const anchors = new Float32Array([0, 0, 1, 1]);
  assert.equal(Array.from(pqEncode(features, anchors, { batch: 1, dims: 2, parts: 1, anchorCount: 2, probes: 1 })), [1]);
});

test.run();
