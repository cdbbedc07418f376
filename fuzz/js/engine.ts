// engram's JavaScript fuzzing engine: coverage-guided, on V8's own block coverage (the inspector's precise
// coverage with call counts), since jazzer.js cannot run here (docs/fuzzing.md says why). After every input
// the counters of engram's modules (dist/src) are read and reset; an input that reaches a block, or a block a
// new number of times (bucketed as libFuzzer does: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+), joins the corpus
// and is mutated further. A target throws only the errors it documents; anything else is a crash.
import { Rng } from '../../src/util/rng.js';
import { Session } from 'node:inspector';

export interface Target {
  name: string;
  /** Committed seeds are read from fuzz/corpus/<name>/; these are added when that folder is empty. */
  seeds: () => Buffer[] | Promise<Buffer[]>;
  /** Runs one input; throws only for a crash (an error the target does not document). */
  run: (input: Buffer) => void;
  /** Tokens worth splicing in (JSON keys, magic numbers). */
  dictionary?: Buffer[];
  /** Largest input tried. */
  maxLength?: number;
}

/** Errors that are JavaScript failing inside engram rather than engram refusing input. */
export function isInternalError(err: unknown): boolean {
  if (!(err instanceof Error)) return true;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_OUT_OF_RANGE' || code === 'ERR_BUFFER_OUT_OF_BOUNDS' || code === 'ERR_INVALID_ARG_TYPE') return true;
  return /Cannot read properties|Cannot set properties|is not a function|is not iterable|is not a constructor|Invalid array length|Invalid typed array length|Maximum call stack size exceeded|Array buffer allocation failed|Invalid string length|out of memory|Cannot convert|Cannot mix BigInt|Unexpected token/.test(
    err.message,
  );
}

export class Crash extends Error {
  constructor(
    readonly target: string,
    readonly input: Buffer,
    override readonly cause: unknown,
  ) {
    super(`${target}: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
  }
}

const BUCKETS = [1, 2, 3, 4, 8, 16, 32, 128];
const bucket = (n: number) => {
  let b = 0;
  while (b + 1 < BUCKETS.length && n >= BUCKETS[b + 1]) b++;
  return b;
};

/** Reads and resets V8's block counters for engram's modules. */
export class Coverage {
  private readonly session = new Session();

  constructor(private readonly filter = '/dist/src/') {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  private post(method: string, params?: object): unknown {
    let out: unknown;
    let error: Error | null = null;
    // Same-thread inspector sessions answer synchronously.
    this.session.post(method, params ?? {}, (err, result) => {
      error = err;
      out = result;
    });
    if (error) throw error as Error;
    return out;
  }

  /** Features (block x hit-count bucket) reached since the last call. */
  take(): Set<string> {
    const r = this.post('Profiler.takePreciseCoverage') as {
      result: { url: string; functions: { ranges: { startOffset: number; count: number }[] }[] }[];
    };
    const features = new Set<string>();
    for (const script of r.result) {
      if (!script.url.includes(this.filter)) continue;
      const file = script.url.slice(script.url.lastIndexOf(this.filter));
      for (const fn of script.functions)
        for (const range of fn.ranges) if (range.count > 0) features.add(`${file}:${range.startOffset}:${bucket(range.count)}`);
    }
    return features;
  }

  close(): void {
    this.session.disconnect();
  }
}

/** The project's seeded generator (util/rng.ts): a run is replayed by its seed. */
export function generator(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x20, 0x0a];
const INTERESTING32 = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 0xffff, 256, 65535];

export function mutate(input: Buffer, corpus: Buffer[], dict: Buffer[], rnd: () => number, maxLength: number): Buffer {
  const below = (n: number) => Math.floor(rnd() * n);
  let b = Buffer.from(input);
  const rounds = 1 + below(4);
  for (let k = 0; k < rounds; k++) {
    const op = below(11);
    if (b.length === 0 && op < 8) {
      b = Buffer.from([below(256)]);
      continue;
    }
    const at = below(Math.max(1, b.length));
    switch (op) {
      case 0:
        b[at] ^= 1 << below(8);
        break;
      case 1:
        b[at] = below(256);
        break;
      case 2:
        b[at] = INTERESTING[below(INTERESTING.length)];
        break;
      case 3:
        if (b.length >= 4) b.writeUInt32LE(INTERESTING32[below(INTERESTING32.length)], below(b.length - 3));
        break;
      case 4:
        if (b.length >= 4) b.writeUInt32BE(INTERESTING32[below(INTERESTING32.length)], below(b.length - 3));
        break;
      case 5: {
        const n = 1 + below(Math.min(64, b.length - at));
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
        break;
      }
      case 6: {
        const extra = Buffer.alloc(1 + below(16));
        for (let i = 0; i < extra.length; i++) extra[i] = below(256);
        b = Buffer.concat([b.subarray(0, at), extra, b.subarray(at)]);
        break;
      }
      case 7: {
        const n = 1 + below(Math.min(64, b.length - at));
        b = Buffer.concat([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)]);
        break;
      }
      case 8: {
        const other = corpus[below(corpus.length)];
        if (other && other.length) {
          const from = below(other.length);
          const n = 1 + below(other.length - from);
          b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + n), b.subarray(at)]);
        }
        break;
      }
      case 9:
        if (dict.length) {
          const t = dict[below(dict.length)];
          b = below(2)
            ? Buffer.concat([b.subarray(0, at), t, b.subarray(at)])
            : Buffer.concat([b.subarray(0, at), t, b.subarray(at + t.length)]);
        }
        break;
      default:
        b = b.subarray(0, at);
    }
  }
  return b.length > maxLength ? b.subarray(0, maxLength) : b;
}

export interface RunStats {
  target: string;
  engine: string;
  seconds: number;
  seed: number;
  executions: number;
  features: number;
  blocks: number;
  corpus: number;
  crashes: number;
}

/**
 * Fuzzes `target` for `seconds` from `corpus` (seeds plus regressions): returns the statistics and the new
 * corpus entries; stops at the first crash (Crash carries the input).
 */
export function fuzz(
  target: Target,
  corpus: Buffer[],
  seconds: number,
  seed: number,
  onNew: (input: Buffer) => void,
  coverage = new Coverage(),
): RunStats {
  const rnd = generator(seed);
  const seen = new Set<string>();
  const blocks = new Set<string>();
  const maxLength = target.maxLength ?? 64 * 1024;
  const kept: Buffer[] = [];
  let executions = 0;
  const once = (input: Buffer): boolean => {
    coverage.take(); // start from zero
    try {
      target.run(input);
    } catch (err) {
      throw new Crash(target.name, input, err);
    }
    executions++;
    let fresh = false;
    for (const f of coverage.take()) {
      if (!seen.has(f)) {
        seen.add(f);
        blocks.add(f.slice(0, f.lastIndexOf(':')));
        fresh = true;
      }
    }
    return fresh;
  };
  for (const input of corpus) if (once(input)) kept.push(input);
  if (kept.length === 0) kept.push(Buffer.alloc(0));
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (let i = 0; i < 64; i++) {
      const parent = kept[Math.floor(rnd() * kept.length)];
      const child = mutate(parent, kept, target.dictionary ?? [], rnd, maxLength);
      if (once(child)) {
        kept.push(child);
        onNew(child);
      }
    }
  }
  return {
    target: target.name,
    engine: 'engram coverage-guided loop (V8 block coverage)',
    seconds,
    seed,
    executions,
    features: seen.size,
    blocks: blocks.size,
    corpus: kept.length,
    crashes: 0,
  };
}
