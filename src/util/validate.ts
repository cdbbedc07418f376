// One validation helper and one error shape for every public boundary:
// the message names the parameter, what was expected and what arrived.
// Wrong type -> TypeError; right type but out of range -> RangeError.

/** Short, safe description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    return `number ${value}`;
  }
  if (typeof value === 'string') {
    const s = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `string ${JSON.stringify(s)}`;
  }
  if (typeof value === 'bigint') return `bigint ${value}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name} of length ${(value as unknown as { length?: number }).length ?? value.byteLength}`;
  }
  if (value instanceof ArrayBuffer) return `ArrayBuffer of ${value.byteLength} bytes`;
  const name = value.constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

export function typeError(name: string, expected: string, got: unknown): TypeError {
  return new TypeError(`${name}: expected ${expected}, got ${describe(got)}`);
}

export function rangeError(name: string, expected: string, got: unknown): RangeError {
  return new RangeError(`${name}: expected ${expected}, got ${describe(got)}`);
}

/** An integer in [min, max]. */
export function int(name: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw typeError(name, `an integer in [${min}, ${max}]`, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw rangeError(name, `an integer in [${min}, ${max}]`, value);
  }
  return value;
}

/** A finite number in [min, max]. */
export function num(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number') throw typeError(name, `a number in [${min}, ${max}]`, value);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw rangeError(name, `a finite number in [${min}, ${max}]`, value);
  }
  return value;
}

export function str(name: string, value: unknown, opts: { nonEmpty?: boolean; maxLength?: number } = {}): string {
  if (typeof value !== 'string') throw typeError(name, 'a string', value);
  if (opts.nonEmpty && value.length === 0) throw rangeError(name, 'a non-empty string', value);
  if (opts.maxLength !== undefined && value.length > opts.maxLength) {
    throw rangeError(name, `a string of at most ${opts.maxLength} characters`, value);
  }
  return value;
}

export function bool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw typeError(name, 'a boolean', value);
  return value;
}

export function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string') throw typeError(name, `one of ${choices.join(', ')}`, value);
  if (!(choices as readonly string[]).includes(value)) {
    throw rangeError(name, `one of ${choices.join(', ')}`, value);
  }
  return value as T;
}

type TypedArrayCtor<T> = { new (...args: never[]): T; name: string };

/** An instance of a specific TypedArray class, optionally with an exact length. */
export function typed<T extends ArrayBufferView>(name: string, value: unknown, ctor: TypedArrayCtor<T>, length?: number): T {
  if (!(value instanceof (ctor as unknown as abstract new (...args: never[]) => T))) throw typeError(name, `a ${ctor.name}`, value);
  const len = (value as unknown as { length: number }).length;
  if (length !== undefined && len !== length) {
    throw rangeError(name, `a ${ctor.name} of length ${length}`, value);
  }
  return value;
}

/** A plain options object whose keys are all known: a misspelled option is an error. */
export function options<K extends string>(name: string, value: unknown, known: readonly K[]): Partial<Record<K, unknown>> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw typeError(name, 'an options object', value);
  for (const key of Object.keys(value)) {
    if (!(known as readonly string[]).includes(key)) {
      throw new RangeError(`${name}: unknown option "${key}" (known: ${known.join(', ')})`);
    }
  }
  return value;
}
