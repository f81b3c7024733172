import type { Expr, FieldExpr, Query } from '@sequor/eql';

/** Deep copy without `span` keys (and without `source`), for comparing ASTs by structure. */
export function stripSpans<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripSpans) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'span' || k === 'source') continue;
      out[k] = stripSpans(v);
    }
    return out as T;
  }
  return value;
}

type Bare<T> = T extends { span: unknown } ? Omit<T, 'span'> : T;

// Builders for expected ASTs (spans stripped).
export const field = (dotted: string, optional = false): Bare<FieldExpr> => ({
  kind: 'field',
  path: dotted.split('.'),
  optional,
});
export const path = (segments: string[], optional = false): Bare<FieldExpr> => ({
  kind: 'field',
  path: segments,
  optional,
});
export const lit = (value: string | number | boolean | null) => ({ kind: 'literal' as const, value });
export const cmp = (op: string, left: unknown, right: unknown) => ({
  kind: 'compare' as const,
  op,
  left,
  right,
});
export const and = (...operands: unknown[]) => ({ kind: 'and' as const, operands });
export const or = (...operands: unknown[]) => ({ kind: 'or' as const, operands });
export const not = (operand: unknown) => ({ kind: 'not' as const, operand });
export const match = (op: string, left: unknown, ...patterns: string[]) => ({
  kind: 'match' as const,
  op,
  left,
  patterns,
});

/** The `where` expression of an event query, spans stripped. */
export function whereOf(query: Query): Bare<Expr> {
  if (query.body.kind !== 'event') throw new Error(`expected an event query, got ${query.body.kind}`);
  return stripSpans(query.body.where);
}
