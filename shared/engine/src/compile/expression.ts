import type {
  CallExpr,
  CompareExpr,
  CompareOp,
  Expr,
  FieldExpr,
  InExpr,
  Literal,
  MatchExpr,
} from '@sequor/eql';
import type { FieldCatalog, FieldInfo } from '@sequor/model';
import type { Predicate } from '../types.js';
import type { Accessor } from './accessor.js';
import { CompileContext } from './context.js';
import { InvalidPatternError, TypeMismatchError, UnknownFunctionError } from './errors.js';
import { cidrMatcher, FUNCTIONS, literalCidrs, type FunctionDef, type ValueFn } from './functions.js';
import { newIpWords, parseIpInto, sameIp, type IpWords } from './ip.js';
import { compileLuceneRegex, LuceneRegexError, type LuceneMatcher } from './lucene-regex.js';
import { compileWildcardList, type StringMatcher } from './wildcard.js';

/**
 * EQL conditions compiled with Elasticsearch's semantics, which come from how ES runs them:
 *
 * - A condition on a field against literals (`==`, `!=`, `<`…, `:`, `like`, `regex`, `in`, and the
 *   functions ES pushes down: `startsWith`, case-sensitive `stringContains`, `cidrMatch`) is an index
 *   query, so it is two-valued: true when *any* value of the field satisfies it (multi-valued ECS fields
 *   such as `event.category`), false when the field is missing or null. `!=`, `not in` and `not` are
 *   the complement (ES's `must_not`): a missing field satisfies `f != "x"` and `not f == "x"`.
 * - Anything else (other functions, comparisons of a function's value, field-to-field comparisons) is a
 *   script: it evaluates to true, false or null; null (a null input) does not match, and `not` directly
 *   on a script keeps it null, so `not endsWith(f, "x")` does not match an event without `f`. Inside
 *   `and`/`or` a null script counts as false, as the script query simply does not match.
 * - `f == null` / `f != null` test missing (null, absent, or an empty array) and present.
 *
 * Strings compare case-sensitively except with `:`, `like~`, `regex~`, `in~` and `fn~`. A literal compared
 * with a field takes the field's catalog type at compile time (ES parses a term against the mapping):
 * `file.size >= "30000"` is numeric, `winlog.event_id == 4624` compares the string "4624"; a literal that
 * cannot take the type (`file.size == "big"`) is a compile error. Values of the other type found at run
 * time are converted the same way (a numeric string in a numeric field compares as a number).
 * `ip` fields compare as addresses (`::1` equals `0:0:0:0:0:0:0:1`; IPv4 equals its IPv4-mapped form).
 */
export type Tri = boolean | null;

/** `query`: two-valued (an ES index query). `script`: three-valued (an ES script). */
export type Condition<E> =
  | { readonly kind: 'query'; readonly test: Predicate<E> }
  | { readonly kind: 'script'; readonly evaluate: (event: E) => Tri };

const query = <E>(test: Predicate<E>): Condition<E> => ({ kind: 'query', test });
const script = <E>(evaluate: (event: E) => Tri): Condition<E> => ({ kind: 'script', evaluate });
const never = (): boolean => false;
const alwaysNull = (): null => null;

/** Collapse a condition to a predicate: null does not match. */
export function toPredicate<E>(condition: Condition<E>): Predicate<E> {
  if (condition.kind === 'query') return condition.test;
  const evaluate = condition.evaluate;
  return (event) => evaluate(event) === true;
}

/** Compile one condition against `catalog`; throws `QueryCompileError` listing every problem. */
export function compilePredicate<E>(expr: Expr, catalog: FieldCatalog, source = ''): Predicate<E> {
  const ctx = new CompileContext(catalog, source);
  const predicate = toPredicate(compileCondition<E>(expr, ctx));
  ctx.throwIfFailed();
  return predicate;
}

// ---------------------------------------------------------------------------------------------------
// Types of fields and literals

/** How a field's values compare; `absent` is an `?optional` field the model lacks (always null). */
type ValueKind = 'string' | 'number' | 'timestamp' | 'boolean' | 'ip' | 'absent';

