/**
 * Meta filters as exceptions, applied before matching: each filter's searches join the target rule's
 * (renamed so they cannot clash) and its condition is `and`-ed to the rule's, as pySigma's
 * `SigmaFilter.apply_on_rule` does. The result is an ordinary rule, compiled and dispatched like any other.
 */
import type { ConditionNode } from './condition.js';
import type { SearchNode, SigmaFilter, SigmaLogsource, SigmaRule } from './rule.js';

/** Whether every logsource field the filter names has the same value in the rule's logsource. */
function logsourceCovers(filter: SigmaLogsource, rule: SigmaLogsource): boolean {
  for (const key of ['product', 'category', 'service'] as const) {
    const want = filter[key];
    if (want !== undefined && want !== rule[key]) return false;
  }
  return true;
}

/** Whether the filter applies to the rule: its logsource covers the rule's, and it names the rule by id or name (as pySigma's rule references do), or says `any`. */
export function filterApplies(filter: SigmaFilter, rule: SigmaRule): boolean {
  if (!logsourceCovers(filter.logsource, rule.logsource)) return false;
  if (filter.rules === 'any') return true;
  return (
    (rule.id !== null && filter.rules.includes(rule.id)) ||
    (rule.name != null && filter.rules.includes(rule.name))
  );
}

function renamed(node: ConditionNode, rename: (name: string) => string): ConditionNode {
  switch (node.kind) {
    case 'ref':
      return { ...node, name: rename(node.name) };
    case 'of':
      return { ...node, names: node.names.map(rename) };
    case 'not':
      return { kind: 'not', item: renamed(node.item, rename) };
    case 'and':
    case 'or':
      return { kind: node.kind, items: node.items.map((i) => renamed(i, rename)) };
  }
}

/** The rule with every applicable filter joined to it (the rule itself when none applies). */
export function applySigmaFilters(rule: SigmaRule, filters: readonly SigmaFilter[]): SigmaRule {
  const applicable = filters.filter((f) => filterApplies(f, rule));
  if (applicable.length === 0) return rule;
  const searches = new Map<string, SearchNode>(rule.searches);
  const conditions: ConditionNode[] = [rule.condition];
  applicable.forEach((filter, k) => {
    // A name no rule can write: search identifiers come from YAML keys, which cannot hold NUL here.
    const rename = (name: string): string => `\u0000filter${k}:${filter.id ?? filter.title}:${name}`;
    for (const [name, node] of filter.searches) searches.set(rename(name), node);
    conditions.push(renamed(filter.condition, rename));
  });
  return { ...rule, searches, condition: { kind: 'and', items: conditions }, filters: applicable };
}
