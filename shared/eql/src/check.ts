import type { FieldCatalog, FieldInfo, FieldType } from '@sequor/model';
import type { Expr, FieldExpr, Query, QueryItem, SourceSpan } from './ast.js';
import type { SemanticErrorCode, Severity } from './errors.js';
import { EqlSemanticError } from './errors.js';
import type { ValueType } from './functions.js';
import { FUNCTIONS, lookupFunction, paramAt } from './functions.js';
import { checkLuceneRegex } from './lucene-regex.js';

/** `with runs=N` bounds: at least one, and few enough that per-key state stays small. */
export const MAX_RUNS = 100;

/**
 * Every semantic problem in a parsed query, in source order: unknown fields and functions, arities,
 * `~` where it is not allowed, sequence/join/sample shape (items, join keys, runs, missing events), Lucene
 * regex syntax and type mismatches (a numeric string against a number is only a `severity: 'warning'`). Never throws for a bad query;
 * an empty result means the engine can compile it.
 */
export function checkQuery(query: Query, catalog: FieldCatalog): readonly EqlSemanticError[] {
  const checker = new Checker(query.source, catalog);
  checker.query(query);
  return checker.errors.sort((a, b) => a.offset - b.offset);
}

/** True when any finding is an error (not just warnings): such a rule must not load. */
export function hasBlockingErrors(errors: readonly EqlSemanticError[]): boolean {
  return errors.some((e) => e.severity === 'error');
}

const NUMERIC: ReadonlySet<FieldType> = new Set(['int', 'long', 'double']);

/** The checker's view of a field type; `timestamp` stays `any` (compared with numbers and date strings). */
function valueTypeOf(type: FieldType): ValueType {
  if (NUMERIC.has(type)) return 'number';
  if (type === 'string' || type === 'string[]') return 'string';
  if (type === 'ip' || type === 'ip[]') return 'ip';
  if (type === 'boolean') return 'boolean';
  return 'any';
}

function literalType(value: unknown): ValueType | 'null' {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  return 'boolean';
}

/** Whether a value of type `actual` may stand where `expected` is wanted (IP fields compare with strings). */
function compatible(expected: ValueType, actual: ValueType | 'null'): boolean {
  if (expected === 'any' || actual === 'any' || actual === 'null' || expected === actual) return true;
  return (expected === 'ip' && actual === 'string') || (expected === 'string' && actual === 'ip');
}

const fieldName = (f: FieldExpr): string => f.path.join('.');

/** The engine's test for a string it converts to a number field's type. */
const NUMERIC_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A string literal holding a number, set against a number: the engine (as ES) converts it, so it is no bug. */
function numericText(expected: ValueType | 'null', e: Expr): boolean {
  return (
    expected === 'number' && e.kind === 'literal' && typeof e.value === 'string' && NUMERIC_TEXT.test(e.value)
  );
}

class Checker {
  readonly errors: EqlSemanticError[] = [];

  constructor(
    private readonly source: string,
    private readonly catalog: FieldCatalog,
  ) {}

  private report(
    span: SourceSpan,
    code: SemanticErrorCode,
    message: string,
    severity: Severity = 'error',
  ): void {
    this.errors.push(
      new EqlSemanticError(message, {
        line: span.line,
        column: span.column,
        offset: span.start,
        length: Math.max(1, span.end - span.start),
        code,
        severity,
        source: this.source,
      }),
    );
  }

  query(query: Query): void {
    const body = query.body;
    switch (body.kind) {
      case 'event':
        this.expr(body.where);
        break;
      case 'sequence':
      case 'join': {
        body.by.forEach((f) => this.field(f));
        if (body.maxspan !== null && body.maxspan.ms <= 0) {
          this.report(body.maxspan.span, 'invalid-duration', 'maxspan must be greater than zero');
        }
        this.items(body.kind, body.by.length, body.items, body.until, body.maxspan !== null, body.span);
        break;
      }
      case 'sample':
        body.by.forEach((f) => this.field(f));
        this.items('sample', body.by.length, body.items, null, false, body.span);
        break;
      default: {
        const never: never = body;
        throw new Error(`unknown query kind ${(never as { kind: string }).kind}`);
      }
    }
    for (const pipe of query.pipes) {
      if (pipe.count < 1)
        this.report(pipe.span, 'invalid-pipe', `| ${pipe.kind} needs a count of at least 1`);
    }
  }

