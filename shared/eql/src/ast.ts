/**
 * The EQL abstract syntax tree: the contract between the parser (this package) and the compiler
 * (@sequor/engine). Every node is a readonly value; `print(parse(s))` is stable.
 *
 * Semantics follow Elasticsearch's "EQL syntax reference" (see docs/eql-semantics.md in this package):
 * `==`, `!=`, `in`, `like`, `regex` and functions are case-sensitive; `:`, `like~`, `in~`, `regex~` and
 * `fn~` are not.
 */

/** Where a node came from in the query text; 1-based line and column, 0-based offsets. */
export interface SourceSpan {
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

export type Literal = string | number | boolean | null;

export interface LiteralExpr {
  readonly kind: 'literal';
  readonly value: Literal;
  readonly span: SourceSpan;
}

/**
 * A field reference as written: `process.name`, `` `@timestamp` ``, `file.Ext.header_bytes`, `?user.id`.
 * `path` is the dotted name split on dots (backquoted segments unquoted). `optional` is the `?field` form:
 * a missing optional field is null without a schema error, and a null optional join key still joins.
 */
export interface FieldExpr {
  readonly kind: 'field';
  readonly path: readonly string[];
  readonly optional: boolean;
  readonly span: SourceSpan;
}

export interface NotExpr {
  readonly kind: 'not';
  readonly operand: Expr;
  readonly span: SourceSpan;
}

export interface BooleanExpr {
  readonly kind: 'and' | 'or';
  /** Two or more operands, flattened: `a and b and c` is one node. */
  readonly operands: readonly Expr[];
  readonly span: SourceSpan;
}

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** `left op right`; `x == null` / `x != null` are the null checks. */
export interface CompareExpr {
  readonly kind: 'compare';
  readonly op: CompareOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: SourceSpan;
}

/**
 * Pattern operators with one or many string-literal patterns:
 * `f : "a*"`, `f : ("a*", "b?")` (case-insensitive, `*` and `?` wildcards),
 * `f like "a*"`, `f like~ ("a*", "b")`, `f regex "a.*"`, `f regex~ "a.*"`.
 * A list matches when any pattern matches.
 */
export type MatchOp = ':' | 'like' | 'like~' | 'regex' | 'regex~';

export interface MatchExpr {
  readonly kind: 'match';
  readonly op: MatchOp;
  readonly left: Expr;
  readonly patterns: readonly string[];
  readonly span: SourceSpan;
}

/** `f in (v1, v2)`, `f in~ (...)` (case-insensitive), `f not in (...)`. */
export interface InExpr {
  readonly kind: 'in';
  readonly left: Expr;
  readonly values: readonly Expr[];
  readonly caseInsensitive: boolean;
  readonly negated: boolean;
  readonly span: SourceSpan;
}

/** `startsWith(f, "x")`, `endsWith~(f, "x")`, `cidrMatch(source.ip, "10.0.0.0/8")`, `length(f)`. */
export interface CallExpr {
  readonly kind: 'call';
  readonly name: string;
  readonly caseInsensitive: boolean;
  readonly args: readonly Expr[];
  readonly span: SourceSpan;
}

export type Expr =
  LiteralExpr | FieldExpr | NotExpr | BooleanExpr | CompareExpr | MatchExpr | InExpr | CallExpr;

/** `process where ...`; `category` null means `any where ...`. */
export interface EventQuery {
  readonly kind: 'event';
  readonly category: string | null;
  readonly where: Expr;
  readonly span: SourceSpan;
}

/** A duration as written (`1m`, `30s`, `500ms`, `2h`, `1d`) and its value in milliseconds. */
export interface Duration {
  readonly ms: number;
  readonly text: string;
  readonly span: SourceSpan;
}

/**
 * One bracketed item of a sequence, join or sample: `[file where ...] by f, g with runs=3`.
 * `by` holds the item's own join keys (appended after the query-level `by` keys).
 * `missing` is the `![...]` form (sequence only, requires maxspan).
 */
export interface QueryItem {
  readonly query: EventQuery;
  readonly by: readonly FieldExpr[];
  readonly runs: number;
  readonly missing: boolean;
  readonly span: SourceSpan;
}

export interface SequenceQuery {
  readonly kind: 'sequence';
  readonly by: readonly FieldExpr[];
  readonly maxspan: Duration | null;
  readonly items: readonly QueryItem[];
  readonly until: QueryItem | null;
  readonly span: SourceSpan;
}

/**
 * Endgame EQL `join`: order-free, first match per item per key. `maxspan` is Sequor's extension
 * (`join by f with maxspan=1h [...] [...]`): the window in which all items must fall.
 */
export interface JoinQuery {
  readonly kind: 'join';
  readonly by: readonly FieldExpr[];
  readonly maxspan: Duration | null;
  readonly items: readonly QueryItem[];
  readonly until: QueryItem | null;
  readonly span: SourceSpan;
}

/** Elasticsearch `sample by f [q1] [q2]`: unordered, no maxspan. */
export interface SampleQuery {
  readonly kind: 'sample';
  readonly by: readonly FieldExpr[];
  readonly items: readonly QueryItem[];
  readonly span: SourceSpan;
}

/** `| head 10`, `| tail 5`: for hunting queries. */
export interface Pipe {
  readonly kind: 'head' | 'tail';
  readonly count: number;
  readonly span: SourceSpan;
}

export type QueryBody = EventQuery | SequenceQuery | JoinQuery | SampleQuery;

export interface Query {
  readonly body: QueryBody;
  readonly pipes: readonly Pipe[];
  /** The query text, so errors found later (unknown fields) can point at line and column. */
  readonly source: string;
}
