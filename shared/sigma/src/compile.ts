/**
 * The backend: a loaded `SigmaRule` and a processing pipeline → predicates over `EventView`, compiled
 * once. String values run on the engine's forward-only wildcard matcher (`compileWildcardList`, one Set
 * lookup for literals), values with literal `*`/`?` and every `re` on its Thompson NFA + lazy DFA
 * (`compileRegexTree`): linear in the value. Identical matchers are shared across rules through
 * `MatcherCache`.
 */
import type { LuceneRegexNode } from '@sequor/eql';
import type { StringMatcher } from '@sequor/engine';
import { cidrMatcher, compileRegexTree, compileWildcardList, LuceneRegexError } from '@sequor/engine';
import type { ConditionNode } from './condition.js';
import { SigmaRuleError } from './errors.js';
import type { EventView } from './field-source.js';
import { textOf } from './field-source.js';
import { parsePcre } from './pcre.js';
import type { LogsourceVariant, ProcessingPipeline } from './pipeline.js';
import type { DetectionItem, SearchNode, SigmaRule } from './rule.js';
import type { SigmaString, SigmaValue, StringPart } from './values.js';
import { ANY_ONE, ANY_RUN, printSigmaString } from './values.js';

export type EventPredicate = (view: EventView) => boolean;

export interface CompiledVariant {
  readonly variant: LogsourceVariant;
  /** The variant's logsource conditions (channel, EventID, …). */
  readonly selects: EventPredicate;
  /** The detection with this variant's field names. */
  readonly detects: EventPredicate;
}

export interface CompiledSigmaRule {
  readonly rule: SigmaRule;
  readonly variants: readonly CompiledVariant[];
  /** Whether the event is of the rule's logsource and matches its detection. */
  matches(view: EventView): boolean;
}

/** Matchers shared across the rules compiled with it: one automaton per distinct pattern. */
export class MatcherCache {
  private readonly strings = new Map<string, StringMatcher>();
  private readonly items = new Map<string, EventPredicate>();
  hits = 0;
  /** Distinct detection items: each has a slot in the per-event `ItemMemo`. */
  slots = 0;

  /**
   * The predicate of a detection item, shared by every rule with an identical one (same event field,
   * values and modifiers): evaluated at most once per event when the view carries a memo.
   */
  item(key: string, build: () => EventPredicate): EventPredicate {
    const known = this.items.get(key);
    if (known !== undefined) {
      this.hits += 1;
      return known;
    }
    const inner = build();
    const slot = this.slots++;
    const shared: EventPredicate = (view) => {
      const memo = view.memo;
      if (memo === null) return inner(view);
      const known = memo.get(slot);
      if (known !== 0) return known === 2;
      const result = inner(view);
      memo.set(slot, result);
      return result;
    };
    this.items.set(key, shared);
    return shared;
  }

  get(key: string, build: () => StringMatcher): StringMatcher {
    let m = this.strings.get(key);
    if (m === undefined) {
      m = build();
      this.strings.set(key, m);
    } else this.hits += 1;
    return m;
  }

  get size(): number {
    return this.strings.size;
  }
}

/** A Sigma string as a whole-value tree: for values whose literal text holds `*` or `?`. */
function stringTree(s: SigmaString): LuceneRegexNode {
  const items: LuceneRegexNode[] = [];
  for (const p of s.parts) {
    if (p === ANY_RUN) items.push({ kind: 'anyString', start: 0 });
    else if (p === ANY_ONE) items.push({ kind: 'anyChar', start: 0 });
    else for (const ch of p) items.push({ kind: 'char', codePoint: ch.codePointAt(0) as number, start: 0 });
  }
  return { kind: 'concat', items, start: 0 };
}

function fold(s: SigmaString, cased: boolean): SigmaString {
  return cased
    ? s
    : { parts: s.parts.map((p) => (typeof p === 'string' ? p.toLowerCase() : p)), bytes: s.bytes };
}