  private items(
    kind: 'sequence' | 'join' | 'sample',
    sharedKeys: number,
    items: readonly QueryItem[],
    until: QueryItem | null,
    hasMaxspan: boolean,
    span: SourceSpan,
  ): void {
    if (items.length < 2) {
      this.report(
        span,
        'too-few-items',
        `a ${kind} needs at least two bracketed items, found ${items.length}`,
      );
    }
    const all = until === null ? items : [...items, until];
    for (const item of all) {
      item.by.forEach((f) => this.field(f));
      this.expr(item.query.where);
      if (item.missing) {
        if (kind !== 'sequence') {
          this.report(
            item.span,
            'missing-event-placement',
            `missing-event items ![...] exist only in sequences, not in a ${kind}`,
          );
        } else if (!hasMaxspan) {
          this.report(
            item.span,
            'missing-event-without-maxspan',
            'a missing-event item ![...] needs the sequence to have "with maxspan=..."',
          );
        }
      }
      if (item.runs !== 1) {
        if (kind !== 'sequence') {
          this.report(
            item.span,
            'runs-out-of-range',
            `"with runs" applies only to sequence items, not to a ${kind}`,
          );
        } else if (item.runs < 1 || item.runs > MAX_RUNS) {
          this.report(
            item.span,
            'runs-out-of-range',
            `runs must be between 1 and ${MAX_RUNS}, found ${item.runs}`,
          );
        }
      }
    }
    if (kind === 'sequence' && items.length > 0 && items.every((i) => i.missing)) {
      this.report(
        span,
        'missing-event-placement',
        'a sequence needs at least one item that is not a missing event',
      );
    }
    // Join keys pair up by position across items: every item needs the same count (query-level keys count for all).
    const first = items[0];
    if (first === undefined) return;
    const expected = sharedKeys + first.by.length;
    all.forEach((item, i) => {
      const count = sharedKeys + item.by.length;
      if (count !== expected) {
        const which = item === until ? 'the until item' : `item ${i + 1}`;
        this.report(
          item.by[0]?.span ?? item.span,
          'join-key-count',
          `${which} has ${count} join key${count === 1 ? '' : 's'} but item 1 has ${expected} (the query's "by" keys count for every item)`,
        );
      }
    });
  }

  private field(f: FieldExpr): FieldInfo | undefined {
    const info = this.catalog.lookup(f.path);
    if (info === undefined && !f.optional) {
      const suggestion = this.closestField(fieldName(f));
      const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
      this.report(
        f.span,
        'unknown-field',
        `unknown field ${fieldName(f)}${hint}; write ?${fieldName(f)} if it may be absent from the model`,
      );
    }
    return info;
  }

  private closestField(name: string): string | undefined {
    let best: string | undefined;
    let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
    for (const info of this.catalog.fields()) {
      const d = editDistance(name.toLowerCase(), info.name.toLowerCase(), bestDistance);
      if (d < bestDistance) {
        best = info.name;
        bestDistance = d;
      }
    }
    return best;
  }

  /** Checks `e` and returns its static type (`any` when unknown). */
  private expr(e: Expr): ValueType | 'null' {
    switch (e.kind) {
      case 'literal':
        return literalType(e.value);
      case 'field': {
        const info = this.field(e);
        return info === undefined ? 'any' : valueTypeOf(info.type);
      }
      case 'not':
        this.expr(e.operand);
        return 'boolean';
      case 'and':
      case 'or':
        e.operands.forEach((o) => this.expr(o));
        return 'boolean';
      case 'compare': {
        const left = this.expr(e.left);
        const right = this.expr(e.right);
        this.compareTypes(e.op, e.left, left, e.right, right, e.span);
        return 'boolean';
      }
      case 'match': {
        const left = this.expr(e.left);
        if (left === 'number' || left === 'boolean') {
          // The engine refuses these too: a pattern never matches a number or a boolean.
          this.report(
            e.left.span,
            'type-mismatch',
            `"${e.op}" matches strings but ${this.describe(e.left)} is ${left}`,
          );
        }
        if (e.op === 'regex' || e.op === 'regex~') {
          for (const pattern of e.patterns) {
            const error = checkLuceneRegex(pattern);
            if (error !== null) {
              this.report(
                e.span,
                'invalid-regex',
                `invalid Lucene regular expression ${JSON.stringify(pattern)} at offset ${error.index}: ${error.message}`,
              );
            }
          }
        }
        return 'boolean';
      }
      case 'in': {
        const left = this.expr(e.left);
        for (const value of e.values) {
          const t = this.expr(value);
          if (value.kind === 'literal' && left !== 'null' && !compatible(left, t)) {
            const severity = numericText(left, value) ? 'warning' : 'error';
            this.report(
              value.span,
              'type-mismatch',
              `${this.describe(e.left)} is ${left} but this value is ${t}`,
              severity,
            );
          }
        }
        return 'boolean';
      }
      case 'call':
        return this.call(e);
      default: {
        const never: never = e;
        throw new Error(`unknown expression kind ${(never as { kind: string }).kind}`);
      }
    }
  }

  private describe(e: Expr): string {
    return e.kind === 'field' ? fieldName(e) : e.kind === 'call' ? `${e.name}(...)` : 'the left side';
  }

