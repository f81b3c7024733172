import { SequorError } from '@sequor/model';

/** Where an error points in the query text: 1-based line and column, 0-based offset, and how far it reaches. */
export interface ErrorPosition {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  /** Characters the problem covers (at least 1), for editors that underline a range. */
  readonly length: number;
}

/**
 * `name:line:col: message`, then the offending source line and a caret under the column. Tabs before the
 * column are kept in the caret line so the caret lines up in a terminal whatever the tab width.
 * The one caret renderer: EQL, engine compile and rule-file errors (in file coordinates) all print with it.
 */
export function formatAt(
  source: string,
  position: ErrorPosition,
  message: string,
  sourceName = 'query',
): string {
  const line = lineOf(source, position.line);
  // A long line is shown as a window around the column: printed whole under each of its findings, a
  // 10 KB line with thousands of them made the report quadratic (and unreadable).
  const column = Math.max(0, position.column - 1);
  const from = line.length > MAX_SHOWN ? Math.max(0, Math.min(column - CONTEXT, line.length - MAX_SHOWN)) : 0;
  const to = Math.min(line.length, from + MAX_SHOWN);
  const lead = from > 0 ? ELLIPSIS : '';
  const text = `${lead}${line.slice(from, to)}${to < line.length ? ELLIPSIS : ''}`;
  const before = (lead + line.slice(from, column)).replace(/[^\t]/g, ' ');
  const width = Math.max(1, Math.min(position.length, to - column));
  const marker = '^' + (width > 1 ? '~'.repeat(width - 1) : '');
  return `${sourceName}:${position.line}:${position.column}: ${message}\n${text}\n${before}${marker}`;
}

/** Longest run of a source line shown under a finding, and how much of it comes before the column. */
const MAX_SHOWN = 160;
const CONTEXT = 60;
const ELLIPSIS = '…';

/**
 * The lines of the last source formatted: a rule file with thousands of findings formats each against
 * the same text, and splitting it once per finding made reporting quadratic in the file's size.
 */
let cachedSource: string | undefined;
let cachedLines: readonly string[] = [];

function lineOf(source: string, line: number): string {
  if (source !== cachedSource) {
    cachedLines = source.split(/\r\n|\r|\n/);
    cachedSource = source;
  }
  return cachedLines[line - 1] ?? '';
}

/**
 * The query text is not EQL we accept. Carries the position, what the parser wanted there and what it found,
 * so `rules lint` can print `file:line:col` with a caret and an editor can underline the token.
 */
export class EqlSyntaxError extends SequorError implements ErrorPosition {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly length: number;
  /** What the parser would have accepted here, e.g. `['"]"', 'and', 'or']`; empty when not a simple choice. */
  readonly expected: readonly string[];
  /** The offending token as written, or `end of input`. */
  readonly found: string;
  /** The message without the position prefix. */
  readonly detail: string;
  readonly source: string;

  constructor(
    detail: string,
    init: ErrorPosition & {
      readonly expected?: readonly string[];
      readonly found: string;
      readonly source: string;
    },
  ) {
    super(`${init.line}:${init.column}: ${detail}`);
    this.detail = detail;
    this.line = init.line;
    this.column = init.column;
    this.offset = init.offset;
    this.length = init.length;
    this.expected = init.expected ?? [];
    this.found = init.found;
    this.source = init.source;
  }

  /** `rules/foo.yaml:3:14: expected "]" but found "where"` + the line + a caret. */
  format(sourceName?: string): string {
    return formatAt(this.source, this, this.detail, sourceName);
  }
}

export type SemanticErrorCode =
  | 'unknown-field'
  | 'unknown-function'
  | 'function-arity'
  | 'function-case-insensitive'
  | 'function-argument'
  | 'missing-event-without-maxspan'
  | 'missing-event-placement'
  | 'runs-out-of-range'
  | 'too-few-items'
  | 'join-key-count'
  | 'type-mismatch'
  | 'invalid-regex'
  | 'invalid-duration'
  | 'invalid-pipe';

export type Severity = 'error' | 'warning';

/**
 * The query parses but cannot run as written (an unknown field, a wrong arity), or probably does not mean
 * what it says (`severity: 'warning'`, e.g. ordering a string field against a number). `checkQuery`
 * collects all of them so a rule author fixes a file in one pass.
 */
export class EqlSemanticError extends SequorError implements ErrorPosition {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly length: number;
  readonly code: SemanticErrorCode;
  readonly severity: Severity;
  readonly detail: string;
  readonly source: string;

  constructor(
    detail: string,
    init: ErrorPosition & {
      readonly code: SemanticErrorCode;
      readonly severity?: Severity;
      readonly source: string;
    },
  ) {
    super(`${init.line}:${init.column}: ${detail}`);
    this.detail = detail;
    this.line = init.line;
    this.column = init.column;
    this.offset = init.offset;
    this.length = init.length;
    this.code = init.code;
    this.severity = init.severity ?? 'error';
    this.source = init.source;
  }

  format(sourceName?: string): string {
    const prefix = this.severity === 'warning' ? 'warning: ' : '';
    return formatAt(this.source, this, prefix + this.detail, sourceName);
  }
}
