/**
 * Lucene regular expressions, the syntax of Elasticsearch's `regexp` query with every optional operator on,
 * which EQL's `regex` / `regex~` use. This module is the one parser: `checkQuery` validates patterns with it
 * and the engine compiles its tree to an automaton (`@sequor/engine` `compile/lucene-automaton.ts`).
 *
 * Lucene, not JavaScript: the match is always over the whole value, so `^` and `$` are literal characters;
 * `"…"` quotes a literal string (no escapes inside); `\c` is the literal `c` except the classes `\d \s \w`
 * (and upper case), with Java's ASCII meanings; `.` is any code point, newlines included; `@` is any string,
 * `#` the empty language, `()` the empty string; `<n-m>` is a decimal interval (fixed width when both bounds
 * have the same number of digits, else any number of leading zeros). Quantifiers stack (`a+?` is "`a+`,
 * optional", not lazy). Refused with a positioned error rather than read as Lucene's parser happens to:
 * `~` (complement) and `&` (intersection), which would need a determinized automaton per pattern; a
 * quantifier with nothing before it (Lucene silently reads `*abc` as a literal `*`, which is almost always a
 * wildcard written as a regex); an empty alternative (`a|`, which Lucene refuses or reads as a literal `|`).
 */

export class LuceneRegexError extends Error {
  constructor(
    message: string,
    /** UTF-16 offset in the pattern where the problem is. */
    readonly index: number,
  ) {
    super(message);
    this.name = 'LuceneRegexError';
  }
}

/** Inclusive code point ranges, sorted and merged: `[lo0, hi0, lo1, hi1, …]`. */
export type CodePointRanges = readonly number[];

export type LuceneRegexNode =
  /** `()` or `""`: the empty string. */
  | { readonly kind: 'empty'; readonly start: number }
  /** `#`: matches nothing. */
  | { readonly kind: 'nothing'; readonly start: number }
  /** `@`: any string. */
  | { readonly kind: 'anyString'; readonly start: number }
  /** `.`: any one code point. */
  | { readonly kind: 'anyChar'; readonly start: number }
  /** One literal code point (a plain character, an escaped one, or one of a quoted string). */
  | { readonly kind: 'char'; readonly codePoint: number; readonly start: number }
  /** `[…]`, `[^…]`, `\d`, `\D`…: one code point in (or, negated, not in) `ranges`. */
  | {
      readonly kind: 'class';
      readonly negated: boolean;
      readonly ranges: CodePointRanges;
      readonly start: number;
    }
  /** `<min-max>`; `width` > 0 means exactly that many digits (zero-padded), 0 any number of leading zeros. */
  | {
      readonly kind: 'interval';
      readonly min: number;
      readonly max: number;
      readonly width: number;
      readonly start: number;
    }
  | { readonly kind: 'concat'; readonly items: readonly LuceneRegexNode[]; readonly start: number }
  | { readonly kind: 'union'; readonly items: readonly LuceneRegexNode[]; readonly start: number }
  /** `?` `*` `+` `{n}` `{n,}` `{n,m}`; `max` null is unbounded. */
  | {
      readonly kind: 'repeat';
      readonly item: LuceneRegexNode;
      readonly min: number;
      readonly max: number | null;
      readonly start: number;
    };

/** Parentheses deeper than this are refused: recursion would otherwise overflow the stack on hostile rules. */
export const MAX_REGEX_NESTING = 100;
/** Lucene parses interval bounds as Java ints. */
const MAX_INTERVAL_BOUND = 2 ** 31 - 1;
/** `{n,m}` bounds above this are refused outright (the engine bounds the expanded size separately). */
const MAX_REPEAT_BOUND = 10_000;
const MAX_CODE_POINT = 0x10ffff;

const DIGIT: CodePointRanges = [0x30, 0x39];
/** Java's `\s`, which Lucene uses: space, \t, \n, \x0B, \f, \r. */
const SPACE: CodePointRanges = [0x09, 0x0d, 0x20, 0x20];
const WORD: CodePointRanges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];

/** Sorts and merges `[lo, hi, …]` pairs. */
export function normalizeRanges(pairs: readonly number[]): number[] {
  const list: [number, number][] = [];
  for (let i = 0; i < pairs.length; i += 2) list.push([pairs[i] as number, pairs[i + 1] as number]);
  list.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of list) {
    const last = out.length - 1;
    if (last > 0 && lo <= (out[last] as number) + 1) out[last] = Math.max(out[last] as number, hi);
    else out.push(lo, hi);
  }
  return out;
}

