// Prune policies and score options, checked once for every implementation.
import { describe, int, num, oneOf, options, rangeError, typeError } from '../util/validate.js';
import { MAX_CLASSES } from './codes.js';
import type { ScoreOptions } from './types.js';

export type CheckedPolicy =
  | { kind: 'minCount'; value: number }
  | { kind: 'minCountPerClass'; value: Uint32Array }
  | { kind: 'maxFanIn'; value: number }
  | { kind: 'maxBytes'; value: number }
  | { kind: 'maxDensity'; value: number }
  | { kind: 'classId'; value: number };

const POLICY_KEYS = ['minCount', 'minCountPerClass', 'maxFanIn', 'maxBytes', 'maxDensity', 'classId'] as const;

export const NO_COUNTERS = 'the memory has no counting plane (create it with counterBits 4 or 8)';

export function checkPolicy(policy: unknown, classes: number, counterBits: number): CheckedPolicy {
  if (policy === undefined) throw typeError('policy', `an object with one of ${POLICY_KEYS.join(', ')}`, policy);
  const p = options('policy', policy, POLICY_KEYS);
  const keys = Object.keys(p) as (typeof POLICY_KEYS)[number][];
  if (keys.length !== 1) {
    throw new RangeError(`policy: expected exactly one of ${POLICY_KEYS.join(', ')}, got ${keys.length ? keys.join(', ') : 'none'}`);
  }
  const kind = keys[0];
  switch (kind) {
    case 'minCount':
      if (counterBits === 0) throw new RangeError(`policy.minCount: ${NO_COUNTERS}`);
      return { kind, value: int('policy.minCount', p.minCount, 0, 255) };
    case 'minCountPerClass':
      return { kind, value: checkMinCountPerClass(p.minCountPerClass, classes, counterBits) };
    case 'maxFanIn':
      return { kind, value: int('policy.maxFanIn', p.maxFanIn, 0, MAX_CLASSES) };
    case 'maxBytes':
      return { kind, value: num('policy.maxBytes', p.maxBytes, 0) };
    case 'maxDensity':
      return { kind, value: num('policy.maxDensity', p.maxDensity, 0, 1) };
    case 'classId':
      if (classes === 0) throw rangeError('policy.classId', 'a class id, but the memory has no classes', p.classId);
      return { kind, value: int('policy.classId', p.classId, 0, classes - 1) };
  }
}

// One threshold per class, 1 .. counterMax: 0 would mean the same as 1, and above counterMax would empty the
// class, which is clearClass's job; both are refused as likely mistakes.
function checkMinCountPerClass(v: unknown, classes: number, counterBits: number): Uint32Array {
  const name = 'policy.minCountPerClass';
  if (counterBits === 0) throw new RangeError(`${name}: ${NO_COUNTERS}`);
  const shape = `a Uint32Array or an array of numbers of length ${classes} (one per class)`;
  if (!(v instanceof Uint32Array) && !Array.isArray(v)) throw typeError(name, shape, v);
  if (v.length !== classes) throw rangeError(name, shape, v);
  const max = (1 << counterBits) - 1;
  const expected = `integers in [1, ${max}]`;
  for (let c = 0; c < classes; c++) {
    const t: unknown = v[c];
    if (typeof t !== 'number') throw new TypeError(`${name}: expected ${expected}, got ${describe(t)} at index ${c}`);
    if (!Number.isInteger(t) || t < 1 || t > max) throw new RangeError(`${name}: expected ${expected}, got ${describe(t)} at index ${c}`);
  }
  return v instanceof Uint32Array ? v : Uint32Array.from(v as number[]);
}

export function checkScoreOptions(opts: ScoreOptions | undefined, counterBits: number): { minCount: number; kernel: 'active' | 'scalar' } {
  const o = options('options', opts, ['minCount', 'kernel'] as const);
  const kernel = o.kernel === undefined ? 'active' : oneOf('options.kernel', o.kernel, ['active', 'scalar'] as const);
  let minCount = 0;
  if (o.minCount !== undefined) {
    minCount = int('options.minCount', o.minCount, 0, 255);
    if (counterBits === 0) throw new RangeError(`options.minCount: ${NO_COUNTERS}`);
  }
  return { minCount, kernel };
}

/** Checks scoreCounts' options: the kernel only (minCount is score()'s and would be ignored here). */
export function checkCountOptions(opts: { kernel?: 'active' | 'scalar' } | undefined): { kernel: 'active' | 'scalar' } {
  const o = options('options', opts, ['kernel'] as const);
  return { kernel: o.kernel === undefined ? 'active' : oneOf('options.kernel', o.kernel, ['active', 'scalar'] as const) };
}

/** Checks a class id and a neuron range [begin, end) for counterMoments; needs counters. */
export function checkMomentsArgs(
  classId: unknown,
  begin: unknown,
  end: unknown,
  neurons: number,
  classes: number,
  counterBits: number,
): { classId: number; begin: number; end: number } {
  if (counterBits === 0) throw new RangeError(`counterMoments: ${NO_COUNTERS}`);
  if (classes === 0) throw new RangeError('classId: expected an existing class id (the memory has no classes)');
  const c = int('classId', classId, 0, classes - 1);
  const b = begin === undefined ? 0 : int('begin', begin, 0, neurons);
  const e = end === undefined ? neurons : int('end', end, b, neurons);
  return { classId: c, begin: b, end: e };
}

/** Checks the class id of halveClass; needs counters. */
export function checkHalveArgs(classId: unknown, classes: number, counterBits: number): number {
  if (counterBits === 0) throw new RangeError(`halveClass: ${NO_COUNTERS}`);
  if (classes === 0) throw new RangeError('classId: expected an existing class id (the memory has no classes)');
  return int('classId', classId, 0, classes - 1);
}

export function checkDelta(delta: unknown): number {
  return int('delta', delta, -255, 255);
}
