import { SequorError } from '@sequor/model';

/** Stable codes for what is wrong with a rule file, for `rules lint --format json` and tests. */
export type RuleIssueCode =
  | 'io'
  | 'yaml-syntax'
  | 'missing-field'
  | 'invalid-field'
  | 'unknown-key'
  | 'risk-severity-mismatch'
  | 'duplicate-id'
  | 'eql-syntax'
  | 'eql-semantic'
  | 'unknown-placeholder'
  | 'incompatible-partition-key'
  | 'invalid-test'
  | 'compile'
  | 'slow-pattern'
  | 'value-list'
  // Sigma files (the loader's own codes, `sigma-` where they differ from Sequor YAML's):
  | 'too-large'
  | 'sigma-condition'
  | 'sigma-modifier'
  | 'sigma-value'
  | 'sigma-unsupported'
  | 'sigma-logsource';

/** `error`: the rule is refused. `warning`: the rule loads, the author should look (e.g. risk vs severity). */
export type RuleIssueLevel = 'error' | 'warning';

export interface RuleFileErrorInit {
  readonly file: string;
  /** 1-based file line and column. */
  readonly line: number;
  readonly column: number;
  /** 0-based offset in the file and how many characters the problem covers. */
  readonly offset: number;
  readonly length: number;
  readonly code: RuleIssueCode;
  readonly level?: RuleIssueLevel;
  /** The problem without the position prefix. */
  readonly detail: string;
  /** `file:line:col: detail`, the file line and a caret under the column. */
  readonly snippet: string;
  readonly cause?: unknown;
}

/**
 * Something wrong in a rule file, pointing at the file line and column (translated from the query's own
 * coordinates when the problem is inside `query`), with a caret snippet ready to print. `rules lint`
 * collects these; the detector refuses to start on any of level `error`.
 */
export class RuleFileError extends SequorError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly length: number;
  readonly code: RuleIssueCode;
  readonly level: RuleIssueLevel;
  readonly detail: string;
  readonly snippet: string;

  constructor(init: RuleFileErrorInit) {
    const level = init.level ?? 'error';
    super(
      `${init.file}:${init.line}:${init.column}: ${level === 'warning' ? 'warning: ' : ''}${init.detail}`,
      {
        cause: init.cause,
      },
    );
    this.file = init.file;
    this.line = init.line;
    this.column = init.column;
    this.offset = init.offset;
    this.length = init.length;
    this.code = init.code;
    this.level = level;
    this.detail = init.detail;
    this.snippet = init.snippet;
  }

  /** The printable form: position, message, the offending file line and a caret. */
  format(): string {
    return this.snippet;
  }
}

/** A built-in or configured rule set that cannot be used: carries every error so one run shows them all. */
export class RuleSetError extends SequorError {
  constructor(readonly errors: readonly RuleFileError[]) {
    super(`${errors.length} rule error(s):\n${errors.map((e) => e.format()).join('\n')}`);
  }
}
