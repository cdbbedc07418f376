// The one rule for class labels, enforced the same way by the API (Engram.learn / forget), the CLI (--label,
// folder names of --labels-from dir, checked before any model loads) and the serial link (LEARN / FORGET).
// A label is 1 to 255 bytes of valid UTF-8 (255: what the link's one-byte length can carry), with no control
// characters (a newline or tab would break predict's tab-separated lines) and no U+FFFD: that character is what
// bytes that are not UTF-8 become when a command line or a folder name is decoded, so a label holding it is
// refused rather than stored under a name nobody typed.
import { describe } from './validate.js';

/** Longest label, in UTF-8 bytes. */
export const LABEL_MAX_BYTES = 255;

/** The rule in words, for help texts and error messages. */
export const LABEL_RULE = `1 to ${LABEL_MAX_BYTES} bytes of valid UTF-8 without control characters`;

const hex = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `label` breaks the rule, as a predicate ("is empty", "has control character U+000A at index 3"), or null. */
export function labelProblem(label: string): string | null {
  if (label.length === 0) return 'is empty';
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = label.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `has a lone surrogate ${hex(c)} at index ${i} (not valid UTF-8)`;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return `has a lone surrogate ${hex(c)} at index ${i} (not valid UTF-8)`;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return `has control character ${hex(c)} at index ${i}`;
    if (c === 0xfffd) return `has U+FFFD at index ${i} (what bytes that are not valid UTF-8 become)`;
  }
  const bytes = Buffer.byteLength(label, 'utf8');
  if (bytes > LABEL_MAX_BYTES) return `is ${bytes} UTF-8 bytes long, more than ${LABEL_MAX_BYTES}`;
  return null;
}

/**
 * Returns `value` when it is a string that keeps the rule; throws a TypeError (not a string) or a RangeError
 * naming `name`, the rule and what is wrong otherwise.
 */
export function checkLabel(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${name}: expected a label of ${LABEL_RULE}, got ${describe(value)}`);
  const problem = labelProblem(value);
  if (problem) throw new RangeError(`${name}: expected a label of ${LABEL_RULE}, got ${describe(value)}, which ${problem}`);
  return value;
}
