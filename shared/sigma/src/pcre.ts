/**
 * Sigma's `re` values are PCRE-flavoured (SigmaHQ's tooling runs them with Python's `re`). This parser
 * reads the subset SigmaHQ rules use into the engine's regex tree (`LuceneRegexNode`), which
 * `compileRegexTree` turns into the same Thompson NFA + lazy DFA as EQL's `regex`: linear in the value,
 * whatever the pattern (a backtracking `RegExp` is exponential on `(a+)+b`, and attackers write the
 * command lines these patterns read).
 *
 * Supported: literals and escapes (`\t \n \r \f \v \0 \xHH \x{H…} \uHHHH`, escaped punctuation), `.`,
 * classes `\d \w \s \D \W \S` (ASCII meanings), `[…]` and `[^…]` with ranges and escapes, groups `(…)`,
 * `(?:…)`, `(?P<name>…)` / `(?<name>…)` (captures do not matter to a yes/no match), alternation,
 * quantifiers `* + ? {n} {n,} {,m} {n,m}` and their lazy forms (same language), flags `(?i) (?m) (?s)` at
 * the start, `^` at the start and `$` at the end of a top-level alternative. A search, not a whole-value
 * match: unanchored ends get `.*`.
 *
 * Refused with the reason (an automaton without assertions cannot run them): backreferences, lookahead and
 * lookbehind, `\b \B \A \Z \z \G`, atomic groups and possessive quantifiers, anchors elsewhere, flags after
 * the start or scoped, `\p{…}`, conditionals.
 */
import type { CodePointRanges, LuceneRegexNode } from '@sequor/eql';
import { MAX_REGEX_NESTING, normalizeRanges } from '@sequor/eql';

/** A pattern this parser cannot (or will not) read; `index` is the UTF-16 offset in the pattern. */
export class PcreError extends Error {
  constructor(
    message: string,
    readonly index: number,
    /** True for valid PCRE this package cannot run (refused), false for a malformed pattern. */
    readonly unsupported: boolean,
  ) {
    super(message);
    this.name = 'PcreError';
  }
}

export interface PcreFlags {
  /** Case-insensitive (`i` modifier or a leading `(?i)`). */
  readonly ignoreCase: boolean;
  /** `^` / `$` also at line breaks. */
  readonly multiline: boolean;
  /** `.` also matches `\n`. */
  readonly dotAll: boolean;
}

export interface ParsedPcre {
  /** Whole-value tree: a search is already wrapped in `.*` where unanchored. */
  readonly tree: LuceneRegexNode;
  /** The flags after the leading inline group, if any. */
  readonly flags: PcreFlags;
}

const MAX_CODE_POINT = 0x10ffff;
const MAX_REPEAT = 10_000;
/** Groups deeper than this never take the start/end position (each may be parsed twice to find out). */
const MAX_CONTEXT_DEPTH = 8;
const DIGIT: CodePointRanges = [0x30, 0x39];
const WORD: CodePointRanges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
/** Python's ASCII `\s`: space, \t \n \v \f \r, and the separators \x1c-\x1f. */
const SPACE: CodePointRanges = [0x09, 0x0d, 0x1c, 0x20];
const NEWLINE = 0x0a;

