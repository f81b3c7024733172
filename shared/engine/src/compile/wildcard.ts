/**
 * Elasticsearch EQL wildcard patterns (`:`, `like`, `like~`): `*` matches any run of characters, `?` exactly
 * one code point; every other character is literal, backslash included (ES builds the Lucene wildcard with an
 * escape character that cannot occur, so `"*\\Software\\Remcos*"` matches literal backslashes). Matching is
 * over the whole value.
 *
 * Each pattern compiles once to the cheapest test that is exact: `===` for a literal, `startsWith` for
 * `prefix*`, `endsWith` for `*suffix`, `includes` for `*mid*`, else the segment matcher below. Nothing
 * backtracks: an attacker writes the command lines these patterns read, and a backtracking RegExp for
 * `*a*a*a*b` is exponential in the number of stars. Case-insensitive patterns are lower-cased here; the
 * caller lower-cases the value once per evaluation.
 */
export type StringMatcher = (value: string) => boolean;

const anyString: StringMatcher = () => true;

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** `?` inside a segment's code points. Code points are non-negative, so -1 is free. */
const ANY = -1;

/**
 * A run of the pattern between stars. `points` is null when the run has no `?` (then `indexOf` finds it);
 * otherwise its code points with `ANY` for `?`, matched by `segmentAt`.
 */
interface Segment {
  readonly text: string;
  readonly points: Int32Array | null;
  /** Fewest UTF-16 units the segment can match (each `?` takes at least one). */
  readonly minUnits: number;
}

function segment(text: string): Segment {
  if (!text.includes('?')) return { text, points: null, minUnits: text.length };
  const points = Int32Array.from(Array.from(text, (c) => (c === '?' ? ANY : (c.codePointAt(0) as number))));
  let minUnits = 0;
  for (const p of points) minUnits += p > 0xffff ? 2 : 1;
  return { text, points, minUnits };
}

/** Where `points` matching at `pos` ends, or -1. One pass over the segment: no backtracking. */
function segmentAt(value: string, pos: number, points: Int32Array): number {
  const n = value.length;
  for (let k = 0; k < points.length; k++) {
    if (pos >= n) return -1;
    const c = value.codePointAt(pos) as number;
    const want = points[k] as number;
    if (want !== ANY && want !== c) return -1;
    pos += c > 0xffff ? 2 : 1;
  }
  return pos;
}

/** The leftmost match of `seg` at or after `from`, as its end offset; -1 when there is none. */
function findSegment(value: string, from: number, seg: Segment): number {
  if (seg.points === null) {
    const at = value.indexOf(seg.text, from);
    return at < 0 ? -1 : at + seg.text.length;
  }
  const last = value.length - seg.minUnits;
  for (let p = from; p <= last;) {
    const end = segmentAt(value, p, seg.points);
    if (end >= 0) return end;
    const c = value.charCodeAt(p);
    // Step one code point, so `?` never starts inside a surrogate pair (as the `u` RegExp did).
    p +=
      c >= 0xd800 && c <= 0xdbff && p + 1 < value.length && (value.charCodeAt(p + 1) & 0xfc00) === 0xdc00
        ? 2
        : 1;
  }
  return -1;
}

/** Where the last `count` code points of `value` start, or -1 when it has fewer. */
function startOfLast(value: string, count: number): number {
  let p = value.length;
  for (let k = 0; k < count; k++) {
    if (p === 0) return -1;
    p -= 1;
    if (p > 0 && (value.charCodeAt(p) & 0xfc00) === 0xdc00 && (value.charCodeAt(p - 1) & 0xfc00) === 0xd800)
      p -= 1;
  }
  return p;
}

/**
 * `head*mid1*mid2*…*tail`: the head must match at 0 and the tail at the end; each middle segment is taken
 * at its leftmost match after the previous one. Leftmost is always safe (a later start never ends earlier,
 * since a segment matches a fixed number of code points), so the scan only moves forward: at most
 * O(value × pattern) character comparisons, usually one `indexOf` per segment.
 */
function segmentMatcher(pattern: string): StringMatcher {
  const parts = pattern.split(/\*+/u).map(segment);
  const head = parts[0] as Segment;
  if (parts.length === 1) {
    const points = head.points as Int32Array;
    return (value) => segmentAt(value, 0, points) === value.length;
  }
  const tail = parts[parts.length - 1] as Segment;
  const middle = parts.slice(1, -1).filter((s) => s.text.length > 0);
  const tailPoints = tail.points === null ? 0 : tail.points.length;
  const minUnits = parts.reduce((n, s) => n + s.minUnits, 0);
  return (value) => {
    if (value.length < minUnits) return false;
    let pos: number;
    if (head.points === null) {
      if (!value.startsWith(head.text)) return false;
      pos = head.text.length;
    } else {
      pos = segmentAt(value, 0, head.points);
      if (pos < 0) return false;
    }
    for (let i = 0; i < middle.length; i++) {
      pos = findSegment(value, pos, middle[i] as Segment);
      if (pos < 0) return false;
    }
    if (tail.points === null) return value.length - tail.text.length >= pos && value.endsWith(tail.text);
    const start = startOfLast(value, tailPoints);
    return start >= pos && segmentAt(value, start, tail.points) === value.length;
  };
}

/** One pattern, already lower-cased by the caller when case-insensitive. */
export function compileWildcard(pattern: string): StringMatcher {
  if (!hasWildcard(pattern)) return (value) => value === pattern;
  if (!pattern.includes('?')) {
    const inner = pattern.replace(/^\*+|\*+$/g, '');
    if (inner.length === 0) return anyString;
    if (!inner.includes('*')) {
      const leading = pattern.startsWith('*');
      const trailing = pattern.endsWith('*');
      if (leading && trailing) return (value) => value.includes(inner);
      if (trailing) return (value) => value.startsWith(inner);
      if (leading) return (value) => value.endsWith(inner);
    }
  }
  return segmentMatcher(pattern);
}

/**
 * A list of patterns matches when any does (`f : ("a*", "b")`). Literal patterns share one Set lookup;
 * the rest are tried in order.
 */
export function compileWildcardList(patterns: readonly string[], caseInsensitive: boolean): StringMatcher {
  const folded = caseInsensitive ? patterns.map((p) => p.toLowerCase()) : [...patterns];
  const literals = new Set(folded.filter((p) => !hasWildcard(p)));
  const wild = folded.filter(hasWildcard).map(compileWildcard);
  if (wild.length === 0) {
    if (literals.size === 1) {
      const only = [...literals][0] as string;
      return (value) => value === only;
    }
    return (value) => literals.has(value);
  }
  if (literals.size === 0 && wild.length === 1) return wild[0] as StringMatcher;
  return (value) => {
    if (literals.has(value)) return true;
    for (let i = 0; i < wild.length; i++) if ((wild[i] as StringMatcher)(value)) return true;
    return false;
  };
}

/**
 * How much work a pattern can cost per value, for `rules lint`: its middle segments, each one more search
 * through the value; those with `?` are compared code point by code point at every position.
 */
export function wildcardCost(pattern: string): { readonly innerSegments: readonly string[] } {
  return {
    innerSegments: pattern
      .split(/\*+/u)
      .slice(1, -1)
      .filter((s) => s.length > 0),
  };
}
