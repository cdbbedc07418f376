// Density and byte budgets as a number of connections to keep. Shared by both implementations so that
// the same budget removes exactly the same connections.

/** Binary entropy in bits. */
function entropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
}

/**
 * Bytes an ideal compressor needs for an N x C bit matrix with `connections` set bits: N*C*H(d)/8 for
 * density d <= 1/2, and the raw N*C/8 above (pruning lowers density, so the cost must fall with it).
 * Compressed Willshaw matrices approach this bound, which makes it a device-independent byte budget.
 */
export function compressedBytes(neurons: number, classes: number, connections: number): number {
  const cells = neurons * classes;
  if (cells === 0) return 0;
  const d = connections / cells;
  return Math.ceil((cells * (d > 0.5 ? 1 : entropy(d))) / 8);
}

/** Largest connection count <= current whose compressed size fits maxBytes. */
export function keepForBytes(neurons: number, classes: number, current: number, maxBytes: number): number {
  if (compressedBytes(neurons, classes, current) <= maxBytes) return current;
  let lo = 0; // fits (0 connections cost 0 bytes)
  let hi = current; // does not fit
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (compressedBytes(neurons, classes, mid) <= maxBytes) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Connections allowed by a density budget. */
export function keepForDensity(neurons: number, classes: number, maxDensity: number): number {
  return Math.floor(maxDensity * neurons * classes);
}
