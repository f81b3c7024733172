import { describe, expect, it } from 'vitest';
import { EqlSyntaxError, parse, tryParse } from '@sequor/eql';
import type {
  BooleanExpr,
  EventQuery,
  Expr,
  JoinQuery,
  SampleQuery,
  SequenceQuery,
  SourceSpan,
} from '@sequor/eql';
import { and, cmp, field, lit, match, not, or, path, stripSpans, whereOf } from './helpers.js';
import { SEED_QUERIES } from './seeds.js';

const where = (expr: string) => whereOf(parse(`process where ${expr}`));

describe('event queries', () => {
  it('parses a category and a where clause', () => {
    const q = parse('process where process.name == "cmd.exe"');
    expect(stripSpans(q.body)).toEqual({
      kind: 'event',
      category: 'process',
      where: cmp('==', field('process.name'), lit('cmd.exe')),
    });
    expect(q.pipes).toEqual([]);
    expect(q.source).toBe('process where process.name == "cmd.exe"');
  });

  it('parses `any where` as a null category', () => {
    const q = parse('any where true');
    expect(q.body.kind === 'event' && q.body.category).toBeNull();
  });

  it('accepts a quoted category', () => {
    const q = parse('"process" where true');
    expect(q.body.kind === 'event' && q.body.category).toBe('process');
  });

  it('parses pipes', () => {
    const q = parse('process where true | head 10 | tail 3');
    expect(stripSpans(q.pipes)).toEqual([
      { kind: 'head', count: 10 },
      { kind: 'tail', count: 3 },
    ]);
  });
});

describe('expressions', () => {
  it.each(['==', '!=', '<', '<=', '>', '>='])('parses the comparison %s', (op) => {
    expect(where(`file.size ${op} 3`)).toEqual(cmp(op, field('file.size'), lit(3)));
  });

  it('parses null checks as comparisons with a null literal', () => {
    expect(where('a != null')).toEqual(cmp('!=', field('a'), lit(null)));
    expect(where('a == null')).toEqual(cmp('==', field('a'), lit(null)));
  });

  it('parses literals', () => {
    expect(where('a == "x"')).toEqual(cmp('==', field('a'), lit('x')));
    expect(where('a == 12')).toEqual(cmp('==', field('a'), lit(12)));
    expect(where('a == 1.5')).toEqual(cmp('==', field('a'), lit(1.5)));
    expect(where('a == -7')).toEqual(cmp('==', field('a'), lit(-7)));
    expect(where('a == -2.25')).toEqual(cmp('==', field('a'), lit(-2.25)));
    expect(where('a == 1e3')).toEqual(cmp('==', field('a'), lit(1000)));
    expect(where('a == true')).toEqual(cmp('==', field('a'), lit(true)));
    expect(where('a == false')).toEqual(cmp('==', field('a'), lit(false)));
  });

  it('parses the : operator with one pattern and with a list', () => {
    expect(where('process.name : "svchost.exe"')).toEqual(match(':', field('process.name'), 'svchost.exe'));
    expect(where('f : ("a*", "b")')).toEqual(match(':', field('f'), 'a*', 'b'));
  });

  it.each(['like', 'like~', 'regex', 'regex~'])('parses %s with one pattern and a list', (op) => {
    expect(where(`f ${op} "a*"`)).toEqual(match(op, field('f'), 'a*'));
    expect(where(`f ${op} ("a*", "b?")`)).toEqual(match(op, field('f'), 'a*', 'b?'));
  });

  it('parses in, in~, not in, not in~', () => {
    const values = [lit('a'), lit(1), field('other.f')];
    const base = { kind: 'in', left: field('f'), values };
    expect(where('f in ("a", 1, other.f)')).toEqual({ ...base, caseInsensitive: false, negated: false });
    expect(where('f in~ ("a", 1, other.f)')).toEqual({ ...base, caseInsensitive: true, negated: false });
    expect(where('f not in ("a", 1, other.f)')).toEqual({ ...base, caseInsensitive: false, negated: true });
    expect(where('f not in~ ("a", 1, other.f)')).toEqual({ ...base, caseInsensitive: true, negated: true });
  });

  it('parses function calls, with and without ~', () => {
    expect(where('startsWith(process.name, "cmd")')).toEqual({
      kind: 'call',
      name: 'startsWith',
      caseInsensitive: false,
      args: [field('process.name'), lit('cmd')],
    });
    expect(where('endsWith~(f, "X")')).toMatchObject({
      kind: 'call',
      name: 'endsWith',
      caseInsensitive: true,
    });
    expect(where('length(f) > 3')).toEqual(
      cmp('>', { kind: 'call', name: 'length', caseInsensitive: false, args: [field('f')] }, lit(3)),
    );
    expect(where('f() == 1')).toMatchObject({ left: { kind: 'call', name: 'f', args: [] } });
  });

  it('parses backquoted, keyword and optional field paths', () => {
    expect(where('`@timestamp` > 0')).toEqual(cmp('>', path(['@timestamp']), lit(0)));
    expect(where('@timestamp > 0')).toEqual(cmp('>', path(['@timestamp']), lit(0)));
    expect(where('process.`name with space` == "x"')).toEqual(
      cmp('==', path(['process', 'name with space']), lit('x')),
    );
    expect(where('`a``b`.c == 1')).toEqual(cmp('==', path(['a`b', 'c']), lit(1)));
    expect(where('file.Ext.header_bytes : "7265*"')).toEqual(
      match(':', field('file.Ext.header_bytes'), '7265*'),
    );
    expect(where('event.sequence == 1')).toEqual(cmp('==', field('event.sequence'), lit(1)));
    expect(where('?user.id == "x"')).toEqual(cmp('==', field('user.id', true), lit('x')));
    expect(where('a_1.b2 == 1')).toEqual(cmp('==', field('a_1.b2'), lit(1)));
  });
});

