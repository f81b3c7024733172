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
import type { SigmaFilter, SigmaRule } from './rule.js';

/** Fields the index is keyed on, in order: the first a variant names is its first key. */
const SOURCE_FIELDS = ['Channel', '_path'] as const;
const ID_FIELD = 'EventID';

interface Entry {
  readonly rule: CompiledSigmaRule;
  readonly variant: CompiledVariant;
  /** The variant's conditions the index has not already checked (registry_add's EventType, …). */
  readonly residual: EventPredicate | null;
}

class Bucket {
  /** Entries that need this source and any EventID. */
  readonly anyId: Entry[] = [];
  readonly byId = new Map<string, Entry[]>();
}

export interface SigmaRuleSetStats {
  readonly rules: number;
  readonly variants: number;
  /** Matchers and detection items reused from another rule instead of compiled again. */
  readonly sharedMatchers: number;
  readonly matchers: number;
  /** Distinct detection items (each evaluated at most once per event). */
  readonly items: number;
}

export class SigmaRuleSet {
  readonly rules: readonly CompiledSigmaRule[];
  /** Rules the pipeline cannot run (unknown logsource, a pattern past the bounds), with the reason. */
  readonly refused: readonly SigmaRuleError[];
  private readonly everywhere: Entry[] = [];
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
    this.memo = new ItemMemo(this.cache.slots);
  }

  private index(rule: CompiledSigmaRule, variant: CompiledVariant): void {
    const conditions = variant.variant.conditions;
    const field = SOURCE_FIELDS.find((f) => conditions[f] !== undefined);
    if (field === undefined) {
      this.everywhere.push({ rule, variant, residual: variant.selects });
      return;
    }
    const rest = Object.entries(conditions).filter(([f]) => f !== field && f !== ID_FIELD);
    const entry: Entry = {
      rule,
      variant,
      residual:
        rest.length === 0
          ? null
          : selectsVariant({ ...variant.variant, conditions: Object.fromEntries(rest) }),
    };
    let byValue = this.bySource.get(field);
    if (byValue === undefined) this.bySource.set(field, (byValue = new Map()));
    for (const source of conditions[field] ?? []) {
      const key = String(source).toLowerCase();
      let bucket = byValue.get(key);
      if (bucket === undefined) byValue.set(key, (bucket = new Bucket()));
      const ids = conditions[ID_FIELD];
      if (ids === undefined) bucket.anyId.push(entry);
      else {
        for (const id of ids) {
          const k = String(id);
          const list = bucket.byId.get(k);
          if (list === undefined) bucket.byId.set(k, [entry]);
          else list.push(entry);
        }
      }
    }
  }

  /** The rules that match the event, each once, in load order of their first matching variant. */
  match(source: FieldSource): CompiledSigmaRule[] {
    const view = new EventView(source, this.memo.begin());
    const out: CompiledSigmaRule[] = [];
    const test = (entries: readonly Entry[] | undefined): void => {
      if (entries === undefined) return;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as Entry;
        if (out.includes(e.rule)) continue;
        if ((e.residual === null || e.residual(view)) && e.variant.detects(view)) out.push(e.rule);
      }
    };
    for (const [field, byValue] of this.bySource) {
      const value = view.lower(field);
      if (value === null) continue;
      const bucket = byValue.get(value);
      if (bucket === undefined) continue;
      test(bucket.anyId);
      const id = view.text(ID_FIELD);
      if (id !== null) test(bucket.byId.get(id));
    }
    test(this.everywhere);
    return out;
  }

  stats(): SigmaRuleSetStats {
    return {
      rules: this.rules.length,
      variants: this.rules.reduce((n, r) => n + r.variants.length, 0),
      matchers: this.cache.size,
      items: this.cache.slots,
      sharedMatchers: this.cache.hits,
    };
  }
}
