// The one parser of numbers given on the command line (src/cli/numbers.ts): what it takes, what it refuses,
// and that every refusal names the flag, the range and what arrived, as a UsageError (exit 1). Then the same
// through the real CLI for flags that used to have parsers of their own.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decimalNumber, numberList, optionalWhole, wholeNumber } from '../src/cli/numbers.js';
import { UsageError } from '../src/cli/errors.js';
import { ROOT, engram } from './helpers/learner-files.js';

const Whole = suite('wholeNumber');

Whole('takes digits within the range', () => {
  const cases: [string, Parameters<typeof wholeNumber>[2], number][] = [
    ['0', {}, 0],
    ['7', { min: 1 }, 7],
    ['60000', { min: 1, max: 60_000 }, 60_000],
    ['007', {}, 7],
  ];
  for (const [v, range, want] of cases) assert.is(wholeNumber('--n', v, range), want, v);
  assert.is(optionalWhole('--n', undefined), undefined);
  assert.is(optionalWhole('--n', '3', { min: 1 }), 3);
});

Whole('refuses anything else, naming the flag, the range and the value', () => {
  const cases: [string, Parameters<typeof wholeNumber>[2], RegExp][] = [
    ['', {}, /^--n: expected a whole number >= 0, got ""$/],
    ['-5', {}, /^--n: expected a whole number >= 0, got "-5"$/],
    ['1.5', {}, /got "1\.5"$/],
    ['1e3', {}, /got "1e3"$/],
    [' 4', {}, /got " 4"$/],
    ['0x10', {}, /got "0x10"$/],
    ['0', { min: 1 }, /^--n: expected a whole number >= 1, got "0"$/],
    ['801', { min: 1, max: 800 }, /^--n: expected a whole number from 1 to 800, got "801"$/],
    ['soon', { min: 1, max: 60_000, unit: 'milliseconds' }, /^--n: expected a whole number of milliseconds from 1 to 60000, got "soon"$/],
    ['99999999999999999999', {}, /got "99999999999999999999"$/],
  ];
  for (const [v, range, message] of cases) {
    assert.throws(() => wholeNumber('--n', v, range), message, JSON.stringify(v));
    assert.throws(
      () => wholeNumber('--n', v, range),
      (e: Error) => e instanceof UsageError,
    );
  }
});

const Decimal = suite('decimalNumber and numberList');

Decimal('takes decimal numbers within the range', () => {
  const cases: [string, Parameters<typeof decimalNumber>[2], number][] = [
    ['0.25', { min: 0, max: 1 }, 0.25],
    ['.5', { min: 0 }, 0.5],
    ['1', { above: 0, max: 1 }, 1],
    ['1e-3', { above: 0 }, 0.001],
    ['-2.5', {}, -2.5],
  ];
  for (const [v, range, want] of cases) assert.is(decimalNumber('--d', v, range), want, v);
  assert.equal(numberList('--mean', '0.485, 0.456,0.406'), [0.485, 0.456, 0.406]);
});

Decimal('refuses anything else, naming the flag, the range and the value', () => {
  const cases: [string, Parameters<typeof decimalNumber>[2], RegExp][] = [
    ['most', { min: 0 }, /^--d: expected a number >= 0, got "most"$/],
    ['', { min: 0 }, /got ""$/],
    ['1.5', { min: 0, max: 1 }, /^--d: expected a number from 0 to 1, got "1\.5"$/],
    ['0', { above: 0, max: 1000 }, /^--d: expected a number above 0 and at most 1000, got "0"$/],
    ['Infinity', {}, /^--d: expected a number, got "Infinity"$/],
    ['NaN', {}, /got "NaN"$/],
    ['1,5', {}, /got "1,5"$/],
  ];
  for (const [v, range, message] of cases) assert.throws(() => decimalNumber('--d', v, range), message, JSON.stringify(v));
  assert.throws(() => numberList('--mean', '0.5,x,0.5'), /^--mean: expected comma-separated numbers, got "0\.5,x,0\.5"$/);
  assert.throws(() => numberList('--mean', '0.5,,0.5'), /got "0\.5,,0\.5"$/);
});

const Cli = suite('numbers through the CLI');
const work = mkdtempSync(join(tmpdir(), 'engram-numbers-'));
Cli.after(() => rmSync(work, { recursive: true, force: true }));

Cli('flags that had parsers of their own refuse bad values with exit 1, before any store is made', () => {
  const store = join(work, 'never-made');
  const image = join(ROOT, 'test', 'fixtures', 'images', 'coffee.png');
  const cases: [string[], RegExp][] = [
    [['learn', '--store', store, '--label', 'a', '--batch', 'x', image], /--batch: expected a whole number >= 1, got "x"/],
    [['predict', '--store', store, '--top', '0', image], /--top: expected a whole number >= 1, got "0"/],
    [['learn', '--store', store, '--label', 'a', '--parts', '2.5', image], /--parts: expected a whole number >= 1, got "2\.5"/],
    [['prune', '--store', store, '--share', 'half'], /--share: expected a number >= 0, got "half"/],
    [['threshold', '--store', store, '--set', '2'], /--set: expected a number from 0 to 1, got "2"/],
    [['codebook', 'fit', '-o', join(work, 'x.egw'), '--shrink', '0', image], /--shrink: expected a number above 0, got "0"/],
    [['serve', '--store', store, '--http', '0', '--rate', '0'], /--rate: expected a whole number >= 1, got "0"/],
    [['client', '--serial', '/dev/null', '--timeout', '-1', 'hello'], /--timeout: expected a whole number >= 1, got "-1"/],
    [['demo', '--shots', '9999'], /--shots: expected a whole number from 1 to 5000, got "9999"/],
  ];
  for (const [args, message] of cases) {
    const r = engram(args);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.not.ok(existsSync(store), 'no store was made');
});

Whole.run();
Decimal.run();
Cli.run();
