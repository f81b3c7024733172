/**
 * The fields a parsed query reads and the keys it correlates on, from the AST alone: used for lint
 * (partition compatibility), for the evidence fields an alert carries, and for the alert's key fields.
 */
import type { Expr, FieldExpr, Query, QueryItem } from '@sequor/eql';
import type { Rule } from './types.js';

/** A field's ECS name as written, without the `?` optional marker. */
export function fieldName(f: FieldExpr): string {
  return f.path.join('.');
}

function visitExpr(e: Expr, out: FieldExpr[]): void {
  switch (e.kind) {
    case 'field':
      out.push(e);
      return;
    case 'literal':
      return;
    case 'not':
      visitExpr(e.operand, out);
      return;
    case 'and':
    case 'or':
      for (const o of e.operands) visitExpr(o, out);
      return;
    case 'compare':
      visitExpr(e.left, out);
      visitExpr(e.right, out);
      return;
    case 'match':
      visitExpr(e.left, out);
      return;
    case 'in':
      visitExpr(e.left, out);
      for (const v of e.values) visitExpr(v, out);
      return;
    case 'call':
      for (const a of e.args) visitExpr(a, out);
      return;
    default: {
      const never: never = e;
      throw new Error(`unknown expression kind ${JSON.stringify(never)}`);
    }
  }
}

function items(query: Query): readonly QueryItem[] {
  const b = query.body;
  if (b.kind === 'event') return [];
  const all = [...b.items];
  if (b.kind !== 'sample' && b.until !== null) all.push(b.until);
  return all;
}

/** Every field reference in the query (conditions and keys), in source order. */
export function queryFieldRefs(query: Query): FieldExpr[] {
  const out: FieldExpr[] = [];
  const b = query.body;
  if (b.kind === 'event') {
    visitExpr(b.where, out);
    return out;
  }
  out.push(...b.by);
  for (const item of items(query)) {
    out.push(...item.by);
    visitExpr(item.query.where, out);
  }
  return out;
}

/** The distinct field names the query reads, in first-use order. */
export function queryFieldNames(query: Query): string[] {
  return [...new Set(queryFieldRefs(query).map(fieldName))];
}

/**
 * The correlation key of each item of a sequence/join/sample: the query-level `by` fields followed by the
 * item's own `by` fields (EQL compares them position by position). Empty for an event query.
 */
export function itemKeyFields(query: Query): FieldExpr[][] {
  const b = query.body;
  if (b.kind === 'event') return [];
  return items(query).map((item) => [...b.by, ...item.by]);
}

/** The fields a rule correlates on, for messages: query-level `by` + first item's `by`, or `group_by`. */
export function ruleKeyFields(rule: Rule): string[] {
  if (rule.type === 'sigma') return []; // a Sigma detection rule is an event filter: no key
  if (rule.type === 'sigma-correlation') return rule.correlation.groupBy.map((g) => g.name);
  if (rule.type === 'span_aggregation') return [...rule.groupBy];
  const keys = itemKeyFields(rule.ast);
  return (keys[0] ?? []).map(fieldName);
}

/** True for rules that keep state across events (sequence, join, sample, span_aggregation). */
export function isCorrelationRule(rule: Rule): boolean {
  switch (rule.type) {
    case 'sigma':
      return false;
    case 'span_aggregation':
    case 'sigma-correlation':
      return true;
    case 'eql':
      return rule.ast.body.kind !== 'event';
  }
}
