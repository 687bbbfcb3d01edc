/**
 * A small schema language for the run-folder contract: each schema both validates a value read from
 * disk or a message and, through `Infer`, *is* the TypeScript type, so the type, the validation and
 * the JSON Schema published in schemas/ come from one description.
 *
 * Objects keep fields they do not know (a newer writer may add optional fields; readers ignore
 * them). Numbers must be finite: JSON has no NaN, and a writer that produced one wrote `null`.
 * Errors name the path of the first field at fault: `test.loss: expected a finite number, got null`.
 * Pure (no Node, no DOM, no eval): the trainer, the host, the webview and the CLI all use it.
 */

export class SchemaError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(path ? `${path}: ${problem}` : problem);
    this.name = 'SchemaError';
  }
}

export interface Schema<T> {
  /** Returns the value (typed) or throws SchemaError naming the path of the first field at fault. */
  parse(value: unknown, path?: string): T;
  /** JSON Schema (draft-07) for this schema. */
  jsonSchema(): Record<string, unknown>;
  readonly isOptional?: boolean;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a value looked like, for an error message (short; never the whole value). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.length > 40 ? `the text "${value.slice(0, 40)}…"` : `the text ${JSON.stringify(value)}`;
  return String(value);
}

function fail(path: string, expected: string, value: unknown): never {
  throw new SchemaError(path, `expected ${expected}, got ${describeValue(value)}`);
}

export function string(opts: { maxLength?: number; minLength?: number; pattern?: RegExp; description?: string } = {}): Schema<string> {
  return {
    parse(value, path = '') {
      if (typeof value !== 'string') fail(path, 'text', value);
      if (opts.minLength !== undefined && value.length < opts.minLength) fail(path, `text of at least ${opts.minLength} characters`, value);
      if (opts.maxLength !== undefined && value.length > opts.maxLength) fail(path, `text of at most ${opts.maxLength} characters`, value);
      if (opts.pattern && !opts.pattern.test(value)) fail(path, `text matching ${opts.pattern}`, value);
      return value;
    },
    jsonSchema: () => ({ type: 'string', ...(opts.minLength !== undefined && { minLength: opts.minLength }), ...(opts.maxLength !== undefined && { maxLength: opts.maxLength }), ...(opts.pattern && { pattern: opts.pattern.source }), ...(opts.description && { description: opts.description }) }),
  };
}

export function number(opts: { min?: number; max?: number; integer?: boolean; description?: string } = {}): Schema<number> {
  const what = `${opts.integer ? 'an integer' : 'a finite number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}${opts.max !== undefined ? ` ≤ ${opts.max}` : ''}`;
  return {
    parse(value, path = '') {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, what, value);
      if (opts.integer && !Number.isInteger(value)) fail(path, what, value);
      if (opts.min !== undefined && value < opts.min) fail(path, what, value);
      if (opts.max !== undefined && value > opts.max) fail(path, what, value);
      return value;
    },
    jsonSchema: () => ({ type: opts.integer ? 'integer' : 'number', ...(opts.min !== undefined && { minimum: opts.min }), ...(opts.max !== undefined && { maximum: opts.max }), ...(opts.description && { description: opts.description }) }),
  };
}

export function boolean(): Schema<boolean> {
  return {
    parse(value, path = '') {
      if (typeof value !== 'boolean') fail(path, 'true or false', value);
      return value;
    },
    jsonSchema: () => ({ type: 'boolean' }),
  };
}

export function literal<const T extends string | number>(expected: T): Schema<T> {
  return {
    parse(value, path = '') {
      if (value !== expected) fail(path, JSON.stringify(expected), value);
      return value as T;
    },
    jsonSchema: () => ({ const: expected }),
  };
}