function complement(ranges: CodePointRanges): number[] {
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

const ASSERTIONS: Record<string, string> = {
  b: 'a word boundary (\\b)',
  B: 'a non-word-boundary (\\B)',
  A: 'a start-of-text assertion (\\A)',
  Z: 'an end-of-text assertion (\\Z)',
  z: 'an end-of-text assertion (\\z)',
  G: 'a \\G assertion',
};

class Parser {
  private pos = 0;
  private depth = 0;
  flags: { ignoreCase: boolean; multiline: boolean; dotAll: boolean };

  constructor(
    private readonly src: string,
    flags: PcreFlags,
  ) {
    this.flags = { ...flags };
  }

  private refuse(message: string, at = this.pos): never {
    throw new PcreError(message, at, true);
  }

  private fail(message: string, at = this.pos): never {
    throw new PcreError(message, at, false);
  }

  parse(): ParsedPcre {
    this.leadingFlags();
    const tree = this.alternation(true, true, 0);
    if (this.pos < this.src.length) {
      if (this.src[this.pos] === ')') this.fail('unbalanced parenthesis: `)` without `(`');
      this.fail(`unexpected \`${this.src[this.pos]}\``);
    }
    return { tree, flags: { ...this.flags } };
  }

  /** `(?i)`, `(?ms)`… at the very start set the flags for the whole pattern. */
  private leadingFlags(): void {
    const m = /^\(\?([a-zA-Z]+)\)/.exec(this.src);
    if (m === null) return;
    for (const f of m[1] as string) {
      if (f === 'i') this.flags.ignoreCase = true;
      else if (f === 'm') this.flags.multiline = true;
      else if (f === 's') this.flags.dotAll = true;
      else this.refuse(`inline flag \`${f}\` is not supported (only i, m, s)`, 2);
    }
    this.pos = m[0].length;
  }

  /** Branches separated by `|`, up to `)` or the end. */
  private alternation(atStart: boolean, atEnd: boolean, start: number): LuceneRegexNode {
    const branches: LuceneRegexNode[] = [];
    for (;;) {
      branches.push(this.branch(atStart, atEnd));
      if (this.src[this.pos] !== '|') break;
      this.pos += 1;
    }
    return branches.length === 1
      ? (branches[0] as LuceneRegexNode)
      : { kind: 'union', items: branches, start };
  }

  private atBranchEnd(): boolean {
    const c = this.src[this.pos];
    return c === undefined || c === '|' || c === ')';
  }

  /**
   * One alternative. `atStart` / `atEnd`: nothing of the pattern can come before / after it, so `^` may
   * open it and `$` close it, and it decides its own unanchored ends (`.*`, the search). A group first
   * (or last) in such a branch, unquantified, is in the same position, so `(^a$)|(^b$)` works.
   */
  private branch(atStart: boolean, atEnd: boolean): LuceneRegexNode {
    const start = this.pos;
    let anchoredStart = false;
    let anchoredEnd = false;
    let headDone = false;
    let tailDone = false;
    if (atStart && this.src[this.pos] === '^') {
      anchoredStart = true;
      this.pos += 1;
    }
    const items: LuceneRegexNode[] = [];
    while (!this.atBranchEnd()) {
      const c = this.src[this.pos] as string;
      if (c === '^')
        this.refuse('`^` is supported only where nothing can come before it (the start of the pattern)');
      if (c === '$') {
        const at = this.pos;
        this.pos += 1;
        if (!atEnd || !this.atBranchEnd()) {
          this.refuse('`$` is supported only where nothing can come after it (the end of the pattern)', at);
        }
        anchoredEnd = true;
        break;
      }
      const atomStart = this.pos;
      if (c === '(' && this.depth < MAX_CONTEXT_DEPTH) {
        const first = atStart && items.length === 0 && !anchoredStart;
        const tryParse = (s: boolean, e: boolean): LuceneRegexNode => {
          this.pos = atomStart;
          return this.group(s, e);
        };
        let groupStart = first;
        let groupEnd = atEnd;
        let node = tryParse(groupStart, groupEnd);
        const quantifiedNext = this.quantifierNext();
        if ((groupStart || groupEnd) && (quantifiedNext || (groupEnd && !this.atBranchEnd()))) {
          groupStart = groupStart && !quantifiedNext;
          groupEnd = false;
          node = tryParse(groupStart, groupEnd);
        }
        if (groupStart) headDone = true;
        if (groupEnd) tailDone = true;
        items.push(this.quantified(node, atomStart));
        continue;
      }
      const atom = this.atom();
      items.push(this.quantified(atom, atomStart));
    }
    const any: LuceneRegexNode = { kind: 'anyString', start };
    const nl: LuceneRegexNode = { kind: 'char', codePoint: NEWLINE, start };
    const empty: LuceneRegexNode = { kind: 'empty', start };
    let head: LuceneRegexNode = empty;
    if (atStart && !headDone) {
      if (!anchoredStart) head = any;
      else if (this.flags.multiline) {
        head = { kind: 'union', items: [empty, { kind: 'concat', items: [any, nl], start }], start };
      }
    }
    let tail: LuceneRegexNode = empty;
    if (atEnd && !tailDone) {
      if (!anchoredEnd) tail = any;
      else if (this.flags.multiline) {
        tail = { kind: 'union', items: [empty, { kind: 'concat', items: [nl, any], start }], start };
      } else {
        // Python's `$` without `m` also matches before one final newline.
        tail = { kind: 'repeat', item: nl, min: 0, max: 1, start };
      }
    }
    const all = [head, ...items, tail].filter((n) => n.kind !== 'empty');
    if (all.length === 0) return empty;
    return all.length === 1 ? (all[0] as LuceneRegexNode) : { kind: 'concat', items: all, start };
  }

  private quantifierNext(): boolean {
    const c = this.src[this.pos];
    return (
      c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d*(,\d*)?\}/.test(this.src.slice(this.pos)))
    );
  }

  private quantified(item: LuceneRegexNode, start: number): LuceneRegexNode {
    const c = this.src[this.pos];
    let min: number;
    let max: number | null;
    if (c === '*') [min, max] = [0, null];
    else if (c === '+') [min, max] = [1, null];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d*)(,(\d*))?\}/.exec(this.src.slice(this.pos));
      // Python reads `{` that does not open a valid repeat as a literal.
      if (m === null || (m[1] === '' && m[2] === undefined)) return item;
      min = m[1] === '' ? 0 : Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? null : Number(m[3]);
      if (min > MAX_REPEAT || (max !== null && max > MAX_REPEAT))
        this.refuse(`a repeat bound over ${MAX_REPEAT}`);
      if (max !== null && max < min) this.fail('a repeat with its maximum below its minimum');
      this.pos += m[0].length - 1;
    } else return item;
    this.pos += 1;
    const after = this.src[this.pos];
    if (after === '+') this.refuse('possessive quantifiers (`*+`, `++`, …) are not supported');
    if (after === '?') this.pos += 1; // lazy: the same yes/no answer as greedy
    const node: LuceneRegexNode = { kind: 'repeat', item, min, max, start };
    const next = this.src[this.pos];
    if (
      next === '*' ||
      next === '+' ||
      next === '?' ||
      (next === '{' && /^\{\d*(,\d*)?\}/.test(this.src.slice(this.pos)))
    ) {
      this.fail('multiple repeat: a quantifier cannot follow a quantifier');
    }
    return node;
  }

  private atom(): LuceneRegexNode {
    const start = this.pos;
    const c = this.src[this.pos] as string;
    if (c === '(') return this.group(false, false);
    if (c === '[') return this.charClass();
    if (c === '.') {
      this.pos += 1;
      return this.flags.dotAll
        ? { kind: 'anyChar', start }
        : { kind: 'class', negated: true, ranges: [NEWLINE, NEWLINE], start };
    }
    if (c === '*' || c === '+' || c === '?') this.fail(`nothing to repeat before \`${c}\``);
    if (c === '\\') return this.escape(false) as LuceneRegexNode;
    const cp = this.src.codePointAt(this.pos) as number;
    this.pos += cp > 0xffff ? 2 : 1;
    return { kind: 'char', codePoint: cp, start };
  }

  private group(atStart: boolean, atEnd: boolean): LuceneRegexNode {
    const start = this.pos;
    this.pos += 1;
    if (this.src[this.pos] === '?') {
      const rest = this.src.slice(this.pos + 1);
      if (rest.startsWith(':')) this.pos += 2;
      else if (/^P?<[A-Za-z_]\w*>/.test(rest))
        this.pos += 1 + (/^P?<[A-Za-z_]\w*>/.exec(rest) as RegExpExecArray)[0].length;
      else if (rest.startsWith('=') || rest.startsWith('!'))
        this.refuse('lookahead (`(?=…)`, `(?!…)`) is not supported', start);
      else if (rest.startsWith('<=') || rest.startsWith('<!'))
        this.refuse('lookbehind (`(?<=…)`, `(?<!…)`) is not supported', start);
      else if (rest.startsWith('>')) this.refuse('atomic groups (`(?>…)`) are not supported', start);
      else if (rest.startsWith('P=') || rest.startsWith('('))
        this.refuse('backreferences and conditionals are not supported', start);
      else if (/^[a-zA-Z-]+[:)]/.test(rest))
        this.refuse('inline flags are supported only as one group at the very start, e.g. `(?i)…`', start);
      else this.fail('unknown group syntax after `(?`', start);
    }
    if (++this.depth > MAX_REGEX_NESTING)
      this.refuse(`groups nested deeper than ${MAX_REGEX_NESTING}`, start);
    const inner = this.alternation(atStart, atEnd, start);
    if (this.src[this.pos] !== ')') this.fail('unbalanced parenthesis: `(` without `)`', start);
    this.pos += 1;
    this.depth -= 1;
    return inner;
  }

  /** An escape at `pos` (the backslash). In a class, returns ranges; outside, a node. */
  private escape(inClass: boolean): LuceneRegexNode | CodePointRanges {
    const start = this.pos;
    this.pos += 1;
    if (this.pos >= this.src.length) this.fail('a pattern cannot end with a backslash', start);
    const c = this.src[this.pos] as string;
    this.pos += 1;
    const cls = (ranges: CodePointRanges, negated: boolean): LuceneRegexNode | CodePointRanges =>
      inClass ? (negated ? complement(ranges) : ranges) : { kind: 'class', negated, ranges, start };
    const one = (cp: number): LuceneRegexNode | CodePointRanges =>
      inClass ? [cp, cp] : { kind: 'char', codePoint: cp, start };
    switch (c) {
      case 'd':
        return cls(DIGIT, false);
      case 'D':
        return cls(DIGIT, true);
      case 'w':
        return cls(WORD, false);
      case 'W':
        return cls(WORD, true);
      case 's':
        return cls(SPACE, false);
      case 'S':
        return cls(SPACE, true);
      case 't':
        return one(0x09);
      case 'n':
        return one(0x0a);
      case 'r':
        return one(0x0d);
      case 'f':
        return one(0x0c);
      case 'v':
        return one(0x0b);
      case 'a':
        return one(0x07);
      case '0': {
        // An octal escape, as Python's `re` and PCRE read it: `\0` and up to two more octal digits.
        const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos)) as RegExpExecArray;
        this.pos += m[0].length;
        return one(m[0].length === 0 ? 0 : parseInt(m[0], 8));
      }
      case 'x': {
        const m = /^(?:\{([0-9a-fA-F]{1,6})\}|([0-9a-fA-F]{2}))/.exec(this.src.slice(this.pos));
        if (m === null) this.fail('`\\x` needs two hex digits or `{…}`', start);
        this.pos += m[0].length;
        const cp = parseInt((m[1] ?? m[2]) as string, 16);
        if (cp > MAX_CODE_POINT) this.fail('code point out of range', start);
        return one(cp);
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.pos));
        if (m === null) this.fail('`\\u` needs four hex digits', start);
        this.pos += 4;
        return one(parseInt(m[0], 16));
      }
      case 'p':
      case 'P':
        return this.refuse('Unicode property classes (`\\p{…}`) are not supported', start);
      case 'Q':
        return this.refuse('`\\Q…\\E` quoting is not supported', start);
      case 'k':
      case 'g':
        return this.refuse('backreferences are not supported (not a regular language)', start);
      default:
        break;
    }
    if (/[1-9]/.test(c)) {
      if (inClass) this.fail('an octal escape in a class is not supported', start);
      this.refuse('backreferences are not supported (not a regular language)', start);
    }
    const assertion = ASSERTIONS[c];
    if (assertion !== undefined) {
      if (inClass && c === 'b') return one(0x08);
      this.refuse(`${assertion} is an assertion the automaton cannot run`, start);
    }
    if (/[A-Za-z]/.test(c)) this.fail(`unknown escape \`\\${c}\``, start);
    const cp = this.src.codePointAt(this.pos - 1) as number;
    if (cp > 0xffff) this.pos += 1;
    return one(cp);
  }

  private charClass(): LuceneRegexNode {
    const start = this.pos;
    this.pos += 1;
    let negated = false;
    if (this.src[this.pos] === '^') {
      negated = true;
      this.pos += 1;
    }
    const pairs: number[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unterminated character class `[`', start);
      const c = this.src[this.pos] as string;
      if (c === ']' && !first) {
        this.pos += 1;
        break;
      }
      first = false;
      const lo = this.classItem();
      if (
        lo.length === 2 &&
        lo[0] === lo[1] &&
        this.src[this.pos] === '-' &&
        this.src[this.pos + 1] !== ']' &&
        this.pos + 1 < this.src.length
      ) {
        const dash = this.pos;
        this.pos += 1;
        const hi = this.classItem();
        if (hi.length !== 2 || hi[0] !== hi[1])
          this.fail('a class range must end in a single character', dash);
        if ((hi[0] as number) < (lo[0] as number)) this.fail('a class range out of order', dash);
        pairs.push(lo[0] as number, hi[0] as number);
      } else pairs.push(...lo);
    }
    return { kind: 'class', negated, ranges: normalizeRanges(pairs), start };
  }

  private classItem(): CodePointRanges {
    if (this.src[this.pos] === '\\') return this.escape(true) as CodePointRanges;
    const cp = this.src.codePointAt(this.pos) as number;
    this.pos += cp > 0xffff ? 2 : 1;
    return [cp, cp];
  }
}

/**
 * Parses a Sigma `re` value into a whole-value tree (a search: unanchored ends get `.*`). Throws
 * `PcreError`: `unsupported` true for valid PCRE we refuse, false for a malformed pattern.
 */
export function parsePcre(pattern: string, flags: PcreFlags): ParsedPcre {
  return new Parser(pattern, flags).parse();
}
