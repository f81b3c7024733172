/**
 * Elasticsearch EQL wildcard patterns (`:`, `like`, `like~`): `*` matches any run of characters, `?` exactly
 * one; every other character is literal, backslash included (ES builds the Lucene wildcard with an escape
 * character that cannot occur, so `"*\\Software\\Remcos*"` matches literal backslashes). Matching is over
 * the whole value.
 *
 * Each pattern compiles once to the cheapest test that is exact: `===` for a literal, `startsWith` for
 * `prefix*`, `endsWith` for `*suffix`, `includes` for `*mid*`, one RegExp otherwise. Case-insensitive
 * patterns are lower-cased here; the caller lower-cases the value once per evaluation.
 */
export type StringMatcher = (value: string) => boolean;

const anyString: StringMatcher = () => true;

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
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
  const regex = wildcardToRegExp(pattern);
  return (value) => regex.test(value);
}

/** `a*b?c` → /^(?:a[^]*b.c)$/su: `.` with the `s` and `u` flags is exactly one code point, newlines included. */
export function wildcardToRegExp(pattern: string): RegExp {
  let body = '';
  for (const char of pattern) {
    if (char === '*') body += '.*';
    else if (char === '?') body += '.';
    else body += char.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^(?:${body})$`, 'su');
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