/** Alternatives → one matcher: the engine's wildcard list where it can express them, automata otherwise. */
function stringMatcher(
  alternatives: readonly SigmaString[],
  cased: boolean,
  cache: MatcherCache,
): StringMatcher {
  const folded = alternatives.map((a) => fold(a, cased));
  const key = `s:${folded.map(printSigmaString).join('\u0000')}`;
  return cache.get(key, () => {
    const plain: string[] = [];
    const trees: StringMatcher[] = [];
    for (const s of folded) {
      if (s.parts.some((p) => typeof p === 'string' && (p.includes('*') || p.includes('?')))) {
        const automaton = compileRegexTree(stringTree(s), false);
        trees.push((v) => automaton.test(v));
      } else plain.push(s.parts.map((p) => (p === ANY_RUN ? '*' : p === ANY_ONE ? '?' : p)).join(''));
    }
    const list = plain.length > 0 ? compileWildcardList(plain, false) : null;
    if (trees.length === 0 && list !== null) return list;
    return (v) => {
      if (list !== null && list(v)) return true;
      for (let i = 0; i < trees.length; i++) if ((trees[i] as StringMatcher)(v)) return true;
      return false;
    };
  });
}

/** A value as a key: identical keys compile to identical tests (the field map resolves field references). */
function valueKey(v: SigmaValue, fieldMap: Readonly<Record<string, string>>): string {
  switch (v.kind) {
    case 'string':
      return `s${v.cased ? 'c' : ''}:${v.alternatives.map(printSigmaString).join('\u0003')}`;
    case 'fieldref':
      return `f:${v.position}:${v.cased ? 'c' : ''}:${fieldMap[v.field] ?? v.field}`;
    case 'cidr':
      return `cidr:${v.text}`;
    case 're':
      return `re:${JSON.stringify(v.flags)}:${v.pattern}`;
    default:
      return JSON.stringify(v);
  }
}

function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

/** Whether field `f`'s text is an address in any of the networks. */
function cidrTest(blocks: Parameters<typeof cidrMatcher>[0], f: string): EventPredicate {
  const m = cidrMatcher(blocks);
  return (view) => {
    const t = view.text(f);
    return t !== null && m(t);
  };
}

/** `or` of predicates as one loop (no closure allocated per call); one and two items specialised. */
function someOf(preds: readonly EventPredicate[]): EventPredicate {
  if (preds.length === 1) return preds[0] as EventPredicate;
  if (preds.length === 2) {
    const [a, b] = preds as [EventPredicate, EventPredicate];
    return (view) => a(view) || b(view);
  }
  return (view) => {
    for (let i = 0; i < preds.length; i++) if ((preds[i] as EventPredicate)(view)) return true;
    return false;
  };
}

/** `and` of predicates as one loop; one and two items specialised. */
function everyOf(preds: readonly EventPredicate[]): EventPredicate {
  if (preds.length === 1) return preds[0] as EventPredicate;
  if (preds.length === 2) {
    const [a, b] = preds as [EventPredicate, EventPredicate];
    return (view) => a(view) && b(view);
  }
  return (view) => {
    for (let i = 0; i < preds.length; i++) if (!(preds[i] as EventPredicate)(view)) return false;
    return true;
  };
}

class RuleCompiler {
  constructor(
    private readonly rule: SigmaRule,
    private readonly cache: MatcherCache,
  ) {}

  private refuse(item: DetectionItem, detail: string, cause?: unknown): never {
    throw new SigmaRuleError(this.rule.file, item.position, 'unsupported', detail, '', cause);
  }

