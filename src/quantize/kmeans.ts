// Seeded k-means (k-means++ initialisation, Lloyd iterations) for fitting product-quantizer anchors.
// Runs once per codebook fit, on a calibration sample: plain TypeScript is fast enough there.
import { Rng } from '../util/rng.js';

export interface KMeansOptions {
  k: number;
  iterations: number;
  seed: number;
}

/**
 * Clusters n rows of length d (row-major in `x`) into k centroids; returns k*d floats.
 * Requires n >= k. Empty clusters are re-seeded from the point farthest from its centroid.
 */
export function kmeans(x: Float32Array, n: number, d: number, opts: KMeansOptions): Float32Array {
  const { k, iterations, seed } = opts;
  if (n < k) throw new RangeError(`kmeans: need at least k=${k} samples, got ${n}`);
  const rng = new Rng(seed);
  const c = new Float32Array(k * d);
  const dist = new Float64Array(n).fill(Infinity);

  // k-means++: each next centroid drawn with probability proportional to squared distance.
  const first = rng.int(n);
  c.set(x.subarray(first * d, first * d + d), 0);
  for (let j = 1; j < k; j++) {
    let total = 0;
    const prev = c.subarray((j - 1) * d, j * d);
    for (let i = 0; i < n; i++) {
      const di = sqdist(x, i * d, prev, 0, d);
      if (di < dist[i]) dist[i] = di;
      total += dist[i];
    }
    let pick = n - 1;
    if (total > 0) {
      let r = rng.next() * total;
      for (let i = 0; i < n; i++) {
        r -= dist[i];
        if (r <= 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = rng.int(n);
    }
    c.set(x.subarray(pick * d, pick * d + d), j * d);
  }

  const assign = new Int32Array(n);
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  for (let it = 0; it < iterations; it++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        const dj = sqdist(x, i * d, c, j * d, d);
        if (dj < bestD) {
          bestD = dj;
          best = j;
        }
      }
      if (assign[i] !== best || it === 0) changed++;
      assign[i] = best;
      dist[i] = bestD;
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const j = assign[i];
      counts[j]++;
      for (let t = 0; t < d; t++) sums[j * d + t] += x[i * d + t];
    }
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) {
        // Re-seed an empty cluster with the worst-served point.
        let far = 0;
        for (let i = 1; i < n; i++) if (dist[i] > dist[far]) far = i;
        c.set(x.subarray(far * d, far * d + d), j * d);
        dist[far] = 0;
        continue;
      }
      for (let t = 0; t < d; t++) c[j * d + t] = sums[j * d + t] / counts[j];
    }
    if (changed === 0) break;
  }
  return c;
}

function sqdist(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const v = a[ao + t] - b[bo + t];
    s += v * v;
  }
  return s;
}