function kindOf(info: FieldInfo | null): ValueKind {
  if (info === null) return 'absent';
  switch (info.type) {
    case 'string':
    case 'string[]':
      return 'string';
    case 'int':
    case 'long':
    case 'double':
      return 'number';
    case 'timestamp':
      return 'timestamp';
    case 'boolean':
      return 'boolean';
    case 'ip':
    case 'ip[]':
      return 'ip';
    default: {
      const unknownType: never = info.type;
      throw new Error(`unhandled field type ${String(unknownType)}`);
    }
  }
}

const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function toNumber(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'string' && NUMERIC.test(x)) return Number(x);
  return NaN;
}

function toTime(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'string') return NUMERIC.test(x) ? Number(x) : Date.parse(x);
  return NaN;
}

function toText(x: unknown): string | null {
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  return null;
}

type Coerced =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'ip'; value: IpWords; text: string };

/** A literal in the type of the field it meets; undefined (error recorded) when it cannot be. */
function coerceLiteral(
  value: Exclude<Literal, null>,
  field: string,
  kind: ValueKind,
  span: Expr['span'],
  ctx: CompileContext,
): Coerced | undefined {
  const mismatch = (what: string): undefined =>
    ctx.error(
      TypeMismatchError,
      `${field} is ${what}; cannot compare it with ${JSON.stringify(value)}`,
      span,
    );
  switch (kind) {
    case 'string':
      if (typeof value === 'boolean') return mismatch('a string');
      return { kind: 'string', value: String(value) };
    case 'number': {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && NUMERIC.test(value)
            ? Number(value)
            : NaN;
      return Number.isNaN(n) ? mismatch('a number') : { kind: 'number', value: n };
    }
    case 'timestamp': {
      const t = typeof value === 'boolean' ? NaN : toTime(value);
      return Number.isNaN(t) ? mismatch('a timestamp (epoch ms or ISO 8601)') : { kind: 'number', value: t };
    }
    case 'boolean':
      return typeof value === 'boolean' ? { kind: 'boolean', value } : mismatch('a boolean');
    case 'ip': {
      const words = newIpWords();
      if (typeof value !== 'string' || !parseIpInto(value, words)) return mismatch('an IP address');
      return { kind: 'ip', value: words, text: value };
    }
    case 'absent':
      if (typeof value === 'string') return { kind: 'string', value };
      if (typeof value === 'number') return { kind: 'number', value };
      return { kind: 'boolean', value };
  }
}

// ---------------------------------------------------------------------------------------------------
// Field predicates (ES index queries): any value matches; missing is false

/** True when any non-null value of the field passes `test`. */
function anyValue<E>(get: Accessor<E>, test: (value: unknown) => boolean): Predicate<E> {
  return (event) => {
    const v = get(event);
    if (v == null) return false;
    if (!Array.isArray(v)) return test(v);
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (x != null && test(x)) return true;
    }
    return false;
  };
}

function isMissing(v: unknown): boolean {
  return v == null || (Array.isArray(v) && v.length === 0);
}

type Ordering = Exclude<CompareOp, '!='>;

function ordered<T extends string | number>(op: Ordering, lit: T): (x: T) => boolean {
  switch (op) {
    case '==':
      return (x) => x === lit;
    case '<':
      return (x) => x < lit;
    case '<=':
      return (x) => x <= lit;
    case '>':
      return (x) => x > lit;
    case '>=':
      return (x) => x >= lit;
  }
}

/** Scalar test for `field <op> literal` (op without `!=`, which is compiled as `not ==`). */
function scalarTest(op: Ordering, lit: Coerced, timestamp: boolean): (x: unknown) => boolean {
  switch (lit.kind) {
    case 'string': {
      const cmp = ordered(op, lit.value);
      return (x) => {
        const s = typeof x === 'string' ? x : toText(x);
        return s !== null && cmp(s);
      };
    }
    case 'number': {
      const cmp = ordered(op, lit.value);
      return timestamp ? (x) => cmp(toTime(x)) : (x) => cmp(toNumber(x));
    }
    case 'boolean':
      return (x) => x === lit.value;
    case 'ip': {
      const scratch = newIpWords();
      const text = lit.text;
      const words = lit.value;
      // Dotted-quad text is canonical (leading zeros are rejected), so an IPv4 literal meets an IPv4 value by
      // string equality; only a value in IPv6 notation (e.g. IPv4-mapped) needs parsing.
      if (!text.includes(':')) {
        return (x) =>
          typeof x === 'string' &&
          (x === text || (x.includes(':') && parseIpInto(x, scratch) && sameIp(scratch, words)));
      }
      return (x) =>
        typeof x === 'string' && (x === text || (parseIpInto(x, scratch) && sameIp(scratch, words)));
    }
  }
}

