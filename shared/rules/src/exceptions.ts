/**
 * A rule's `exceptions`: items of entries (Elastic's exception items). An item holds when all its entries
 * hold; an event is excepted when any item holds. Compiled once per rule into one predicate the rule's
 * spec runs after each step's own predicate, so an excepted event is never seen by the rule: it opens no
 * sequence, fills no join slot, ends no `until`, is not counted by a span aggregation, never appears in
 * evidence (README "Exceptions and value lists").
 *
 * Entry operators (Elastic's entry type in brackets): `is` (match / match_any) exact values,
 * case-insensitive as EQL's `:`; `matches` (wildcard) `*`/`?` patterns, case-insensitive, the engine's
 * linear-time matcher; `cidr` addresses or blocks, IPv4 and IPv6; `in_list` (list) a value list by name;
 * `exists`. `negate: true` is Elastic's `operator: excluded`. A multi-valued field holds when any value does.
 */
import type { CidrBlock, CorrelationSpec, Predicate } from '@sequor/engine';
import { cidrMatcher, compileAccessor, compileWildcardList, parseCidr } from '@sequor/engine';
import type { FieldCatalog, SequorEvent } from '@sequor/model';
import type { RuleFileError } from './errors.js';
import type { DocPath, RuleSourceMap } from './source-map.js';
import type { ValueList, ValueListSet } from './value-lists.js';
import { cidrSet, noValueLists } from './value-lists.js';

export const exceptionOperators = ['is', 'matches', 'cidr', 'in_list', 'exists'] as const;
export type ExceptionOperator = (typeof exceptionOperators)[number];

export interface ExceptionEntry {
  readonly field: string;
  readonly operator: ExceptionOperator;
  /** `is`, `matches`, `cidr`: the values as written (numbers as their text); empty otherwise. */
  readonly values: readonly string[];
  /** `in_list`: the list, resolved at load (a missing or refused list refuses the rule). */
  readonly list: ValueList | null;
  /** Elastic's `excluded`: the entry holds when the test does not. */
  readonly negate: boolean;
}

/** All entries must hold (AND); a rule's items are OR-ed. */
export interface ExceptionItem {
  readonly entries: readonly ExceptionEntry[];
}