/** The code points not in `ranges` (which must be normalized). */
export function complementRanges(ranges: CodePointRanges): number[] {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    const lo = ranges[i] as number;
    if (lo > next) out.push(next, lo - 1);
    next = (ranges[i + 1] as number) + 1;
  }
  if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT);
  return out;
}

/** Parses a Lucene regular expression. Throws `LuceneRegexError` with the offending offset. */
export function parseLuceneRegex(pattern: string): LuceneRegexNode {
  return new Parser(pattern).parse();
}

/** Null when `pattern` is valid Lucene, else the error (for checkers that collect rather than throw). */
export function checkLuceneRegex(pattern: string): LuceneRegexError | null {
  try {
    parseLuceneRegex(pattern);
    return null;
  } catch (error) {
    if (error instanceof LuceneRegexError) return error;
    throw error;
  }
}

const QUANTIFIERS = '?*+{';

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly src: string) {}

  parse(): LuceneRegexNode {
    // Lucene reads an empty pattern as the empty string.
    if (this.src.length === 0) return { kind: 'empty', start: 0 };
    const node = this.union();
    if (this.pos < this.src.length) {
      // union() stops only at ')' (or at an operator it refuses, which throws).
      throw new LuceneRegexError('unbalanced ")": no "(" to close', this.pos);
    }
    return node;
  }

  private fail(message: string, at = this.pos): never {
    throw new LuceneRegexError(message, at);
  }

  private peek(): string | undefined {
    if (this.pos >= this.src.length) return undefined;
    return String.fromCodePoint(this.src.codePointAt(this.pos) as number);
  }

  /** The next code point, consumed. */
  private next(): number {
    const c = this.src.codePointAt(this.pos);
    if (c === undefined) this.fail('unexpected end of pattern');
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  private union(): LuceneRegexNode {
    const start = this.pos;
    const items = [this.concat()];
    while (this.peek() === '|') {
      this.pos += 1;
      items.push(this.concat());
    }
    return items.length === 1 ? (items[0] as LuceneRegexNode) : { kind: 'union', items, start };
  }

  private concat(): LuceneRegexNode {
    const start = this.pos;
    const items: LuceneRegexNode[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek())
      items.push(this.repeat());
    if (items.length === 0) {
      this.fail('empty alternative: use ? or () for an optional part');
    }
    return items.length === 1 ? (items[0] as LuceneRegexNode) : { kind: 'concat', items, start };
  }

  private repeat(): LuceneRegexNode {
    const start = this.pos;
    let node = this.atom();
    let stacked = 0;
    for (let c = this.peek(); c !== undefined && QUANTIFIERS.includes(c); c = this.peek()) {
      const at = this.pos;
      if (++stacked > MAX_REGEX_NESTING) this.fail(`more than ${MAX_REGEX_NESTING} quantifiers on one item`);
      this.pos += 1;
      if (c === '?') node = { kind: 'repeat', item: node, min: 0, max: 1, start };
      else if (c === '*') node = { kind: 'repeat', item: node, min: 0, max: null, start };
      else if (c === '+') node = { kind: 'repeat', item: node, min: 1, max: null, start };
      else {
        const min = this.integer('a repeat count after "{"');
        let max: number | null = min;
        if (this.peek() === ',') {
          this.pos += 1;
          max = this.peek() === '}' ? null : this.integer('a maximum repeat count or "}"');
        }
        if (this.peek() !== '}') this.fail('expected "}" to close the repeat {n}, {n,} or {n,m}');
        this.pos += 1;
        if (max !== null && max < min)
          this.fail(`repeat {${min},${max}}: the maximum is below the minimum`, at);
        node = { kind: 'repeat', item: node, min, max, start };
      }
    }
    return node;
  }

  private integer(what: string): number {
    const start = this.pos;
    while (
      this.pos < this.src.length &&
      this.src.charCodeAt(this.pos) >= 0x30 &&
      this.src.charCodeAt(this.pos) <= 0x39
    )
      this.pos += 1;
    if (this.pos === start) this.fail(`expected ${what}`);
    const value = Number(this.src.slice(start, this.pos));
    if (value > MAX_REPEAT_BOUND) this.fail(`repeat count ${value} is above ${MAX_REPEAT_BOUND}`, start);
    return value;
  }

  private atom(): LuceneRegexNode {
    const start = this.pos;
    const c = this.peek();
    switch (c) {
      case '.':
        this.pos += 1;
        return { kind: 'anyChar', start };
      case '@':
        this.pos += 1;
        return { kind: 'anyString', start };
      case '#':
        this.pos += 1;
        return { kind: 'nothing', start };
      case '~':
        return this.fail('the complement operator "~" is not supported (escape it as \\~ for a literal)');
      case '&':
        return this.fail('the intersection operator "&" is not supported (escape it as \\& for a literal)');
      case '?':
      case '*':
      case '+':
      case '{':
        return this.fail(
          `"${c}" has nothing to repeat (Lucene would read it as a literal; escape it as \\${c} if you mean that)`,
        );
      case '"': {
        const end = this.src.indexOf('"', start + 1);
        if (end < 0) this.fail('unterminated "quoted" string');
        this.pos = start + 1;
        const items: LuceneRegexNode[] = [];
        while (this.pos < end) items.push({ kind: 'char', start: this.pos, codePoint: this.next() });
        this.pos = end + 1;
        if (items.length === 0) return { kind: 'empty', start };
        return items.length === 1 ? (items[0] as LuceneRegexNode) : { kind: 'concat', items, start };
      }
      case '(': {
        this.pos += 1;
        if (this.peek() === ')') {
          this.pos += 1;
          return { kind: 'empty', start };
        }
        if (++this.depth > MAX_REGEX_NESTING)
          this.fail(`groups nested deeper than ${MAX_REGEX_NESTING}`, start);
        const inner = this.union();
        this.depth -= 1;
        if (this.peek() !== ')') this.fail('unbalanced "(": no ")" closes it', start);
        this.pos += 1;
        return inner;
      }
      case '[':
        return this.charClass();
      case '<':
        return this.interval();
      case '\\': {
        this.pos += 1;
        if (this.pos >= this.src.length) this.fail('pattern ends with a lone backslash', start);
        const predefined = this.predefined();
        if (predefined !== null) return { kind: 'class', ...predefined, start };
        return { kind: 'char', codePoint: this.next(), start };
      }
      default:
        return { kind: 'char', codePoint: this.next(), start };
    }
  }

  /** `\d \D \s \S \w \W` (the backslash already consumed), or null for any other escape. */
  private predefined(): { negated: boolean; ranges: CodePointRanges } | null {
    const c = this.peek();
    const ranges =
      c === 'd' || c === 'D' ? DIGIT : c === 's' || c === 'S' ? SPACE : c === 'w' || c === 'W' ? WORD : null;
    if (ranges === null) return null;
    this.pos += 1;
    return { negated: c === 'D' || c === 'S' || c === 'W', ranges };
  }

  private charClass(): LuceneRegexNode {
    const start = this.pos;
    this.pos += 1;
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos += 1;
    }
    const pairs: number[] = [];
    while (this.peek() !== ']') {
      if (this.pos >= this.src.length) this.fail('unterminated character class: no "]" closes it', start);
      const itemAt = this.pos;
      const low = this.classChar();
      if (typeof low !== 'number') {
        pairs.push(...low);
        continue;
      }
      if (this.peek() === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        this.pos += 1;
        const high = this.classChar();
        if (typeof high !== 'number') this.fail('a class escape such as \\d cannot end a range', itemAt);
        if (high < low)
          this.fail(
            `invalid range: ${String.fromCodePoint(low)} is after ${String.fromCodePoint(high)}`,
            itemAt,
          );
        pairs.push(low, high);
      } else {
        pairs.push(low, low);
      }
    }
    this.pos += 1;
    if (pairs.length === 0) this.fail('empty character class (write \\] for a literal "]")', start);
    return { kind: 'class', negated, ranges: normalizeRanges(pairs), start };
  }

  /** One class member: a code point, or the ranges of `\d`-style escapes (negated ones complemented). */
  private classChar(): number | number[] {
    if (this.peek() === '\\') {
      this.pos += 1;
      if (this.pos >= this.src.length) this.fail('pattern ends with a lone backslash', this.pos - 1);
      const predefined = this.predefined();
      if (predefined !== null)
        return predefined.negated ? complementRanges(predefined.ranges) : [...predefined.ranges];
    }
    return this.next();
  }

  private interval(): LuceneRegexNode {
    const start = this.pos;
    const end = this.src.indexOf('>', start);
    const m = end < 0 ? null : /^(\d+)-(\d+)$/.exec(this.src.slice(start + 1, end));
    if (m === null) this.fail('expected a numeric interval <n-m>, such as <1-65535>', start);
    const [low, high] = [m[1] as string, m[2] as string];
    let min = Number(low);
    let max = Number(high);
    if (min > MAX_INTERVAL_BOUND || max > MAX_INTERVAL_BOUND)
      this.fail(`numeric interval bounds must be at most ${MAX_INTERVAL_BOUND}`, start);
    if (min > max) [min, max] = [max, min];
    this.pos = end + 1;
    return { kind: 'interval', min, max, width: low.length === high.length ? low.length : 0, start };
  }
}
