/**
 * Fuzz/property tests of the EQL front end (issue 17): token soup from the grammar's vocabulary, mutations
 * of the built-in rules' queries and of a grammar-covering corpus, deep nesting and long inputs. `parse`
 * returns a query or throws EqlSyntaxError whose line, column and offset point inside the input (and
 * agree with each other); a query that parses prints to text that parses to the same query, and printing
 * is a fixed point; the checker returns its findings and never throws; all within the hang bound.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Query } from '@sequor/eql';
import {
  checkQuery,
  EqlSemanticError,
  EqlSyntaxError,
  KEYWORDS,
  MAX_NESTING,
  parse,
  print,
} from '@sequor/eql';
import { eventFieldCatalog } from '@sequor/model';
import { loadBuiltinRules } from '@sequor/rules';
import { fuzzParams, fuzzTimeout, heapBound, heapGrowth, ODD_TEXT, preview, withinBound } from './support.js';

// ---- seeds ----

// The built-ins are EQL rules; a Sigma rule has no query text.
const builtinQueries = (await loadBuiltinRules()).flatMap((r) => ('query' in r ? [r.query] : []));

/** Queries covering the grammar: every query kind, header and item option, operator, literal and quoting. */
const CORPUS: readonly string[] = [
  'any where true',
  'process where process.name == "cmd.exe" and not user.name in ("SYSTEM", "LOCAL SERVICE")',
  '"my-category" where `@timestamp` > 0 | head 5 | tail 1',
  'process where not (a or b) and (c and d) and not not e',
  'process where a in~ ("x", -1, 2.5, null, other.f) and b not in (1) and c not in~ ("q")',
  'process where f like~ ("a*", "b?") or f regex "a.*" or f regex~ ("x", "y") or f like "z" or f : "w*"',
  'process where startsWith~(process.name, "cmd") and length(f) >= 3 and concat() == "" and cidrMatch(source.ip, "10.0.0.0/8")',
  'process where process.`name with space` == "x" and ?user.id != null and `a``b`.sequence == 1',
  'process where a == """raw \\ "quoted" text""" and b == "\\u{1F600}\\t\\\\"',
  'process where (not a) == b and (a == b) == c and a <= -0.5 and b >= 1e3 and c < 2 and d > 3',
  `sequence by host.id with maxspan=5m
    [process where a == 1] by p with runs=3
    ![file where true] by q
  until [process where b == 2] by p
  | tail 10`,
  'sample by host.id [a where true] [b where true] [c where true]',
  'join by x with maxspan=1h [a where true] by y [b where true] by z until [c where true]',
  '/* a /* nested */ comment */ process where // line comment\n a == 1',
  'process where a == 1\r\nand b == 2\rand c == 3',
];

// ---- vocabulary ----

const VOCABULARY: readonly string[] = [
  ...KEYWORDS,
  'sequence',
  'where',
  'runs',
  'head',
  'tail',
  'process',
  'file',
  'registry',
  'network',
  'host.id',
  'process.name',
  'user.id',
  'a',
  '`@timestamp`',
  '`a``b`',
  '``',
  '`',
  '@timestamp',
  'like~',
  'in~',
  'regex~',
  'startsWith~',
  'wildcard',
  'cidrMatch',
  'length',
  'concat',
  'between',
  'add',
  'f~',
  '~',
  '==',
  '!=',
  '<=',
  '>=',
  '![',
  '<',
  '>',
  '=',
  ':',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  '|',
  '?',
  '-',
  '+',
  '*',
  '/',
  '%',
  '!',
  '&',
  "'",
  '"x"',
  '"a*b?"',
  '""',
  '"\\u{41}"',
  '"\\u{110000}"',
  '"\\u{}"',
  '"\\q"',
  '"\\',
  '"unterminated',
  '"""raw\n"""',
  '"""',
  '5m',
  '30s',
  '1ms',
  '0d',
  '5 m',
  '1',
  '0',
  '-0',
  '1.5',
  '1e999',
  '1e',
  '2147483648',
  '99999999999999999999',
  '9007199254740993',
  '//c\n',
  '/* c */',
  '/*',
  '*/',
  ...ODD_TEXT,
];
const SEPARATORS: readonly string[] = [' ', ' ', ' ', '', '\n', '\r\n', '\r', '\t'];

// ---- checks ----

