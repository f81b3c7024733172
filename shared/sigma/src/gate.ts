/**
 * Gates: for each rule, a few (field, key) pairs one of which must hold for the rule to match, so the rule
 * set can skip most rules with a hash lookup per field instead of running them. A gate comes from an item
 * the condition requires (under `and`, never under `not`), whose values are case-insensitive strings that
 * are a literal (`OriginalFileName: 'whoami.exe'`, `EventID: 4624`, key: the value), a path's last component
 * (`Image|endswith: '\whoami.exe'`, key: the value from its last backslash) or, for any other wildcard
 * pattern, its longest literal run (`CommandLine|contains: ' -enc '`, found by one shared scan of the field,
 * `literals.ts`); for a `re` value, a literal run every match holds (`regexKeys`). Across `or`, `1 of` and a list of maps, a gate is the union of one gate per branch; of
 * several gates the cheapest is kept. A rule without one is always tried.
 */
import type { ConditionNode } from './condition.js';
import type { DetectionItem, SearchNode, SigmaRule } from './rule.js';
import type { LuceneRegexNode } from '@sequor/eql';
import type { PcreFlags } from './pcre.js';
import { parsePcre } from './pcre.js';
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
export type Clause = readonly GateKey[];

/** Longer literal runs are cut to their first this many characters as gate keys. */
const MAX_SUBSTRING_KEY = 20;

/**
 * A literal run cut to `MAX_SUBSTRING_KEY` characters: any part of it is as required, and a short key
 * keeps the field's scanner small (5,604 hashes of the Hashes field would be 234k states in full). A path
 * keeps its end, where it differs from others (`c:\windows\system32\tasks\`: `\system32\tasks\`, not
 * the `c:\windows\system32\` of every system binary); anything else its start (`imphash=…` keys share
 * their trie prefix).
 */
function substringKey(run: string): string {
  if (run.length <= MAX_SUBSTRING_KEY) return run;
  return run.includes('\\') ? run.slice(-MAX_SUBSTRING_KEY) : run.slice(0, MAX_SUBSTRING_KEY);
}

/** Keys of one value: one of them holds whenever the value matches; null when there are none. */
function valueKeys(v: SigmaValue, field: string): GateKey[] | null {
  const keyword = field === KEYWORDS;
  // A number matches the field's number or its decimal text: either way the text is String(n).
  if (v.kind === 'number' && !keyword) return [{ field, kind: 'exact', key: String(v.value).toLowerCase() }];
  if (v.kind === 're' && !keyword) {
    const keys = regexKeys(v.pattern, v.flags);
    return keys === null ? null : keys.map((key) => ({ field, kind: 'substring', key: substringKey(key) }));
  }
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
      keys.push({ field, kind: 'substring', key: substringKey(longest.toLowerCase()) });
    }
  }
  return keys.length > 0 ? keys : null;
}

/** Regex literal keys shorter than this hit too often to be worth a gate. */
const MIN_REGEX_KEY = 3;

/**
 * What a regex node tells about the strings it matches: `exact`, the one (lower-cased) string it matches,
 * or `keys`, literals one of which (lower-cased) is in every string it matches; null when unknown.
 */
interface Factor {
  readonly exact: string | null;
  readonly keys: readonly string[] | null;
}

const UNKNOWN: Factor = { exact: null, keys: null };

/** The better of two key sets: the longer shortest key (it hits less often), then fewer keys. */
function betterKeys(a: readonly string[] | null, b: readonly string[] | null): readonly string[] | null {
  if (a === null) return b;
  if (b === null) return a;
  const shortest = (keys: readonly string[]) => Math.min(...keys.map((k) => k.length));
  const d = shortest(b) - shortest(a);
  return d > 0 || (d === 0 && b.length < a.length) ? b : a;
}

