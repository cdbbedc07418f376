// Resolves what a user names as a backbone (catalogue name, manifest path, .onnx path, or nothing for the
// embedded default) into an open backbone, and gives the learner the few things it needs from it.
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { Backbone, manifestPathFor, type LoadedManifest, type SessionConfig } from '../backbone/index.js';
import { defaultModelsDir, findEntry, loadCatalogue, manifestLocation } from '../backbone/catalogue.js';
import type { ImageInput, PreparedImage } from '../backbone/index.js';

/** The backbone that ships with engram (models/), used when none is named. */
export const DEFAULT_BACKBONE = 'engram-glyph';

export interface BackboneHandle {
  /** What the store records to reopen it: a catalogue name or an absolute manifest path. */
  ref: string;
  name: string;
  sha256: string;
  dim: number;
  manifest: LoadedManifest;
  manifestPath: string;
  /** Whether images get the manifest's input conventions (polarity, framing) applied. */
  conventions: 'auto' | 'off';
  /** Whether each feature vector is the mean of the image's and its left-right mirror's (Backbone.embed). */
  mirror: boolean;
  /** Features for images, row-major [n x dim]; `images`, when given, receives what each image went through. */
  embed(inputs: ImageInput[], images?: PreparedImage[]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Where a backbone reference points: a manifest path, and the catalogue name when it was one. */
export function resolveBackboneRef(ref: string | undefined): { manifestPath: string; name?: string } {
  const r = ref ?? DEFAULT_BACKBONE;
  const ext = extname(r).toLowerCase();
  if (ext === '.json' || ext === '.onnx' || r.includes('/') || r.includes('\\')) {
    if (!existsSync(r)) throw new Error(`backbone ${r}: no such file`);
    return { manifestPath: resolve(manifestPathFor(r)) };
  }
  const catalogue = loadCatalogue();
  if (!catalogue.models.some((m) => m.name === r)) {
    throw new Error(
      `backbone "${r}": not found: not a file, and the catalogue has ${catalogue.models.map((m) => m.name).join(', ')} ("engram models list")`,
    );
  }
  const manifestPath = manifestLocation(findEntry(catalogue, r), defaultModelsDir());
  if (!existsSync(manifestPath))
    throw new Error(`backbone "${r}" is not installed here: run "engram models pull ${r}" (or --from a local copy)`);
  return { manifestPath, name: r };
}

/**
 * `onInfo` receives the line saying which execution provider runs the model and why; without it, `onWarning`
 * receives that line when a provider that was asked for did not start (so it is not lost, nor printed past
 * the caller's logger).
 */
export async function openBackbone(
  ref: string | undefined,
  opts: {
    session?: SessionConfig;
    onInfo?: (m: string) => void;
    onWarning?: (m: string) => void;
    conventions?: 'auto' | 'off';
    mirror?: boolean;
  },
): Promise<BackboneHandle> {
  const { onInfo, onWarning } = opts;
  const log = onInfo
    ? (line: string) => onInfo(line)
    : onWarning
      ? (line: string, fallback: boolean) => (fallback ? onWarning(line) : undefined)
      : undefined;
  const resolved = resolveBackboneRef(ref);
  const conventions = opts.conventions ?? 'auto';
  const mirror = opts.mirror ?? false;
  const backbone = await Backbone.open(resolved.manifestPath, { ...(opts.session ?? {}), ...(log ? { log } : {}), conventions });
  const m = backbone.manifest;
  return {
    ref: resolved.name ?? resolved.manifestPath,
    name: m.name,
    sha256: m.sha256,
    dim: backbone.dim,
    manifest: m,
    manifestPath: m.manifestPath,
    conventions,
    mirror,
    embed: async (inputs, images) => {
      const { vectors: rows, images: prepared } = await backbone.embedDetailed(inputs, { mirror });
      images?.push(...prepared);
      const out = new Float32Array(rows.length * backbone.dim);
      rows.forEach((r, i) => out.set(r, i * backbone.dim));
      return out;
    },
    close: async () => backbone.close(),
  };
}