/** Line and column of `offset` as the lexer counts them: `\r\n`, `\n` and a lone `\r` end a line. */
function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    const c = source[i];
    if (c === '\n' || (c === '\r' && source[i + 1] !== '\n')) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function expectPositionInside(source: string, e: EqlSyntaxError | EqlSemanticError): void {
  expect(e.offset, `offset of ${JSON.stringify(e.message)}`).toBeGreaterThanOrEqual(0);
  expect(e.offset).toBeLessThanOrEqual(source.length);
  expect(e.length).toBeGreaterThanOrEqual(1);
  expect({ line: e.line, column: e.column }, `position of ${JSON.stringify(e.message)}`).toEqual(
    lineColumn(source, e.offset),
  );
  expect(e.source).toBe(source);
  expect(typeof e.format('q.eql')).toBe('string');
}

/** Deep copy without spans and source, to compare queries by structure. */
function structure(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(structure);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'span' && k !== 'source') out[k] = structure(v);
    return out;
  }
  return value;
}

type Outcome = 'parsed' | 'syntax-error';

/** The whole front-end property for one input. */
function checkSource(source: string): Outcome {
  let query: Query;
  try {
    query = withinBound('parse', () => parse(source));
  } catch (e) {
    if (!(e instanceof EqlSyntaxError)) {
      throw new Error(
        `parse threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (not an EqlSyntaxError) on ${preview(source)}`,
        { cause: e },
      );
    }
    expectPositionInside(source, e);
    return 'syntax-error';
  }
  const printed = withinBound('print', () => print(query));
  let reparsed: Query;
  try {
    reparsed = parse(printed);
  } catch (e) {
    throw new Error(
      `print(parse(s)) does not parse: ${String(e)}\ns = ${preview(source)}\nprinted = ${preview(printed)}`,
      { cause: e },
    );
  }
  expect(structure(reparsed), `print/parse round trip of ${preview(source)}`).toEqual(structure(query));
  expect(print(reparsed)).toBe(printed);
  let findings: readonly EqlSemanticError[];
  try {
    findings = withinBound('checkQuery', () => checkQuery(query, eventFieldCatalog));
  } catch (e) {
    throw new Error(
      `checkQuery threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} on ${preview(source)}`,
      { cause: e },
    );
  }
  for (const f of findings) {
    expect(f).toBeInstanceOf(EqlSemanticError);
    expectPositionInside(source, f);
  }
  return 'parsed';
}

// ---- generators ----

const tokenSoup = fc
  .array(fc.tuple(fc.constantFrom(...VOCABULARY), fc.constantFrom(...SEPARATORS)), { maxLength: 60 })
  .map((parts) => parts.map(([t, s]) => t + s).join(''));

