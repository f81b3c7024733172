/**
 * The backend: a loaded `SigmaRule` and a processing pipeline → predicates over `EventView`, compiled
 * once. String values run on the engine's forward-only wildcard matcher (`compileWildcardList`, one Set
 * lookup for literals), values with literal `*`/`?` and every `re` on its Thompson NFA + lazy DFA
 * (`compileRegexTree`): linear in the value. Identical matchers are shared across rules through
 * `MatcherCache`. Each rule's detection is one generated function (`DetectionCode`): a straight line of
 * tests whose call sites each see one target, instead of a tree of closures shared by thousands of rules.
 */
import type { LuceneRegexNode } from '@sequor/eql';
import type { StringMatcher } from '@sequor/engine';
import {
  cidrMatcher,
  compileRegexTree,
  compileWildcard,
  compileWildcardList,
  LuceneRegexError,
} from '@sequor/engine';
import type { ConditionNode } from './condition.js';
import { SigmaRuleError } from './errors.js';
import type { EventView } from './field-source.js';
import { fieldId, memoTestId, textOf } from './field-source.js';
import { regexPrefilter } from './gate.js';
import { LiteralScanner } from './literals.js';
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
  hits = 0;
  /** Detection items compiled (each rule's own: a generated detection inlines them). */
  items = 0;

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
  // Case in the key: a long value's `contains` values are one case-folding scan, right only on lower case.
  // JSON: a pattern may hold NUL itself (`wide` without `base64`), so a joined key could name two lists.
  const key = `s:${cased ? 'c' : 'i'}:${JSON.stringify(folded.map(printSigmaString))}`;
  return cache.get(key, () => {
    const plain: SigmaString[] = [];
    const trees: StringMatcher[] = [];
    for (const s of folded) {
      if (s.parts.some((p) => typeof p === 'string' && (p.includes('*') || p.includes('?')))) {
        const automaton = compileRegexTree(stringTree(s), false);
        trees.push((v) => automaton.test(v));
      } else plain.push(s);
    }
    const list = plain.length > 0 ? compileWildcardList(plain.map(wildcardText), false) : null;
    const long = plain.length > 0 ? longValueMatcher(plain, cased) : null;
    const any =
      long === null ? list : (v: string) => (v.length < LONG_VALUE ? (list as StringMatcher)(v) : long(v));
    if (trees.length === 0 && any !== null) return any;
    return (v) => {
      if (any !== null && any(v)) return true;
      for (let i = 0; i < trees.length; i++) if ((trees[i] as StringMatcher)(v)) return true;
      return false;
    };
  });
}

/** A Sigma string without literal `*`/`?` as an engine wildcard pattern. */
function wildcardText(s: SigmaString): string {
  return s.parts.map((p) => (p === ANY_RUN ? '*' : p === ANY_ONE ? '?' : p)).join('');
}

/**
 * Values at least this long are matched by `longValueMatcher`'s one-pass tests; shorter ones by the
 * engine's per-pattern tests, which cost less on the short values telemetry mostly has.
 */
const LONG_VALUE = 1_024;
/** `*text*` in an engine wildcard pattern: the value contains `text` (no other wildcard in it). */
const CONTAINS = /^\*+[^*?]+\*+$/;
/** From this many `contains` values on, a long value is searched for all of them in one pass. */
const MIN_CONTAINS_SCAN = 8;

/**
 * The same answers as `compileWildcardList` over `plain`, in time linear in the value whatever the
 * patterns, for values of `LONG_VALUE` or more (an attacker writes the command lines and script blocks
 * these read, up to a megabyte): `contains` values all found by one scan (`LiteralScanner.holdsAny`, not
 * one `includes` each: SigmaHQ's emoji lists hold hundreds, `windash` lists 5 to 25 spellings of each
 * value), patterns with `?` on an automaton (the engine's segment matcher compares every position in
 * script, 60 ms per megabyte for a handful). Null when that would change nothing. Built on first use: most
 * lists never meet a long value.
 */