/**
 * Only ASCII characters join a literal: lower-casing an ASCII run of the value gives the run's lower case
 * wherever it stands, whatever surrounds it (not so for final sigma). Case-insensitive, `s` and `i` do not
 * either: the automaton also matches long s and dotless i there, which lower-case to themselves.
 *
 * `asWritten`: the literals of a case-sensitive regex as the value must hold them, not lower-cased; any
 * character joins (a literal character matches only itself).
 */
function factorOf(node: LuceneRegexNode, ignoreCase: boolean, asWritten = false): Factor {
  switch (node.kind) {
    case 'empty':
      return { exact: '', keys: null };
    case 'char': {
      const c = node.codePoint;
      if (asWritten) return { exact: String.fromCodePoint(c), keys: null };
      if (c >= 128) return UNKNOWN;
      const lower = String.fromCharCode(c).toLowerCase();
      if (ignoreCase && (lower === 's' || lower === 'i')) return UNKNOWN;
      return { exact: lower, keys: null };
    }
    case 'concat': {
      let run = '';
      let exact = true;
      let keys: readonly string[] | null = null;
      for (const item of node.items) {
        const f = factorOf(item, ignoreCase, asWritten);
        if (f.exact !== null) {
          run += f.exact;
          continue;
        }
        exact = false;
        if (run.length > 0) keys = betterKeys(keys, [run]);
        run = '';
        keys = betterKeys(keys, f.keys);
      }
      if (exact) return { exact: run, keys: null };
      if (run.length > 0) keys = betterKeys(keys, [run]);
      return { exact: null, keys };
    }
    case 'union': {
      const keys: string[] = [];
      for (const item of node.items) {
        const f = factorOf(item, ignoreCase, asWritten);
        const own = f.exact !== null ? (f.exact.length > 0 ? [f.exact] : null) : f.keys;
        if (own === null) return UNKNOWN;
        keys.push(...own);
      }
      return { exact: null, keys };
    }
    case 'repeat': {
      if (node.min === 0) return UNKNOWN;
      const f = factorOf(node.item, ignoreCase, asWritten);
      return { exact: null, keys: f.exact !== null ? (f.exact.length > 0 ? [f.exact] : null) : f.keys };
    }
    default:
      return UNKNOWN;
  }
}

/**
 * Lower-cased literals one of which is in the lower-cased value whenever the `re` value matches it, or
 * null: the regex's required literal runs (ASCII, `factorOf`), at least `MIN_REGEX_KEY` long.
 */
function regexKeys(pattern: string, flags: PcreFlags): string[] | null {
  let parsed: ReturnType<typeof parsePcre>;
  try {
    parsed = parsePcre(pattern, flags);
  } catch {
    return null; // compiling refuses it with the reason
  }
  const f = factorOf(parsed.tree, parsed.flags.ignoreCase);
  const keys = f.exact !== null ? (f.exact.length > 0 ? [f.exact] : null) : f.keys;
  if (keys === null || keys.some((k) => k.length < MIN_REGEX_KEY)) return null;
  return [...new Set(keys)];
}

/**
 * Texts one of which is in a value whenever the `re` value matches it, to search before running the
 * automaton, or null: the regex's required literal runs (`factorOf`, any length) as written when the
 * regex is case-sensitive; when it is not, only if none holds an ASCII letter, so the value can be searched
 * as written (lower-casing changes no other ASCII character and makes none of them). A backtick-obfuscation
 * regex needs a backtick, which most command lines lack; `"(?:\{\d\})+"\s*-f` needs `-f`: a native
 * search instead of the automaton over the whole text.
 */
