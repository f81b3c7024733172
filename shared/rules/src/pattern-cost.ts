/**
 * `rules lint` warnings for patterns that stay costly even though every match is linear. Wildcards run as a
 * forward-only segment search and regexes as an automaton (see `@sequor/engine` `compile/README.md`), so
 * no pattern can stall on one event; what remains is the constant factor per character of the value,
 * which attackers choose the length of (command lines and registry data reach tens of kilobytes). The
 * criterion, per pattern:
 *
 * - a wildcard with more than `MAX_INNER_SEGMENTS` inner segments (`*a*b*c*d*e*`): each one is another
 *   search through the value (and Elasticsearch itself warns against such patterns);
 * - a wildcard whose inner segment holds a `?` and has more than `MAX_QUESTION_SEGMENT` characters: it is
 *   compared character by character at every position, costing value length × segment length;
 * - a regex whose automaton has more than `MAX_REGEX_STATES` states: once the pattern's DFA cache is full
 *   (patterns like `(a|b)*a(a|b){12}` need thousands of DFA states), each character costs one step per
 *   live automaton state, up to that many.
 *
 * Invalid patterns are not reported here: `checkQuery` and the compiler refuse them.
 */
import type { Expr, Query } from '@sequor/eql';
import { compileLuceneRegex, LuceneRegexError, wildcardCost } from '@sequor/engine';

export const MAX_INNER_SEGMENTS = 4;
export const MAX_QUESTION_SEGMENT = 16;
export const MAX_REGEX_STATES = 1_000;

export interface SlowPattern {
  /** Offset of the pattern's expression in the query. */
  readonly offset: number;
  readonly length: number;
  readonly detail: string;
}

function wildcardFinding(pattern: string): string | null {
  const { innerSegments } = wildcardCost(pattern);
  if (innerSegments.length > MAX_INNER_SEGMENTS) {
    return `wildcard ${JSON.stringify(pattern)} has ${innerSegments.length} inner segments between stars (more than ${MAX_INNER_SEGMENTS}): each is another search through every value; match fewer parts, or use a regex with literal anchors`;
  }
  const long = innerSegments.find((s) => s.includes('?') && Array.from(s).length > MAX_QUESTION_SEGMENT);
  if (long !== undefined) {
    return `wildcard ${JSON.stringify(pattern)} has an inner segment with "?" longer than ${MAX_QUESTION_SEGMENT} characters: it is compared character by character at every position of the value`;
  }
  return null;
}

function regexFinding(pattern: string, caseInsensitive: boolean): string | null {
  let states: number;
  try {
    states = compileLuceneRegex(pattern, caseInsensitive).states;
  } catch (error) {
    if (error instanceof LuceneRegexError) return null;
    throw error;
  }
  if (states <= MAX_REGEX_STATES) return null;
  return `regex ${JSON.stringify(pattern)} compiles to an automaton of ${states} states (more than ${MAX_REGEX_STATES}): values that overflow its DFA cache cost up to ${states} steps per character; use smaller {n,m} repeats or intervals`;
}

function visit(e: Expr, out: SlowPattern[]): void {
  const report = (detail: string | null): void => {
    if (detail !== null) out.push({ offset: e.span.start, length: e.span.end - e.span.start, detail });
  };
  switch (e.kind) {
    case 'match':
      visit(e.left, out);
      for (const p of e.patterns) {
        report(
          e.op === 'regex' || e.op === 'regex~' ? regexFinding(p, e.op === 'regex~') : wildcardFinding(p),
        );
      }
      return;
    case 'call':
      e.args.forEach((a) => visit(a, out));
      if (e.name === 'wildcard') {
        for (const a of e.args.slice(1))
          if (a.kind === 'literal' && typeof a.value === 'string') report(wildcardFinding(a.value));
      }
      return;
    case 'not':
      visit(e.operand, out);
      return;
    case 'and':
    case 'or':
      e.operands.forEach((o) => visit(o, out));
      return;
    case 'compare':
      visit(e.left, out);
      visit(e.right, out);
      return;
    case 'in':
      visit(e.left, out);
      return;
    case 'field':
    case 'literal':
      return;
  }
}

/** Every pattern in the query that would be slow per value, in source order. */
export function slowPatterns(query: Query): SlowPattern[] {
  const out: SlowPattern[] = [];
  const body = query.body;
  if (body.kind === 'event') visit(body.where, out);
  else
    for (const item of body.kind === 'sample' || body.until === null
      ? body.items
      : [...body.items, body.until])
      visit(item.query.where, out);
  return out;
}