const entryKeys = ['field', 'operator', 'values', 'list', 'negate'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads `exceptions` from the rule document: every shape problem, unknown field (against `catalog`) and
 * missing or refused list is an issue at its file position. Returns the items read (only meaningful when
 * no issue is an error).
 */
export function readExceptions(
  root: Record<string, unknown>,
  map: RuleSourceMap,
  catalog: FieldCatalog,
  valueLists: ValueListSet = noValueLists,
  unknownField: (path: DocPath, field: string) => RuleFileError,
): { items: ExceptionItem[]; issues: RuleFileError[] } {
  const issues: RuleFileError[] = [];
  const items: ExceptionItem[] = [];
  const raw = root['exceptions'];
  if (raw === undefined) return { items, issues };
  const fail = (path: DocPath, detail: string): void => {
    issues.push(map.issueAt(path, 'invalid-field', detail));
  };
  // Written with no value, it would except nothing without a word; `[]` says so on purpose.
  if (raw === null) {
    fail(['exceptions'], '`exceptions` is empty: list exception items (or `[]`), or remove the key');
    return { items, issues };
  }
  const unknownKey = (path: DocPath, detail: string): void => {
    const key = map.positionOfKey(path);
    issues.push(map.issue(key, 'unknown-key', detail, { length: key.length }));
  };
  if (!Array.isArray(raw)) {
    fail(['exceptions'], '`exceptions` must be a list of exception items');
    return { items, issues };
  }
  raw.forEach((item: unknown, i) => {
    const at: DocPath = ['exceptions', i];
    if (!isRecord(item)) {
      fail(at, 'an exception item must be a mapping: one entry (field, operator, ...) or `entries: [...]`');
      return;
    }
    if ('entries' in item) {
      const extra = Object.keys(item).filter((k) => k !== 'entries');
      for (const k of extra) unknownKey([...at, k], `unknown key \`${k}\` beside \`entries\``);
      const list = item['entries'];
      if (!Array.isArray(list) || list.length === 0) {
        fail([...at, 'entries'], '`entries` must be a non-empty list of entries (field, operator, ...)');
        return;
      }
      const entries = list.flatMap((e: unknown, j) => {
        const entry = readEntry(e, [...at, 'entries', j]);
        return entry === null ? [] : [entry];
      });
      if (entries.length === list.length) items.push({ entries });
      return;
    }
    const entry = readEntry(item, at);
    if (entry !== null) items.push({ entries: [entry] });
  });
  return { items, issues };

  function readEntry(e: unknown, at: DocPath): ExceptionEntry | null {
    if (!isRecord(e)) {
      fail(at, 'an exception entry must be a mapping with `field` and `operator`');
      return null;
    }
    const before = issues.length;
    for (const k of Object.keys(e))
      if (!entryKeys.includes(k))
        unknownKey([...at, k], `unknown key \`${k}\` (allowed: ${entryKeys.join(', ')})`);
    const field = e['field'];
    if (typeof field !== 'string' || field === '') fail([...at, 'field'], '`field` must be a field name');
    else if (catalog.lookup(field.split('.')) === undefined)
      issues.push(unknownField([...at, 'field'], field));
    const operator = e['operator'];
    if (typeof operator !== 'string' || !(exceptionOperators as readonly string[]).includes(operator)) {
      fail(
        [...at, 'operator'],
        `\`operator\` must be one of ${exceptionOperators.join(', ')}, found ${JSON.stringify(operator ?? null)}`,
      );
      return null;
    }
    const negate = e['negate'];
    if (negate !== undefined && typeof negate !== 'boolean')
      fail([...at, 'negate'], '`negate` must be true or false');
    const op = operator as ExceptionOperator;
    let values: string[] = [];
    let list: ValueList | null = null;
    if (op === 'in_list') {
      if ('values' in e) fail([...at, 'values'], '`in_list` takes `list: <name>`, not `values`');
      const name = e['list'];
      if (typeof name !== 'string' || name === '') {
        fail(
          [...at, 'list'],
          '`in_list` needs `list: <name>` (a file <name>.<type> in the value lists folder)',
        );
      } else {
        list = valueLists.lists.get(name) ?? null;
        if (list === null) {
          const refused = valueLists.refused.get(name);
          const why =
            refused !== undefined
              ? `value list ${JSON.stringify(name)} was refused: ${refused.reason}`
              : valueLists.dir === ''
                ? `value list ${JSON.stringify(name)} is not loaded: no value lists folder is set (--lists DIR, VALUE_LISTS_DIR)`
                : `value list ${JSON.stringify(name)} is missing: no ${name}.keyword|ip|cidr|wildcard in ${valueLists.dir}`;
          issues.push(map.issueAt([...at, 'list'], 'value-list', why));
        } else if (list.type !== 'keyword' && list.type !== 'wildcard' && typeof field === 'string') {
          const info = catalog.lookup(field.split('.'));
          if (info !== undefined && info.type !== 'ip' && info.type !== 'ip[]')
            fail(
              [...at, 'list'],
              `${list.type} list ${JSON.stringify(name)} needs an ip field; \`${field}\` is ${info.type}`,
            );
        }
      }
    } else if (op === 'exists') {
      if ('values' in e || 'list' in e)
        fail([...at, 'operator'], '`exists` takes neither `values` nor `list`');
    } else {
      if ('list' in e) fail([...at, 'list'], `\`${op}\` takes \`values\`; \`list\` goes with \`in_list\``);
      const raw = e['values'];
      const scalars = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
      if (scalars.length === 0)
        fail([...at, 'values'], `\`${op}\` needs \`values\`: a value or a list of values`);
      scalars.forEach((v: unknown, k) => {
        const path = Array.isArray(raw) ? [...at, 'values', k] : [...at, 'values'];
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          fail(path, 'a value must be a string, number or boolean');
          return;
        }
        const text = String(v);
        if (op === 'cidr' && parseCidr(text) === null)
          fail(path, `${JSON.stringify(text)} is not an IP address or CIDR block (10.0.0.0/8, fe80::/10)`);
        values.push(text);
      });
      if (op === 'cidr' && typeof field === 'string') {
        const info = catalog.lookup(field.split('.'));
        if (info !== undefined && info.type !== 'ip' && info.type !== 'ip[]')
          fail([...at, 'operator'], `\`cidr\` needs an ip field; \`${field}\` is ${info.type}`);
      }
    }
    if (issues.length > before) values = [];
    return issues.length > before
      ? null
      : { field: field as string, operator: op, values, list, negate: negate === true };
  }
}

