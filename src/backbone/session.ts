// onnxruntime sessions configured from a device profile: intra-op threads, graph optimisation level and
// execution providers tried in order. CPU is always the last resort, and one line says what is used and why.
import { availableParallelism } from 'node:os';
import type { InferenceSession } from 'onnxruntime-node';
import { int, oneOf, options, str, typeError } from '../util/validate.js';
import { loadBinding } from '../native/loader.js';

export const GRAPH_OPTIMIZATIONS = ['disabled', 'basic', 'extended', 'all'] as const;
export type GraphOptimization = (typeof GRAPH_OPTIMIZATIONS)[number];

export interface SessionConfig {
  /** Intra-op threads (default: available cores, at most 4). */
  threads?: number;
  /** Providers to try in order, e.g. ['cuda', 'cpu']; 'cpu' is added at the end when missing. */
  executionProviders?: string[];
  /** onnxruntime graph optimisation level (default 'all'). */
  graphOptimization?: GraphOptimization;
  /**
   * Receives the one line that says which provider is used and why; `fallback` is true when the first
   * provider asked for did not start. engram never writes to stderr itself: without `log` the line is dropped.
   */
  log?: (line: string, fallback: boolean) => void;
}

export interface ResolvedSessionConfig {
  threads: number;
  executionProviders: string[];
  graphOptimization: GraphOptimization;
  log?: (line: string, fallback: boolean) => void;
}

export interface OpenedSession {
  session: InferenceSession;
  /** The provider that took the model. */
  provider: string;
  /** The one log line: provider, threads, optimisation, and why earlier providers were skipped. */
  summary: string;
}

export const SESSION_KEYS = ['threads', 'executionProviders', 'graphOptimization', 'log'] as const;

export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Validates session options (a misspelled option is an error) and fills in the defaults. */
export function resolveSessionConfig(value: unknown, name = 'options'): ResolvedSessionConfig {
  const o = options(name, value, SESSION_KEYS);
  const threads = o.threads === undefined ? defaultThreads() : int(`${name}.threads`, o.threads, 1, 256);
  let eps = ['cpu'];
  if (o.executionProviders !== undefined) {
    if (!Array.isArray(o.executionProviders))
      throw typeError(`${name}.executionProviders`, 'an array of provider names', o.executionProviders);
    eps = o.executionProviders.map((p, i) => str(`${name}.executionProviders[${i}]`, p, { nonEmpty: true }).toLowerCase());
    if (!eps.includes('cpu')) eps.push('cpu');
    eps = eps.slice(0, eps.indexOf('cpu') + 1);
  }
  const graphOptimization =
    o.graphOptimization === undefined ? 'all' : oneOf(`${name}.graphOptimization`, o.graphOptimization, GRAPH_OPTIMIZATIONS);
  if (o.log !== undefined && typeof o.log !== 'function') throw typeError(`${name}.log`, 'a function (line: string) => void', o.log);
  return { threads, executionProviders: eps, graphOptimization, log: o.log as ResolvedSessionConfig['log'] };
}

/**
 * Picks session settings out of a device profile. Profiles may keep them at the top level or under
 * `backbone` / `onnx` / `runtime`; the first place that has a key wins.
 */
export function sessionConfigFromProfile(profile: unknown): SessionConfig {
  if (profile === null || typeof profile !== 'object') throw typeError('profile', 'a device profile object', profile);
  const p = profile as Record<string, unknown>;
  const places = [p.backbone, p.onnx, p.runtime, p].filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
  const pick = (...keys: string[]): unknown => {
    for (const place of places) for (const k of keys) if (place[k] !== undefined) return place[k];
    return undefined;
  };
  const config: SessionConfig = {};
  const threads = pick('threads', 'intraOpThreads', 'intraOpNumThreads');
  if (threads !== undefined) config.threads = int('profile.threads', threads, 1, 256);
  const eps = pick('executionProviders', 'providers');
  if (eps !== undefined) {
    if (!Array.isArray(eps)) throw typeError('profile.executionProviders', 'an array of provider names', eps);
    config.executionProviders = eps.map((e, i) => str(`profile.executionProviders[${i}]`, e, { nonEmpty: true }));
  }
  const opt = pick('graphOptimization', 'graphOptimizationLevel');
  if (opt !== undefined) config.graphOptimization = oneOf('profile.graphOptimization', opt, GRAPH_OPTIMIZATIONS);
  return config;
}

function firstLine(message: string): string {
  // onnxruntime prefixes provider errors with long source paths; keep the part a person can act on.
  const line = message.split('\n')[0].trim();
  const tail = line.match(/(Failed to load[^\n]*|backend not found[^\n]*|not supported[^\n]*)$/i);
  return (tail ? tail[1] : line).slice(0, 160);
}

let quietRuntime = false;

let exactInt8: boolean | undefined;
/**
 * Whether onnxruntime must be asked to sum int8 products exactly (its session.x64quantprecision). On an x86-64
 * CPU without VNNI its int8 kernels pair products in saturating 16-bit sums, and an int8 model's features then
 * differ from those of every other CPU (MobileNetV2 int8: cosine 0.84 for the median CIFAR-10 photo, and 4
 * points less top-1 for nearest class mean on them; docs/backbone.md). With VNNI, and on Arm, the sums are
 * exact already, and the option would only slow the model (2.3 times here).
 */
export function exactInt8Needed(): boolean {
  exactInt8 ??= process.arch === 'x64' && loadBinding().int8Dot() === 'none';
  return exactInt8;
}

/**
 * Opens a session on `model` trying each provider in order. A provider that cannot start (library missing,
 * no device) is skipped with its reason; CPU is always tried last. Throws only when CPU fails too.
 */
export async function openSession(model: Uint8Array, cfg: ResolvedSessionConfig, label: string): Promise<OpenedSession> {
  const ort = await import('onnxruntime-node');
  if (!quietRuntime) {
    // The runtime otherwise prints its own multi-line warnings for every provider that fails to load.
    ort.env.logLevel = 'fatal';
    quietRuntime = true;
  }
  const skipped: string[] = [];
  for (const ep of cfg.executionProviders) {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [ep],
        intraOpNumThreads: cfg.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: cfg.graphOptimization,
        logSeverityLevel: 4,
        // Idle pool threads otherwise busy-wait between runs, taking the cores image decoding needs
        // (measured here: about 20% more CPU per image for the model at 2 threads) and draining batteries.
        extra: { session: { intra_op: { allow_spinning: '0' }, ...(exactInt8Needed() ? { x64quantprecision: '1' } : {}) } },
      });
      const why = skipped.length ? `; skipped ${skipped.join('; ')}` : ep === cfg.executionProviders[0] ? ' (first choice)' : '';
      const exact = exactInt8Needed() ? '; int8 summed exactly (this CPU has no VNNI: slower, the features every other CPU gives)' : '';
      const summary = `${label}: execution provider ${ep}, ${cfg.threads} thread${cfg.threads === 1 ? '' : 's'}, graph optimisation ${cfg.graphOptimization}${why}${exact}`;
      return { session, provider: ep, summary };
    } catch (err) {
      const reason = firstLine((err as Error).message);
      if (ep === 'cpu')
        throw new Error(
          `${label}: onnxruntime cannot load the model (${reason})${skipped.length ? `; skipped ${skipped.join('; ')}` : ''}`,
          { cause: err },
        );
      skipped.push(`${ep}: ${reason}`);
    }
  }
  throw new Error(`${label}: no execution provider could load the model (${skipped.join('; ')})`);
}