function compileFieldCompare<E>(
  field: FieldExpr,
  op: CompareOp,
  right: Literal,
  span: Expr['span'],
  ctx: CompileContext,
): Condition<E> {
  const resolved = ctx.field<E>(field);
  if (resolved === null) return query(never);
  const get = resolved.get;
  if (right === null) {
    if (op === '==') return query((event) => isMissing(get(event)));
    if (op === '!=') return query((event) => !isMissing(get(event)));
    return (
      ctx.error(TypeMismatchError, `'${op}' with null never matches; use == null or != null`, span) ??
      query(never)
    );
  }
  const kind = kindOf(resolved.info);
  if (op !== '==' && op !== '!=' && (kind === 'boolean' || kind === 'ip')) {
    return (
      ctx.error(
        TypeMismatchError,
        `'${op}' does not order ${kind === 'ip' ? 'IP addresses' : 'booleans'} (${resolved.name})`,
        span,
      ) ?? query(never)
    );
  }
  const lit = coerceLiteral(right, resolved.name, kind, span, ctx);
  if (lit === undefined) return query(never);
  let test: Predicate<E>;
  if (lit.kind === 'string' && (op === '==' || op === '!=')) {
    // The hot path of most rules: one identity check, arrays only when the value is not a string.
    const value = lit.value;
    const slow = anyValue(get, scalarTest('==', lit, false));
    test = (event) => {
      const v = get(event);
      if (v === value) return true;
      if (v == null || typeof v === 'string') return false;
      return slow(event);
    };
  } else {
    test = anyValue(get, scalarTest(op === '!=' ? '==' : op, lit, kind === 'timestamp'));
  }
  if (op === '!=') {
    const equal = test;
    return query((event) => !equal(event));
  }
  return query(test);
}

// ---------------------------------------------------------------------------------------------------
// Scripts: three-valued comparisons of computed values

function compareValues(op: CompareOp, a: unknown, b: unknown): Tri {
  if (a == null || b == null) return null;
  if (Array.isArray(a)) {
    let result: Tri = null;
    for (const x of a) {
      const r = compareValues(op, x, b);
      if (r === true) return true;
      if (r === false) result = false;
    }
    return result;
  }
  if (typeof a !== typeof b || (typeof a !== 'string' && typeof a !== 'number' && typeof a !== 'boolean'))
    return null;
  const x = a as string | number;
  const y = b as string | number;
  switch (op) {
    case '==':
      return x === y;
    case '!=':
      return x !== y;
    case '<':
      return typeof a === 'boolean' ? null : x < y;
    case '<=':
      return typeof a === 'boolean' ? null : x <= y;
    case '>':
      return typeof a === 'boolean' ? null : x > y;
    case '>=':
      return typeof a === 'boolean' ? null : x >= y;
  }
}

const MIRROR: Record<CompareOp, CompareOp> = {
  '==': '==',
  '!=': '!=',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};

function compileCompare<E>(expr: CompareExpr, ctx: CompileContext): Condition<E> {
  let { left, right, op } = expr;
  // ES's LiteralsOnTheRight: `"x" == f` is `f == "x"`, `5 < f` is `f > 5`.
  if (left.kind === 'literal' && right.kind !== 'literal') {
    [left, right] = [right, left];
    op = MIRROR[op];
  }
  if (left.kind === 'field' && right.kind === 'literal')
    return compileFieldCompare(left, op, right.value, expr.span, ctx);
  const getLeft = compileValue<E>(left, ctx);
  if (right.kind === 'literal' && right.value === null) {
    if (op === '==') return query((event) => isMissing(getLeft(event)));
    if (op === '!=') return query((event) => !isMissing(getLeft(event)));
    return (
      ctx.error(TypeMismatchError, `'${op}' with null never matches; use == null or != null`, expr.span) ??
      query(never)
    );
  }
  const getRight = compileValue<E>(right, ctx);
  const comparison = op;
  return script((event) => compareValues(comparison, getLeft(event), getRight(event)));
}

// ---------------------------------------------------------------------------------------------------
// Pattern operators: `:`, like, like~, regex, regex~