  /**
   * Operands of different types are an error: the engine would compare them as something the author did not
   * write (`process.name > 5` orders text, so "10" < "5"; `process.elevated == "yes"` is never true). The one
   * exception is a numeric string against a number (`file.size >= "30000"`): ES parses it against the
   * mapping and so does the engine, so it compares as a number; that stays a warning.
   */
  private compareTypes(
    op: string,
    le: Expr,
    left: ValueType | 'null',
    re: Expr,
    right: ValueType | 'null',
    span: SourceSpan,
  ): void {
    if (left === 'null' || right === 'null' || left === 'any' || right === 'any') {
      if ((left === 'null' || right === 'null') && op !== '==' && op !== '!=') {
        this.report(
          span,
          'type-mismatch',
          `"${op}" with null is never true: null checks use == null or != null`,
        );
      }
      return;
    }
    const ordering = op !== '==' && op !== '!=';
    if (ordering && (left === 'boolean' || right === 'boolean')) {
      this.report(span, 'type-mismatch', `"${op}" does not order booleans`);
      return;
    }
    if (!compatible(left, right)) {
      const [field, other, otherExpr] = le.kind === 'literal' ? [re, left, le] : [le, right, re];
      const fieldType = field === le ? left : right;
      const what =
        otherExpr.kind === 'literal' ? `a ${other} literal` : `${this.describe(otherExpr)} (${other})`;
      const numeric = numericText(fieldType, otherExpr);
      const hint = numeric
        ? ' (it compares as a number)'
        : fieldType === 'string' && other === 'number'
          ? ` (it would compare as text: quote the value)`
          : '';
      this.report(
        span,
        'type-mismatch',
        `${this.describe(field)} is ${fieldType} but is compared with ${what} using "${op}"${hint}`,
        numeric ? 'warning' : 'error',
      );
    }
  }

  private call(e: Extract<Expr, { kind: 'call' }>): ValueType {
    const argTypes = e.args.map((a) => this.expr(a));
    const spec = lookupFunction(e.name);
    if (spec === undefined) {
      const sameName = [...FUNCTIONS.keys()].find((n) => n.toLowerCase() === e.name.toLowerCase());
      const hint =
        sameName === undefined
          ? `; known: ${[...FUNCTIONS.keys()].join(', ')}`
          : ` (function names are case-sensitive: ${sameName})`;
      this.report(e.span, 'unknown-function', `unknown function ${e.name}${hint}`);
      return 'any';
    }
    if (e.caseInsensitive && !spec.tilde) {
      this.report(
        e.span,
        'function-case-insensitive',
        `${e.name} has no case-insensitive form: remove the "~"`,
      );
    }
    if (e.args.length < spec.minArgs || e.args.length > spec.maxArgs) {
      const range =
        spec.maxArgs === Infinity
          ? `at least ${spec.minArgs}`
          : spec.minArgs === spec.maxArgs
            ? `${spec.minArgs}`
            : `${spec.minArgs} to ${spec.maxArgs}`;
      this.report(
        e.span,
        'function-arity',
        `${e.name} takes ${range} argument${range === '1' ? '' : 's'}, found ${e.args.length}`,
      );
    }
    e.args.forEach((arg, i) => {
      const param = paramAt(spec, i);
      if (param === undefined) return;
      if (param.literal && arg.kind !== 'literal') {
        this.report(
          arg.span,
          'function-argument',
          `${e.name}: ${param.name} must be a literal (it is compiled once, not per event)`,
        );
        return;
      }
      const actual = argTypes[i]!;
      if (!compatible(param.type, actual)) {
        const severity: Severity = arg.kind === 'literal' ? 'error' : 'warning';
        this.report(
          arg.span,
          'function-argument',
          `${e.name}: ${param.name} must be ${param.type}, found ${actual}`,
          severity,
        );
        return;
      }
      if (
        e.name === 'cidrMatch' &&
        i > 0 &&
        arg.kind === 'literal' &&
        typeof arg.value === 'string' &&
        !isCidr(arg.value)
      ) {
        this.report(
          arg.span,
          'function-argument',
          `cidrMatch: ${JSON.stringify(arg.value)} is not a CIDR range such as 10.0.0.0/8 or fe80::/10`,
        );
      }
    });
    return spec.returns;
  }
}

/** Levenshtein distance, giving up (returning `limit`) once every path exceeds it. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return Math.min(prev[b.length]!, limit);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A CIDR range (`10.0.0.0/8`, `fe80::/10`) or a bare address (a /32 or /128). */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const prefix = slash < 0 ? null : text.slice(slash + 1);
  const v4 = IPV4.test(address);
  const v6 = !v4 && isIpv6(address);
  if (!v4 && !v6) return false;
  if (prefix === null) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (v4 ? 32 : 128);
}

function isIpv6(text: string): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  let all = [...head, ...tail];
  let width = 8;
  // An embedded IPv4 tail (::ffff:10.0.0.1) takes two groups.
  const last = all[all.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (!IPV4.test(last)) return false;
    all = all.slice(0, -1);
    width = 6;
  }
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? all.length < width : all.length === width;
}
