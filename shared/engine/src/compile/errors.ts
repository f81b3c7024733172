import { formatAt, type SourceSpan } from '@sequor/eql';
import { SequorError } from '@sequor/model';

/**
 * A rule that parses but cannot be compiled against the event model: an unknown field, operands that
 * cannot be compared, a bad regex or CIDR, a construct the streaming engine does not run. Carries the
 * position so `rules lint` can print `file:line:col` with a caret. Never retriable: the rule must change.
 */
export class CompileError extends SequorError {
  /** 1-based line and column, 0-based offset, and how many characters the problem covers (at least 1). */
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly length: number;
  /** The message without the position prefix. */
  readonly detail: string;
  /** The query text the position refers to ('' when the AST was built by hand). */
  readonly source: string;

  constructor(detail: string, span: SourceSpan, source: string, options: { cause?: unknown } = {}) {
    super(`${span.line}:${span.column}: ${detail}`, options);
    this.detail = detail;
    this.line = span.line;
    this.column = span.column;
    this.offset = span.start;
    this.length = Math.max(1, span.end - span.start);
    this.source = source;
  }

  /** `name:line:col: detail`, the offending line and a caret under the column (`@sequor/eql`'s `formatAt`). */
  format(sourceName = 'query'): string {
    return formatAt(this.source, this, this.detail, sourceName);
  }
}

/** The rule names a field the event model does not have (and the reference is not `?optional`). */
export class UnknownFieldError extends CompileError {
  constructor(
    /** The field as written, dotted: `file.Ext.header_bytes`. */
    readonly field: string,
    /** Close catalog names, best first, for "did you mean". */
    readonly suggestions: readonly string[],
    span: SourceSpan,
    source: string,
  ) {
    const hint =
      suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}?` : '';
    super(`unknown field '${field}'${hint}`, span, source);
  }
}

/** Operands that cannot meet: `file.size : "a*"`, `process.name < null`, `file.size == "big"`. */
export class TypeMismatchError extends CompileError {}

/** A function the engine does not implement, or called with the wrong number of arguments. */
export class UnknownFunctionError extends CompileError {}

/** A regex, wildcard or CIDR literal that cannot be compiled. */
export class InvalidPatternError extends CompileError {}

/** Valid EQL the streaming engine does not run (e.g. `sample`, `![...]` in a join). */
export class UnsupportedQueryError extends CompileError {}

/**
 * Every compile error of one query, in source order, so a rule author fixes them in one pass
 * (pySigma's collect_errors). `errors[0]` is also the `cause`.
 */
export class QueryCompileError extends SequorError {
  constructor(
    readonly errors: readonly CompileError[],
    readonly source: string,
  ) {
    super(
      `${errors.length} compile error${errors.length === 1 ? '' : 's'}: ${errors.map((e) => e.message).join('; ')}`,
      { cause: errors[0] },
    );
  }

  format(sourceName = 'query'): string {
    return this.errors.map((e) => e.format(sourceName)).join('\n');
  }
}
