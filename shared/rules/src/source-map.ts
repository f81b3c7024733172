/**
 * Positions in a rule file. YAML gives every node a byte range; a problem found later in a scalar's value
 * (an EQL error at query offset 57, a bad placeholder in `message`) is translated back to the file through
 * the scalar's segment map, so the caret lands on the file line the author edits, including inside `|`
 * and `>` block scalars and multi-line plain scalars.
 */
import type { Node } from 'yaml';
import { formatAt } from '@sequor/eql';
import { isScalar, Scalar } from 'yaml';
import type { RuleIssueCode, RuleIssueLevel } from './errors.js';
import { RuleFileError } from './errors.js';

/** A point in the file: 1-based line and column, 0-based offset. */
export interface FilePosition {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

/** A run of value characters that appear verbatim in the file. */
interface Segment {
  readonly valueStart: number;
  readonly fileStart: number;
  readonly length: number;
}

/**
 * Maps offsets in a scalar's value to offsets in the file. Built by aligning each source line's text
 * (indentation, block header and quotes stripped) with the value, which covers literal, folded, plain and
 * quoted styles without re-implementing YAML's folding; a line whose text the value does not contain
 * verbatim (a double-quoted escape) maps to the end of the line before it.
 */
export class ScalarMap {
  private constructor(
    private readonly segments: readonly Segment[],
    private readonly nodeStart: number,
  ) {}

  static of(text: string, node: Scalar): ScalarMap {
    const [start, end] = node.range ?? [0, 0];
    const value = typeof node.value === 'string' ? node.value : String(node.value);
    const raw = text.slice(start, end);
    const block = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
    const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
    const segments: Segment[] = [];
    let cursor = 0;
    let lineStart = 0;
    const lines = raw.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const thisStart = lineStart;
      lineStart += line.length + 1;
      if (block && i === 0) continue; // the `|` / `>` header line
      let from = line.length - line.trimStart().length;
      let to = line.trimEnd().length;
      if (quoted && i === 0) from += 1;
      if (quoted && i === lines.length - 1 && to > from) to -= 1;
      if (to <= from) continue;
      // Escapes (`\"`, `\\`, `\x41` in double quotes, `''` in single quotes) change the text; the runs
      // between them appear verbatim in the value.
      const content = line.slice(from, to);
      const escape =
        node.type === Scalar.QUOTE_DOUBLE
          ? /\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g
          : node.type === Scalar.QUOTE_SINGLE
            ? /''/g
            : null;
      const runs: [number, number][] = [];
      let runStart = 0;
      if (escape) {
        for (const m of content.matchAll(escape)) {
          runs.push([runStart, m.index]);
          runStart = m.index + m[0].length;
        }
      }
      runs.push([runStart, content.length]);
      for (const [a, b] of runs) {
        if (b <= a) continue;
        const piece = content.slice(a, b);
        const at = value.indexOf(piece, cursor);
        if (at < 0) continue;
        segments.push({ valueStart: at, fileStart: start + thisStart + from + a, length: piece.length });
        cursor = at + piece.length;
      }
    }
    return new ScalarMap(segments, start);
  }

  /** The file offset of a value offset; past the end of a segment it sticks to the segment's end. */
  fileOffset(valueOffset: number): number {
    let found: Segment | undefined;
    for (const s of this.segments) {
      if (s.valueStart > valueOffset) break;
      found = s;
    }
    if (found === undefined) return this.segments[0]?.fileStart ?? this.nodeStart;
    return found.fileStart + Math.min(valueOffset - found.valueStart, found.length);
  }
}

/** A key path into the rule document: `['tests', 0, 'events', 2]`. */
export type DocPath = readonly (string | number)[];

/**
 * The file text, its line index and the YAML node of every path: enough to point any later finding at
 * file:line:col. Kept on each loaded rule so lint and compile errors found after loading are positioned too.
 */
export class RuleSourceMap {
  private readonly scalarMaps = new Map<string, ScalarMap>();
  /**
   * Offsets where lines start, breaking at `\r\n`, `\r` and `\n` as the caret renderer does. Ours, not
   * yaml's LineCounter: that one records only the breaks its lexer passes through, so an error after a
   * flow collection could be placed lines away from where it is.
   */
  private readonly lineStarts: readonly number[];

  constructor(
    readonly file: string,
    readonly text: string,
    private readonly nodeAt: (path: DocPath) => Node | undefined,
    private readonly keyNodeAt: (path: DocPath) => Node | undefined = () => undefined,
  ) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
    }
    this.lineStarts = starts;
  }

  position(offset: number): FilePosition {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    const starts = this.lineStarts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] as number) <= clamped) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: clamped - (starts[low] as number) + 1, offset: clamped };
  }

  /** The position of the node at `path` (its value), or of the nearest ancestor that exists. */
  positionOf(path: DocPath): FilePosition & { readonly length: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = this.nodeAt(path.slice(0, n));
      if (node?.range) {
        const [start, end] = node.range;
        return {
          ...this.position(start),
          length: Math.max(1, Math.min(end, lineEnd(this.text, start)) - start),
        };
      }
    }
    return { ...this.position(0), length: 1 };
  }

  /** The position of the key of the mapping entry at `path` (for "unknown key"), else of its value. */
  positionOfKey(path: DocPath): FilePosition & { readonly length: number } {
    const key = this.keyNodeAt(path);
    if (key?.range) {
      const [start, end] = key.range;
      return { ...this.position(start), length: Math.max(1, end - start) };
    }
    return this.positionOf(path);
  }

  /** The position of a value offset inside the string scalar at `path` (e.g. an EQL error in `query`). */
  positionInScalar(path: DocPath, valueOffset: number): FilePosition {
    const key = JSON.stringify(path);
    let map = this.scalarMaps.get(key);
    if (map === undefined) {
      const node = this.nodeAt(path);
      if (!isScalar(node)) return this.positionOf(path);
      map = ScalarMap.of(this.text, node);
      this.scalarMaps.set(key, map);
    }
    return this.position(map.fileOffset(valueOffset));
  }

  /** An issue at a file position, with the caret snippet. */
  issue(
    at: FilePosition,
    code: RuleIssueCode,
    detail: string,
    options: { readonly level?: RuleIssueLevel; readonly length?: number; readonly cause?: unknown } = {},
  ): RuleFileError {
    const length = Math.max(1, options.length ?? 1);
    const level = options.level ?? 'error';
    return new RuleFileError({
      file: this.file,
      line: at.line,
      column: at.column,
      offset: at.offset,
      length,
      code,
      level,
      detail,
      // The same caret format as EQL errors, in file coordinates.
      snippet: formatAt(
        this.text,
        { ...at, length },
        level === 'warning' ? `warning: ${detail}` : detail,
        this.file,
      ),
      cause: options.cause,
    });
  }

  /** An issue about the node at `path`. */
  issueAt(
    path: DocPath,
    code: RuleIssueCode,
    detail: string,
    options: { readonly level?: RuleIssueLevel; readonly cause?: unknown } = {},
  ): RuleFileError {
    const at = this.positionOf(path);
    return this.issue(at, code, detail, { ...options, length: at.length });
  }
}

function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl < 0 ? text.length : nl;
}
