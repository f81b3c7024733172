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

export interface FunctionSpec {
  readonly name: string;
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

const p = (name: string, type: ValueType, literal = false): FunctionParam => ({ name, type, literal });

const SPECS: readonly FunctionSpec[] = [
  {
    name: 'startsWith',
    minArgs: 2,
    maxArgs: 2,
    tilde: true,
    params: [p('source', 'string'), p('prefix', 'string')],
    returns: 'boolean',
    summary: 'true when source begins with prefix',
  },
  {
    name: 'endsWith',
    minArgs: 2,
    maxArgs: 2,
    tilde: true,
    params: [p('source', 'string'), p('suffix', 'string')],
    returns: 'boolean',
    summary: 'true when source ends with suffix',
  },
  {
    name: 'stringContains',
    minArgs: 2,
    maxArgs: 2,
    tilde: true,
    params: [p('source', 'string'), p('substring', 'string')],
    returns: 'boolean',
    summary: 'true when substring occurs in source',
  },
  {
    name: 'cidrMatch',
    minArgs: 2,
    maxArgs: Infinity,
    tilde: false,
    params: [p('ip', 'ip'), p('cidr', 'string', true)],
    returns: 'boolean',
    summary: 'true when ip lies in any of the CIDR ranges (IPv4 or IPv6 literals)',
  },
  {
    name: 'length',
    minArgs: 1,
    maxArgs: 1,
    tilde: false,
    params: [p('source', 'string')],
    returns: 'number',
    summary: 'number of characters in source (array fields: number of elements)',
  },
  {
    name: 'between',
    minArgs: 3,
    maxArgs: 4,
    tilde: true,
    params: [p('source', 'string'), p('left', 'string'), p('right', 'string'), p('greedy', 'boolean', true)],
    returns: 'string',
    summary: 'the text of source between left and right (greedy: up to the last right)',
  },
  {
    name: 'substring',
    minArgs: 2,
    maxArgs: 3,
    tilde: false,
    params: [p('source', 'string'), p('start', 'number'), p('end', 'number')],
    returns: 'string',
    summary: 'source from start (inclusive) to end (exclusive); negative positions count from the end',
  },
  {
    name: 'concat',
    minArgs: 1,
    maxArgs: Infinity,
    tilde: false,
    params: [p('value', 'any')],
    returns: 'string',
    summary: 'the values converted to strings and joined',
  },
  {
    name: 'indexOf',
    minArgs: 2,
    maxArgs: 3,
    tilde: true,
    params: [p('source', 'string'), p('substring', 'string'), p('start', 'number')],
    returns: 'number',
    summary: 'first position of substring in source at or after start (default 0); null when absent',
  },
  {
    name: 'wildcard',
    minArgs: 2,
    maxArgs: Infinity,
    tilde: true,
    params: [p('source', 'string'), p('pattern', 'string', true)],
    returns: 'boolean',
    summary: 'true when source matches any pattern (`*`, `?`), as the `like` operator (Python eql compatibility)',
  },
  {
    name: 'number',
    minArgs: 1,
    maxArgs: 2,
    tilde: false,
    params: [p('source', 'string'), p('base', 'number', true)],
    returns: 'number',
    summary: 'source parsed as a number in base (default 10; base 16 accepts a 0x prefix); null when unparsable',
  },
  {
    name: 'string',
    minArgs: 1,
    maxArgs: 1,
    tilde: false,
    params: [p('value', 'any')],
    returns: 'string',
    summary: 'value converted to a string',
  },
  ...(['add', 'subtract', 'multiply', 'divide', 'modulo'] as const).map(
    (name): FunctionSpec => ({
      name,
      minArgs: 2,
      maxArgs: 2,
      tilde: false,
      params: [p('left', 'number'), p('right', 'number')],
      returns: 'number',
      summary:
        name === 'divide'
          ? 'left / right; integer division when both are integers (Elasticsearch); null when right is 0'
          : name === 'modulo'
            ? 'left % right; null when right is 0'
            : `${name} left and right`,
    }),
  ),
];

/** Every function, keyed by its exact (case-sensitive) name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(SPECS.map((s) => [s.name, s]));

export function lookupFunction(name: string): FunctionSpec | undefined {
  return FUNCTIONS.get(name);
}

/** The declared type of the `index`-th argument (the last parameter repeats for variadic functions). */
export function paramAt(spec: FunctionSpec, index: number): FunctionParam | undefined {
  if (index >= spec.maxArgs) return undefined;
  return spec.params[Math.min(index, spec.params.length - 1)];
}
