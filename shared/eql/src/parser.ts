import type {
  CompareOp,
  Duration,
  EventQuery,
  Expr,
  FieldExpr,
  JoinQuery,
  MatchOp,
  Pipe,
  Query,
  QueryBody,
  QueryItem,
  SampleQuery,
  SequenceQuery,
  SourceSpan,
} from './ast.js';
import { EqlSyntaxError } from './errors.js';
import type { Token } from './lexer.js';
import { tokenize } from './lexer.js';

/**
 * Reserved words (Elasticsearch EQL's, lowercase and case-sensitive). They cannot start a field path
 * unless backquoted; after a dot they are ordinary names (`event.sequence`).
 */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'and',
  'any',
  'by',
  'false',
  'in',
  'join',
  'like',
  'maxspan',
  'not',
  'null',
  'of',
  'or',
  'regex',
  'sample',
  'sequence',
  'true',
  'until',
  'where',
  'with',
]);

/** Duration units and their length in milliseconds. */
export const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const COMPARE_OPS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** Nesting beyond this is a syntax error rather than a stack overflow (rules are never this deep). */
export const MAX_NESTING = 200;

/** Parses one EQL query. Throws `EqlSyntaxError` (with line, column, expected and found) on the first error. */
export function parse(source: string): Query {
  return new Parser(source).parseQuery();
}

/** `parse` without the throw, for lint loops that collect errors across many rules. */
export function tryParse(source: string): { ok: true; query: Query } | { ok: false; error: EqlSyntaxError } {
  try {
    return { ok: true, query: parse(source) };
  } catch (error) {
    if (error instanceof EqlSyntaxError) return { ok: false, error };
    throw error;
  }
}

