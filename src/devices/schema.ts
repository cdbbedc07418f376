// Checks a JSON value against devices/schema.json. It interprets the part of JSON Schema that file
// uses (type, enum, required, properties, additionalProperties, items, minItems, minLength, pattern,
// minimum, maximum) and reports every problem as "path: expected ..., got ...".
import { describe } from '../util/validate.js';

export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean;
  items?: JsonSchema;
  minItems?: number;
  minLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  description?: string;
}

const SUPPORTED = new Set([
  '$schema',
  '$id',
  'title',
  'description',
  'type',
  'enum',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'minItems',
  'minLength',
  'pattern',
  'minimum',
  'maximum',
]);

/** Refuses a schema that uses keywords this checker would silently ignore. */
export function assertSupportedSchema(schema: unknown, path = '#'): asserts schema is JsonSchema {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    throw new TypeError(`schema ${path}: expected an object, got ${describe(schema)}`);
  for (const [key, value] of Object.entries(schema)) {
    if (!SUPPORTED.has(key)) throw new RangeError(`schema ${path}: keyword "${key}" is not supported by the profile checker`);
    if (key === 'properties') for (const [k, v] of Object.entries(value as object)) assertSupportedSchema(v, `${path}/properties/${k}`);
    if (key === 'items') assertSupportedSchema(value, `${path}/items`);
  }
}

/** Every way `value` departs from `schema`; empty when it conforms. */
export function checkSchema(schema: JsonSchema, value: unknown, path = ''): string[] {
  const at = path || '(root)';
  const problems: string[] = [];
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    return [`${at}: expected one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${describe(value)}`];
  }
  switch (schema.type) {
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected an object, got ${describe(value)}`];
      const o = value as Record<string, unknown>;
      for (const key of schema.required ?? []) if (!(key in o)) problems.push(`${at}: missing required field "${key}"`);
      for (const [key, v] of Object.entries(o)) {
        const sub = schema.properties?.[key];
        if (sub) problems.push(...checkSchema(sub, v, path ? `${path}.${key}` : key));
        else if (schema.additionalProperties === false) {
          const known = Object.keys(schema.properties ?? {}).filter((k) => k !== '$schema');
          problems.push(`${at}: unknown field "${key}" (known: ${known.join(', ')})`);
        }
      }
      return problems;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: expected an array, got ${describe(value)}`];
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        problems.push(`${at}: expected at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}, got ${describe(value)}`);
      }
      if (schema.items) value.forEach((v, i) => problems.push(...checkSchema(schema.items!, v, `${path}[${i}]`)));
      return problems;
    }
    case 'string': {
      if (typeof value !== 'string') return [`${at}: expected a string, got ${describe(value)}`];
      if (schema.minLength !== undefined && value.length < schema.minLength)
        problems.push(`${at}: expected a non-empty string, got ${describe(value)}`);
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
        problems.push(`${at}: expected a string matching ${schema.pattern}, got ${describe(value)}`);
      }
      return problems;
    }
    case 'integer':
    case 'number': {
      const lo = schema.minimum ?? -Infinity;
      const hi = schema.maximum ?? Infinity;
      const what = `${schema.type === 'integer' ? 'an integer' : 'a number'} in [${lo}, ${hi}]`;
      if (typeof value !== 'number') return [`${at}: expected ${what}, got ${describe(value)}`];
      if ((schema.type === 'integer' && !Number.isInteger(value)) || !Number.isFinite(value) || value < lo || value > hi) {
        return [`${at}: expected ${what}, got ${describe(value)}`];
      }
      return problems;
    }
    case 'boolean':
      return typeof value === 'boolean' ? problems : [`${at}: expected a boolean, got ${describe(value)}`];
    default:
      return problems;
  }
}
