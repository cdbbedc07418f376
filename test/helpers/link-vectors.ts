// Feature vectors for link tests: class c lights up its own block of dimensions, plus seeded noise,
// so a top-k quantizer separates the classes and a wrong answer means a broken link, not a weak model.
import { Rng } from '../../src/util/rng.js';

export const LINK_DIM = 32;
export const LINK_TOPK = 4;

export function classVector(c: number, noiseSeed: number, dim = LINK_DIM): Float32Array {
  const v = new Float32Array(dim);
  const r = new Rng(Math.imul(noiseSeed, 2654435761) + c * 97 + 1);
  for (let i = 0; i < dim; i++) v[i] = r.next() * 0.2;
  for (let k = 0; k < LINK_TOPK; k++) v[(c * LINK_TOPK + k) % dim] += 1 + k * 0.1;
  return v;
}
