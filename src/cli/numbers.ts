// The one parser of numbers given on the command line. Commander hands every option value over as a string;
// these turn it into a number or throw a UsageError that names the flag, the range and what arrived, so a
// typo never becomes NaN, 0 or a silently rounded value.
import { UsageError } from './errors.js';

export interface WholeRange {
  /** Smallest value accepted (default 0). */
  min?: number;
  /** Largest value accepted (default: none). */
  max?: number;
  /** What is counted, for the message: "a whole number of milliseconds from 1 to 60000". */
  unit?: string;
}

export interface DecimalRange {
  /** Smallest value accepted (inclusive unless `above` is used instead). */
  min?: number;
  /** Values must be strictly greater than this. */
  above?: number;
  /** Largest value accepted (inclusive). */
  max?: number;
}

function describe(lower: string | undefined, max: number | undefined, lowValue: number | undefined): string {
  if (max === undefined) return lower ?? '';
  if (lower === undefined) return `at most ${max}`;
  return lower.startsWith('>=') ? `from ${lowValue} to ${max}` : `${lower} and at most ${max}`;
}

/**
 * A whole number written in digits only (no sign, no exponent, no fraction), within [min, max].
 * @throws {UsageError} `--flag: expected a whole number >= 1, got "x"` (or "from 1 to 100").
 */
export function wholeNumber(flag: string, v: string, range: WholeRange = {}): number {
  const min = range.min ?? 0;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || (range.max !== undefined && n > range.max)) {
    const what = range.unit ? `a whole number of ${range.unit}` : 'a whole number';
    throw new UsageError(`${flag}: expected ${what} ${describe(`>= ${min}`, range.max, min)}, got "${v}"`);
  }
  return n;
}

/** wholeNumber for an option that may be absent: undefined stays undefined. */
export function optionalWhole(flag: string, v: string | undefined, range: WholeRange = {}): number | undefined {
  return v === undefined ? undefined : wholeNumber(flag, v, range);
}

/**
 * A finite decimal number ("0.25", ".5", "3", "1e-3"), within the range given.
 * @throws {UsageError} `--flag: expected a number from 0 to 1, got "x"`.
 */
export function decimalNumber(flag: string, v: string, range: DecimalRange = {}): number {
  const n = Number(v);
  const lower = range.above !== undefined ? `above ${range.above}` : range.min !== undefined ? `>= ${range.min}` : undefined;
  const bad =
    !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v.trim()) ||
    !Number.isFinite(n) ||
    (range.above !== undefined && !(n > range.above)) ||
    (range.min !== undefined && n < range.min) ||
    (range.max !== undefined && n > range.max);
  if (bad) {
    const bounds = describe(lower, range.max, range.min);
    throw new UsageError(`${flag}: expected a number${bounds ? ` ${bounds}` : ''}, got "${v}"`);
  }
  return n;
}

/**
 * Comma-separated finite numbers ("0.485,0.456,0.406").
 * @throws {UsageError} `--flag: expected comma-separated numbers, got "x"`.
 */
export function numberList(flag: string, v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n))) {
    throw new UsageError(`${flag}: expected comma-separated numbers, got ${JSON.stringify(v)}`);
  }
  return nums;
}
