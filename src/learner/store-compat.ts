// What an existing store holds a learner to: the backbone, input conventions, quantizer and memory settings it
// was built with. Opening it with others is refused with a message naming both and what to do.
import type { BackboneHandle } from './backbone-ref.js';
import type { StoreMeta } from './persistence.js';
import { parseMemoryOptions, type ResolvedQuantizer } from './config.js';
import { bool, oneOf } from '../util/validate.js';

/** The conventions a learner feeds images with: the store's (older stores: off), or the option (default auto). */
export function resolveConventions(asked: unknown, meta: StoreMeta | null, store: string | undefined): 'auto' | 'off' {
  const want = asked === undefined ? undefined : oneOf('options.conventions', asked, ['auto', 'off'] as const);
  if (!meta?.backbone) return want ?? 'auto';
  const had = meta.backbone.conventions ?? 'off';
  if (want !== undefined && want !== had) {
    throw new Error(
      `store ${store} was built with input conventions ${had}; refusing ${want}: images prepared differently give features that cannot be mixed. Use --conventions ${had} (or leave it out) or a new store.`,
    );
  }
  return had;
}

/** Whether a learner embeds each image with its mirror: the store's (absent: no), or the option (default no). */
export function resolveMirror(asked: unknown, meta: StoreMeta | null, store: string | undefined): boolean {
  const want = asked === undefined ? undefined : bool('options.mirror', asked);
  if (!meta?.backbone) return want ?? false;
  const had = meta.backbone.mirror ?? false;
  if (want !== undefined && want !== had) {
    throw new Error(
      `store ${store} was built ${had ? 'with' : 'without'} mirror features; refusing ${want ? '--mirror' : 'them off'}: features with and without the mirror cannot be mixed. Leave the option out (the store keeps its own) or use a new store.`,
    );
  }
  return had;
}

export function checkSameBackbone(meta: StoreMeta, backbone: BackboneHandle | null, store: string): void {
  const had = meta.backbone;
  if (!had && !backbone) return;
  if (!had || !backbone || had.sha256 !== backbone.sha256) {
    const was = had ? `${had.name} (sha256 ${had.sha256.slice(0, 12)})` : 'no backbone (feature vectors)';
    const now = backbone ? `${backbone.name} (sha256 ${backbone.sha256.slice(0, 12)})` : 'no backbone';
    throw new Error(
      `store ${store} was built with backbone ${was}; refusing ${now}: features from different backbones cannot be mixed. Use the same backbone or a new store.`,
    );
  }
}

export function checkSameMemory(meta: StoreMeta, m: ReturnType<typeof parseMemoryOptions>, store: string): void {
  // Everything but the query-time unknown threshold decides how the journal replays.
  const had = parseMemoryOptions(meta.memory);
  for (const key of ['units', 'vote', 'counterBits', 'refine', 'minCount', 'keepFeatures'] as const) {
    if (had[key] !== m[key])
      throw new Error(`store ${store} was built with memory.${key} = ${had[key]}; refusing ${m[key]}. Use a new store to change it.`);
  }
}

export function withoutPath(q: ResolvedQuantizer): ResolvedQuantizer {
  const { codebook: _path, ...rest } = q;
  return rest;
}

export function checkSameQuantizer(meta: StoreMeta, q: ResolvedQuantizer, store: string): void {
  const recorded = withoutPath(meta.quantizer.options);
  // Preprocessing left out next to a codebook file means "the codebook's own", which the store recorded.
  const given = withoutPath({
    ...q,
    ...(q.codebook && q.center === undefined ? { center: recorded.center } : {}),
    ...(q.codebook && q.l2 === undefined ? { l2: recorded.l2 } : {}),
  });
  const canonical = (o: object) => JSON.stringify(Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : 1))));
  const a = JSON.stringify(recorded);
  const b = JSON.stringify(given);
  if (canonical(recorded) !== canonical(given))
    throw new Error(`store ${store} was built with quantizer ${a}; refusing ${b}. Use the same quantizer options or a new store.`);
}
