/**
 * Many rules over one stream: each rule compiled once, identical matchers shared (`MatcherCache`), and
 * each event offered only to the rule variants whose logsource can match it. The index is on the
 * variants' conditions: first the source field (`Channel` for Windows, `_path` for Zeek), then `EventID`;
 * a variant without them is tried on every event.
 */
import type { CompiledSigmaRule, CompiledVariant, EventPredicate } from './compile.js';
import { compileSigmaRule, MatcherCache, selectsVariant } from './compile.js';
import type { SigmaRuleError } from './errors.js';
import { EventView, ItemMemo } from './field-source.js';
import type { FieldSource } from './field-source.js';
import type { ProcessingPipeline } from './pipeline.js';
import { applySigmaFilters } from './filters.js';
import { gateOf, KEYWORDS } from './gate.js';
import { LiteralScanner } from './literals.js';
import type { SigmaFilter, SigmaRule } from './rule.js';

/** Fields the index is keyed on, in order: the first a variant names is its first key. */
const SOURCE_FIELDS = ['Channel', '_path'] as const;
const ID_FIELD = 'EventID';

interface Entry {
  /** The event generation that last tried this entry (an entry can sit under several gate keys). */
  tried: number;
  readonly rule: CompiledSigmaRule;
  readonly variant: CompiledVariant;
  /** The variant's conditions the index has not already checked (registry_add's EventType, …). */
  readonly residual: EventPredicate | null;
}

/**
 * Entries behind one index key, split by their gates (`gate.ts`): gated ones are found by a lookup per
 * gate field, the others are always tried.
 */
/** One gate field's entries by key; an array of these per index, walked per event without iterators. */
interface FieldKeys<K> {
  readonly field: string;
  readonly byKey: Map<K, Entry[]>;
}

class GateIndex {
  readonly ungated: Entry[] = [];
  readonly exact: FieldKeys<string>[] = [];
  readonly basename: FieldKeys<string>[] = [];
  /** By field, then the id of the literal in that field's scanner. */
  readonly substring: FieldKeys<number>[] = [];

  constructor(private readonly scanners: FieldScanners) {}

  /** Returns whether the entry has a gate. */
  add(entry: Entry): boolean {
    const gate = gateOf(entry.rule.rule, entry.variant.variant.fieldMap);
    if (gate === null) {
      this.ungated.push(entry);
      return false;
    }
    for (const { field, kind, key } of gate) {
      if (kind === 'substring') {
        push(this.substring, field, this.scanners.literal(field, key), entry);
      } else push(kind === 'exact' ? this.exact : this.basename, field, key, entry);
    }
    return true;
  }
}

function push<K>(fields: FieldKeys<K>[], field: string, key: K, entry: Entry): void {
  let keys = fields.find((f) => f.field === field);
  if (keys === undefined) fields.push((keys = { field, byKey: new Map() }));
  const list = keys.byKey.get(key);
  if (list === undefined) keys.byKey.set(key, [entry]);
  else if (list[list.length - 1] !== entry) list.push(entry);
}

/**
 * One `LiteralScanner` per field over every substring gate key of every index, and the literals an event's
 * value holds: scanned at most once per event and field, on the first index that asks.
 */
interface FieldScan {
  readonly scanner: LiteralScanner;
  /** The event generation `hits` belong to. */
  generation: number;
  /** Per literal id, the generation that last found it. */
  seen: Int32Array;
  readonly hits: number[];
}

class FieldScanners {
  private readonly byField = new Map<string, FieldScan>();

  literal(field: string, key: string): number {
    let f = this.byField.get(field);
    if (f === undefined) {
      f = { scanner: new LiteralScanner(), generation: 0, seen: new Int32Array(0), hits: [] };
      this.byField.set(field, f);
    }
    return f.scanner.add(key);
  }

  build(): void {
    for (const f of this.byField.values()) {
      f.scanner.build();
      f.seen = new Int32Array(f.scanner.size);
    }
  }

  /** Ids of the field's literals in the event's lower-cased value (valid until the next event). */
  hits(field: string, view: EventView, generation: number): readonly number[] {
    const f = this.byField.get(field) as FieldScan;
    if (f.generation === generation) return f.hits;
    f.generation = generation;
    const hits = f.hits;
    hits.length = 0;
    if (field === KEYWORDS) {
      // Each value scanned on its own: no literal found across two fields.
      const values = view.lowerTexts();
      for (let i = 0; i < values.length; i++) f.scanner.scan(values[i] as string, f.seen, generation, hits);
      return hits;
    }
    const value = view.lower(field);
    if (value !== null) f.scanner.scan(value, f.seen, generation, hits);
    return hits;
  }
}

class Bucket {
  /** Entries that need this source and any EventID. */
  readonly anyId: GateIndex;
  readonly byId = new Map<string, GateIndex>();

  constructor(scanners: FieldScanners) {
    this.anyId = new GateIndex(scanners);
  }
}

export interface SigmaRuleSetStats {
  readonly rules: number;
  readonly variants: number;
  /** Matchers and detection items reused from another rule instead of compiled again. */
  readonly sharedMatchers: number;
  readonly matchers: number;
  /** Distinct detection items (each evaluated at most once per event). */
  readonly items: number;
  /** Variants behind a gate (`gate.ts`): tried only when one of their gate keys is in the event. */
  readonly gatedVariants: number;
}

