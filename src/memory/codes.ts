// Codes and labels at the public boundary: one place that checks and normalises them for every memory
// implementation, so the native wrapper and the TypeScript reference reject the same input the same way.
import { int, rangeError, typeError, typed } from '../util/validate.js';

/**
 * A batch of codes, each a list of active neuron indices, flattened into `indices`:
 * fixed length (`active` per code) or variable length (`offsets`, batch + 1 ascending entries, 0 to length).
 * A bare Uint32Array uses the memory's `active` option. `bitset` gives each code as a packed bit set instead:
 * ceil(neurons / 32) words per code, neuron j at word j >> 5, bit j & 31.
 */
export type CodeBatch =
  Uint32Array | { indices: Uint32Array; active: number } | { indices: Uint32Array; offsets: Uint32Array } | { bitset: Uint32Array };

/** Labels: one class id per code, or one id for the whole batch. */
export type Labels = number | Uint32Array | readonly number[];

export interface NormalizedCodes {
  indices: Uint32Array;
  offsets: Uint32Array | null;
  active: number;
  batch: number;
}

export const MAX_NEURONS = 1 << 24;
export const MAX_CLASSES = 1 << 20;

/** Checks a code batch against the memory's neuron count and returns its flat form. */
export function normalizeCodes(codes: unknown, neurons: number, defaultActive: number | undefined): NormalizedCodes {
  let indices: Uint32Array;
  let offsets: Uint32Array | null = null;
  let active = 0;
  if (codes instanceof Uint32Array) {
    indices = codes;
    if (defaultActive === undefined) {
      throw typeError('codes', 'a { indices, active } or { indices, offsets } batch (this memory has no active option)', codes);
    }
    active = defaultActive;
  } else if (codes !== null && typeof codes === 'object' && !ArrayBuffer.isView(codes) && !Array.isArray(codes)) {
    const c = codes as Record<string, unknown>;
    for (const key of Object.keys(c)) {
      if (key !== 'indices' && key !== 'active' && key !== 'offsets' && key !== 'bitset') {
        throw new RangeError(`codes: unknown option "${key}" (known: indices, active, offsets, bitset)`);
      }
    }
    if (c.bitset !== undefined) {
      if (Object.keys(c).length !== 1) throw new RangeError('codes: expected bitset alone, without indices, active or offsets');
      return fromBitset(typed('codes.bitset', c.bitset, Uint32Array), neurons);
    }
    indices = typed('codes.indices', c.indices, Uint32Array);
    if (c.offsets !== undefined) {
      if (c.active !== undefined) throw new RangeError('codes: expected either active or offsets, got both');
      offsets = typed('codes.offsets', c.offsets, Uint32Array);
    } else {
      active = int('codes.active', c.active, 1, MAX_NEURONS);
    }
  } else {
    throw typeError('codes', 'a Uint32Array or a { indices, active } / { indices, offsets } batch', codes);
  }
  let batch: number;
  if (offsets) {
    const n = offsets.length;
    const expected = `ascending offsets from 0 to ${indices.length} (codes.length)`;
    if (n < 1 || offsets[0] !== 0 || offsets[n - 1] !== indices.length) throw rangeError('codes.offsets', expected, offsets);
    for (let k = 1; k < n; k++) if (offsets[k] < offsets[k - 1]) throw rangeError('codes.offsets', expected, offsets);
    batch = n - 1;
  } else {
    active = int('codes.active', active, 1, MAX_NEURONS);
    if (indices.length % active !== 0) {
      throw rangeError('codes', `a length that is a multiple of codes.active (${active})`, indices);
    }
    batch = indices.length / active;
  }
  for (let k = 0; k < indices.length; k++) {
    if (indices[k] >= neurons) {
      throw new RangeError(`codes: expected neuron indices below ${neurons}, got number ${indices[k]} at index ${k}`);
    }
  }
  return { indices, offsets, active, batch };
}

/** Checks labels against the batch size and class count; returns one id per code. */
export function normalizeLabels(labels: unknown, batch: number, classes: number): Uint32Array {
  let out: Uint32Array;
  if (typeof labels === 'number') {
    if (classes === 0) throw rangeError('labels', 'a class id, but the memory has no classes (call addClass first)', labels);
    int('labels', labels, 0, classes - 1);
    out = new Uint32Array(batch).fill(labels);
  } else if (labels instanceof Uint32Array) {
    out = labels;
  } else if (Array.isArray(labels)) {
    out = new Uint32Array(labels.length);
    labels.forEach((v, i) => {
      out[i] = int(`labels[${i}]`, v, 0, 0xffffffff);
    });
  } else {
    throw typeError('labels', 'a class id, a Uint32Array or an array of class ids', labels);
  }
  if (out.length !== batch) throw rangeError('labels', `a Uint32Array of length ${batch} (one per code)`, out);
  for (let k = 0; k < batch; k++) {
    if (out[k] >= classes) {
      throw new RangeError(`labels: expected class ids below ${classes}, got number ${out[k]} at index ${k}`);
    }
  }
  return out;
}

/** Unpacks bit-set codes into the offsets form (ascending neuron ids per code). */
function fromBitset(bits: Uint32Array, neurons: number): NormalizedCodes {
  const words = Math.ceil(neurons / 32);
  if (bits.length % words !== 0) {
    throw rangeError('codes.bitset', `a length that is a multiple of ${words} (ceil(neurons / 32) words per code)`, bits);
  }
  const batch = bits.length / words;
  const tail = neurons % 32 ? ~((1 << (neurons % 32)) - 1) >>> 0 : 0;
  let total = 0;
  for (let b = 0; b < batch; b++) {
    if ((bits[b * words + words - 1] & tail) !== 0) {
      throw new RangeError(`codes.bitset: expected no bits at or above neuron ${neurons}, got some in code ${b}`);
    }
    for (let w = 0; w < words; w++) total += popcount32(bits[b * words + w]);
  }
  const indices = new Uint32Array(total);
  const offsets = new Uint32Array(batch + 1);
  let at = 0;
  for (let b = 0; b < batch; b++) {
    for (let w = 0; w < words; w++) {
      let x = bits[b * words + w];
      while (x !== 0) {
        const low = x & -x;
        indices[at++] = w * 32 + 31 - Math.clz32(low);
        x = (x ^ low) >>> 0;
      }
    }
    offsets[b + 1] = at;
  }
  return { indices, offsets, active: 0, batch };
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