function longValueMatcher(plain: readonly SigmaString[], cased: boolean): StringMatcher | null {
  const patterns = plain.map(wildcardText);
  const contained = cased ? [] : patterns.filter((p) => CONTAINS.test(p));
  const scan = contained.length >= MIN_CONTAINS_SCAN;
  const single = plain.filter((s) => s.parts.includes(ANY_ONE));
  if (!scan && single.length === 0) return null;
  let built: StringMatcher | null = null;
  const build = (): StringMatcher => {
    const tests: StringMatcher[] = [];
    if (scan) {
      const scanner = new LiteralScanner();
      for (const p of contained) scanner.add(p.replace(/^\*+|\*+$/g, ''));
      try {
        scanner.build();
        tests.push((v) => scanner.holdsAny(v));
      } catch (error) {
        // Past the scanner's table bound (not met by a rule file's worth of values): as short values.
        if (!(error instanceof RangeError)) throw error;
        tests.push(compileWildcardList(contained, false));
      }
    }
    for (const s of single) tests.push(automatonOr(s, compileWildcard(wildcardText(s))));
    const rest = patterns.filter((p) => !(scan && CONTAINS.test(p)) && !p.includes('?'));
    if (rest.length > 0) tests.push(compileWildcardList(rest, false));
    return (v) => {
      for (let i = 0; i < tests.length; i++) if ((tests[i] as StringMatcher)(v)) return true;
      return false;
    };
  };
  return (v) => (built ??= build())(v);
}

/**
 * One engine wildcard pattern (`pattern`, the string `s` as one): a pattern with `?` runs on its automaton
 * for a long value, as `longValueMatcher` says why.
 */
function wildcardMatcher(s: SigmaString, pattern: string): StringMatcher {
  const short = compileWildcard(pattern);
  if (!pattern.includes('?')) return short;
  let long: StringMatcher | null = null;
  return (v) => (v.length < LONG_VALUE ? short(v) : (long ??= automatonOr(s, short))(v));
}

/**
 * `s` on its automaton, or `fallback` when the automaton would pass the engine's size bounds: built on
 * first use, during a match, which must not throw (the rule loaded whatever its pattern's size).
 */