  /** A test of one value on the event's field `f` (the field closed over: one call per test, not two). */
  valueTest(
    value: SigmaValue,
    item: DetectionItem,
    fieldMap: Readonly<Record<string, string>>,
    f: string,
  ): EventPredicate {
    switch (value.kind) {
      case 'string': {
        const m = stringMatcher(value.alternatives, value.cased, this.cache);
        if (value.cased)
          return (view) => {
            const t = view.text(f);
            return t !== null && m(t);
          };
        return (view) => {
          const t = view.lower(f);
          return t !== null && m(t);
        };
      }
      case 'number': {
        const n = value.value;
        const text = String(n);
        return (view) => {
          const raw = view.raw(f);
          return typeof raw === 'number' ? raw === n : textOf(raw) === text;
        };
      }
      case 'boolean': {
        const text = String(value.value);
        return (view) => {
          const raw = view.raw(f);
          return typeof raw === 'boolean' ? raw === value.value : view.lower(f) === text;
        };
      }
      case 'null':
        return (view) => {
          const raw = view.raw(f);
          return raw === undefined || raw === null;
        };
      case 're': {
        const m = this.cache.get(
          `re:${value.flags.ignoreCase ? 'i' : ''}${value.flags.multiline ? 'm' : ''}${value.flags.dotAll ? 's' : ''}:${value.pattern}`,
          () => {
            try {
              const parsed = parsePcre(value.pattern, value.flags);
              const automaton = compileRegexTree(parsed.tree, parsed.flags.ignoreCase);
              return (v) => automaton.test(v);
            } catch (error) {
              if (error instanceof LuceneRegexError)
                this.refuse(item, `regular expression: ${error.message}`, error);
              throw error;
            }
          },
        );
        return (view) => {
          const t = view.text(f);
          return t !== null && m(t);
        };
      }
      case 'cidr':
        return cidrTest([value.block], f);
      case 'compare': {
        const { op, value: bound } = value;
        return (view) => {
          const n = numberOf(view.raw(f));
          if (n === null) return false;
          return op === 'gt' ? n > bound : op === 'gte' ? n >= bound : op === 'lt' ? n < bound : n <= bound;
        };
      }
      case 'exists': {
        const want = value.value;
        return (view) => {
          const raw = view.raw(f);
          return (raw !== undefined && raw !== null) === want;
        };
      }
      case 'fieldref': {
        const other = fieldMap[value.field] ?? value.field;
        const { position, cased } = value;
        return (view) => {
          const a = cased ? view.text(f) : view.lower(f);
          const b = cased ? view.text(other) : view.lower(other);
          if (a === null || b === null) return false;
          return position === 'equals'
            ? a === b
            : position === 'contains'
              ? a.includes(b)
              : position === 'startswith'
                ? a.startsWith(b)
                : a.endsWith(b);
        };
      }
    }
  }

  item(item: DetectionItem, fieldMap: Readonly<Record<string, string>>): EventPredicate {
    const field = item.field === null ? '\u0000keywords' : (fieldMap[item.field] ?? item.field);
    const key = `${field}\u0001${item.link}\u0001${item.values.map((v) => valueKey(v, fieldMap)).join('\u0002')}`;
    return this.cache.item(key, () => this.uncachedItem(item, fieldMap));
  }

  private uncachedItem(item: DetectionItem, fieldMap: Readonly<Record<string, string>>): EventPredicate {
    if (item.field === null) return this.keywords(item);
    const field = fieldMap[item.field] ?? item.field;
    // Case-insensitive strings under `any` share one matcher (one Set lookup for all literals).
    let values = item.values;
    const tests: EventPredicate[] = [];
    if (item.link === 'any') {
      const strings = values.filter(
        (v): v is Extract<SigmaValue, { kind: 'string' }> => v.kind === 'string' && !v.cased,
      );
      if (strings.length > 1) {
        const merged: SigmaValue = {
          kind: 'string',
          cased: false,
          alternatives: strings.flatMap((s) => s.alternatives),
        };
        tests.push(this.valueTest(merged, item, fieldMap, field));
        values = values.filter((v) => !(v.kind === 'string' && !v.cased));
      }
      // Networks likewise: the address is parsed once, not once per network (a rule lists hundreds).
      const networks = values.filter((v): v is Extract<SigmaValue, { kind: 'cidr' }> => v.kind === 'cidr');
      if (networks.length > 1) {
        tests.push(
          cidrTest(
            networks.map((n) => n.block),
            field,
          ),
        );
        values = values.filter((v) => v.kind !== 'cidr');
      }
    }
    for (const v of values) tests.push(this.valueTest(v, item, fieldMap, field));
    return item.link === 'all' ? everyOf(tests) : someOf(tests);
  }