function compileMatcher(expr: MatchExpr, ctx: CompileContext): { matches: StringMatcher; fold: boolean } {
  const fold = expr.op === ':' || expr.op === 'like~' || expr.op === 'regex~';
  if (expr.op === 'regex' || expr.op === 'regex~') {
    const regexes: LuceneMatcher[] = [];
    for (const pattern of expr.patterns) {
      try {
        regexes.push(compileLuceneRegex(pattern, fold));
      } catch (error) {
        if (!(error instanceof LuceneRegexError)) throw error;
        ctx.error(InvalidPatternError, `regex "${pattern}" at ${error.index}: ${error.message}`, expr.span);
      }
    }
    // The automaton folds case itself (`regex~`), so the value need not be lower-cased.
    if (regexes.length === 1) {
      const only = regexes[0] as LuceneMatcher;
      return { matches: (value) => only.test(value), fold: false };
    }
    return {
      matches: (value) => {
        for (let i = 0; i < regexes.length; i++) if ((regexes[i] as LuceneMatcher).test(value)) return true;
        return false;
      },
      fold: false,
    };
  }
  return { matches: compileWildcardList(expr.patterns, fold), fold };
}

function compileMatch<E>(expr: MatchExpr, ctx: CompileContext): Condition<E> {
  const { matches, fold } = compileMatcher(expr, ctx);
  const test = fold
    ? (x: unknown): boolean => typeof x === 'string' && matches(x.toLowerCase())
    : (x: unknown): boolean => typeof x === 'string' && matches(x);
  if (expr.left.kind === 'field') {
    const resolved = ctx.field<E>(expr.left);
    if (resolved === null) return query(never);
    const kind = kindOf(resolved.info);
    if (kind !== 'string' && kind !== 'ip' && kind !== 'absent') {
      return (
        ctx.error(
          TypeMismatchError,
          `'${expr.op}' compares strings; ${resolved.name} is ${resolved.info?.type ?? 'absent'}`,
          expr.span,
        ) ?? query(never)
      );
    }
    return query(anyValue(resolved.get, test));
  }
  const get = compileValue<E>(expr.left, ctx);
  return script((event) => {
    const v = get(event);
    if (v == null) return null;
    if (!Array.isArray(v)) return typeof v === 'string' ? test(v) : null;
    return v.some(test);
  });
}

// ---------------------------------------------------------------------------------------------------
// in, in~, not in

