// Connection pruning policies, as users name them: the one vocabulary the API (Engram.prune), the journal, the
// CLI (engram prune and engram client prune, through cli/prune-flags.ts) and the serial link (link/protocol.ts)
// share. Each maps to memory operations (memory/types.ts MemoryPrune) in LearnerCore.prune:
//   budget - keep the memory within a byte size or a connection density (drops the least-seen connections)
//   fanin  - drop connections of code neurons shared by more than `maxClasses` classes (not discriminative)
//   count  - drop connections seen fewer than `minCount` times (needs the counters)
//   share  - per class: drop connections seen in less than `share` of that class's examples (needs the
//            counters; a 1-shot class keeps its connections, a 500-shot class only its typical ones)
//   class  - forget one class entirely
import { int, num, oneOf, options, str, typeError } from '../util/validate.js';

export type PrunePolicy =
  | { kind: 'budget'; maxBytes?: number; maxDensity?: number }
  | { kind: 'fanin'; maxClasses: number }
  | { kind: 'count'; minCount: number }
  | { kind: 'share'; share: number }
  | { kind: 'class'; label: string };

export type PruneKind = PrunePolicy['kind'];

export const PRUNE_KINDS: readonly PruneKind[] = ['budget', 'fanin', 'count', 'share', 'class'];

/** Validates a policy object coming from the API, the CLI, the link or a journal record. */
export function parsePrunePolicy(p: unknown): PrunePolicy {
  if (p === null || typeof p !== 'object') throw typeError('policy', 'a prune policy object', p);
  const kind = oneOf('policy.kind', (p as { kind?: unknown }).kind, PRUNE_KINDS);
  switch (kind) {
    case 'budget': {
      const o = options('policy', p, ['kind', 'maxBytes', 'maxDensity']);
      if (o.maxBytes === undefined && o.maxDensity === undefined) {
        throw new RangeError('policy: a budget policy needs maxBytes or maxDensity');
      }
      return {
        kind,
        ...(o.maxBytes !== undefined ? { maxBytes: int('policy.maxBytes', o.maxBytes, 0) } : {}),
        ...(o.maxDensity !== undefined ? { maxDensity: num('policy.maxDensity', o.maxDensity, 0, 1) } : {}),
      };
    }
    case 'fanin': {
      const o = options('policy', p, ['kind', 'maxClasses']);
      return { kind, maxClasses: int('policy.maxClasses', o.maxClasses, 1) };
    }
    case 'count': {
      const o = options('policy', p, ['kind', 'minCount']);
      return { kind, minCount: int('policy.minCount', o.minCount, 1, 255) };
    }
    case 'share': {
      const o = options('policy', p, ['kind', 'share']);
      const share = num('policy.share', o.share, 0, 1);
      if (share === 0) throw new RangeError('policy.share: expected a share above 0 and at most 1, got number 0');
      return { kind, share };
    }
    case 'class': {
      const o = options('policy', p, ['kind', 'label']);
      return { kind, label: str('policy.label', o.label, { nonEmpty: true }) };
    }
  }
}

/** One line saying what a policy does, for the CLI's output. */
export function describePolicy(p: PrunePolicy): string {
  switch (p.kind) {
    case 'class':
      return `forget "${p.label}"`;
    case 'count':
      return `min count ${p.minCount}`;
    case 'share':
      return `share ${p.share} of each class's examples`;
    case 'fanin':
      return `max ${p.maxClasses} classes per neuron`;
    case 'budget':
      return p.maxBytes !== undefined ? `budget ${p.maxBytes} bytes` : `density budget ${p.maxDensity}`;
  }
}