function automatonOr(s: SigmaString, fallback: StringMatcher): StringMatcher {
  try {
    const automaton = compileRegexTree(stringTree(s), false);
    return (v) => automaton.test(v);
  } catch (error) {
    if (error instanceof LuceneRegexError) return fallback;
    throw error;
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
  const id = fieldId(f);
  return (view) => {
    const t = view.textAt(id);
    return t !== null && m(t);
  };
}

/**
 * Networks on the event's field `f` as code: one address parse and block walk per distinct text of the
 * field (`EventView.memoTest`), not per rule and event. Allow-lists of cloud ranges run to a hundred
 * blocks in a dozen filters of one rule, each tried on every event its selection holds on.
 */
function networkCode(
  networks: readonly Extract<SigmaValue, { kind: 'cidr' }>[],
  f: string,
  code: DetectionCode,
): string {
  const m = cidrMatcher(networks.map((n) => n.block));
  const id = fieldId(f);
  const key = `cidr:${JSON.stringify(networks.map((n) => n.text))}`;
  return `v.memoTest(${id}, ${memoTestId(id, key)}, false, ${code.constant(m)})`;
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

/** Above this many wildcard tests, a value list runs as its one shared matcher, not as inline code. */
const MAX_INLINE_PATTERNS = 16;
/** From this many literals on, a value list tests them with one Set lookup instead of `===` each. */
const MIN_LITERAL_SET = 4;

/**
 * The source of one detection as a single function (`detect(v)`, `v` the `EventView`): values are JSON
 * literals in the code, matchers and other compiled tests are slots of `K` bound to constants, and each
 * field's text and lower case are read at most once per call into a local (`undefined` until read). Only
 * the compiled structure is turned into code: rule text reaches it only as JSON-escaped literals.
 */
class DetectionCode {
  private readonly constants: unknown[] = [];
  /** `t\0field` / `l\0field` → the local holding the field's text / lower case. */
  private readonly locals = new Map<string, string>();
  /** Test functions of one string local (`s`), by their source: `h<i>`, bound once per rule. */
  private readonly helpers = new Map<string, string>();

  /** A name bound to `value` in the generated function's scope. */
  constant(value: unknown): string {
    this.constants.push(value);
    return `k${this.constants.length - 1}`;
  }

  /** An expression for the field's text (or lower case) that reads it on first use, and the local it fills. */
  read(field: string, lower: boolean): { readonly expr: string; readonly local: string } {
    const key = `${lower ? 'l' : 't'}\u0000${field}`;
    let local = this.locals.get(key);
    if (local === undefined) {
      local = `${lower ? 'l' : 't'}${this.locals.size}`;
      this.locals.set(key, local);
    }
    const call = `v.${lower ? 'lowerAt' : 'textAt'}(${fieldId(field)})`;
    return { expr: `(${local} !== undefined ? ${local} : (${local} = ${call}))`, local };
  }

  /** A function of the string `s` whose body is `expr`, declared once per detection; returns its name. */
  helper(expr: string): string {
    let name = this.helpers.get(expr);
    if (name === undefined) {
      name = `h${this.helpers.size}`;
      this.helpers.set(expr, name);
    }
    return name;
  }

  /** The detection as a predicate: `body` is the expression over `v`. */
  build(body: string): EventPredicate {
    const names = [
      ...this.constants.map((_, i) => `k${i} = K[${i}]`),
      ...[...this.helpers].map(([expr, name]) => `${name} = (s) => ${expr}`),
    ];
    const locals = [...this.locals.values(), 'r', 's'];
    const source =
      `"use strict";\n${names.length > 0 ? `const ${names.join(', ')};\n` : ''}` +
      `return function detect(v) {\n  let ${locals.join(', ')};\n  return ${body};\n};`;
    // Generated from the compiled structure only; rule text is in it as JSON literals or `K` slots.
    return new Function('K', source)(this.constants) as EventPredicate;
  }
}

/**
 * Whether a string test is worth remembering per distinct text (`EventView.memoTest`, a few array reads):
 * it calls a matcher, searches inside the value, or makes more than two comparisons.
 */
function costly(test: string): boolean {
  if (/\bk\d+\(|\.includes\(/.test(test)) return true;
  return test.split(' || ').length > 2;
}

const hasWildcard = (pattern: string): boolean => pattern.includes('*') || pattern.includes('?');
const or = (terms: readonly string[]): string =>
  terms.length === 0 ? 'false' : terms.length === 1 ? (terms[0] as string) : `(${terms.join(' || ')})`;
const and = (terms: readonly string[]): string =>
  terms.length === 0 ? 'true' : terms.length === 1 ? (terms[0] as string) : `(${terms.join(' && ')})`;

class RuleCompiler {
  constructor(
    private readonly rule: SigmaRule,
    private readonly cache: MatcherCache,
  ) {}

  private refuse(item: DetectionItem, detail: string, cause?: unknown): never {
    throw new SigmaRuleError(this.rule.file, item.position, 'unsupported', detail, '', cause);
  }

  /** A `re` value's matcher (shared by identical patterns and flags). */
  private regex(value: Extract<SigmaValue, { kind: 're' }>, item: DetectionItem): StringMatcher {
    return this.cache.get(
      `re:${value.flags.ignoreCase ? 'i' : ''}${value.flags.multiline ? 'm' : ''}${value.flags.dotAll ? 's' : ''}:${value.pattern}`,
      () => {
        try {
          const parsed = parsePcre(value.pattern, value.flags);
          const automaton = compileRegexTree(parsed.tree, parsed.flags.ignoreCase);
          const required = regexPrefilter(parsed.tree, parsed.flags.ignoreCase);
          if (required === null) return (v) => automaton.test(v);
          return (v) => {
            for (let i = 0; i < required.length; i++)
              if (v.includes(required[i] as string)) return automaton.test(v);
            return false;
          };
        } catch (error) {
          if (error instanceof LuceneRegexError)
            this.refuse(item, `regular expression: ${error.message}`, error);
          throw error;
        }
      },
    );
  }

  /** A test of one value on the event's field `f` (the field closed over: one call per test, not two). */
  valueTest(
    value: SigmaValue,
    item: DetectionItem,
    fieldMap: Readonly<Record<string, string>>,
    f: string,
  ): EventPredicate {
    const id = fieldId(f);
    switch (value.kind) {
      case 'string': {
        const m = stringMatcher(value.alternatives, value.cased, this.cache);
        if (value.cased)
          return (view) => {
            const t = view.textAt(id);
            return t !== null && m(t);
          };
        return (view) => {
          const t = view.lowerAt(id);
          return t !== null && m(t);
        };
      }
      case 'number': {
        const n = value.value;
        const text = String(n);
        return (view) => {
          const raw = view.rawAt(id);
          return typeof raw === 'number' ? raw === n : textOf(raw) === text;
        };
      }
      case 'boolean': {
        const text = String(value.value);
        return (view) => {
          const raw = view.rawAt(id);
          return typeof raw === 'boolean' ? raw === value.value : view.lowerAt(id) === text;
        };
      }
      case 'null':
        return (view) => {
          const raw = view.rawAt(id);
          return raw === undefined || raw === null;
        };
      case 're': {
        const m = this.regex(value, item);
        return (view) => {
          const t = view.textAt(id);
          return t !== null && m(t);
        };
      }
      case 'cidr':
        return cidrTest([value.block], f);
      case 'compare': {
        const { op, value: bound } = value;
        return (view) => {
          const n = numberOf(view.rawAt(id));
          if (n === null) return false;
          return op === 'gt' ? n > bound : op === 'gte' ? n >= bound : op === 'lt' ? n < bound : n <= bound;
        };
      }
      case 'exists': {
        const want = value.value;
        return (view) => {
          const raw = view.rawAt(id);
          return (raw !== undefined && raw !== null) === want;
        };
      }
      case 'fieldref': {
        const other = fieldId(fieldMap[value.field] ?? value.field);
        const { position, cased } = value;
        return (view) => {
          const a = cased ? view.textAt(id) : view.lowerAt(id);
          const b = cased ? view.textAt(other) : view.lowerAt(other);
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

  /**
   * Case-(in)sensitive string alternatives on the local `s` as code: each pattern as the cheapest exact
   * test (`===`, a Set, `startsWith`, `endsWith`, `includes`), as the engine's wildcard list chooses them;
   * patterns with literal `*`/`?` on their automaton; a long list as its one shared matcher.
   */
  private stringCode(
    alternatives: readonly SigmaString[],
    cased: boolean,
    s: string,
    code: DetectionCode,
  ): string {
    const folded = alternatives.map((a) => fold(a, cased));
    const literals: string[] = [];
    const tests: string[] = [];
    let matchers = 0;
    for (const a of folded) {
      if (a.parts.some((p) => typeof p === 'string' && (p.includes('*') || p.includes('?')))) {
        matchers += 1;
        const m = this.cache.get(`s:${printSigmaString(a)}`, () => {
          const automaton = compileRegexTree(stringTree(a), false);
          return (v) => automaton.test(v);
        });
        tests.push(`${code.constant(m)}(${s})`);
        continue;
      }
      const pattern = a.parts.map((p) => (p === ANY_RUN ? '*' : p === ANY_ONE ? '?' : p)).join('');
      if (!hasWildcard(pattern)) {
        literals.push(pattern);
        continue;
      }
      const inner = pattern.replace(/^\*+|\*+$/g, '');
      if (!pattern.includes('?') && !inner.includes('*')) {
        if (inner.length === 0) return 'true';
        const lead = pattern.startsWith('*');
        const trail = pattern.endsWith('*');
        const method = lead && trail ? 'includes' : trail ? 'startsWith' : 'endsWith';
        tests.push(`${s}.${method}(${JSON.stringify(inner)})`);
        continue;
      }
      matchers += 1;
      tests.push(`${code.constant(this.cache.get(`w:${pattern}`, () => wildcardMatcher(a, pattern)))}(${s})`);
    }
    if (tests.length > MAX_INLINE_PATTERNS && matchers < tests.length) {
      return `${code.constant(stringMatcher(alternatives, cased, this.cache))}(${s})`;
    }
    const unique = [...new Set(literals)];
    const literalTests =
      unique.length >= MIN_LITERAL_SET
        ? [`${code.constant(new Set(unique))}.has(${s})`]
        : unique.map((l) => `${s} === ${JSON.stringify(l)}`);
    return or([...literalTests, ...tests]);
  }

  /** One value on the event's field `f` as code; values without an inline form call their compiled test. */
  private valueCode(
    value: SigmaValue,
    item: DetectionItem,
    fieldMap: Readonly<Record<string, string>>,
    f: string,
    code: DetectionCode,
  ): string {
    switch (value.kind) {
      case 'string': {
        const test = this.stringCode(value.alternatives, value.cased, 's', code);
        if (costly(test)) {
          const key = `${value.cased ? 'c' : 'i'}:${JSON.stringify(value.alternatives.map((a) => printSigmaString(fold(a, value.cased))))}`;
          const id = fieldId(f);
          return `v.memoTest(${id}, ${memoTestId(id, key)}, ${!value.cased}, ${code.helper(test)})`;
        }
        return `((s = ${code.read(f, !value.cased).expr}) !== null && ${test})`;
      }
      case 'number': {
        if (!Number.isFinite(value.value)) break;
        const text = String(value.value);
        return `(typeof (r = v.rawAt(${fieldId(f)})) === "number" ? r === ${text} : ${code.read(f, false).expr} === ${JSON.stringify(text)})`;
      }
      case 'cidr':
        return networkCode([value], f, code);
      case 're': {
        const { flags } = value;
        const key = `re:${flags.ignoreCase ? 'i' : ''}${flags.multiline ? 'm' : ''}${flags.dotAll ? 's' : ''}:${value.pattern}`;
        const id = fieldId(f);
        return `v.memoTest(${id}, ${memoTestId(id, key)}, false, ${code.constant(this.regex(value, item))})`;
      }
      default:
        break;
    }
    return `${code.constant(this.valueTest(value, item, fieldMap, f))}(v)`;
  }

  /**
   * A detection item as code. Under `any`, case-insensitive strings are one list (one Set lookup for all
   * its literals) and networks one matcher (the address parsed once, not once per network: some rules
   * list hundreds).
   */
  itemCode(item: DetectionItem, fieldMap: Readonly<Record<string, string>>, code: DetectionCode): string {
    this.cache.items += 1;
    if (item.field === null) return `${code.constant(this.keywords(item))}(v)`;
    const field = fieldMap[item.field] ?? item.field;
    let values = item.values;
    const tests: string[] = [];
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
        tests.push(this.valueCode(merged, item, fieldMap, field, code));
        values = values.filter((v) => !(v.kind === 'string' && !v.cased));
      }
      const networks = values.filter((v): v is Extract<SigmaValue, { kind: 'cidr' }> => v.kind === 'cidr');
      if (networks.length > 1) {
        tests.push(networkCode(networks, field, code));
        values = values.filter((v) => v.kind !== 'cidr');
      }
    }
    for (const v of values) tests.push(this.valueCode(v, item, fieldMap, field, code));
    return item.link === 'all' ? and(tests) : or(tests);
  }

  searchCode(node: SearchNode, fieldMap: Readonly<Record<string, string>>, code: DetectionCode): string {
    if (node.kind === 'anyOf') return or(node.maps.map((m) => this.searchCode(m, fieldMap, code)));
    return and(node.items.map((i) => this.itemCode(i, fieldMap, code)));
  }

  conditionCode(node: ConditionNode, searches: ReadonlyMap<string, string>): string {
    switch (node.kind) {
      case 'ref':
        return searches.get(node.name) as string;
      case 'not':
        return `!(${this.conditionCode(node.item, searches)})`;
      case 'and':
        return and(node.items.map((i) => this.conditionCode(i, searches)));
      case 'or':
        return or(node.items.map((i) => this.conditionCode(i, searches)));
      case 'of': {
        const items = node.names.map((n) => searches.get(n) as string);
        return node.quantifier === 'all' ? and(items) : or(items);
      }
    }
  }

  /** The detection as one generated function (see `DetectionCode`). */
  generatedDetection(fieldMap: Readonly<Record<string, string>>): EventPredicate {
    const code = new DetectionCode();
    const searches = new Map<string, string>();
    for (const [name, node] of this.rule.searches) searches.set(name, this.searchCode(node, fieldMap, code));
    return code.build(this.conditionCode(this.rule.condition, searches));
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
}

/**
 * The variant's conditions as one predicate: strings case-insensitively, numbers also as decimal text; its
 * `absent` fields missing.
 */
export function selectsVariant(variant: LogsourceVariant): EventPredicate {
  const checks = Object.entries(variant.conditions).map(([field, allowed]) => {
    const texts = new Set(allowed.map((a) => String(a).toLowerCase()));
    const id = fieldId(field);
    return (view: EventView) => {
      const t = view.lowerAt(id);
      return t !== null && texts.has(t);
    };
  });
  for (const field of variant.absent ?? []) {
    const id = fieldId(field);
    checks.push((view: EventView) => {
      const raw = view.rawAt(id);
      return raw === undefined || raw === null;
    });
  }
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
  const variants: CompiledVariant[] = resolved.map((given) => {
    // A field map without a prototype: `fieldMap[name]` of a rule's field named `toString` or
    // `constructor` is then that field's mapping or undefined, never an inherited function.
    const variant: LogsourceVariant = {
      ...given,
      fieldMap: Object.assign(Object.create(null) as Record<string, string>, given.fieldMap),
    };
    const key = JSON.stringify(variant.fieldMap);
    let detects = byMap.get(key);
    if (detects === undefined) {
      detects = compiler.generatedDetection(variant.fieldMap);
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