type Mutation =
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete' | 'duplicate'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...VOCABULARY), fc.string({ unit: 'binary', maxLength: 3 })),
  }),
  fc.record({
    kind: fc.constantFrom('delete' as const, 'duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 30 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(source: string, mutations: readonly Mutation[]): string {
  let s = source;
  for (const m of mutations) {
    const at = m.at % (s.length + 1);
    if (m.kind === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
    else if (m.kind === 'truncate') s = s.slice(0, at);
    else if (m.kind === 'delete') s = s.slice(0, at) + s.slice(at + m.length);
    else s = s.slice(0, at) + s.slice(at, at + m.length) + s.slice(at);
  }
  return s;
}

/** Deep or long shapes: each must give a query or an EqlSyntaxError, never a stack overflow. */
const hostileShape: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 20_000 }).map((n) => `process where ${'('.repeat(n)}a == 1${')'.repeat(n)}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `process where ${'('.repeat(n)}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `process where ${'not '.repeat(n)}a`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `process where ${'length('.repeat(n)}a${')'.repeat(n)} > 0`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `process where a in (${'('.repeat(n)}1${')'.repeat(n)})`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `process where ${'?'.repeat(n)}a`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `process where ${'a.'.repeat(n)}b == 1`),
  fc
    .integer({ min: 1, max: 5_000 })
    .map((n) => `process where ${Array.from({ length: n }, (_, i) => `process.pid == ${i}`).join(i2op(n))}`),
  // Unknown fields cost a spelling suggestion each (about 0.1 ms): linear, but kept fewer to stay in the bound.
  fc
    .integer({ min: 1, max: 500 })
    .map((n) => `process where ${Array.from({ length: n }, (_, i) => `f${i % 7} == ${i}`).join(i2op(n))}`),
  fc
    .integer({ min: 1, max: 5_000 })
    .map((n) => `process where a in (${Array.from({ length: n }, (_, i) => String(i)).join(', ')})`),
  fc
    .integer({ min: 1, max: 5_000 })
    .map((n) => `process where a : (${Array.from({ length: n }, (_, i) => `"*${i}*"`).join(', ')})`),
  fc
    .integer({ min: 1, max: 2_000 })
    .map((n) => `sequence with maxspan=1m ${'[process where true] '.repeat(n)}`),
  fc.integer({ min: 1, max: 5_000 }).map((n) => `process where a == 1 ${'| head 1 '.repeat(n)}`),
  fc.integer({ min: 1, max: 200_000 }).map((n) => `process where a == "${'x'.repeat(n)}"`),
  fc.integer({ min: 1, max: 200_000 }).map((n) => `process where a == "${'\\\\'.repeat(n / 2)}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'/*'.repeat(n)} process where true ${'*/'.repeat(n)}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'/*'.repeat(n)} process where true`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'\n'.repeat(n)}process where${'\r'.repeat(n)} (`),
  fc.integer({ min: 1, max: 50_000 }).map((n) => `process where ${'`'.repeat(n)}`),
  fc.integer({ min: 1, max: 50_000 }).map((n) => `process where a == ${'9'.repeat(n)}`),
  fc.integer({ min: 1, max: 50_000 }).map((n) => `sequence with maxspan=${'9'.repeat(n)}m [a where true]`),
);

function i2op(n: number): string {
  return n % 2 === 0 ? ' and ' : ' or ';
}

// ---- properties ----

describe('EQL parser, printer and checker under fuzzing', () => {
  it('seeds: the built-in rules and the corpus parse, print and check', () => {
    expect(builtinQueries.length).toBeGreaterThanOrEqual(4);
    for (const q of [...builtinQueries, ...CORPUS]) expect(checkSource(q), q).toBe('parsed');
  });

  it('the nesting limit: MAX_NESTING levels parse and round-trip, one more is a syntax error at that level', () => {
    const at = (n: number): string => `process where ${'('.repeat(n)}a == 1${')'.repeat(n)}`;
    expect(checkSource(at(MAX_NESTING))).toBe('parsed');
    expect(checkSource(at(MAX_NESTING + 1))).toBe('syntax-error');
  });

  const soupRuns = 1500;
  it(
    'token soup from the grammar vocabulary',
    () => {
      const outcomes = { parsed: 0, 'syntax-error': 0 };
      fc.assert(
        fc.property(tokenSoup, (s) => {
          outcomes[checkSource(s)]++;
        }),
        fuzzParams(soupRuns),
      );
      expect(outcomes['syntax-error']).toBeGreaterThan(0);
    },
    fuzzTimeout(soupRuns),
  );

  it(
    'random text',
    () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
          checkSource(s);
        }),
        fuzzParams(500),
      );
    },
    fuzzTimeout(500),
  );

  const mutationRuns = 2000;
  it(
    'mutations of the built-in rules\u2019 queries and the corpus',
    () => {
      const outcomes = { parsed: 0, 'syntax-error': 0 };
      fc.assert(
        fc.property(
          fc.constantFrom(...builtinQueries, ...CORPUS),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          (q, ms) => {
            outcomes[checkSource(mutate(q, ms))]++;
          },
        ),
        fuzzParams(mutationRuns),
      );
      // Both outcomes occur: the mutations are neither all harmless nor all fatal.
      expect(outcomes.parsed).toBeGreaterThan(0);
      expect(outcomes['syntax-error']).toBeGreaterThan(0);
    },
    fuzzTimeout(mutationRuns),
  );

  const shapeRuns = 150;
  it(
    'deep nesting, long chains, long lists, long strings and numbers: a query or an EqlSyntaxError, never a stack overflow',
    () => {
      fc.assert(
        fc.property(hostileShape, (s) => {
          checkSource(s);
        }),
        fuzzParams(shapeRuns),
      );
    },
    fuzzTimeout(shapeRuns),
  );

  it('no unbounded memory: parsing, printing and checking the same inputs again keeps the heap flat', () => {
    const inputs = fc.sample(
      fc.oneof(
        tokenSoup,
        fc
          .tuple(fc.constantFrom(...builtinQueries, ...CORPUS), fc.array(mutation, { maxLength: 3 }))
          .map(([q, ms]) => mutate(q, ms)),
      ),
      { numRuns: 400, seed: 17 },
    );
    const work = (): void => {
      for (const s of inputs) {
        try {
          const q = parse(s);
          print(q);
          checkQuery(q, eventFieldCatalog);
        } catch (e) {
          if (!(e instanceof EqlSyntaxError)) throw e;
        }
      }
    };
    const growth = heapGrowth(work, 10);
    expect(growth, `heap grew by ${(growth / 1048576).toFixed(1)} MiB`).toBeLessThan(heapBound);
  }, 60_000);
});