const describe = (t: Token): string => (t.kind === 'eof' ? 'end of input' : JSON.stringify(t.text));

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private depth = 0;

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  // ---- token helpers ----

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private isPunct(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'punct' && t.text === text;
  }

  /** An exact keyword: lowercase, no tilde. */
  private isKeyword(word: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'ident' && !t.tilde && t.value === word;
  }

  private fail(message: string, token: Token, expected: readonly string[] = []): never {
    throw new EqlSyntaxError(message, {
      line: token.line,
      column: token.column,
      offset: token.start,
      length: Math.max(1, token.end - token.start),
      expected,
      found: token.kind === 'eof' ? 'end of input' : token.text,
      source: this.source,
    });
  }

  /** `expected X but found Y`, with a hint when the writer used an uppercase keyword or a C-style operator. */
  private unexpected(token: Token, expected: readonly string[]): never {
    const want = expected.length === 1 ? expected[0]! : `one of ${expected.join(', ')}`;
    let hint = '';
    if (
      token.kind === 'ident' &&
      KEYWORDS.has(String(token.value).toLowerCase()) &&
      !KEYWORDS.has(String(token.value))
    ) {
      hint = ` (keywords are lowercase: "${String(token.value).toLowerCase()}")`;
    } else if (token.kind === 'punct' && token.text === '=') {
      hint = ' (equality is "==")';
    } else if (token.kind === 'punct' && '+-*/%'.includes(token.text)) {
      hint = ' (arithmetic is not supported: use add(), subtract(), multiply(), divide(), modulo())';
    }
    this.fail(`expected ${want} but found ${describe(token)}${hint}`, token, expected);
  }

  private expectPunct(text: string, context = ''): Token {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === text) return this.next();
    return this.unexpected(t, [`"${text}"${context}`]);
  }

  private expectKeyword(word: string): Token {
    if (this.isKeyword(word)) return this.next();
    return this.unexpected(this.peek(), [`"${word}"`]);
  }

  private span(from: Token, to: { end: number }): SourceSpan {
    return { start: from.start, end: to.end, line: from.line, column: from.column };
  }

  /** The end of the last consumed token. */
  private get lastEnd(): { end: number } {
    return this.tokens[Math.max(0, this.pos - 1)]!;
  }

  // ---- queries ----

  parseQuery(): Query {
    const body = this.parseBody();
    const pipes: Pipe[] = [];
    while (this.isPunct('|')) pipes.push(this.parsePipe());
    const t = this.peek();
    if (t.kind !== 'eof') {
      const expected =
        pipes.length > 0 || body.kind === 'event' ? ['"|"', 'end of input'] : ['"["', '"|"', 'end of input'];
      if (body.kind === 'event') expected.unshift('"and"', '"or"');
      this.unexpected(t, expected);
    }
    return { body, pipes, source: this.source };
  }

  private parseBody(): QueryBody {
    if (this.isKeyword('sequence')) return this.parseSequence();
    if (this.isKeyword('join')) return this.parseJoin();
    if (this.isKeyword('sample')) return this.parseSample();
    const t = this.peek();
    if (t.kind === 'eof')
      this.fail('empty query: expected an event query, sequence, join or sample', t, [
        'event category',
        '"any"',
        '"sequence"',
        '"join"',
        '"sample"',
      ]);
    return this.parseEventQuery();
  }

  private parseEventQuery(): EventQuery {
    const first = this.peek();
    let category: string | null;
    if (this.isKeyword('any')) {
      this.next();
      category = null;
    } else if (
      (first.kind === 'ident' && !first.tilde && !KEYWORDS.has(String(first.value))) ||
      first.kind === 'string' ||
      first.kind === 'quoted'
    ) {
      this.next();
      category = String(first.value);
    } else {
      this.unexpected(first, ['event category', '"any"']);
    }
    if (!this.isKeyword('where')) {
      const lower = String(first.value).toLowerCase();
      if (first.kind === 'ident' && ['sequence', 'join', 'sample', 'any'].includes(lower)) {
        this.fail(`keywords are lowercase: write "${lower}" instead of "${String(first.value)}"`, first, [
          `"${lower}"`,
        ]);
      }
      this.unexpected(this.peek(), ['"where"']);
    }
    this.next();
    const where = this.parseExpr();
    return { kind: 'event', category, where, span: this.span(first, where.span) };
  }

  private parseSequence(): SequenceQuery {
    const kw = this.next();
    const { by, maxspan } = this.parseHeader(true);
    const { items, until } = this.parseItems('sequence', true);
    return { kind: 'sequence', by, maxspan, items, until, span: this.span(kw, this.lastEnd) };
  }

  private parseJoin(): JoinQuery {
    const kw = this.next();
    const { by, maxspan } = this.parseHeader(true);
    const { items, until } = this.parseItems('join', true);
    return { kind: 'join', by, maxspan, items, until, span: this.span(kw, this.lastEnd) };
  }

  private parseSample(): SampleQuery {
    const kw = this.next();
    const { by } = this.parseHeader(false);
    const { items } = this.parseItems('sample', false);
    return { kind: 'sample', by, items, span: this.span(kw, this.lastEnd) };
  }

  /** `[by f, ...] [with maxspan=1m]` in either order (Elasticsearch accepts both). */
  private parseHeader(allowMaxspan: boolean): { by: FieldExpr[]; maxspan: Duration | null } {
    let by: FieldExpr[] | null = null;
    let maxspan: Duration | null = null;
    for (;;) {
      if (by === null && this.isKeyword('by')) {
        this.next();
        by = this.parseFieldList();
      } else if (maxspan === null && this.isKeyword('with')) {
        const withToken = this.next();
        if (!allowMaxspan)
          this.fail('sample takes no maxspan (samples are unordered and unbounded in time)', withToken);
        this.expectKeyword('maxspan');
        this.expectPunct('=');
        maxspan = this.parseDuration();
      } else break;
    }
    return { by: by ?? [], maxspan };
  }

  private parseDuration(): Duration {
    const num = this.peek();
    if (num.kind !== 'number') this.unexpected(num, ['a duration such as 30s, 5m, 1h']);
    this.next();
    const value = num.value as number;
    if (!Number.isSafeInteger(value) || num.text.includes('.') || /e/i.test(num.text)) {
      this.fail('a duration is a whole number followed by a unit (ms, s, m, h, d)', num);
    }
    const unit = this.peek();
    if (
      unit.kind !== 'ident' ||
      unit.start !== num.end ||
      DURATION_UNITS[String(unit.value)] === undefined ||
      unit.tilde
    ) {
      this.fail(
        `duration ${num.text} needs a unit directly after the number: ms, s, m, h or d`,
        unit.kind === 'eof' || unit.start !== num.end ? num : unit,
        ['ms', 's', 'm', 'h', 'd'],
      );
    }
    this.next();
    const text = `${value}${String(unit.value)}`;
    return { ms: value * DURATION_UNITS[String(unit.value)]!, text, span: this.span(num, unit) };
  }

  private parseItems(
    kind: 'sequence' | 'join' | 'sample',
    allowUntil: boolean,
  ): { items: QueryItem[]; until: QueryItem | null } {
    const items: QueryItem[] = [];
    while (this.isPunct('[') || this.isPunct('![')) items.push(this.parseItem(kind));
    if (items.length === 0) this.unexpected(this.peek(), kind === 'sequence' ? ['"["', '"!["'] : ['"["']);
    let until: QueryItem | null = null;
    if (this.isKeyword('until')) {
      const kw = this.next();
      if (!allowUntil) this.fail('sample takes no until (it has no order for "until" to cut)', kw);
      const open = this.peek();
      if (open.kind === 'punct' && open.text === '![')
        this.fail('the until item cannot be a missing event', open, ['"["']);
      if (!(open.kind === 'punct' && open.text === '[')) this.unexpected(open, ['"["']);
      until = this.parseItem(kind);
    }
    return { items, until };
  }

  /** `[q] [by f, ...] [with runs=N]`, or `![q]` for a missing event. */
  private parseItem(_kind: 'sequence' | 'join' | 'sample'): QueryItem {
    const open = this.next();
    const missing = open.text === '![';
    const query = this.parseEventQuery();
    if (!this.isPunct(']')) this.unexpected(this.peek(), ['"]"', '"and"', '"or"']);
    this.next();
    let by: FieldExpr[] = [];
    if (this.isKeyword('by')) {
      this.next();
      by = this.parseFieldList();
    }
    let runs = 1;
    if (this.isKeyword('with')) {
      this.next();
      if (this.isKeyword('maxspan')) {
        this.fail('maxspan belongs in the header: "sequence [by ...] with maxspan=5m [...]"', this.peek(), [
          '"runs"',
        ]);
      }
      this.expectKeyword('runs');
      this.expectPunct('=');
      const n = this.peek();
      if (
        n.kind !== 'number' ||
        !Number.isSafeInteger(n.value) ||
        n.text.includes('.') ||
        /e/i.test(n.text)
      ) {
        this.unexpected(n, ['a whole number of runs']);
      }
      this.next();
      runs = n.value as number;
    }
    return { query, by, runs, missing, span: this.span(open, this.lastEnd) };
  }

  private parseFieldList(): FieldExpr[] {
    const fields = [this.parseField()];
    while (this.isPunct(',')) {
      this.next();
      fields.push(this.parseField());
    }
    return fields;
  }

  private parsePipe(): Pipe {
    const bar = this.next();
    const name = this.peek();
    if (!(name.kind === 'ident' && (name.value === 'head' || name.value === 'tail') && !name.tilde)) {
      this.unexpected(name, ['"head"', '"tail"']);
    }
    this.next();
    const n = this.peek();
    if (n.kind !== 'number' || !Number.isSafeInteger(n.value) || n.text.includes('.') || /e/i.test(n.text)) {
      this.unexpected(n, ['a whole number']);
    }
    this.next();
    return { kind: name.value as 'head' | 'tail', count: n.value as number, span: this.span(bar, n) };
  }

  // ---- expressions: or < and < not < predicate < operand ----

  private parseExpr(): Expr {
    return this.parseOr();
  }

  private parseOr(): Expr {
    const first = this.parseAnd();
    if (!this.isKeyword('or')) return first;
    const operands = [first];
    while (this.isKeyword('or')) {
      this.next();
      operands.push(this.parseAnd());
    }
    return { kind: 'or', operands, span: this.spanOf(first, operands[operands.length - 1]!) };
  }

  private parseAnd(): Expr {
    const first = this.parseNot();
    if (!this.isKeyword('and')) return first;
    const operands = [first];
    while (this.isKeyword('and')) {
      this.next();
      operands.push(this.parseNot());
    }
    return { kind: 'and', operands, span: this.spanOf(first, operands[operands.length - 1]!) };
  }

  private parseNot(): Expr {
    if (this.isKeyword('not')) {
      const kw = this.next();
      this.enter(kw);
      const operand = this.parseNot();
      this.depth--;
      return { kind: 'not', operand, span: this.span(kw, operand.span) };
    }
    return this.parsePredicate();
  }

  private enter(token: Token): void {
    if (++this.depth > MAX_NESTING)
      this.fail(`expression nested more than ${MAX_NESTING} levels deep`, token);
  }

  private spanOf(a: Expr, b: Expr): SourceSpan {
    return { start: a.span.start, end: b.span.end, line: a.span.line, column: a.span.column };
  }

  /** An operand, optionally followed by one comparison, pattern match or `in` (non-associative). */
  private parsePredicate(): Expr {
    const left = this.parseOperand();
    const t = this.peek();
    if (t.kind === 'punct' && COMPARE_OPS.has(t.text)) {
      this.next();
      const right = this.parseOperand();
      const result: Expr = {
        kind: 'compare',
        op: t.text as CompareOp,
        left,
        right,
        span: this.spanOf(left, right),
      };
      this.rejectChainedOperator();
      return result;
    }
    let matchOp: MatchOp | null = null;
    if (t.kind === 'punct' && t.text === ':') matchOp = ':';
    else if (t.kind === 'ident' && (t.value === 'like' || t.value === 'regex'))
      matchOp = (t.tilde ? `${t.value}~` : t.value) as MatchOp;
    if (matchOp !== null) {
      this.next();
      const patterns = this.parsePatterns(matchOp);
      const result: Expr = {
        kind: 'match',
        op: matchOp,
        left,
        patterns,
        span: this.spanFrom(left.span, this.lastEnd),
      };
      this.rejectChainedOperator();
      return result;
    }
    const negated = this.isKeyword('not') && this.peek(1).kind === 'ident' && this.peek(1).value === 'in';
    if (negated || (t.kind === 'ident' && t.value === 'in')) {
      if (negated) this.next();
      const inToken = this.next();
      const values = this.parseValueList();
      const result: Expr = {
        kind: 'in',
        left,
        values,
        caseInsensitive: inToken.tilde,
        negated,
        span: this.spanFrom(left.span, this.lastEnd),
      };
      this.rejectChainedOperator();
      return result;
    }
    if (t.kind === 'punct' && t.text === '=')
      this.fail('expected an operator but found "=" (equality is "==")', t, ['"=="']);
    return left;
  }

  private spanFrom(from: SourceSpan, to: { end: number }): SourceSpan {
    return { start: from.start, end: to.end, line: from.line, column: from.column };
  }

  /** `a == b == c` and `a : "x" : "y"` are not EQL: say so instead of "expected ]". */
  private rejectChainedOperator(): void {
    const t = this.peek();
    const isOp =
      (t.kind === 'punct' && (COMPARE_OPS.has(t.text) || t.text === ':')) ||
      (t.kind === 'ident' && (t.value === 'like' || t.value === 'regex' || t.value === 'in'));
    if (isOp)
      this.fail(`comparisons do not chain: parenthesise or join with "and" before ${describe(t)}`, t, [
        '"and"',
        '"or"',
      ]);
  }

  /** One string pattern or a parenthesised list of them. */
  private parsePatterns(op: MatchOp): string[] {
    if (!this.isPunct('(')) return [this.parsePattern(op)];
    this.next();
    const patterns = [this.parsePattern(op)];
    while (this.isPunct(',')) {
      this.next();
      patterns.push(this.parsePattern(op));
    }
    this.expectPunct(')');
    return patterns;
  }

  private parsePattern(op: MatchOp): string {
    const s = this.peek();
    if (s.kind !== 'string') this.unexpected(s, [`a string pattern after "${op}"`]);
    this.next();
    return s.value as string;
  }

  private parseValueList(): Expr[] {
    this.expectPunct('(', ' to open the list');
    const values = [this.parseOperand()];
    while (this.isPunct(',')) {
      this.next();
      values.push(this.parseOperand());
    }
    if (!this.isPunct(')')) this.unexpected(this.peek(), ['","', '")"']);
    this.next();
    return values;
  }

  /** A literal, a field, a function call or a parenthesised expression. */
  private parseOperand(): Expr {
    const t = this.peek();
    if (t.kind === 'string') {
      this.next();
      return { kind: 'literal', value: t.value, span: this.span(t, t) };
    }
    if (t.kind === 'number') {
      this.next();
      return { kind: 'literal', value: t.value, span: this.span(t, t) };
    }
    if (t.kind === 'punct' && t.text === '-' && this.peek(1).kind === 'number') {
      this.next();
      const n = this.next();
      const value = -(n.value as number);
      // -0 is 0: keeps printed and parsed values equal under Object.is.
      return { kind: 'literal', value: value === 0 ? 0 : value, span: this.span(t, n) };
    }
    if (t.kind === 'punct' && t.text === '(') {
      this.next();
      this.enter(t);
      const inner = this.parseExpr();
      this.depth--;
      if (!this.isPunct(')')) this.unexpected(this.peek(), ['")"', '"and"', '"or"']);
      const close = this.next();
      // The node's span covers the parentheses, so enclosing spans and carets include them.
      return { ...inner, span: this.span(t, close) };
    }
    if (t.kind === 'punct' && t.text === '?') return this.parseField();
    if (t.kind === 'quoted') return this.parseField();
    if (t.kind === 'ident') {
      const word = String(t.value);
      if (!t.tilde && (word === 'true' || word === 'false')) {
        this.next();
        return { kind: 'literal', value: word === 'true', span: this.span(t, t) };
      }
      if (!t.tilde && word === 'null') {
        this.next();
        return { kind: 'literal', value: null, span: this.span(t, t) };
      }
      if (this.isPunct('(', 1) && !KEYWORDS.has(word)) return this.parseCall();
      if (t.tilde)
        this.fail(`"~" after "${word}" is only valid on like, in, regex or a function call`, t, ['"("']);
      if (KEYWORDS.has(word)) this.unexpected(t, ['a field, literal or function call']);
      return this.parseField();
    }
    return this.unexpected(t, ['a field, literal or function call']);
  }

  private parseCall(): Expr {
    const name = this.next();
    this.enter(this.next()); // '('
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      args.push(this.parseExpr());
      while (this.isPunct(',')) {
        this.next();
        args.push(this.parseExpr());
      }
    }
    if (!this.isPunct(')')) this.unexpected(this.peek(), ['","', '")"']);
    const close = this.next();
    this.depth--;
    return {
      kind: 'call',
      name: String(name.value),
      caseInsensitive: name.tilde,
      args,
      span: this.span(name, close),
    };
  }

  /** `a.b.c`, `` `@timestamp` ``, `` a.`b c` ``, `?a.b`. Keywords are allowed after a dot. */
  private parseField(): FieldExpr {
    const first = this.peek();
    let optional = false;
    if (first.kind === 'punct' && first.text === '?') {
      this.next();
      optional = true;
    }
    const path: string[] = [];
    const head = this.peek();
    if (
      head.kind === 'quoted' ||
      (head.kind === 'ident' && !head.tilde && !KEYWORDS.has(String(head.value)))
    ) {
      this.next();
      path.push(String(head.value));
    } else {
      this.unexpected(head, ['a field name']);
    }
    while (this.isPunct('.')) {
      this.next();
      const seg = this.peek();
      if ((seg.kind === 'ident' && !seg.tilde) || seg.kind === 'quoted') {
        this.next();
        path.push(String(seg.value));
      } else {
        this.unexpected(seg, ['a field name after "."']);
      }
    }
    return { kind: 'field', path, optional, span: this.span(first, this.lastEnd) };
  }
}
