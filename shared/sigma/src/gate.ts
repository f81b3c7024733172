/**
 * Gates: for each rule, a few (field, key) pairs one of which must hold for the rule to match, so the rule
 * set can skip most rules with a hash lookup per field instead of running them. A gate comes from an item
 * the condition requires (under `and`, never under `not`), whose values are case-insensitive strings that
 * are a literal (`OriginalFileName: 'whoami.exe'`, `EventID: 4624`, key: the value), a path's last component
 * (`Image|endswith: '\whoami.exe'`, key: the value from its last backslash) or, for any other wildcard
 * pattern, its longest literal run (`CommandLine|contains: ' -enc '`, found by one shared scan of the field,
 * `literals.ts`). Across `or`, `1 of` and a list of maps, a gate is the union of one gate per branch; of
 * several gates the cheapest is kept. A rule without one is always tried.
 */
import type { ConditionNode } from './condition.js';
import type { DetectionItem, SearchNode, SigmaRule } from './rule.js';
import type { SigmaValue } from './values.js';
import { ANY_RUN } from './values.js';

export interface GateKey {
  /** The event's field (after the variant's renames). */
  readonly field: string;
  /**
   * `exact`: the lower-cased value equals `key`; `basename`: its last `\` onwards equals `key`;
   * `substring`: it contains `key`.
   */
  readonly kind: 'exact' | 'basename' | 'substring';
  readonly key: string;
}

/**
 * The gate field of keywords: a `substring` key under it holds when some field's lower-cased value holds
 * the key (no event field has this name).
 */
export const KEYWORDS = '\u0000keywords';

/** A disjunction of keys: at least one holds whenever the rule matches. */
type Clause = readonly GateKey[];

/** Longer literal runs are cut to their first this many characters as gate keys. */
const MAX_SUBSTRING_KEY = 20;

/** Keys of one value: one of them holds whenever the value matches; null when there are none. */
function valueKeys(v: SigmaValue, field: string): GateKey[] | null {
  const keyword = field === KEYWORDS;
  // A number matches the field's number or its decimal text: either way the text is String(n).
  if (v.kind === 'number' && !keyword) return [{ field, kind: 'exact', key: String(v.value).toLowerCase() }];
  // Cased strings match the text as written; lower-casing a substring is not always a substring of the
  // lower-cased text (final sigma), so they give no key.
  if (v.kind !== 'string' || v.cased) return null;
  const keys: GateKey[] = [];
  for (const alt of v.alternatives) {
    const [first, second, third] = alt.parts;
    // Keywords are substrings of any field's value (compile.ts wraps them in `*`): literal runs only.
    if (!keyword && alt.parts.length === 1 && typeof first === 'string') {
      keys.push({ field, kind: 'exact', key: first.toLowerCase() });
    } else if (
      !keyword &&
      alt.parts.length === 2 &&
      first === ANY_RUN &&
      typeof second === 'string' &&
      second.startsWith('\\') &&
      second.indexOf('\\', 1) < 0 &&
      third === undefined
    ) {
      keys.push({ field, kind: 'basename', key: second.toLowerCase() });
    } else {
      // Wildcards: the matcher compares literal runs with the lower-cased value character by character,
      // so the longest run is a substring of any value it matches.
      let longest = '';
      for (const p of alt.parts) if (typeof p === 'string' && p.length > longest.length) longest = p;
      if (longest.length === 0) return null;
      // Its first characters are as required and about as rare, and keep the field's scanner small
      // (5,604 hashes of the Hashes field would be 234k states in full).
      keys.push({ field, kind: 'substring', key: longest.toLowerCase().slice(0, MAX_SUBSTRING_KEY) });
    }
  }
  return keys.length > 0 ? keys : null;
}

/** Clauses of one item: `any` of its values is one clause, `all` of them one clause per value. */
function itemClauses(item: DetectionItem, fieldMap: Readonly<Record<string, string>>): Clause[] {
  const field = item.field === null ? KEYWORDS : (fieldMap[item.field] ?? item.field);
  if (item.link === 'all' && item.values.length > 1) {
    return item.values.flatMap((v) => {
      const keys = valueKeys(v, field);
      return keys === null ? [] : [keys];
    });
  }
  const keys: GateKey[] = [];
  for (const v of item.values) {
    const more = valueKeys(v, field);
    if (more === null) return [];
    keys.push(...more);
  }
  return keys.length > 0 ? [keys] : [];
}

/**
 * What a clause costs per event, roughly: a hash lookup per exact or basename key; a substring key is
 * found by the field's shared scan but hits more often the shorter it is.
 */
function cost(clause: Clause): number {
  let c = 0;
  for (const k of clause) c += k.kind === 'substring' ? 1 + 16 / k.key.length : 1;
  return c;
}

function cheapest(clauses: readonly Clause[]): Clause | null {
  return clauses.reduce<Clause | null>((a, c) => (a === null || cost(c) < cost(a) ? c : a), null);
}

class GateFinder {
  constructor(
    private readonly rule: SigmaRule,
    private readonly fieldMap: Readonly<Record<string, string>>,
  ) {}

  /** Clauses that all hold when `node` holds (any one of them is a valid gate). */
  search(node: SearchNode): Clause[] {
    if (node.kind === 'map') {
      return node.items.flatMap((i) => itemClauses(i, this.fieldMap));
    }
    const one = this.union(node.maps.map((m) => this.search(m)));
    return one === null ? [] : [one];
  }

  /** One clause per branch, joined: holds when any branch holds. Null when a branch has none. */
  private union(branches: readonly Clause[][]): Clause | null {
    const keys: GateKey[] = [];
    for (const clauses of branches) {
      const best = cheapest(clauses);
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
  return cheapest(new GateFinder(rule, fieldMap).condition(rule.condition));
}
