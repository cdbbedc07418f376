// A device profile's memory budget: after a learn takes the memory's compressed size over it, the learner
// prunes back to it (a budget prune, which recalibrates "unknown" like any prune).
import type { DeviceProfile } from '../devices/index.js';
import type { PrunePolicy } from './prune.js';

/** A device profile's memoryBudgetBytes: after a learn takes compressedBytes over it, the memory is pruned back. */
export interface MemoryBudget {
  profile: string;
  bytes: number;
}

/** The budget a profile sets, null without a profile. */
export function budgetOf(profile: DeviceProfile | null): MemoryBudget | null {
  return profile ? { profile: profile.id, bytes: profile.memoryBudgetBytes } : null;
}

/** The prune that brings a memory of `compressedBytes` back within `budget`, or null when it fits. */
export function budgetPrune(budget: MemoryBudget | null, compressedBytes: number): PrunePolicy | null {
  return budget && compressedBytes > budget.bytes ? { kind: 'budget', maxBytes: budget.bytes } : null;
}
