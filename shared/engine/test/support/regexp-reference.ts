/**
 * The RegExp translations the engine used before matching became linear (wildcards and Lucene regex to
 * backtracking JavaScript RegExps). Kept only as differential-test references: on small inputs, where
 * backtracking is harmless, the linear matchers must give the same answers.
 */
export function wildcardToRegExp(pattern: string): RegExp {
  let body = '';
  for (const char of pattern) {
    if (char === '*') body += '.*';
    else if (char === '?') body += '.';
    else body += char.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^(?:${body})$`, 'su');
}
class LuceneRegexError extends Error {
  constructor(
    message: string,
    /** Offset in the pattern. */
    readonly index: number,
  ) {
    super(message);
    this.name = 'LuceneRegexError';
  }
}

const SYNTAX_OUTSIDE = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);
const SYNTAX_INSIDE = new Set(['\\', ']', '[', '^', '-']);
const CLASS_ESCAPES = new Set(['d', 'D', 's', 'S', 'w', 'W']);
const MAX_INTERVAL_VALUES = 10_000;

function literal(char: string, insideClass: boolean): string {
  return (insideClass ? SYNTAX_INSIDE : SYNTAX_OUTSIDE).has(char) ? `\\${char}` : char;
}

/** The JavaScript source for a Lucene pattern (without anchors). Throws `LuceneRegexError`. */
export function luceneToJsSource(pattern: string): string {
  const chars = Array.from(pattern);
  let out = '';
  let depth = 0;
  let i = 0;
  const at = (): number => chars.slice(0, i).join('').length;
  while (i < chars.length) {
    const c = chars[i] as string;
    switch (c) {
      case '\\': {
        const next = chars[i + 1];
        if (next === undefined) throw new LuceneRegexError('pattern ends with a lone backslash', at());
        out += CLASS_ESCAPES.has(next) ? `\\${next}` : literal(next, false);
        i += 2;
        break;
      }
      case '"': {
        const end = chars.indexOf('"', i + 1);
        if (end < 0) throw new LuceneRegexError('unterminated "quoted" string', at());
        out += chars
          .slice(i + 1, end)
          .map((x) => literal(x, false))
          .join('');
        i = end + 1;
        break;
      }
      case '[': {
        i += 1;
        let body = '';
        if (chars[i] === '^') {
          body += '^';
          i += 1;
        }
        let closed = false;
        while (i < chars.length) {
          const d = chars[i] as string;
          if (d === ']') {
            closed = true;
            i += 1;
            break;
          }
          if (d === '\\') {
            const next = chars[i + 1];
            if (next === undefined) throw new LuceneRegexError('pattern ends with a lone backslash', at());
            body += CLASS_ESCAPES.has(next) ? `\\${next}` : literal(next, true);
            i += 2;
          } else if (d === '-' && body.length > 0 && body !== '^' && chars[i + 1] !== ']') {
            body += '-';
            i += 1;
          } else {
            body += literal(d, true);
            i += 1;
          }
        }
        if (!closed) throw new LuceneRegexError('unterminated character class', at());
        if (body === '' || body === '^') throw new LuceneRegexError('empty character class', at());
        out += `[${body}]`;
        break;
      }
      case '(':
        depth += 1;
        out += '(?:';
        i += 1;
        break;
      case ')':
        if (depth === 0) throw new LuceneRegexError('unbalanced ")"', at());
        depth -= 1;
        out += ')';
        i += 1;
        break;
      case '@':
        out += '.*';
        i += 1;
        break;
      case '#':
        out += '(?!)';
        i += 1;
        break;
      case '~':
        throw new LuceneRegexError("the complement operator '~' is not supported", at());
      case '&':
        throw new LuceneRegexError("the intersection operator '&' is not supported", at());
      case '<': {
        const end = chars.indexOf('>', i);
        const body = end < 0 ? '' : chars.slice(i + 1, end).join('');
        const m = /^(\d+)-(\d+)$/.exec(body);
        if (m === null) throw new LuceneRegexError("expected a numeric interval '<n-m>'", at());
        out += intervalSource(m[1] as string, m[2] as string, at());
        i = end + 1;
        break;
      }
      case '{': {
        const end = chars.indexOf('}', i);
        const body = end < 0 ? '' : chars.slice(i + 1, end).join('');
        if (!/^\d+(,\d*)?$/.test(body))
          throw new LuceneRegexError("expected a repeat '{n}', '{n,}' or '{n,m}'", at());
        out += `{${body}}`;
        i = end + 1;
        break;
      }
      case '.':
      case '*':
      case '+':
      case '?':
      case '|':
        out += c;
        i += 1;
        break;
      default:
        out += literal(c, false);
        i += 1;
    }
  }
  if (depth !== 0) throw new LuceneRegexError('unbalanced "("', pattern.length);
  return out;
}

/** Lucene's `<n-m>`: fixed width (leading zeros) when both bounds have the same width, else any leading zeros. */
function intervalSource(low: string, high: string, index: number): string {
  let min = Number(low);
  let max = Number(high);
  if (min > max) [min, max] = [max, min];
  if (max - min + 1 > MAX_INTERVAL_VALUES) {
    throw new LuceneRegexError(
      `numeric interval <${low}-${high}> has more than ${MAX_INTERVAL_VALUES} values`,
      index,
    );
  }
  const width = low.length === high.length ? low.length : 0;
  const values: string[] = [];
  for (let v = max; v >= min; v--) values.push(width > 0 ? String(v).padStart(width, '0') : String(v));
  return width > 0 ? `(?:${values.join('|')})` : `0*(?:${values.join('|')})`;
}

/** Compile once: anchored, `s` (dot matches newlines, as Lucene's does) and `u`; `i` for `regex~`. */
export function compileLuceneRegexAsJs(pattern: string, caseInsensitive: boolean): RegExp {
  const source = luceneToJsSource(pattern);
  try {
    return new RegExp(`^(?:${source})$`, caseInsensitive ? 'sui' : 'su');
  } catch (error) {
    throw new LuceneRegexError(`not a valid regular expression: ${(error as Error).message}`, 0);
  }
}
