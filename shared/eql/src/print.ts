import type { EventQuery, Expr, FieldExpr, Literal, Query, QueryBody, QueryItem } from './ast.js';
import { KEYWORDS } from './parser.js';

/**
 * The canonical text of a query: `parse(print(q))` equals `q` apart from spans, and printing is a fixed
 * point (`print(parse(print(parse(s)))) === print(parse(s))`). Sequences, joins and samples put one item
 * per line; parentheses appear only where precedence or the AST's grouping needs them.
 */
export function print(query: Query): string {
  const body = printBody(query.body);
  const pipes = query.pipes.map((p) => `| ${p.kind} ${p.count}`);
  return pipes.length === 0 ? body : `${body}\n${pipes.join('\n')}`;
}

function printBody(body: QueryBody): string {
  switch (body.kind) {
    case 'event':
      return printEventQuery(body);
    case 'sequence':
    case 'join': {
      const header = [body.kind, printBy(body.by), body.maxspan ? `with maxspan=${body.maxspan.text}` : '']
        .filter(Boolean)
        .join(' ');
      const lines = [header, ...body.items.map((i) => `  ${printItem(i)}`)];
      if (body.until) lines.push(`until ${printItem(body.until)}`);
      return lines.join('\n');
    }
    case 'sample': {
      const header = ['sample', printBy(body.by)].filter(Boolean).join(' ');
      return [header, ...body.items.map((i) => `  ${printItem(i)}`)].join('\n');
    }
    default: {
      const never: never = body;
      throw new Error(`unknown query kind ${(never as { kind: string }).kind}`);
    }
  }
}

function printBy(fields: readonly FieldExpr[]): string {
  return fields.length === 0 ? '' : `by ${fields.map(printField).join(', ')}`;
}

function printItem(item: QueryItem): string {
  let text = `${item.missing ? '!' : ''}[${printEventQuery(item.query)}]`;
  if (item.by.length > 0) text += ` ${printBy(item.by)}`;
  if (item.runs !== 1) text += ` with runs=${item.runs}`;
  return text;
}

function printEventQuery(q: EventQuery): string {
  const category =
    q.category === null ? 'any' : isPlainName(q.category) ? q.category : printString(q.category);
  return `${category} where ${printExpr(q.where)}`;
}

// `@timestamp` parses unquoted (Elasticsearch allows it) but Python eql does not: print it backquoted.
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const isPlainName = (name: string): boolean => PLAIN_NAME.test(name) && !KEYWORDS.has(name);

function printField(f: FieldExpr): string {
  // Our parser accepts keywords after a dot (`event.sequence`), but Elasticsearch and Python eql do not:
  // quoting them everywhere keeps printed rules portable (and the differential tests' input valid).
  const segments = f.path.map((seg) => (isPlainName(seg) ? seg : '`' + seg.replace(/`/g, '``') + '`'));
  return (f.optional ? '?' : '') + segments.join('.');
}

/** Double-quoted with escapes for what cannot appear raw; everything else as is. */
export function printString(value: string): string {
  let out = '"';
  for (const ch of value) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case '"':
        out += '\\"';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      default: {
        const cp = ch.codePointAt(0)!;
        out += cp < 0x20 || cp === 0x7f ? `\\u{${cp.toString(16).padStart(2, '0')}}` : ch;
      }
    }
  }
  return out + '"';
}

function printLiteral(value: Literal): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return printString(value);
  return String(value);
}

/** Binding strength: a child binding weaker than its context gets parentheses. */
const Level = { Or: 1, And: 2, Not: 3, Predicate: 4, Operand: 5 } as const;
type Level = (typeof Level)[keyof typeof Level];

function levelOf(e: Expr): Level {
  switch (e.kind) {
    case 'or':
      return Level.Or;
    case 'and':
      return Level.And;
    case 'not':
      return Level.Not;
    case 'compare':
    case 'match':
    case 'in':
      return Level.Predicate;
    default:
      return Level.Operand;
  }
}

/** Prints `e` where the grammar expects at least `min`; `strict` also wraps an equal level (keeps nesting). */
function wrap(e: Expr, min: Level, strict = false): string {
  const level = levelOf(e);
  const text = printExpr(e);
  return level < min || (strict && level === min) ? `(${text})` : text;
}

export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      return printLiteral(e.value);
    case 'field':
      return printField(e);
    case 'or':
      // An `or` operand that is itself an `or` was parenthesised in the source (the parser flattens chains).
      return e.operands.map((o) => wrap(o, Level.Or, true)).join(' or ');
    case 'and':
      return e.operands.map((o) => wrap(o, Level.And, true)).join(' and ');
    case 'not':
      return `not ${wrap(e.operand, Level.Not)}`;
    case 'compare':
      return `${wrap(e.left, Level.Operand)} ${e.op} ${wrap(e.right, Level.Operand)}`;
    case 'match': {
      const patterns = e.patterns.map(printString);
      const rhs = patterns.length === 1 ? patterns[0]! : `(${patterns.join(', ')})`;
      return `${wrap(e.left, Level.Operand)} ${e.op} ${rhs}`;
    }
    case 'in': {
      const op = `${e.negated ? 'not ' : ''}in${e.caseInsensitive ? '~' : ''}`;
      return `${wrap(e.left, Level.Operand)} ${op} (${e.values.map((v) => wrap(v, Level.Operand)).join(', ')})`;
    }
    case 'call':
      return `${e.name}${e.caseInsensitive ? '~' : ''}(${e.args.map(printExpr).join(', ')})`;
    default: {
      const never: never = e;
      throw new Error(`unknown expression kind ${(never as { kind: string }).kind}`);
    }
  }
}