describe('precedence', () => {
  it('binds not tighter than and, and tighter than or', () => {
    expect(where('not a == 1 and b == 2 or c == 3')).toEqual(
      or(
        and(not(cmp('==', field('a'), lit(1))), cmp('==', field('b'), lit(2))),
        cmp('==', field('c'), lit(3)),
      ),
    );
    expect(where('a or b and c')).toEqual(or(field('a'), and(field('b'), field('c'))));
  });

  it('flattens chains of the same operator', () => {
    expect(where('a and b and c')).toEqual(and(field('a'), field('b'), field('c')));
    expect(where('a or b or c')).toEqual(or(field('a'), field('b'), field('c')));
  });

  it('keeps parenthesised groups as written', () => {
    expect(where('(a or b) and c')).toEqual(and(or(field('a'), field('b')), field('c')));
    expect(where('(a and b) and c')).toEqual(and(and(field('a'), field('b')), field('c')));
    expect(where('not (a or b)')).toEqual(not(or(field('a'), field('b'))));
    expect(where('not not a')).toEqual(not(not(field('a'))));
  });

  it('applies not to the whole comparison', () => {
    expect(where('not user.name == "x"')).toEqual(not(cmp('==', field('user.name'), lit('x'))));
  });
});

describe('strings and comments', () => {
  it('decodes escapes', () => {
    expect(where(String.raw`a == "q\"b\\n\n\t\r\u{41}\u{1F600}"`)).toEqual(
      cmp('==', field('a'), lit('q"b\\n\n\t\rA\u{1F600}')),
    );
  });

  it('keeps triple-quoted strings raw, across lines', () => {
    expect(where('a : """C:\\Windows\\"x"\nend"""')).toEqual(match(':', field('a'), 'C:\\Windows\\"x"\nend'));
  });

  it('skips line and (nested) block comments', () => {
    const q = parse('// leading\nprocess /* a /* nested */ comment */ where a == 1 // trailing');
    expect(whereOf(q)).toEqual(cmp('==', field('a'), lit(1)));
  });
});