export function regexPrefilter(tree: LuceneRegexNode, ignoreCase: boolean): string[] | null {
  if (!ignoreCase) {
    const f = factorOf(tree, false, true);
    const keys = f.exact !== null ? (f.exact.length > 0 ? [f.exact] : null) : f.keys;
    return keys === null || keys.some((k) => k.length === 0) ? null : [...new Set(keys)];
  }
  const f = factorOf(tree, ignoreCase);
  const keys = f.exact !== null ? (f.exact.length > 0 ? [f.exact] : null) : f.keys;
  if (keys === null || keys.some((k) => k.length === 0 || /[a-z]/.test(k))) return null;
  return [...new Set(keys)];
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
 * found by the field's shared scan but hits far more often the shorter it is (`.exe` is in every image).
 */
function cost(clause: Clause): number {
  let c = 0;
  for (const k of clause) c += k.kind === 'substring' ? 1 + 64 / (k.key.length * k.key.length) : 1;
  return c;
}

/**
 * How often a key holds on an event, roughly, from its shape alone: short exact values are a field's
 * common ones (`Initiated: 'true'`, `LogonType: 3`, `EventID: 4624` under a channel), long ones rare; a
 * substring the more often the shorter it is (`.exe` is in every image, `\\mimikatz.exe` in none).
 */
function hitRate(key: GateKey): number {
  const n = key.key.length;
  if (key.kind === 'exact') {
    if (key.field === 'EventID' || n <= 2 || key.key === 'true' || key.key === 'false') return 0.3;
    return n <= 5 ? 0.1 : 0.02;
  }
  if (key.kind === 'basename') return n <= 6 ? 0.1 : 0.05;
  return Math.min(0.5, 4 / (n * n));
}

/**
 * A clause's expected share of events on which its rule is tried: the sum of its keys' hit rates. A key's
 * lookup is per field, not per key (one Set lookup or one shared scan), so the number of keys adds little.
 */
export function hitShare(clause: Clause): number {
  let p = 0;
  for (const k of clause) p += hitRate(k);
  return p + clause.length * 0.001;
}

/** The clause that lets the rule be tried least often. */
function cheapest(clauses: readonly Clause[]): Clause | null {
  return clauses.reduce<Clause | null>((a, c) => (a === null || hitShare(c) < hitShare(a) ? c : a), null);
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
    return this.union(node.maps.map((m) => this.search(m)));
  }

  /**
   * Clauses that hold when any branch holds: the branches' cheapest clauses joined, and, when every branch
   * has another, their second cheapest joined (a second clause to check before the rule runs: `1 of
   * selection_*` rules index by a common key such as `EventID: 4624` in each branch). None when a branch
   * has none.
   */
  private union(branches: readonly Clause[][]): Clause[] {
    const first: GateKey[] = [];
    let second: GateKey[] | null = [];
    for (const clauses of branches) {
      const best = cheapest(clauses);
      if (best === null) return [];
      first.push(...best);
      const next = second === null ? null : cheapest(clauses.filter((c) => c !== best));
      if (next === null) second = null;
      else second?.push(...next);
    }
    return second === null ? [first] : [first, second];
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
        return this.union(node.items.map((i) => this.condition(i)));
      }
      case 'of': {
        const parts = node.names.map((n) => this.search(this.rule.searches.get(n) as SearchNode));
        if (node.quantifier === 'all') return parts.flat();
        return this.union(parts);
      }
    }
  }
}

/**
 * The values one of which field `field` must equal (lower-cased, exact) whenever the rule matches, or null
 * when the rule does not say: `EventID: 4624` in a selection every branch of the condition requires. A rule
 * set indexes a variant under these as under its logsource's own `EventID`s, so a Security rule whose
 * EventIDs are in its detection is not tried on, or gated on, every Security event.
 */
