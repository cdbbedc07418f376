// Tiny synthetic classification data for the baseline and protocol tests: Gaussian blobs around class
// centres, seeded so a failure can be replayed.
import { Rng } from '../../src/util/rng.js';

export interface Blobs {
  dim: number;
  features: Float32Array;
  labels: Int32Array;
}

/** Approximately normal noise (sum of 4 uniforms, unit variance). */
function gauss(rng: Rng): number {
  let s = 0;
  for (let i = 0; i < 4; i++) s += rng.next() - 0.5;
  return s * Math.sqrt(3);
}

/** `perClass` points per centre; `scale[t]` multiplies the noise of dimension t. */
export function blobs(rng: Rng, centres: number[][], perClass: number, noise: number, scale?: number[]): Blobs {
  const dim = centres[0].length;
  const features = new Float32Array(centres.length * perClass * dim);
  const labels = new Int32Array(centres.length * perClass);
  let r = 0;
  centres.forEach((c, label) => {
    for (let i = 0; i < perClass; i++, r++) {
      labels[r] = label;
      for (let t = 0; t < dim; t++) features[r * dim + t] = c[t] + gauss(rng) * noise * (scale ? scale[t] : 1);
    }
  });
  return { dim, features, labels };
}

/** Random centres at distance ~`spread` from each other, away from the origin (cosine methods need that). */
export function centres(rng: Rng, classes: number, dim: number, spread: number): number[][] {
  return Array.from({ length: classes }, () => Array.from({ length: dim }, () => 3 * spread + (rng.next() - 0.5) * 2 * spread));
}