/** One value's test for an entry (the accessor's value may be an array: any element). */
function valueTest(entry: ExceptionEntry): (value: unknown) => boolean {
  switch (entry.operator) {
    case 'exists':
      return () => true;
    case 'in_list': {
      const list = entry.list as ValueList;
      return (value) => list.has(value);
    }
    case 'cidr': {
      // Checked at load: every value parses. A few blocks: the engine's cidrMatch; past that the value
      // lists' prefix sets (cost per distinct prefix length, not per block).
      const blocks = entry.values.map((v) => parseCidr(v) as CidrBlock);
      if (blocks.length <= 8) {
        const match = cidrMatcher(blocks);
        return (value) => typeof value === 'string' && match(value);
      }
      return cidrSet(blocks);
    }
    case 'is':
    case 'matches': {
      // `is` values are literals: `*` in one is a character, so they never reach the wildcard compiler.
      const folded = entry.values.map((v) => v.toLowerCase());
      const match =
        entry.operator === 'matches'
          ? compileWildcardList(folded, false)
          : (
              (set) => (v: string) =>
                set.has(v)
            )(new Set(folded));
      return (value) => {
        if (typeof value === 'string') return match(value.toLowerCase());
        if (typeof value === 'number' || typeof value === 'boolean') return match(String(value));
        return false;
      };
    }
  }
}

function compileEntry(entry: ExceptionEntry, catalog: FieldCatalog): Predicate<SequorEvent> {
  const info = catalog.lookup(entry.field.split('.'));
  if (info === undefined) throw new Error(`unknown field ${entry.field} (checked at load)`);
  const get = compileAccessor<SequorEvent>(info.storagePath);
  const test = valueTest(entry);
  const holds = (event: SequorEvent): boolean => {
    const value = get(event);
    if (value === null || value === undefined) return false;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (value[i] !== null && test(value[i])) return true;
      return false;
    }
    return test(value);
  };
  return entry.negate ? (event) => !holds(event) : holds;
}

/** The event fields exception items read: a projected decoder must keep them for the test to hold. */
export function exceptionFields(items: readonly ExceptionItem[]): string[] {
  return items.flatMap((item) => item.entries.map((entry) => entry.field));
}

/** The rule's exception test: true when the event is excepted. Null without exceptions. */
export function compileExceptions(
  items: readonly ExceptionItem[],
  catalog: FieldCatalog,
): Predicate<SequorEvent> | null {
  if (items.length === 0) return null;
  const compiled = items.map((item) => item.entries.map((entry) => compileEntry(entry, catalog)));
  return (event) => {
    for (let i = 0; i < compiled.length; i++) {
      const entries = compiled[i] as Predicate<SequorEvent>[];
      let all = true;
      for (let j = 0; j < entries.length; j++) {
        if (!(entries[j] as Predicate<SequorEvent>)(event)) {
          all = false;
          break;
        }
      }
      if (all) return true;
    }
    return false;
  };
}

/**
 * `spec` with every predicate (each step, join item, `until`, the filter or span aggregation's) refusing
 * excepted events. The exception runs only after the step's own predicate matched, so an event the rule
 * would not look at costs nothing more.
 */
export function withExceptions<E>(spec: CorrelationSpec<E>, excepted: Predicate<E>): CorrelationSpec<E> {
  const guard =
    (predicate: Predicate<E>): Predicate<E> =>
    (event) =>
      predicate(event) && !excepted(event);
  switch (spec.kind) {
    case 'filter':
    case 'spanAggregate':
      return { ...spec, predicate: guard(spec.predicate) };
    case 'sequence':
      return {
        ...spec,
        steps: spec.steps.map((step) => ({ ...step, predicate: guard(step.predicate) })),
        until: spec.until === null ? null : { ...spec.until, predicate: guard(spec.until.predicate) },
      };
    case 'join':
      return {
        ...spec,
        items: spec.items.map((item) => ({ ...item, predicate: guard(item.predicate) })),
        until: spec.until === null ? null : { ...spec.until, predicate: guard(spec.until.predicate) },
      };
    case 'slidingAggregate':
      return {
        ...spec,
        inputs: spec.inputs.map((input) => ({ ...input, predicate: guard(input.predicate) })),
      };
    case 'slidingTemporal':
      return {
        ...spec,
        inputs: spec.inputs.map((input) => ({ ...input, predicate: guard(input.predicate) })),
      };
    case 'chain':
      return {
        ...spec,
        inner: spec.inner.map((inner) => withExceptions(inner, excepted)),
        outer: withExceptions(spec.outer, (chained) => excepted(chained.event)),
      };
  }
}