export function requiredExact(
  rule: SigmaRule,
  fieldMap: Readonly<Record<string, string>>,
  field: string,
): ReadonlySet<string> | null {
  const ofItem = (item: DetectionItem): Set<string> | null => {
    if (item.field === null || (fieldMap[item.field] ?? item.field) !== field) return null;
    if (item.link === 'all' && item.values.length > 1) return null;
    const keys = itemClauses(item, fieldMap)[0];
    if (keys === undefined || keys.some((k) => k.kind !== 'exact')) return null;
    return new Set(keys.map((k) => k.key));
  };
  // null: no constraint. `and` narrows to the keys every constrained part allows; `or` needs all branches.
  const both = (a: Set<string> | null, b: Set<string> | null): Set<string> | null =>
    a === null ? b : b === null ? a : new Set([...a].filter((k) => b.has(k)));
  const either = (parts: readonly (Set<string> | null)[]): Set<string> | null => {
    const out = new Set<string>();
    for (const p of parts) {
      if (p === null) return null;
      for (const k of p) out.add(k);
    }
    return out;
  };
  const search = (node: SearchNode): Set<string> | null =>
    node.kind === 'map'
      ? node.items.reduce<Set<string> | null>((acc, item) => both(acc, ofItem(item)), null)
      : either(node.maps.map(search));
  const condition = (node: ConditionNode): Set<string> | null => {
    switch (node.kind) {
      case 'ref':
        return search(rule.searches.get(node.name) as SearchNode);
      case 'not':
        return null;
      case 'and':
        return node.items.reduce<Set<string> | null>((acc, i) => both(acc, condition(i)), null);
      case 'or':
        return either(node.items.map(condition));
      case 'of': {
        const parts = node.names.map((n) => search(rule.searches.get(n) as SearchNode));
        return node.quantifier === 'all'
          ? parts.reduce<Set<string> | null>((acc, p) => both(acc, p), null)
          : either(parts);
      }
    }
  };
  const keys = condition(rule.condition);
  // An empty intersection (a rule that cannot match) is left to the detection to say.
  return keys === null || keys.size === 0 ? null : keys;
}

/** A rule's gate: the clause it is indexed by, and another required clause checked before it runs. */
export interface Gate {
  readonly keys: Clause;
  /**
   * Null when the rule requires no other clause that is cheap to check (keyword clauses are not: they
   * read every field).
   */
  readonly check: Clause | null;
}

/** A check clause costing more than this (many substring keys, each an `includes`) is not worth it. */
const MAX_CHECK_COST = 12;

/**
 * Every clause the rule requires for a variant's field names (any one is a valid gate: it holds whenever
 * the rule matches); clauses only on the `indexed` field are left out (the index has checked them:
 * `requiredExact`). Empty when the rule has none (always tried).
 */
export function gateOptions(
  rule: SigmaRule,
  fieldMap: Readonly<Record<string, string>>,
  indexed: string | null = null,
): Clause[] {
  return new GateFinder(rule, fieldMap)
    .condition(rule.condition)
    .filter((c) => indexed === null || c.some((k) => k.field !== indexed));
}

/**
 * The gate among `options` (`gateOptions`) that lets the rule be tried least often, by `share` (a clause's
 * expected share of events it holds on; by default its shape's, `hitShare`), and as its check the next
 * such clause that is cheap to check (keyword clauses are not: they read every field). Null without options.
 */
export function chooseGate(
  options: readonly Clause[],
  share: (clause: Clause) => number = hitShare,
): Gate | null {
  let keys: Clause | null = null;
  for (const c of options) if (keys === null || share(c) < share(keys)) keys = c;
  if (keys === null) return null;
  let check: Clause | null = null;
  for (const c of options)
    if (
      c !== keys &&
      cost(c) <= MAX_CHECK_COST &&
      c.every((k) => k.field !== KEYWORDS) &&
      (check === null || share(c) < share(check))
    )
      check = c;
  return { keys, check };
}

/**
 * The rule's narrowest gate for a variant's field names by the clauses' shapes, or null when it has none
 * (always tried). Its check is the cheapest other clause the rule requires: on benign events most index
 * hits are of a common key (`ParentImage: C:\Windows\explorer.exe`) whose rule also wants a rare one
 * (`Image: …\cmd.exe`). A rule set may choose again from what it measures (`SigmaRuleSet`'s gate learning).
 */
export function gateOf(
  rule: SigmaRule,
  fieldMap: Readonly<Record<string, string>>,
  indexed: string | null = null,
): Gate | null {
  return chooseGate(gateOptions(rule, fieldMap, indexed));
}
