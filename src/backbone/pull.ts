// `models pull`: fetch a catalogue model into the models folder. Bytes go to `<file>.part` (kept after an
// interrupted or truncated transfer so the next pull resumes with an HTTP Range request), then the whole
// file is checked against the catalogue's size and sha256 and only then renamed into place. A file that
// fails the check is deleted: the models folder never holds a model that was not verified.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { options, str, typeError } from '../util/validate.js';
import { cutModel } from './cut.js';
import { placeFile } from '../util/durable-files.js';
import { defaultModelsDir, findEntry, loadCatalogue, manifestLocation, type Catalogue, type DownloadEntry } from './catalogue.js';

export interface PullOptions {
  /** Destination folder (default: defaultModelsDir()). */
  dir?: string;
  /** A local file or a mirror URL to take the bytes from instead of the official URL. */
  from?: string;
  /** Called as bytes arrive: (bytes so far including a resumed part, total bytes). */
  onProgress?: (received: number, total: number) => void;
  /** Notes for the person (resuming, already present, cutting). */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Catalogue to use (default: the package's). */
  catalogue?: Catalogue;
}

export interface PullResult {
  name: string;
  /** Manifest to open with Backbone.open. */
  manifest: string;
  /** The verified downloaded file (absent for built-in models). */
  file?: string;
  /** 'builtin', 'present' (already verified in place), 'downloaded', 'resumed' or 'copied'. */
  action: 'builtin' | 'present' | 'downloaded' | 'resumed' | 'copied';
  bytes: number;
}

/** A download that stopped early; the `.part` file stays for the next attempt to resume. */
export class TruncatedDownloadError extends Error {
  override name = 'TruncatedDownloadError';
}

const PULL_KEYS = ['dir', 'from', 'onProgress', 'log', 'signal', 'catalogue'] as const;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Verifies a finished `.part` and renames it over `target`; a bad file is deleted and reported. */
async function verifyAndPlace(part: string, target: string, entry: DownloadEntry, source: string): Promise<void> {
  const size = await sizeOf(part);
  if (size !== entry.size) {
    await rm(part, { force: true });
    throw new Error(`${source}: ${entry.name} has ${size} bytes, the catalogue says ${entry.size}; the file was discarded`);
  }
  const actual = await sha256File(part);
  if (actual !== entry.sha256) {
    await rm(part, { force: true });
    throw new Error(`${source}: sha256 mismatch for ${entry.name}: expected ${entry.sha256}, got ${actual}; the file was discarded`);
  }
  await placeFile(part, target);
}

/** Streams `url` into `part`, resuming from its current length with a Range request. Returns bytes fetched now. */
async function download(url: string, part: string, entry: DownloadEntry, o: PullOptions): Promise<{ fetched: number; resumed: boolean }> {
  let have = await sizeOf(part);
  if (have > entry.size) {
    await rm(part, { force: true });
    have = 0;
  }
  if (have === entry.size) return { fetched: 0, resumed: true };
  const headers: Record<string, string> = have > 0 ? { Range: `bytes=${have}-` } : {};
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: o.signal, redirect: 'follow' });
  } catch (err) {
    if (o.signal?.aborted) throw err;
    const cause = (err as { cause?: Error }).cause;
    throw new Error(`${url}: cannot connect (${cause?.message ?? (err as Error).message})`, { cause: err });
  }
  let append = false;
  if (res.status === 206 && have > 0) {
    const range = res.headers.get('content-range') ?? '';
    const m = range.match(/^bytes (\d+)-/);
    if (!m || Number(m[1]) !== have) {
      await res.body?.cancel();
      throw new Error(`${url}: server answered the resume request with range "${range}", expected it to start at byte ${have}`);
    }
    append = true;
    o.log?.(`resuming ${entry.name} at byte ${have} of ${entry.size}`);
  } else if (res.status === 416 && have > 0) {
    // The server thinks we asked beyond the end: the part is stale; start over.
    await res.body?.cancel();
    await rm(part, { force: true });
    return download(url, part, entry, o);
  } else if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  }
  const start = append ? have : 0;
  const handle = await open(part, append ? 'a' : 'w');
  let received = start;
  try {
    if (!res.body) throw new TruncatedDownloadError(`${url}: empty response body`);
    o.onProgress?.(received, entry.size);
    const reader = res.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (o.signal?.aborted) throw err;
        throw new TruncatedDownloadError(
          `${url}: connection lost after ${received} of ${entry.size} bytes (${(err as Error).message}); run the same pull again to resume`,
        );
      }
      if (chunk.done) break;
      if (received + chunk.value.length > entry.size) {
        throw new Error(`${url}: more data than the catalogue's ${entry.size} bytes; wrong file`);
      }
      await handle.write(chunk.value);
      received += chunk.value.length;
      o.onProgress?.(received, entry.size);
    }
    await handle.sync();
  } catch (err) {
    await handle.close();
    if (!(err instanceof TruncatedDownloadError) && !o.signal?.aborted) await rm(part, { force: true });
    throw err;
  }
  await handle.close();
  if (received < entry.size) {
    throw new TruncatedDownloadError(`${url}: download truncated at ${received} of ${entry.size} bytes; run the same pull again to resume`);
  }
  return { fetched: received - start, resumed: append };
}