describe('sequence, join, sample', () => {
  it('parses a sequence with by, maxspan, per-item by, runs, missing and until', () => {
    const q = parse(`sequence by host.id with maxspan=5m
      [process where a == 1] by process.entity_id with runs=3
      ![file where true] by file.pid
      until [process where b == 2] by process.entity_id`);
    const body = stripSpans(q.body) as SequenceQuery;
    expect(body.kind).toBe('sequence');
    expect(body.by).toEqual([field('host.id')]);
    expect(body.maxspan).toEqual({ ms: 300_000, text: '5m' });
    expect(body.items).toHaveLength(2);
    expect(body.items[0]).toEqual({
      query: { kind: 'event', category: 'process', where: cmp('==', field('a'), lit(1)) },
      by: [field('process.entity_id')],
      runs: 3,
      missing: false,
    });
    expect(body.items[1]).toMatchObject({ missing: true, runs: 1, by: [field('file.pid')] });
    expect(body.until).toMatchObject({
      query: { category: 'process' },
      by: [field('process.entity_id')],
      missing: false,
    });
  });

  it('accepts with maxspan before by', () => {
    const body = parse('sequence with maxspan=10s by a [x where true] [y where true]').body as SequenceQuery;
    expect(body.maxspan?.ms).toBe(10_000);
    expect(stripSpans(body.by)).toEqual([field('a')]);
  });

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
  ])('converts maxspan=%s to %d ms', (text, ms) => {
    const body = parse(`sequence with maxspan=${text} [a where true] [b where true]`).body as SequenceQuery;
    expect(body.maxspan).toMatchObject({ ms, text });
  });

  it('parses a sequence without by or maxspan', () => {
    const body = parse('sequence [a where true] [b where true]').body as SequenceQuery;
    expect(body.by).toEqual([]);
    expect(body.maxspan).toBeNull();
    expect(body.until).toBeNull();
  });

  it('parses join with maxspan and until', () => {
    const body = stripSpans(
      parse(
        'join by host.id with maxspan=1h [process where true] by p [registry where true] by q until [x where true]',
      ).body,
    ) as JoinQuery;
    expect(body.kind).toBe('join');
    expect(body.maxspan).toEqual({ ms: 3_600_000, text: '1h' });
    expect(body.items.map((i) => i.by)).toEqual([[field('p')], [field('q')]]);
    expect(body.until?.query.category).toBe('x');
  });

  it('parses sample', () => {
    const body = stripSpans(
      parse('sample by host.id [a where true] [b where true] [c where true]').body,
    ) as SampleQuery;
    expect(body).toMatchObject({ kind: 'sample', by: [field('host.id')] });
    expect(body.items).toHaveLength(3);
  });
});

describe('tryParse', () => {
  it('returns the query or the syntax error', () => {
    const good = tryParse('a where true');
    expect(good.ok).toBe(true);
    const bad = tryParse('a where');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toBeInstanceOf(EqlSyntaxError);
  });
});

describe('spans', () => {
  /** Every object with a `span`, with its parent's span (null at the top). */
  function spans(
    value: unknown,
    parent: SourceSpan | null = null,
    out: Array<[SourceSpan, SourceSpan | null, string]> = [],
  ) {
    if (Array.isArray(value)) value.forEach((v) => spans(v, parent, out));
    else if (value !== null && typeof value === 'object') {
      const span = (value as { span?: SourceSpan }).span;
      const here = span ?? parent;
      if (span) out.push([span, parent, String((value as { kind?: string }).kind ?? 'item')]);
      for (const [k, v] of Object.entries(value)) if (k !== 'span') spans(v, here, out);
    }
    return out;
  }

  const lineColumn = (source: string, offset: number) => {
    const before = source.slice(0, offset);
    return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
  };

  it.each([
    ...SEED_QUERIES,
    'sequence by a with maxspan=1m\n  [x where (b or\n c) and not d in~ (1, 2)] by e with runs=2\n  ![y where f(g, -1)]\nuntil [z where ?h : ("a", "b")] | head 3',
  ])('puts a consistent span on every node: %#', (source) => {
    const q = parse(source);
    const all = spans(q);
    expect(all.length).toBeGreaterThan(5);
    for (const [span, parent, kind] of all) {
      expect(span.end, kind).toBeGreaterThan(span.start);
      expect(lineColumn(source, span.start), kind).toEqual({ line: span.line, column: span.column });
      expect(source[span.start], kind).not.toMatch(/\s/);
      expect(source[span.end - 1], kind).not.toMatch(/\s/);
      if (parent) {
        expect(span.start, kind).toBeGreaterThanOrEqual(parent.start);
        expect(span.end, kind).toBeLessThanOrEqual(parent.end);
      }
    }
  });

  it('points at the field text on a later line', () => {
    const q = parse(SEED_QUERIES[0]!);
    const body = q.body as SequenceQuery;
    const second = body.items[1]!.query.where as BooleanExpr;
    const size = (second.operands[4] as Extract<Expr, { kind: 'compare' }>).left;
    const line7 = SEED_QUERIES[0]!.split('\n')[6]!;
    expect(size.span).toMatchObject({ line: 7, column: line7.indexOf('file.size') + 1 });
    expect(SEED_QUERIES[0]!.slice(size.span.start, size.span.end)).toBe('file.size');
    expect(body.maxspan?.span).toMatchObject({ line: 1, column: 43 });
    expect(SEED_QUERIES[0]!.slice(body.maxspan!.span.start, body.maxspan!.span.end)).toBe('1m');
  });

  it('covers parentheses in the span of a grouped expression', () => {
    const q = parse('process where (a or b) and c');
    const where = (q.body as EventQuery).where as BooleanExpr;
    expect(q.source.slice(where.operands[0]!.span.start, where.operands[0]!.span.end)).toBe('(a or b)');
  });
});
