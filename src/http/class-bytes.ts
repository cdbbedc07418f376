// What each class costs in the memory: its connections and the compressed size of its column(s), the same
// entropy bound as the memory's compressedBytes and a byte budget (memory/budget.ts), taken per class.
import type { Engram } from '../learner/engram.js';
import { compressedBytes } from '../memory/budget.js';

export interface ClassBytes {
  /** Connections of the class's column (all its columns with per-example units). */
  connections: number;
  /** Entropy bound of those connection bits: what the class's knowledge needs at the least. */
  compressedBytes: number;
}

/** Connections and compressed bytes of every class the learner holds, by label. */
export function classBytes(engram: Engram): Record<string, ClassBytes> {
  const core = engram.core;
  const stats = core.memory.stats();
  const neurons = core.memory.neurons;
  const out: Record<string, ClassBytes> = {};
  for (const label of core.activeLabels()) {
    const id = core.classOf(label);
    const columns = core.unitLabel ? core.unitLabel.flatMap((l, u) => (l === id ? [u] : [])) : [id];
    let connections = 0;
    for (const c of columns) connections += stats.connectionsPerClass[c] ?? 0;
    out[label] = { connections, compressedBytes: compressedBytes(neurons, columns.length, connections) };
  }
  return out;
}