function compileIn<E>(expr: InExpr, ctx: CompileContext): Condition<E> {
  const literals = expr.values.every((v) => v.kind === 'literal');
  const negate = (c: Condition<E>): Condition<E> => {
    if (!expr.negated) return c;
    if (c.kind === 'query') {
      const t = c.test;
      return query((event) => !t(event));
    }
    const ev = c.evaluate;
    return script((event) => {
      const v = ev(event);
      return v === null ? null : !v;
    });
  };
  if (expr.left.kind === 'field' && literals) {
    const resolved = ctx.field<E>(expr.left);
    if (resolved === null) return query(never);
    const kind = kindOf(resolved.info);
    // ES drops null literals from the list (a terms query cannot hold null).
    const values = expr.values.flatMap((v) =>
      v.kind === 'literal' && v.value !== null ? [{ value: v.value, span: v.span }] : [],
    );
    const coerced = values
      .map((v) => coerceLiteral(v.value, resolved.name, kind, v.span, ctx))
      .filter((c): c is Coerced => c !== undefined);
    let test: (x: unknown) => boolean;
    if (kind === 'ip') {
      const ips = coerced.flatMap((c) => (c.kind === 'ip' ? [c.value] : []));
      const scratch = newIpWords();
      test = (x) => {
        if (typeof x !== 'string' || !parseIpInto(x, scratch)) return false;
        for (let i = 0; i < ips.length; i++) if (sameIp(scratch, ips[i] as IpWords)) return true;
        return false;
      };
    } else if (kind === 'number' || kind === 'timestamp') {
      const set = new Set(coerced.map((c) => c.value));
      test = kind === 'timestamp' ? (x) => set.has(toTime(x)) : (x) => set.has(toNumber(x));
    } else if (kind === 'string') {
      const fold = expr.caseInsensitive;
      const set = new Set(coerced.map((c) => (fold ? String(c.value).toLowerCase() : String(c.value))));
      test = (x) => {
        const s = typeof x === 'string' ? x : toText(x);
        return s !== null && set.has(fold ? s.toLowerCase() : s);
      };
    } else {
      const set = new Set(coerced.map((c) => c.value));
      test = (x) => set.has(x as never);
    }
    return negate(query(anyValue(resolved.get, test)));
  }
  const get = compileValue<E>(expr.left, ctx);
  const items = expr.values.map((v) => compileValue<E>(v, ctx));
  const fold = expr.caseInsensitive;
  const norm = (v: unknown): unknown => (fold && typeof v === 'string' ? v.toLowerCase() : v);
  return negate(
    script((event) => {
      const left = get(event);
      if (left == null) return null;
      const l = Array.isArray(left) ? left.map(norm) : norm(left);
      for (let i = 0; i < items.length; i++) {
        if (compareValues('==', l, norm((items[i] as ValueFn<E>)(event))) === true) return true;
      }
      return false;
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// Functions

function checkCall(call: CallExpr, ctx: CompileContext): FunctionDef | null {
  const def = FUNCTIONS.get(call.name);
  if (def === undefined) {
    const known = [...FUNCTIONS.keys()].find((k) => k.toLowerCase() === call.name.toLowerCase());
    return (
      ctx.error(
        UnknownFunctionError,
        `unknown function '${call.name}'${known ? `; did you mean '${known}'?` : ''}`,
        call.span,
      ) ?? null
    );
  }
  if (call.args.length < def.minArgs || call.args.length > def.maxArgs) {
    const expected =
      def.maxArgs === Infinity
        ? `at least ${def.minArgs}`
        : def.minArgs === def.maxArgs
          ? `${def.minArgs}`
          : `${def.minArgs} to ${def.maxArgs}`;
    return (
      ctx.error(
        UnknownFunctionError,
        `${call.name} takes ${expected} argument(s), got ${call.args.length}`,
        call.span,
      ) ?? null
    );
  }
  if (call.caseInsensitive && !def.caseInsensitive) {
    return (
      ctx.error(UnknownFunctionError, `${call.name} has no case-insensitive '~' form`, call.span) ?? null
    );
  }
  return def;
}

function compileCallValue<E>(call: CallExpr, ctx: CompileContext): ValueFn<E> {
  const def = checkCall(call, ctx);
  const args = call.args.map((a) => compileValue<E>(a, ctx));
  if (def === null) return alwaysNull;
  return def.compile(args, call, ctx);
}

function literalString(expr: Expr | undefined): string | null {
  return expr !== undefined && expr.kind === 'literal' && typeof expr.value === 'string' ? expr.value : null;
}

/** The functions ES turns into index queries when applied to a field: two-valued, any value matches. */
function pushedDownCall<E>(call: CallExpr, ctx: CompileContext): Condition<E> | null {
  const target = call.args[0];
  if (target === undefined || target.kind !== 'field') return null;
  const needle = literalString(call.args[1]);
  let test: ((x: unknown) => boolean) | null = null;
  if (call.name === 'startsWith' && call.args.length === 2 && needle !== null) {
    const prefix = call.caseInsensitive ? needle.toLowerCase() : needle;
    test = call.caseInsensitive
      ? (x) => typeof x === 'string' && x.toLowerCase().startsWith(prefix)
      : (x) => typeof x === 'string' && x.startsWith(prefix);
  } else if (
    call.name === 'stringContains' &&
    !call.caseInsensitive &&
    call.args.length === 2 &&
    needle !== null
  ) {
    test = needle === '' ? never : (x) => typeof x === 'string' && x.includes(needle);
  } else if (call.name === 'wildcard' && call.args.slice(1).every((a) => literalString(a) !== null)) {
    // `wildcard(f, "a*")` is `f like "a*"` (`wildcard~` is `like~`): a wildcard query in ES.
    const fold = call.caseInsensitive;
    const matches = compileWildcardList(
      call.args.slice(1).map((a) => literalString(a) as string),
      fold,
    );
    test = fold
      ? (x) => typeof x === 'string' && matches(x.toLowerCase())
      : (x) => typeof x === 'string' && matches(x);
  } else if (
    call.name === 'cidrMatch' &&
    !call.caseInsensitive &&
    call.args.length >= 2 &&
    call.args.slice(1).every((a) => literalString(a) !== null)
  ) {
    const blocks = literalCidrs(call.args.slice(1), ctx);
    if (blocks === null) return query(never);
    const matches = cidrMatcher(blocks);
    test = (x) => typeof x === 'string' && matches(x);
  }
  if (test === null) return null;
  const resolved = ctx.field<E>(target);
  if (resolved === null) return query(never);
  return query(anyValue(resolved.get, test));
}

function compileCallCondition<E>(call: CallExpr, ctx: CompileContext): Condition<E> {
  const def = checkCall(call, ctx);
  if (def === null) return query(never);
  if (def.returns !== 'boolean') {
    return (
      ctx.error(TypeMismatchError, `${call.name} returns a ${def.returns}, not a condition`, call.span) ??
      query(never)
    );
  }
  const pushed = pushedDownCall<E>(call, ctx);
  if (pushed !== null) return pushed;
  const get = def.compile(
    call.args.map((a) => compileValue<E>(a, ctx)),
    call,
    ctx,
  );
  return script((event) => {
    const v = get(event);
    return v === true ? true : v === false ? false : null;
  });
}

// ---------------------------------------------------------------------------------------------------
// Entry points

/** Compile an expression used as a condition (the `where` clause and its parts). */
export function compileCondition<E>(expr: Expr, ctx: CompileContext): Condition<E> {
  switch (expr.kind) {
    case 'literal':
      if (typeof expr.value === 'boolean') {
        const value = expr.value;
        return query(() => value);
      }
      return (
        ctx.error(TypeMismatchError, `${JSON.stringify(expr.value)} is not a condition`, expr.span) ??
        query(never)
      );
    case 'field': {
      const resolved = ctx.field<E>(expr);
      if (resolved === null) return query(never);
      const kind = kindOf(resolved.info);
      if (kind !== 'boolean' && kind !== 'absent') {
        return (
          ctx.error(
            TypeMismatchError,
            `${resolved.name} is ${resolved.info?.type ?? 'absent'}, not a condition`,
            expr.span,
          ) ?? query(never)
        );
      }
      return query(anyValue(resolved.get, (x) => x === true));
    }
    case 'not': {
      const inner = compileCondition<E>(expr.operand, ctx);
      if (inner.kind === 'query') {
        const test = inner.test;
        return query((event) => !test(event));
      }
      const evaluate = inner.evaluate;
      return script((event) => {
        const v = evaluate(event);
        return v === null ? null : !v;
      });
    }
    case 'and':
    case 'or': {
      const tests = expr.operands.map((o) => toPredicate(compileCondition<E>(o, ctx)));
      const all = expr.kind === 'and';
      if (tests.length === 2) {
        const [a, b] = tests as [Predicate<E>, Predicate<E>];
        return query(all ? (event) => a(event) && b(event) : (event) => a(event) || b(event));
      }
      return query(
        all
          ? (event) => {
              for (let i = 0; i < tests.length; i++) if (!(tests[i] as Predicate<E>)(event)) return false;
              return true;
            }
          : (event) => {
              for (let i = 0; i < tests.length; i++) if ((tests[i] as Predicate<E>)(event)) return true;
              return false;
            },
      );
    }
    case 'compare':
      return compileCompare(expr, ctx);
    case 'match':
      return compileMatch(expr, ctx);
    case 'in':
      return compileIn(expr, ctx);
    case 'call':
      return compileCallCondition(expr, ctx);
    default: {
      const unknown: never = expr;
      throw new Error(`unhandled expression kind ${(unknown as { kind: string }).kind}`);
    }
  }
}

/** Compile an expression used as a value (a function argument, a comparison side). */
export function compileValue<E>(expr: Expr, ctx: CompileContext): ValueFn<E> {
  switch (expr.kind) {
    case 'literal': {
      const value = expr.value;
      return () => value;
    }
    case 'field':
      return ctx.field<E>(expr)?.get ?? alwaysNull;
    case 'call':
      return compileCallValue(expr, ctx);
    case 'not':
    case 'and':
    case 'or':
    case 'compare':
    case 'match':
    case 'in': {
      const condition = compileCondition<E>(expr, ctx);
      return condition.kind === 'query' ? condition.test : condition.evaluate;
    }
    default: {
      const unknown: never = expr;
      throw new Error(`unhandled expression kind ${(unknown as { kind: string }).kind}`);
    }
  }
}
