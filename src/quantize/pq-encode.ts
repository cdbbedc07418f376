// Product-quantization encoding: the nearest anchors of each part of a feature vector become the active
// neurons of its code. pqEncode runs natively; pqEncodeReference is the same definition in TypeScript.
import { loadBinding } from '../native/loader.js';
import { int, rangeError, typed } from '../util/validate.js';

export interface PqShape {
  /** Vectors in the batch. */
  batch: number;
  /** Floats per vector; must be a multiple of parts. */
  dims: number;
  /** Parts P the vector is split into. */
  parts: number;
  /** Anchors K per part; neuron id = part * K + k. */
  anchorCount: number;
  /** Nearest anchors kept per part (1 .. K). */
  probes: number;
}

const MAX_DIM = 1 << 24;

function checkFinite(name: string, a: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new RangeError(`${name}: expected finite numbers, got ${a[i]} at index ${i}`);
  }
}

/**
 * Validates types and shapes in the same order and with the same messages as the addon. The finite-value
 * scan (one pass over every anchor) is left to the addon for pqEncode, which repeats it in C++ at a fraction
 * of the cost, with the same message.
 */
function check(features: unknown, anchors: unknown, s: PqShape, scanValues: boolean): { f: Float32Array; a: Float32Array } {
  const f = typed('features', features, Float32Array);
  const a = typed('anchors', anchors, Float32Array);
  const batch = int('batch', s.batch, 0, MAX_DIM);
  const dims = int('dims', s.dims, 1, MAX_DIM);
  const parts = int('parts', s.parts, 1, dims);
  if (dims % parts !== 0) throw rangeError('parts', `a divisor of dims (${dims})`, parts);
  const k = int('anchorCount', s.anchorCount, 1, MAX_DIM);
  int('probes', s.probes, 1, k);
  if (f.length !== batch * dims) throw rangeError('features', `a Float32Array of length ${batch * dims} (batch x dims)`, f);
  if (a.length !== k * dims) {
    throw rangeError('anchors', `a Float32Array of length ${k * dims} (parts x anchorCount x dims/parts)`, a);
  }
  if (scanValues) {
    checkFinite('features', f);
    checkFinite('anchors', a);
  }
  return { f, a };
}

/**
 * Encodes a batch of feature vectors [batch x dims] against anchors [parts x anchorCount x dims/parts]:
 * returns Uint32Array [batch x parts*probes] holding, for each part p, the ids p*anchorCount + k of the
 * `probes` nearest anchors by squared L2 (nearest first; ties to the lower k).
 */
export function pqEncode(features: Float32Array, anchors: Float32Array, shape: PqShape): Uint32Array {
  const { f, a } = check(features, anchors, shape, false);
  return loadBinding().pqEncode(f, a, shape.batch, shape.dims, shape.parts, shape.anchorCount, shape.probes);
}

/** pqEncode in TypeScript: distances summed in double precision in dimension order, as the native one. */
export function pqEncodeReference(features: Float32Array, anchors: Float32Array, shape: PqShape): Uint32Array {
  const { f, a } = check(features, anchors, shape, true);
  const { batch, dims, parts, anchorCount, probes } = shape;
  const sub = dims / parts;
  const out = new Uint32Array(batch * parts * probes);
  const bestD = new Float64Array(probes);
  const bestK = new Uint32Array(probes);
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < parts; p++) {
      const x = b * dims + p * sub;
      let filled = 0;
      for (let k = 0; k < anchorCount; k++) {
        const y = (p * anchorCount + k) * sub;
        let d = 0;
        for (let i = 0; i < sub; i++) {
          const diff = f[x + i] - a[y + i];
          d += diff * diff;
        }
        if (filled === probes && !(d < bestD[probes - 1])) continue;
        let pos = filled < probes ? filled++ : probes - 1;
        while (pos > 0 && d < bestD[pos - 1]) {
          bestD[pos] = bestD[pos - 1];
          bestK[pos] = bestK[pos - 1];
          pos--;
        }
        bestD[pos] = d;
        bestK[pos] = k;
      }
      for (let j = 0; j < probes; j++) out[(b * parts + p) * probes + j] = p * anchorCount + bestK[j];
    }
  }
  return out;
}