/** Copies a local file into `part` (always from the start: a local copy is cheap). */
async function copyLocal(path: string, part: string, o: PullOptions, total: number): Promise<number> {
  let size: number;
  let regular: boolean;
  try {
    const st = await stat(path);
    size = st.size;
    regular = st.isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot read --from file (${code === 'ENOENT' ? 'file not found' : (code ?? (err as Error).message)})`, {
      cause: err,
    });
  }
  // Streamed, not read whole, so the file reader's one-buffer read does not fit; its type check does: a FIFO
  // would block and /dev/zero never end.
  if (!regular)
    throw new Error(`${path}: cannot read --from file (expected a regular file (model), got something else: a directory, FIFO or device)`);
  const handle = await open(part, 'w');
  let copied = 0;
  try {
    for await (const chunk of createReadStream(path, { signal: o.signal })) {
      await handle.write(chunk as Buffer);
      copied += (chunk as Buffer).length;
      o.onProgress?.(copied, total);
    }
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(part, { force: true });
    throw err;
  }
  await handle.close();
  return size;
}

/**
 * Makes the named catalogue model ready to open and returns its manifest path. Downloads resume, files are
 * verified before they are placed, and a classifier entry with `cut` is cut into its feature extractor.
 */
export async function pullModel(name: string, opts?: PullOptions): Promise<PullResult> {
  str('name', name, { nonEmpty: true });
  const o = options('pull options', opts, PULL_KEYS) as PullOptions;
  for (const k of ['onProgress', 'log'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw typeError(`pull options.${k}`, 'a function', o[k]);
  }
  if (o.from !== undefined) str('pull options.from', o.from, { nonEmpty: true });
  const catalogue = o.catalogue ?? loadCatalogue();
  const entry = findEntry(catalogue, name);
  const dir = o.dir ?? defaultModelsDir();
  if (entry.kind === 'builtin') {
    return { name, manifest: manifestLocation(entry, dir), action: 'builtin', bytes: 0 };
  }
  await mkdir(dir, { recursive: true });
  const target = join(dir, entry.file);
  const part = `${target}.part`;

  let action: PullResult['action'];
  let bytes = 0;
  if ((await sizeOf(target)) === entry.size && (await sha256File(target)) === entry.sha256) {
    action = 'present';
  } else {
    const from = o.from ?? entry.url;
    if (/^https?:\/\//.test(from)) {
      const r = await download(from, part, entry, o);
      bytes = r.fetched;
      action = r.resumed ? 'resumed' : 'downloaded';
    } else {
      bytes = await copyLocal(from, part, o, entry.size);
      action = 'copied';
    }
    await verifyAndPlace(part, target, entry, from);
  }

  o.log?.(`cutting ${entry.file} at ${entry.cut.at} into ${entry.cut.file}`);
  const cut = await cutModel(target, {
    at: entry.cut.at,
    out: join(dir, entry.cut.file),
    name: entry.cut.name,
    license: entry.license,
    source: entry.url,
    ...(entry.input ?? {}),
  });
  const manifest = cut.manifestPath;
  return { name, manifest, file: target, action, bytes };
}
