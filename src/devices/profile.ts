// Device profiles: one JSON file per board in the package's devices/ folder, each checked against
// devices/schema.json plus the rules a schema cannot say (cpu last, id equals file name).
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertSupportedSchema, checkSchema, type JsonSchema } from './schema.js';
import { str } from '../util/validate.js';
import { FileReadError, readTextChecked } from '../util/read-file.js';

export type Arch = 'arm' | 'arm64' | 'x64' | 'ia32' | 'riscv64';
export type ExecutionProvider = 'tensorrt' | 'cuda' | 'webgpu' | 'xnnpack' | 'cpu';

export interface DeviceProfile {
  id: string;
  name: string;
  match: { arch: Arch[]; model?: string[]; compatible?: string[] };
  supportedArch: Arch[];
  threads: number;
  /** In order of preference; always ends with 'cpu'. */
  executionProviders: ExecutionProvider[];
  /** Budget for the connection bits in compressed bytes: a learn that goes over it prunes the memory back to it. */
  memoryBudgetBytes: number;
  /** Default backbone (catalogue name). */
  backbone: string;
  serial: { path: string; baudRate: number; dataBits?: 7 | 8; stopBits?: 1 | 2; parity?: 'none' | 'even' | 'odd'; rtscts?: boolean };
  /** The board's camera, for engram watch and serve --watch when no source is named. */
  camera?: { source: string; size?: string; fps?: number };
  notes?: string[];
}

/** A profile that does not conform; `problems` lists every finding, the message says where. */
export class ProfileError extends Error {
  override name = 'ProfileError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`device profile ${source} is invalid:\n  - ${problems.join('\n  - ')}`);
  }
}

/** The package's devices/ folder (profiles and schema), found from this file's place in src/ or dist/src/. */
export function devicesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '..', '..', 'devices'), resolve(here, '..', '..', '..', 'devices')];
  return candidates.find((d) => existsSync(join(d, 'schema.json'))) ?? candidates[candidates.length - 1];
}

const schemas = new Map<string, JsonSchema>();

export function loadSchema(dir = devicesDir()): JsonSchema {
  const file = join(dir, 'schema.json');
  let schema = schemas.get(file);
  if (!schema) {
    if (!existsSync(file)) throw new Error(`device profile schema ${file} is missing; the package is incomplete`);
    const parsed: unknown = JSON.parse(readTextChecked(file, 'profile'));
    assertSupportedSchema(parsed);
    schema = parsed;
    schemas.set(file, schema);
  }
  return schema;
}

/** Checks one parsed profile; `source` names it in errors (a file path or "inline"). */
export function validateProfile(value: unknown, source = 'inline', schema: JsonSchema = loadSchema()): DeviceProfile {
  const problems = checkSchema(schema, value);
  if (problems.length === 0) {
    const p = value as DeviceProfile;
    const eps = p.executionProviders;
    if (eps[eps.length - 1] !== 'cpu') {
      problems.push(`executionProviders: expected "cpu" as the last entry (the fallback), got ${JSON.stringify(eps)}`);
    }
    if (new Set(eps).size !== eps.length) problems.push(`executionProviders: expected no repeats, got ${JSON.stringify(eps)}`);
    for (const a of p.supportedArch) {
      if (!p.match.arch.includes(a)) problems.push(`supportedArch: "${a}" is not one of match.arch (${p.match.arch.join(', ')})`);
    }
    if (source.endsWith('.json') && basename(source, '.json') !== p.id) {
      problems.push(`id: expected "${basename(source, '.json')}" (the file name), got ${JSON.stringify(p.id)}`);
    }
  }
  if (problems.length) throw new ProfileError(source, problems);
  return value as DeviceProfile;
}

/** Reads and validates one profile file. */
export function loadProfileFile(file: string, schema?: JsonSchema): DeviceProfile {
  let text: string;
  try {
    text = readTextChecked(file, 'profile');
  } catch (err) {
    throw new Error(
      `device profile ${file}: cannot read (${err instanceof FileReadError && (err.code === 'ENOTREG' || err.code === 'EFBIG') ? err.detail : ((err as NodeJS.ErrnoException).code ?? (err as Error).message)})`,
      { cause: err },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  return validateProfile(parsed, file, schema ?? loadSchema(dirname(file)));
}

/** Every profile in `dir`, sorted by id; one bad file is an error naming it. */
export function loadProfiles(dir = devicesDir()): DeviceProfile[] {
  const schema = loadSchema(dir);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'schema.json')
    .sort()
    .map((f) => loadProfileFile(join(dir, f), schema));
}

/** The profile called `id`, or the profile file `id` names (a path ending in .json); the error lists the known ids. */
export function getProfile(id: string, dir = devicesDir()): DeviceProfile {
  str('profile', id, { nonEmpty: true });
  // A board of one's own, or a smaller budget, without editing the package: a profile file checked like ours.
  if (id.endsWith('.json')) return loadProfileFile(resolve(id), loadSchema(dir));
  const all = loadProfiles(dir);
  const p = all.find((x) => x.id === id);
  if (!p) throw new RangeError(`profile: expected one of ${all.map((x) => x.id).join(', ')}, got string ${JSON.stringify(id)}`);
  return p;
}