export class SigmaRuleSet {
  readonly rules: readonly CompiledSigmaRule[];
  /** Rules the pipeline cannot run (unknown logsource, a pattern past the bounds), with the reason. */
  readonly refused: readonly SigmaRuleError[];
  private readonly scanners = new FieldScanners();
  private readonly everywhere = new GateIndex(this.scanners);
  private generation = 0;
  private gatedVariants = 0;
  private readonly bySource = new Map<string, Map<string, Bucket>>();
  private readonly cache: MatcherCache;
  private readonly memo: ItemMemo;

  /** `filters`: meta filters, joined to the rules they apply to before anything is compiled. */
  constructor(
    rules: readonly SigmaRule[],
    pipeline: ProcessingPipeline,
    filters: readonly SigmaFilter[] = [],
  ) {
    this.cache = new MatcherCache();
    const compiled: CompiledSigmaRule[] = [];
    const refused: SigmaRuleError[] = [];
    for (const rule of rules) {
      try {
        compiled.push(compileSigmaRule(applySigmaFilters(rule, filters), pipeline, this.cache));
      } catch (error) {
        if (!(error instanceof Error) || !('code' in error)) throw error;
        refused.push(error as SigmaRuleError);
      }
    }
    this.rules = compiled;
    this.refused = refused;
    for (const rule of compiled) for (const variant of rule.variants) this.index(rule, variant);
    this.scanners.build();
    this.memo = new ItemMemo(this.cache.slots);
  }

  private index(rule: CompiledSigmaRule, variant: CompiledVariant): void {
    const conditions = variant.variant.conditions;
    const field = SOURCE_FIELDS.find((f) => conditions[f] !== undefined);
    if (field === undefined) {
      if (this.everywhere.add({ tried: 0, rule, variant, residual: variant.selects }))
        this.gatedVariants += 1;
      return;
    }
    const rest = Object.entries(conditions).filter(([f]) => f !== field && f !== ID_FIELD);
    const entry: Entry = {
      tried: 0,
      rule,
      variant,
      residual:
        rest.length === 0
          ? null
          : selectsVariant({ ...variant.variant, conditions: Object.fromEntries(rest) }),
    };
    let byValue = this.bySource.get(field);
    if (byValue === undefined) this.bySource.set(field, (byValue = new Map()));
    let gated = false;
    for (const source of conditions[field] ?? []) {
      const key = String(source).toLowerCase();
      let bucket = byValue.get(key);
      if (bucket === undefined) byValue.set(key, (bucket = new Bucket(this.scanners)));
      const ids = conditions[ID_FIELD];
      if (ids === undefined) gated = bucket.anyId.add(entry);
      else {
        for (const id of ids) {
          const k = String(id);
          let index = bucket.byId.get(k);
          if (index === undefined) bucket.byId.set(k, (index = new GateIndex(this.scanners)));
          gated = index.add(entry);
        }
      }
    }
    if (gated) this.gatedVariants += 1;
  }

  /** The rules that match the event, each once, in load order of their first matching variant. */
  match(source: FieldSource): CompiledSigmaRule[] {
    const view = new EventView(source, this.memo.begin());
    const out: CompiledSigmaRule[] = [];
    const generation = ++this.generation;
    const test = (entries: readonly Entry[] | undefined): void => {
      if (entries === undefined) return;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as Entry;
        if (e.tried === generation) continue;
        e.tried = generation;
        if (out.includes(e.rule)) continue;
        if ((e.residual === null || e.residual(view)) && e.variant.detects(view)) out.push(e.rule);
      }
    };
    const gated = (index: GateIndex | undefined): void => {
      if (index === undefined) return;
      test(index.ungated);
      const { exact, basename, substring } = index;
      for (let f = 0; f < exact.length; f++) {
        const { field, byKey } = exact[f] as FieldKeys<string>;
        const value = view.lower(field);
        if (value !== null) test(byKey.get(value));
      }
      for (let f = 0; f < basename.length; f++) {
        const { field, byKey } = basename[f] as FieldKeys<string>;
        const value = view.lower(field);
        if (value === null) continue;
        const slash = value.lastIndexOf('\\');
        if (slash >= 0) test(byKey.get(value.slice(slash)));
      }
      for (let f = 0; f < substring.length; f++) {
        const { field, byKey } = substring[f] as FieldKeys<number>;
        const hits = this.scanners.hits(field, view, generation);
        for (let i = 0; i < hits.length; i++) test(byKey.get(hits[i] as number));
      }
    };
    for (const [field, byValue] of this.bySource) {
      const value = view.lower(field);
      if (value === null) continue;
      const bucket = byValue.get(value);
      if (bucket === undefined) continue;
      gated(bucket.anyId);
      const id = view.text(ID_FIELD);
      if (id !== null) gated(bucket.byId.get(id));
    }
    gated(this.everywhere);
    return out;
  }

  stats(): SigmaRuleSetStats {
    return {
      rules: this.rules.length,
      variants: this.rules.reduce((n, r) => n + r.variants.length, 0),
      matchers: this.cache.size,
      items: this.cache.slots,
      gatedVariants: this.gatedVariants,
      sharedMatchers: this.cache.hits,
    };
  }
}
