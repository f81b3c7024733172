/**
 * Gates: for each rule, a few (field, key) pairs one of which must hold for the rule to match, so the rule
 * set can skip most rules with a hash lookup per field instead of running them. A gate comes from an item
 * the condition requires (under `and`, never under `not`), whose values are case-insensitive strings that
 * are either a literal (`OriginalFileName: 'whoami.exe'`, `EventID: 4624`, key: the value) or a path's last component
 * (`Image|endswith: '\whoami.exe'`, key: the value from its last backslash). Across `or`, `1 of` and a
 * list of maps, a gate is the union of one gate per branch. A rule without one is always tried.
 */
import type { ConditionNode } from './condition.js';
import type { DetectionItem, SearchNode, SigmaRule } from './rule.js';
import { ANY_RUN } from './values.js';

export interface GateKey {
  /** The event's field (after the variant's renames). */
  readonly field: string;
  /** `exact`: the lower-cased value equals `key`; `basename`: its last `\` onwards equals `key`. */
  readonly kind: 'exact' | 'basename';
  readonly key: string;
}

/** A disjunction of keys: at least one holds whenever the rule matches. */
type Clause = readonly GateKey[];

function itemKeys(item: DetectionItem, fieldMap: Readonly<Record<string, string>>): Clause | null {
  if (item.field === null || (item.link === 'all' && item.values.length > 1)) return null;
  const field = fieldMap[item.field] ?? item.field;
  const keys: GateKey[] = [];
  for (const v of item.values) {
    if (v.kind === 'number') {
      // A number matches the field's number or its decimal text: either way the text is String(n).
      keys.push({ field, kind: 'exact', key: String(v.value).toLowerCase() });
      continue;
    }
    if (v.kind !== 'string' || v.cased) return null;
    for (const alt of v.alternatives) {
      const [first, second, third] = alt.parts;
      if (alt.parts.length === 1 && typeof first === 'string') {
        keys.push({ field, kind: 'exact', key: first.toLowerCase() });
      } else if (
        alt.parts.length === 2 &&
        first === ANY_RUN &&
        typeof second === 'string' &&
        second.startsWith('\\') &&
        second.indexOf('\\', 1) < 0 &&
        third === undefined
      ) {
        keys.push({ field, kind: 'basename', key: second.toLowerCase() });
      } else return null;
    }
  }
  return keys.length > 0 ? keys : null;
}

class GateFinder {
  constructor(
    private readonly rule: SigmaRule,
    private readonly fieldMap: Readonly<Record<string, string>>,
  ) {}

  /** Clauses that all hold when `node` holds (any one of them is a valid gate). */
  search(node: SearchNode): Clause[] {
    if (node.kind === 'map') {
      return node.items.flatMap((i) => {
        const keys = itemKeys(i, this.fieldMap);
        return keys === null ? [] : [keys];
      });
    }
    const one = this.union(node.maps.map((m) => this.search(m)));
    return one === null ? [] : [one];
  }

  /** One clause per branch, joined: holds when any branch holds. Null when a branch has none. */
  private union(branches: readonly Clause[][]): Clause | null {
    const keys: GateKey[] = [];
    for (const clauses of branches) {
      const best = clauses.reduce<Clause | null>((a, c) => (a === null || c.length < a.length ? c : a), null);
      if (best === null) return null;
      keys.push(...best);
    }
    return keys;
  }

  condition(node: ConditionNode): Clause[] {
    switch (node.kind) {
      case 'ref':
        return this.search(this.rule.searches.get(node.name) as SearchNode);
      case 'not':
        return [];
      case 'and':
        return node.items.flatMap((i) => this.condition(i));
      case 'or': {
        const one = this.union(node.items.map((i) => this.condition(i)));
        return one === null ? [] : [one];
      }
      case 'of': {
        const parts = node.names.map((n) => this.search(this.rule.searches.get(n) as SearchNode));
        if (node.quantifier === 'all') return parts.flat();
        const one = this.union(parts);
        return one === null ? [] : [one];
      }
    }
  }
}

/** The rule's narrowest gate for a variant's field names, or null when it has none (always tried). */
export function gateOf(rule: SigmaRule, fieldMap: Readonly<Record<string, string>>): Clause | null {
  const clauses = new GateFinder(rule, fieldMap).condition(rule.condition);
  return clauses.reduce<Clause | null>((a, c) => (a === null || c.length < a.length ? c : a), null);
}