  /** Keywords: a string value anywhere in the event, as a substring (Sigma's full-text search). */
  private keywords(item: DetectionItem): EventPredicate {
    const tests = item.values.map((v) => {
      if (v.kind !== 'string') this.refuse(item, `a keyword must be a string (this one is a ${v.kind})`);
      const alternatives = v.alternatives.map((a): SigmaString => ({
        parts: [
          ...(a.parts[0] === ANY_RUN ? [] : [ANY_RUN as StringPart]),
          ...a.parts,
          ...(a.parts[a.parts.length - 1] === ANY_RUN ? [] : [ANY_RUN as StringPart]),
        ],
        bytes: a.bytes,
      }));
      const m = stringMatcher(alternatives, v.cased, this.cache);
      const cased = v.cased;
      return (view: EventView): boolean => {
        const texts = cased ? view.texts() : view.lowerTexts();
        for (let i = 0; i < texts.length; i++) if (m(texts[i] as string)) return true;
        return false;
      };
    });
    return item.link === 'all' ? everyOf(tests) : someOf(tests);
  }

  search(node: SearchNode, fieldMap: Readonly<Record<string, string>>): EventPredicate {
    if (node.kind === 'anyOf') {
      return someOf(node.maps.map((m) => this.search(m, fieldMap)));
    }
    return everyOf(node.items.map((i) => this.item(i, fieldMap)));
  }

  condition(node: ConditionNode, searches: ReadonlyMap<string, EventPredicate>): EventPredicate {
    switch (node.kind) {
      case 'ref':
        return searches.get(node.name) as EventPredicate;
      case 'not': {
        const inner = this.condition(node.item, searches);
        return (view) => !inner(view);
      }
      case 'and':
      case 'or': {
        const items = node.items.map((i) => this.condition(i, searches));
        return node.kind === 'and' ? everyOf(items) : someOf(items);
      }
      case 'of': {
        const items = node.names.map((n) => searches.get(n) as EventPredicate);
        return node.quantifier === 'all' ? everyOf(items) : someOf(items);
      }
    }
  }

  detection(fieldMap: Readonly<Record<string, string>>): EventPredicate {
    const searches = new Map<string, EventPredicate>();
    for (const [name, node] of this.rule.searches) searches.set(name, this.search(node, fieldMap));
    return this.condition(this.rule.condition, searches);
  }
}

/**
 * The variant's conditions as one predicate: strings case-insensitively, numbers also as decimal text; its
 * `absent` fields missing.
 */
export function selectsVariant(variant: LogsourceVariant): EventPredicate {
  const checks = Object.entries(variant.conditions).map(([field, allowed]) => {
    const texts = new Set(allowed.map((a) => String(a).toLowerCase()));
    return (view: EventView) => {
      const t = view.lower(field);
      return t !== null && texts.has(t);
    };
  });
  for (const field of variant.absent ?? [])
    checks.push((view: EventView) => {
      const raw = view.raw(field);
      return raw === undefined || raw === null;
    });
  return checks.length === 0 ? () => true : everyOf(checks);
}

/**
 * Compiles a rule for a pipeline. Throws `SigmaRuleError`: `unknown-logsource` when the pipeline maps
 * no events to the rule's logsource, `unsupported` for a pattern past the automaton's bounds.
 */
export function compileSigmaRule(
  rule: SigmaRule,
  pipeline: ProcessingPipeline,
  cache = new MatcherCache(),
): CompiledSigmaRule {
  const resolved = pipeline.resolve(rule.logsource);
  if (typeof resolved === 'string') {
    throw new SigmaRuleError(rule.file, rule.position, 'unknown-logsource', `logsource: ${resolved}`, '');
  }
  const compiler = new RuleCompiler(rule, cache);
  const byMap = new Map<string, EventPredicate>();
  const variants: CompiledVariant[] = resolved.map((variant) => {
    const key = JSON.stringify(variant.fieldMap);
    let detects = byMap.get(key);
    if (detects === undefined) {
      detects = compiler.detection(variant.fieldMap);
      byMap.set(key, detects);
    }
    return { variant, selects: selectsVariant(variant), detects };
  });
  return {
    rule,
    variants,
    matches(view) {
      for (const v of variants) if (v.selects(view) && v.detects(view)) return true;
      return false;
    },
  };
}