export function oneOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  return {
    parse(value, path = '') {
      if (typeof value !== 'string' || !values.includes(value)) fail(path, `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, value);
      return value as T[number];
    },
    jsonSchema: () => ({ enum: [...values] }),
  };
}

export function array<T>(item: Schema<T>, opts: { maxLength?: number } = {}): Schema<T[]> {
  return {
    parse(value, path = '') {
      if (!Array.isArray(value)) fail(path, 'an array', value);
      if (opts.maxLength !== undefined && value.length > opts.maxLength) fail(path, `an array of at most ${opts.maxLength}`, value);
      for (let i = 0; i < value.length; i++) item.parse(value[i], `${path}[${i}]`);
      return value as T[];
    },
    jsonSchema: () => ({ type: 'array', items: item.jsonSchema(), ...(opts.maxLength !== undefined && { maxItems: opts.maxLength }) }),
  };
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return {
    parse: (value, path = '') => (value === null ? null : inner.parse(value, path)),
    jsonSchema: () => ({ anyOf: [inner.jsonSchema(), { type: 'null' }] }),
  };
}

/** A field that may be absent (`undefined` in memory, missing in JSON). */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> & { isOptional: true } {
  return {
    isOptional: true,
    parse: (value, path = '') => (value === undefined ? undefined : inner.parse(value, path)),
    jsonSchema: () => inner.jsonSchema(),
  };
}

/** A value checked by a function of the project's own (e.g. the config validator); `check` throws SchemaError or returns the value. */
export function custom<T>(check: (value: unknown, path: string) => T, jsonSchema: () => Record<string, unknown>): Schema<T> {
  return { parse: (value, path = '') => check(value, path), jsonSchema };
}

type Fields = Record<string, Schema<unknown>>;
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends { isOptional: true } ? K : never }[keyof F];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<F extends Fields> = Simplify<
  { [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Exclude<Infer<F[K]>, undefined> }
>;

export interface ObjectSchema<F extends Fields> extends Schema<ObjectOf<F>> {
  readonly fields: F;
}

export function object<F extends Fields>(fields: F, opts: { description?: string } = {}): ObjectSchema<F> {
  return {
    fields,
    parse(value, path = '') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
      const record = value as Record<string, unknown>;
      // Unknown keys are kept (a newer writer's optional fields); known ones take their parsed value.
      const out: Record<string, unknown> = { ...record };
      for (const [key, schema] of Object.entries(fields)) {
        const at = path ? `${path}.${key}` : key;
        if (!(key in record) && !schema.isOptional) throw new SchemaError(at, 'missing');
        const parsed = schema.parse(record[key], at);
        if (parsed !== undefined) out[key] = parsed;
      }
      return out as ObjectOf<F>;
    },
    jsonSchema: () => ({
      type: 'object',
      ...(opts.description && { description: opts.description }),
      properties: Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, s.jsonSchema()])),
      required: Object.entries(fields).filter(([, s]) => !s.isOptional).map(([k]) => k),
    }),
  };
}

/** One of several object schemas, chosen by the value of `key` (e.g. an event's `type`). */
export function tagged<K extends string, M extends Record<string, Schema<unknown>>>(key: K, members: M): Schema<Infer<M[keyof M]>> {
  return {
    parse(value, path = '') {
      if (typeof value !== 'object' || value === null) fail(path, 'an object', value);
      const tag = (value as Record<string, unknown>)[key];
      const member = typeof tag === 'string' && Object.hasOwn(members, tag) ? members[tag] : undefined;
      if (!member) fail(path ? `${path}.${key}` : key, `one of ${Object.keys(members).map((t) => JSON.stringify(t)).join(', ')}`, tag);
      return member.parse(value, path) as Infer<M[keyof M]>;
    },
    jsonSchema: () => ({ oneOf: Object.values(members).map((m) => m.jsonSchema()) }),
  };
}

/** Parses without throwing: the value, or the message naming the field at fault. */
export function check<T>(schema: Schema<T>, value: unknown): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: schema.parse(value, '') };
  } catch (e) {
    if (e instanceof SchemaError) return { ok: false, error: e.message };
    throw e;
  }
}
