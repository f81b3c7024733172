/**
 * The EQL functions Sequor accepts: the contract between `checkQuery` (which rejects anything else) and the
 * compiler in @sequor/engine (which must implement every entry). Semantics are Elasticsearch's EQL function
 * reference; `wildcard` is the Endgame/Python `eql` function, kept because older rules use it.
 *
 * Conventions the engine implements, as in Elasticsearch:
 * - Functions are case-sensitive; `name~(...)` (only where `tilde` is true) compares strings case-insensitively.
 * - A null or missing argument makes the result null (and a null predicate result is not a match), except
 *   where Elasticsearch's function reference says otherwise for that function; the differential tests against
 *   the reference implementation pin each case.
 * - Array-valued fields (`string[]`, `ip[]`): a boolean function is true when any element satisfies it.
 */

/** The value types the checker reasons about. `any` accepts everything; `ip` also accepts strings. */
export type ValueType = 'string' | 'number' | 'boolean' | 'ip' | 'any';

export interface FunctionParam {
  readonly name: string;
  readonly type: ValueType;
  /**
   * The argument must be a literal: the engine compiles it once (a CIDR range into a bit mask, a
   * wildcard into a matcher), never per event.
   */
  readonly literal: boolean;
}

/** A function's signature: what `checkQuery` checks a call against. */
export interface FunctionSignature {
  readonly minArgs: number;
  /** `Infinity` for variadic functions; the last entry of `params` then describes every extra argument. */
  readonly maxArgs: number;
  /** Whether `name~(...)` (case-insensitive) is allowed. */
  readonly tilde: boolean;
  readonly params: readonly FunctionParam[];
  readonly returns: ValueType;
  /** One line for `rules lint` and docs. */
  readonly summary: string;
}

export interface FunctionSpec extends FunctionSignature {
  readonly name: FunctionName;
}

const p = (name: string, type: ValueType, literal = false): FunctionParam => ({ name, type, literal });

function arithmetic(summary: string): FunctionSignature {
  return {
    minArgs: 2,
    maxArgs: 2,
    tilde: false,
    params: [p('left', 'number'), p('right', 'number')],
    returns: 'number',
    summary,
  };
}

/** Keyed by name, so each name has exactly one signature. */
const SPECS = {
  startsWith: {
    minArgs: 2,
    maxArgs: 2,
    tilde: true,
    params: [p('source', 'string'), p('prefix', 'string')],
    returns: 'boolean',
    summary: 'true when source begins with prefix',
  },
  endsWith: {
    minArgs: 2,
    maxArgs: 2,
    tilde: true,
    params: [p('source', 'string'), p('suffix', 'string')],
    returns: 'boolean',
    summary: 'true when source ends with suffix',
  },
  stringContains: {
    minArgs: 2,
    maxArgs: 2,
    tilde: true,
    params: [p('source', 'string'), p('substring', 'string')],
    returns: 'boolean',
    summary: 'true when substring occurs in source',
  },
  cidrMatch: {
    minArgs: 2,
    maxArgs: Infinity,
    tilde: false,
    params: [p('ip', 'ip'), p('cidr', 'string', true)],
    returns: 'boolean',
    summary: 'true when ip lies in any of the CIDR ranges (IPv4 or IPv6 literals)',
  },
  length: {
    minArgs: 1,
    maxArgs: 1,
    tilde: false,
    params: [p('source', 'string')],
    returns: 'number',
    summary: 'number of characters in source (array fields: number of elements)',
  },
  between: {
    minArgs: 3,
    maxArgs: 4,
    tilde: true,
    params: [p('source', 'string'), p('left', 'string'), p('right', 'string'), p('greedy', 'boolean', true)],
    returns: 'string',
    summary: 'the text of source between left and right (greedy: up to the last right)',
  },
  substring: {
    minArgs: 2,
    maxArgs: 3,
    tilde: false,
    params: [p('source', 'string'), p('start', 'number'), p('end', 'number')],
    returns: 'string',
    summary: 'source from start (inclusive) to end (exclusive); negative positions count from the end',
  },
  concat: {
    minArgs: 1,
    maxArgs: Infinity,
    tilde: false,
    params: [p('value', 'any')],
    returns: 'string',
    summary: 'the values converted to strings and joined',
  },
  indexOf: {
    minArgs: 2,
    maxArgs: 3,
    tilde: true,
    params: [p('source', 'string'), p('substring', 'string'), p('start', 'number')],
    returns: 'number',
    summary: 'first position of substring in source at or after start (default 0); null when absent',
  },
  wildcard: {
    minArgs: 2,
    maxArgs: Infinity,
    tilde: true,
    params: [p('source', 'string'), p('pattern', 'string', true)],
    returns: 'boolean',
    summary:
      'true when source matches any pattern (`*`, `?`), as the `like` operator (Python eql compatibility)',
  },
  number: {
    minArgs: 1,
    maxArgs: 2,
    tilde: false,
    params: [p('source', 'string'), p('base', 'number', true)],
    returns: 'number',
    summary:
      'source parsed as a number in base (default 10; base 16 accepts a 0x prefix); null when unparsable',
  },
  string: {
    minArgs: 1,
    maxArgs: 1,
    tilde: false,
    params: [p('value', 'any')],
    returns: 'string',
    summary: 'value converted to a string',
  },
  add: arithmetic('add left and right'),
  subtract: arithmetic('subtract left and right'),
  multiply: arithmetic('multiply left and right'),
  divide: arithmetic(
    'left / right; integer division when both are integers (Elasticsearch); null when right is 0',
  ),
  modulo: arithmetic('left % right; null when right is 0'),
} satisfies Record<string, FunctionSignature>;

/**
 * Every function name. The engine keys its implementations by this type, so a function cannot be added
 * to or dropped from one side alone: the engine's table then fails to compile.
 */
export type FunctionName = keyof typeof SPECS;

/** Every function, keyed by its exact (case-sensitive) name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(
  (Object.keys(SPECS) as FunctionName[]).map((name): [string, FunctionSpec] => [
    name,
    { name, ...SPECS[name] },
  ]),
);

export function lookupFunction(name: string): FunctionSpec | undefined {
  return FUNCTIONS.get(name);
}

/** The declared type of the `index`-th argument (the last parameter repeats for variadic functions). */
export function paramAt(spec: FunctionSpec, index: number): FunctionParam | undefined {
  if (index >= spec.maxArgs) return undefined;
  return spec.params[Math.min(index, spec.params.length - 1)];
}
