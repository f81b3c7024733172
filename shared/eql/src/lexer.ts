import { EqlSyntaxError } from './errors.js';

/**
 * Tokens of the EQL subset. Keywords are not a separate kind: they are `ident` tokens the parser
 * recognises by exact (lowercase) text, so `event.sequence` still works as a field path.
 */
export type TokenKind = 'ident' | 'quoted' | 'string' | 'number' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token (for `ident` with a tilde, including the `~`). */
  readonly text: string;
  /** Decoded value: the identifier name without `~`, the unquoted name, the unescaped string, the number. */
  readonly value: string | number;
  /** `ident` only: written as `name~` (case-insensitive operator or function). */
  readonly tilde: boolean;
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

/** Two-character punctuation first so `==` never lexes as `=` `=`. `![` opens a missing-event item. */
const PUNCT2 = ['==', '!=', '<=', '>=', '!['] as const;
const PUNCT1 = '<>=:()[],.|?-+*/%';

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isIdentStart = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '@');
const isIdentPart = (c: string | undefined): boolean => isIdentStart(c) || isDigit(c);
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  '"': '"',
  "'": "'",
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
};

/** Splits a query into tokens; comments and whitespace are dropped. Throws `EqlSyntaxError` on bad input. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;

  const fail = (
    message: string,
    at: number,
    atLine: number,
    atLineStart: number,
    length = 1,
    found?: string,
  ): never => {
    throw new EqlSyntaxError(message, {
      line: atLine,
      column: at - atLineStart + 1,
      offset: at,
      length,
      found: found ?? (at < source.length ? source.slice(at, at + length) : 'end of input'),
      source,
    });
  };

  /** Advances over one character, keeping line bookkeeping (`\r\n`, `\n` and lone `\r` end a line). */
  const advance = (): void => {
    const c = source[pos];
    pos++;
    if (c === '\n' || (c === '\r' && source[pos] !== '\n')) {
      line++;
      lineStart = pos;
    }
  };

  // Where the current token began; `push` is created once, not per token.
  let start = 0;
  let startLine = 1;
  let startLineStart = 0;
  const push = (kind: TokenKind, value: string | number, tilde = false): void => {
    tokens.push({
      kind,
      text: source.slice(start, pos),
      value,
      tilde,
      start,
      end: pos,
      line: startLine,
      column: start - startLineStart + 1,
    });
  };

  while (pos < source.length) {
    const c = source[pos]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      advance();
      continue;
    }
    if (c === '/' && source[pos + 1] === '/') {
      while (pos < source.length && source[pos] !== '\n' && source[pos] !== '\r') advance();
      continue;
    }
    if (c === '/' && source[pos + 1] === '*') {
      // Nested, as in Elasticsearch's grammar, so commenting out a block that holds a comment works.
      const open = { pos, line, lineStart };
      let depth = 0;
      while (pos < source.length) {
        if (source[pos] === '/' && source[pos + 1] === '*') {
          depth++;
          advance();
          advance();
        } else if (source[pos] === '*' && source[pos + 1] === '/') {
          depth--;
          advance();
          advance();
          if (depth === 0) break;
        } else advance();
      }
      if (depth !== 0)
        fail('unterminated comment: "/*" has no matching "*/"', open.pos, open.line, open.lineStart, 2);
      continue;
    }

    start = pos;
    startLine = line;
    startLineStart = lineStart;

    if (isIdentStart(c)) {
      while (isIdentPart(source[pos])) pos++;
      const name = source.slice(start, pos);
      if (source[pos] === '~') {
        pos++;
        push('ident', name, true);
      } else push('ident', name);
      continue;
    }

    if (isDigit(c)) {
      while (isDigit(source[pos])) pos++;
      if (source[pos] === '.' && isDigit(source[pos + 1])) {
        pos++;
        while (isDigit(source[pos])) pos++;
      }
      if (source[pos] === 'e' || source[pos] === 'E') {
        const sign = source[pos + 1] === '+' || source[pos + 1] === '-' ? 1 : 0;
        if (isDigit(source[pos + 1 + sign])) {
          pos += 1 + sign;
          while (isDigit(source[pos])) pos++;
        }
      }
      const value = Number(source.slice(start, pos));
      if (!Number.isFinite(value)) fail('number out of range', start, startLine, startLineStart, pos - start);
      push('number', value);
      continue;
    }

    if (c === '`') {
      // Backquoted name; a doubled backquote stands for one backquote (Elasticsearch's escape).
      let name = '';
      pos++;
      for (;;) {
        if (pos >= source.length || source[pos] === '\n' || source[pos] === '\r') {
          fail('unterminated backquoted name', start, startLine, startLineStart, pos - start);
        }
        if (source[pos] === '`') {
          if (source[pos + 1] === '`') {
            name += '`';
            pos += 2;
            continue;
          }
          pos++;
          break;
        }
        name += source[pos];
        pos++;
      }
      if (name.length === 0) fail('empty backquoted name', start, startLine, startLineStart, 2);
      push('quoted', name);
      continue;
    }

    if (c === '"' && source.startsWith('"""', pos)) {
      // Raw string: no escapes, may span lines, ends at the next `"""`.
      const close = source.indexOf('"""', pos + 3);
      if (close < 0)
        fail('unterminated raw string: """ has no closing """', start, startLine, startLineStart, 3);
      const value = source.slice(pos + 3, close);
      while (pos < close + 3) advance();
      push('string', value);
      continue;
    }

    if (c === '"') {
      let value = '';
      pos++;
      for (;;) {
        const ch = source[pos];
        if (ch === undefined || ch === '\n' || ch === '\r') {
          fail(
            'unterminated string (use """...""" for text spanning lines)',
            start,
            startLine,
            startLineStart,
            pos - start,
            source.slice(start, pos),
          );
        }
        if (ch === '"') {
          pos++;
          break;
        }
        if (ch === '\\') {
          const esc = source[pos + 1];
          const simple = esc === undefined ? undefined : SIMPLE_ESCAPES[esc];
          if (simple !== undefined) {
            value += simple;
            pos += 2;
            continue;
          }
          if (esc === 'u' && source[pos + 2] === '{') {
            let end = pos + 3;
            while (isHex(source[end])) end++;
            const digits = end - (pos + 3);
            const code = parseInt(source.slice(pos + 3, end), 16);
            if (source[end] !== '}' || digits < 2 || digits > 8 || code > 0x10ffff) {
              fail(
                'bad unicode escape: expected \\u{XX} with 2 to 8 hex digits, at most 10FFFF',
                pos,
                startLine,
                startLineStart,
                end + 1 - pos,
              );
            }
            value += String.fromCodePoint(code);
            pos = end + 1;
            continue;
          }
          fail(
            'unknown escape sequence (known: \\\\ \\" \\\' \\n \\t \\r \\b \\f \\u{...}; write a backslash as \\\\)',
            pos,
            startLine,
            startLineStart,
            esc === undefined ? 1 : 2,
          );
        }
        value += ch;
        pos++;
      }
      push('string', value);
      continue;
    }

    if (c === "'") {
      fail(
        'single-quoted strings are not EQL in Elasticsearch: use double quotes',
        start,
        startLine,
        startLineStart,
      );
    }

    const two = source.slice(pos, pos + 2);
    if ((PUNCT2 as readonly string[]).includes(two)) {
      pos += 2;
      push('punct', two);
      continue;
    }
    if (PUNCT1.includes(c)) {
      pos++;
      push('punct', c);
      continue;
    }
    if (c === '!')
      fail(
        'unexpected "!": write "not" for negation, "!=" for inequality, "![" for a missing event',
        start,
        startLine,
        startLineStart,
      );
    if (c === '&' || c === '~') {
      const hint =
        c === '&' ? ' (write "and")' : ' ("~" must directly follow like, in, regex or a function name)';
      fail(`unexpected character "${c}"${hint}`, start, startLine, startLineStart);
    }
    const cp = source.codePointAt(pos)!;
    fail(
      `unexpected character "${String.fromCodePoint(cp)}"`,
      start,
      startLine,
      startLineStart,
      cp > 0xffff ? 2 : 1,
    );
  }

  // End of input sits right after the last token, not after trailing blank lines or comments, so a caret
  // for "query ended too early" lands where the writer stopped typing.
  const last = tokens[tokens.length - 1];
  const eof =
    last === undefined
      ? { at: 0, line: 1, column: 1 }
      : { at: last.end, line: last.line, column: last.column + (last.end - last.start) };
  if (last !== undefined && /[\r\n]/.test(last.text)) {
    // A raw string spanning lines: count from its final line.
    const breaks = last.text.match(/\r\n|\r|\n/g)?.length ?? 0;
    eof.line = last.line + breaks;
    eof.column = last.text.length - Math.max(last.text.lastIndexOf('\n'), last.text.lastIndexOf('\r'));
  }
  tokens.push({
    kind: 'eof',
    text: '',
    value: '',
    tilde: false,
    start: eof.at,
    end: eof.at,
    line: eof.line,
    column: eof.column,
  });
  return tokens;
}
