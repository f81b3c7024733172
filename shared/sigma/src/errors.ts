import { formatAt } from '@sequor/eql';
import { SequorError } from '@sequor/model';

/**
 * Why a Sigma rule file did not load. `unsupported` is a valid Sigma feature this package cannot run (a
 * regex backreference, an aggregation, a placeholder): the rule is refused with the reason, never
 * compiled to "no match". The others are faults of the file.
 */
export type SigmaIssueCode =
  | 'io'
  | 'too-large'
  | 'yaml-syntax'
  | 'invalid-rule'
  | 'invalid-condition'
  | 'invalid-modifier'
  | 'invalid-value'
  | 'unsupported'
  | 'unknown-logsource';

/** A point and extent in a rule file: 1-based line and column, 0-based offset, length in characters. */
export interface SigmaPosition {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly length: number;
}

/** Something wrong with (or unsupported in) a Sigma rule file, at `file:line:column`, with a caret snippet. */
export class SigmaRuleError extends SequorError {
  readonly snippet: string;

  constructor(
    readonly file: string,
    readonly position: SigmaPosition,
    readonly code: SigmaIssueCode,
    /** The problem without the position prefix. */
    readonly detail: string,
    source: string,
    cause?: unknown,
  ) {
    super(`${file}:${position.line}:${position.column}: ${detail}`, { cause });
    this.snippet = source.length > 0 ? formatAt(source, position, detail, file) : this.message;
  }

  get line(): number {
    return this.position.line;
  }

  get column(): number {
    return this.position.column;
  }

  /** `file:line:col: detail`, the file line and a caret under the column. */
  format(): string {
    return this.snippet;
  }
}

/** Offsets → 1-based line/column, from one index of line starts built per file. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  at(offset: number, length = 1): SigmaPosition {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return {
      line: lo + 1,
      column: offset - (this.starts[lo] as number) + 1,
      offset,
      length: Math.max(1, length),
    };
  }
}
