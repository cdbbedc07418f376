// Resolves what a user names as a backbone (catalogue name, manifest path, .onnx path, or nothing for the
// embedded default) into an open backbone, and gives the learner the few things it needs from it.
import { existsSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Backbone, manifestPathFor, type LoadedManifest, type SessionConfig } from '../backbone/index.js';
import type { ImageInput } from '../backbone/index.js';

/** The backbone that ships with engram (models/), used when none is named. */
export const DEFAULT_BACKBONE = 'engram-glyph-v1';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface BackboneHandle {
  /** What the store records to reopen it: a catalogue name or an absolute manifest path. */
  ref: string;
  name: string;
  sha256: string;
  dim: number;
  manifest: LoadedManifest;
  manifestPath: string;
  /** Features for images, row-major [n x dim]. */
  embed(inputs: ImageInput[]): Promise<Float32Array>;
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
  const candidates = [join(PACKAGE_ROOT, 'models', `${r}.json`), join(modelsHome(), r, `${r}.json`), join(modelsHome(), `${r}.json`)];
  for (const c of candidates) if (existsSync(c)) return { manifestPath: c, name: r };
  throw new Error(
    `backbone "${r}": not found (looked in ${candidates.join(', ')}). Run "engram models list" for names, "engram models pull ${r}" to fetch one, or pass a manifest .json / .onnx path`,
  );
}

/** Where pulled models live: $ENGRAM_HOME/models or ~/.engram/models. */
export function modelsHome(): string {
  const home = process.env.ENGRAM_HOME ?? join(process.env.HOME ?? '.', '.engram');
  return join(home, 'models');
}

export async function openBackbone(ref: string | undefined, opts: { session?: SessionConfig; onWarning?: (m: string) => void }): Promise<BackboneHandle> {
  const resolved = resolveBackboneRef(ref);
  const backbone = await Backbone.open(resolved.manifestPath, { ...(opts.session ?? {}), log: opts.onWarning ? () => {} : undefined });
  const m = backbone.manifest;
  return {
    ref: resolved.name ?? resolved.manifestPath,
    name: m.name,
    sha256: m.sha256,
    dim: backbone.dim,
    manifest: m,
    manifestPath: m.manifestPath,
    embed: async (inputs) => {
      const rows = await backbone.embed(inputs);
      const out = new Float32Array(rows.length * backbone.dim);
      rows.forEach((r, i) => out.set(r, i * backbone.dim));
      return out;
    },
    close: async () => backbone.close(),
  };
}
