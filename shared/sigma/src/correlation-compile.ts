/**
 * A Sigma correlation → an engine `CorrelationSpec` over the referenced rules' compiled predicates:
 * `event_count`/`value_count`/`value_sum`/`value_avg` → `slidingAggregate`, `temporal` →
 * `slidingTemporal`, `temporal_ordered` → `sequence` (Elasticsearch semantics, maxspan = timespan),
 * correlations of correlations → `chain`. Generic over the event: a `FieldSource` per event reads it (the
 * model's SequorEvent adapter in the services, plain objects in tests).
 */
import type {
  ChainedEvent,
  CorrelationSpec,
  CorrelationThreshold,
  KeyExtractor,
  KeyValues,
  Predicate,
  SlidingInputSpec,
  SlidingMeasure,
} from '@sequor/engine';
import { isLowerBoundOnly } from '@sequor/engine';
import type { CompiledSigmaRule } from './compile.js';
import type { SigmaCorrelation, SigmaNameAt } from './correlation.js';
import { SigmaRuleError } from './errors.js';
import type { FieldSource, FieldValue } from './field-source.js';
import { EventView, ownCopy } from './field-source.js';

/** What a correlation's `rules` entry names: a compiled detection rule or another correlation. */
export type SigmaTarget =
  | { readonly kind: 'rule'; readonly compiled: CompiledSigmaRule }
  | { readonly kind: 'correlation'; readonly correlation: SigmaCorrelation };

/** The rules and correlations a correlation may name, by id and by name. */
export class SigmaReferences {
  private readonly byRef = new Map<string, SigmaTarget | 'ambiguous'>();

  constructor(rules: readonly CompiledSigmaRule[], correlations: readonly SigmaCorrelation[] = []) {
    for (const compiled of rules)
      this.add([compiled.rule.id, compiled.rule.name], { kind: 'rule', compiled });
    for (const correlation of correlations)
      this.add([correlation.id, correlation.name], { kind: 'correlation', correlation });
  }

  private add(refs: readonly (string | null | undefined)[], target: SigmaTarget): void {
    for (const ref of refs) {
      if (ref === null || ref === undefined) continue;
      const known = this.byRef.get(ref);
      this.byRef.set(ref, known === undefined || sameTarget(known, target) ? target : 'ambiguous');
    }
  }

  /** The target of a reference; a string saying why there is none. */
  resolve(ref: string): SigmaTarget | string {
    const target = this.byRef.get(ref);
    if (target === undefined) return `no loaded rule or correlation has the id or name "${ref}"`;
    if (target === 'ambiguous') return `"${ref}" names several rules or correlations`;
    return target;
  }
}

function sameTarget(a: SigmaTarget | 'ambiguous', b: SigmaTarget): boolean {
  if (a === 'ambiguous') return false;
  if (a.kind === 'rule' && b.kind === 'rule') return a.compiled === b.compiled;
  if (a.kind === 'correlation' && b.kind === 'correlation') return a.correlation === b.correlation;
  return false;
}

export interface SigmaCorrelationOptions<E = unknown> {
  /** Evidence events a count/value alert carries per group: the latest this many (default 10). */
  readonly maxEvidence?: number;
  /**
   * The caller's tuning of what a correlation reads (Sequor's `exceptions`): an event a named detection
   * rule excepts is not that rule's match here either, as it is not for the rule's own alerts. Null, or
   * absent: the rule excepts nothing. Asked once per event object (the key and value readers reuse the
   * answer): an event must not change once given to the spec, as every decoder makes a fresh one.
   */
  readonly ruleExceptions?: (rule: CompiledSigmaRule) => Predicate<E> | null;
  /**
   * The same for a correlation run inside a chain: its spec as its own exceptions keep events out of it
   * (a chain's outer correlation is tuned by the caller, with the whole spec). Absent: unchanged.
   */
  readonly innerTuning?: (correlation: SigmaCorrelation, spec: CorrelationSpec<E>) => CorrelationSpec<E>;
}

export interface CompiledSigmaCorrelation<E> {
  readonly correlation: SigmaCorrelation;
  readonly spec: CorrelationSpec<E>;
  /** The detection rules it reads, directly or through the correlations it names. */
  readonly rules: readonly CompiledSigmaRule[];
  /** The correlations it names, directly or deeper (correlations of correlations). */
  readonly correlations: readonly SigmaCorrelation[];
  /**
   * The event fields `group-by` reads, after `aliases` and each rule's field map (every logsource
   * variant): what the partition-key check compares with the key the events are partitioned by.
   */
  readonly groupByFields: readonly string[];
  /**
   * Each correlation it runs inside its chain (directly or deeper) with the event fields that one's
   * `group-by` reads: its state is keyed by them, so the partition-key check holds for them too.
   */
  readonly innerGroupByFields: readonly {
    readonly correlation: SigmaCorrelation;
    readonly fields: readonly string[];
  }[];
}

/** The default `maxEvidence`: enough events to investigate, bounded per group. */
export const DEFAULT_CORRELATION_EVIDENCE = 10;

const MEASURES: Readonly<Partial<Record<SigmaCorrelation['type'], SlidingMeasure>>> = {
  event_count: 'count',
  value_count: 'distinct',
  value_sum: 'sum',
  value_avg: 'avg',
};

/** An input of the correlation being compiled: what it matches and where its fields are read. */
interface Input<E> {
  readonly ref: SigmaNameAt;
  readonly predicate: Predicate<E>;
  /** The field map of the rule (variant) that matched the event, to read group-by and value fields. */
  readonly fieldMap: (event: E) => Readonly<Record<string, string>> | null;
  /** Every field map this input's events can have (for `groupByFields`). */
  readonly fieldMaps: readonly Readonly<Record<string, string>>[];
  /** The fields of an input event (a chained event's are its event's). */
  readonly view: (event: E) => EventView;
}

/**
 * Tagged, length-prefixed parts (as the engine's keys): equal keys for equal value tuples only. Joined
 * into one flat string of its own: a key lives as long as its group's state, and a concatenation would
 * keep each value it holds, and what a value is a slice of (the Avro map reader's values are substrings
 * of the map's text), alive with it.
 */
function encodeKey(values: readonly FieldValue[]): string | null {
  const parts: string[] = [];
  for (const value of values) {
    if (value === null || value === undefined) return null;
    const part = (typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : 'b') + String(value);
    parts.push(`${part.length}:`, part);
  }
  return parts.join('');
}

/** A value kept in correlation state (a group's key values, a distinct value): a string as its own copy. */
function kept(value: FieldValue): FieldValue {
  return typeof value === 'string' ? ownCopy(value) : value;
}

function numberOf(value: FieldValue): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

/** The view of an event for the rules' predicates, made once however many inputs read the event. */
function viewCache<E>(source: (event: E) => FieldSource): (event: E) => EventView {
  let last: E | undefined;
  let view: EventView | undefined;
  return (event) => {
    if (view === undefined || event !== last) {
      last = event;
      view = new EventView(source(event));
    }
    return view;
  };
}

class CorrelationCompiler<E> {
  private readonly viewOf: (event: E) => EventView;
  readonly rules = new Set<CompiledSigmaRule>();
  readonly correlations = new Set<SigmaCorrelation>();
  /** The group-by fields of each correlation compiled inside a chain (`innerGroupByFields`). */
  readonly innerGroupBy = new Map<SigmaCorrelation, readonly string[]>();

  constructor(
    private readonly references: SigmaReferences,
    source: (event: E) => FieldSource,
    private readonly options: SigmaCorrelationOptions<E>,
  ) {
    this.viewOf = viewCache(source);
  }

  private refuse(
    correlation: SigmaCorrelation,
    at: SigmaNameAt | null,
    detail: string,
    code: SigmaRuleError['code'] = 'unsupported',
  ): never {
    throw new SigmaRuleError(correlation.file, at?.position ?? correlation.position, code, detail, '');
  }

  /** The detection rules a target reads, depth first (a correlation's through its own targets). */
  private detectionRules(
    correlation: SigmaCorrelation,
    target: SigmaTarget,
    path: readonly SigmaCorrelation[],
  ): CompiledSigmaRule[] {
    if (target.kind === 'rule') return [target.compiled];
    const inner = target.correlation;
    if (path.includes(inner)) this.refuse(correlation, null, cycleText(path, inner), 'invalid-rule');
    return inner.rules.flatMap((ref) =>
      this.detectionRules(inner, this.target(inner, ref), [...path, inner]),
    );
  }

  private target(correlation: SigmaCorrelation, ref: SigmaNameAt): SigmaTarget {
    const target = this.references.resolve(ref.name);
    if (typeof target === 'string') this.refuse(correlation, ref, target, 'invalid-rule');
    return target;
  }

  /** An input reading events of detection rules: the predicate and the matching variant's field map. */
  private ruleInput(
    ref: SigmaNameAt,
    rules: readonly CompiledSigmaRule[],
  ): Omit<Input<E>, 'predicate' | 'view'> & { matches: Predicate<E> } {
    const viewOf = this.viewOf;
    const ruleExceptions = this.options.ruleExceptions;
    const excepted = rules.map((r) => ruleExceptions?.(r) ?? null);
    // A rule's event is its match unless its exceptions except it (checked after the detection held).
    // Asked again for the same event by the key and value readers: answered once per event and rule.
    let lastEvent: E | undefined;
    const answers = new Int8Array(rules.length); // 0: not asked yet, 1: counts, 2: excepted
    const counts = (i: number, event: E): boolean => {
      const except = excepted[i];
      if (except === null || except === undefined) return true;
      if (event !== lastEvent) {
        lastEvent = event;
        answers.fill(0);
      }
      let answer = answers[i] as number;
      if (answer === 0) answers[i] = answer = except(event) ? 2 : 1;
      return answer === 1;
    };
    return {
      ref,
      matches: (event) => {
        const view = viewOf(event);
        for (let i = 0; i < rules.length; i++) if (rules[i]!.matches(view) && counts(i, event)) return true;
        return false;
      },
      fieldMap: (event) => {
        const view = viewOf(event);
        for (let i = 0; i < rules.length; i++) {
          const variants = rules[i]!.variants;
          for (let v = 0; v < variants.length; v++) {
            const variant = variants[v]!;
            if (variant.selects(view) && variant.detects(view) && counts(i, event))
              return variant.variant.fieldMap;
          }
        }
        return null;
      },
      fieldMaps: rules.flatMap((r) => r.variants.map((v) => v.variant.fieldMap)),
    };
  }

  /** The Sigma field a `group-by` (or value) name reads in an input's events: through `aliases` when it is one. */
  private fieldFor(correlation: SigmaCorrelation, name: SigmaNameAt, input: SigmaNameAt): string {
    const alias = correlation.aliases.get(name.name);
    if (alias === undefined) return name.name;
    const field = alias.get(input.name);
    if (field === undefined)
      this.refuse(
        correlation,
        name,
        `alias \`${name.name}\` gives no field for rule "${input.name}"`,
        'invalid-rule',
      );
    return field;
  }

  /** The key of an input: `group-by` values read from the event through the matching rule's field map. */
  private key<X>(
    correlation: SigmaCorrelation,
    input: Input<X>,
  ): { key: KeyExtractor<X>; keyValues: KeyValues<X> } {
    const fields = correlation.groupBy.map((g) => this.fieldFor(correlation, g, input.ref));
    if (fields.length === 0) return { key: () => '', keyValues: () => [] };
    const viewOf = input.view;
    const read = (event: X): FieldValue[] | null => {
      const map = input.fieldMap(event);
      if (map === null) return null;
      const view = viewOf(event);
      return fields.map((f) => view.raw(map[f] ?? f));
    };
    return {
      key: (event) => {
        const values = read(event);
        return values === null ? null : encodeKey(values);
      },
      keyValues: (event) => (read(event) ?? []).map((v) => (v === undefined ? null : kept(v))),
    };
  }

  private value<X>(
    correlation: SigmaCorrelation,
    input: Input<X>,
    measure: SlidingMeasure,
  ): ((event: X) => string | number | null) | null {
    if (measure === 'count') return null;
    const fields = correlation.fields.map((f) => this.fieldFor(correlation, f, input.ref));
    const viewOf = input.view;
    return (event) => {
      const map = input.fieldMap(event);
      if (map === null) return null;
      const view = viewOf(event);
      if (measure === 'distinct') {
        const values = fields.map((f) => view.raw(map[f] ?? f));
        return values.length === 1
          ? values[0] === undefined || values[0] === null
            ? null
            : typeof values[0] === 'number'
              ? values[0]
              : ownCopy(String(values[0]))
          : encodeKey(values);
      }
      return numberOf(view.raw(map[fields[0]!] ?? fields[0]!));
    };
  }

  compile(
    correlation: SigmaCorrelation,
    path: readonly SigmaCorrelation[],
  ): { spec: CorrelationSpec<E>; groupByFields: Set<string> } {
    // Refused here, not at load: loaded, it still silences the rules it names (generate: false), as any
    // correlation refused at compile does, so they do not start alerting on their own.
    if (correlation.type === 'value_percentile')
      this.refuse(
        correlation,
        { name: 'value_percentile', position: correlation.typePosition },
        'value_percentile is refused: the specification does not say which percentile is taken nor what the bound is compared with (its example bounds a process name by 1), and tools read it differently',
        'unsupported',
      );
    const targets = correlation.rules.map((ref) => ({ ref, target: this.target(correlation, ref) }));
    // The loader refuses a name written twice; one rule named by its id and by its name is the same.
    targets.forEach(({ ref, target }, j) => {
      const earlier = targets.slice(0, j).find((t) => sameTarget(t.target, target));
      if (earlier !== undefined)
        this.refuse(
          correlation,
          ref,
          `\`rules\` names one ${target.kind === 'rule' ? 'rule' : 'correlation'} twice: "${earlier.ref.name}" and "${ref.name}"`,
          'invalid-rule',
        );
    });
    const chained = targets.some((t) => t.target.kind === 'correlation');
    if (chained) return this.compileChain(correlation, targets, path);
    const inputs = targets.map(({ ref, target }) => {
      const rules = this.detectionRules(correlation, target, path);
      for (const r of rules) this.rules.add(r);
      const built = this.ruleInput(ref, rules);
      return { ...built, predicate: built.matches, view: this.viewOf };
    });
    return this.build(correlation, inputs);
  }

  /** The spec of `correlation` over inputs whose predicates and field maps are given. */
  private build<X>(
    correlation: SigmaCorrelation,
    inputs: readonly Input<X>[],
  ): { spec: CorrelationSpec<X>; groupByFields: Set<string> } {
    const groupByFields = new Set<string>();
    for (const input of inputs) {
      for (const g of correlation.groupBy) {
        const field = this.fieldFor(correlation, g, input.ref);
        for (const map of input.fieldMaps) groupByFields.add(map[field] ?? field);
        if (input.fieldMaps.length === 0) groupByFields.add(field);
      }
    }
    const windowMs = correlation.timespanMs;
    const threshold = correlation.threshold;
    const measure = MEASURES[correlation.type];
    if (measure !== undefined) {
      const sliding: SlidingInputSpec<X>[] = inputs.map((input) => ({
        predicate: input.predicate,
        ...this.key(correlation, input),
        value: this.value(correlation, input, measure),
      }));
      return {
        spec: {
          kind: 'slidingAggregate',
          windowMs,
          measure,
          inputs: sliding,
          threshold: threshold!,
          maxEvidence: this.options.maxEvidence ?? DEFAULT_CORRELATION_EVIDENCE,
        },
        groupByFields,
      };
    }
    const n = inputs.length;
    if (correlation.type === 'temporal') {
      return {
        spec: {
          kind: 'slidingTemporal',
          windowMs,
          inputs: inputs.map((input) => ({ predicate: input.predicate, ...this.key(correlation, input) })),
          minInputs: this.minRules(correlation, threshold, n),
        },
        groupByFields,
      };
    }
    // temporal_ordered
    if (threshold !== null && this.minRules(correlation, threshold, n) !== n)
      this.refuse(
        correlation,
        null,
        'temporal_ordered with a condition other than every rule is not supported: the order of a subset is undefined',
      );
    const steps = inputs.map((input) => ({
      predicate: input.predicate,
      key: this.key(correlation, input).key,
      runs: 1,
      missing: false,
    }));
    return {
      spec: {
        kind: 'sequence',
        maxspanMs: windowMs,
        steps,
        until: null,
        keyValues: this.key(correlation, inputs[0]!).keyValues,
      },
      groupByFields,
    };
  }

  /** A temporal condition as the number of rules that must match: lower bounds only. */
  private minRules(correlation: SigmaCorrelation, threshold: CorrelationThreshold | null, n: number): number {
    if (threshold === null) return n;
    if (!isLowerBoundOnly(threshold))
      this.refuse(
        correlation,
        null,
        `${correlation.type} with lt, lte, eq or neq is not supported: fewer rules than a bound is not an event to alert on`,
      );
    const min = Math.max(
      threshold.gte === undefined ? 1 : Math.ceil(threshold.gte),
      threshold.gt === undefined ? 1 : Math.floor(threshold.gt) + 1,
    );
    if (min > n)
      this.refuse(
        correlation,
        null,
        `the condition asks for ${min} rules but the correlation names ${n}`,
        'invalid-rule',
      );
    return min;
  }

  /**
   * A correlation naming correlations: each named correlation runs inside the chain on the same events,
   * and the event on which it fires is an event of that input. Only inner correlations that fire on an
   * event can feed another (a window decided by the watermark has no event to carry).
   */
  private compileChain(
    correlation: SigmaCorrelation,
    targets: readonly { ref: SigmaNameAt; target: SigmaTarget }[],
    path: readonly SigmaCorrelation[],
  ): { spec: CorrelationSpec<E>; groupByFields: Set<string> } {
    if (path.includes(correlation))
      this.refuse(correlation, null, cycleText(path, correlation), 'invalid-rule');
    const inner: CorrelationSpec<E>[] = [];
    const inputs: Input<ChainedEvent<E>>[] = targets.map(({ ref, target }) => {
      // A refusal inside a named correlation (a cycle through it, a reason of its own) is this one's
      // too, said at the name, with that reason.
      const named = <T>(work: () => T): T => {
        try {
          return work();
        } catch (error) {
          if (!(error instanceof SigmaRuleError) || target.kind !== 'correlation') throw error;
          return this.refuse(
            correlation,
            ref,
            `names correlation "${target.correlation.title}", which is refused: ${error.file}:${error.line}:${error.column}: ${error.detail}`,
            error.code,
          );
        }
      };
      const rules = named(() => this.detectionRules(correlation, target, [...path, correlation]));
      for (const r of rules) this.rules.add(r);
      const built = this.ruleInput(ref, rules);
      const fieldMap = (chained: ChainedEvent<E>) => built.fieldMap(chained.event);
      const viewOf = this.viewOf;
      const view = (chained: ChainedEvent<E>) => viewOf(chained.event);
      if (target.kind === 'rule') {
        const matches = built.matches;
        return {
          ref,
          predicate: (chained) => matches(chained.event),
          fieldMap,
          fieldMaps: built.fieldMaps,
          view,
        };
      }
      const nested = target.correlation;
      this.correlations.add(nested);
      const compiled = named(() => this.compile(nested, [...path, correlation]));
      const tune = this.options.innerTuning;
      const spec = tune === undefined ? compiled.spec : tune(nested, compiled.spec);
      this.innerGroupBy.set(nested, [...compiled.groupByFields].sort());
      if (!firesOnEvents(compiled.spec))
        this.refuse(
          correlation,
          ref,
          `correlation "${nested.title}" is decided when its window closes (lt, lte, eq or neq), not on an event, so it cannot feed another correlation`,
        );
      const slot = inner.length;
      // A temporal outer asks whether the inner one holds at an event's time: it is fed on every event at
      // which it holds, not only on the one a burst starts with (a brute force going on for an hour still
      // holds when the login comes). A count or value outer counts the inner one's bursts.
      inner.push(
        correlation.type === 'temporal' || correlation.type === 'temporal_ordered' ? whileHeld(spec) : spec,
      );
      return {
        ref,
        predicate: (chained) => chained.fired[slot] !== undefined,
        fieldMap,
        fieldMaps: built.fieldMaps,
        view,
      };
    });
    const outer = this.build(correlation, inputs);
    return { spec: { kind: 'chain', inner, outer: outer.spec }, groupByFields: outer.groupByFields };
  }
}

/** The cycle `again` closes on `path`: the correlations in it, named in order (`"ca" → "cb" → "ca"`). */
function cycleText(path: readonly SigmaCorrelation[], again: SigmaCorrelation): string {
  const cycle = [...path.slice(path.indexOf(again)), again].map((c) => `"${c.title}"`).join(' → ');
  return `correlations name each other in a cycle: ${cycle}`;
}

/** Whether a spec's matches come out of an event (not out of a watermark or the end of input). */
function firesOnEvents<E>(spec: CorrelationSpec<E>): boolean {
  switch (spec.kind) {
    case 'slidingAggregate':
      return isLowerBoundOnly(spec.threshold);
    case 'slidingTemporal':
    case 'filter':
      return true;
    case 'sequence':
      return spec.steps.every((step) => !step.missing);
    case 'chain':
      return firesOnEvents(spec.outer);
    case 'join':
    case 'spanAggregate':
      return true;
  }
}

/** The spec emitting on every event at which it holds (`fireWhileHeld`), down a chain to its outer part. */
function whileHeld<E>(spec: CorrelationSpec<E>): CorrelationSpec<E> {
  switch (spec.kind) {
    case 'slidingAggregate':
    case 'slidingTemporal':
      return { ...spec, fireWhileHeld: true };
    case 'chain':
      return { ...spec, outer: whileHeld(spec.outer) };
    default:
      return spec;
  }
}

/**
 * Compiles one correlation. Throws `SigmaRuleError` at the offending name: a reference no loaded rule or
 * correlation has, an alias without a field for a rule, a condition the engine cannot decide.
 *
 * @example
 * const references = new SigmaReferences(ruleSet.rules, loaded.correlations);
 * const compiled = compileSigmaCorrelation(correlation, references, (event) => sequorEventFieldSource(event));
 * rules.push({ rule: compiled, spec: compiled.spec });
 */
export function compileSigmaCorrelation<E>(
  correlation: SigmaCorrelation,
  references: SigmaReferences,
  source: (event: E) => FieldSource,
  options: SigmaCorrelationOptions<E> = {},
): CompiledSigmaCorrelation<E> {
  const compiler = new CorrelationCompiler<E>(references, source, options);
  const { spec, groupByFields } = compiler.compile(correlation, []);
  return {
    correlation,
    spec,
    rules: [...compiler.rules],
    correlations: [...compiler.correlations],
    innerGroupByFields: [...compiler.innerGroupBy].map(([inner, fields]) => ({ correlation: inner, fields })),
    groupByFields: [...groupByFields].sort(),
  };
}

/**
 * Which rules and correlations raise no alerts of their own (`generate: false`, the default): those
 * named by at least one correlation and by none with `generate: true`. Asked by id or name.
 *
 * @example
 * const silenced = silencedBySigmaCorrelations(loaded.correlations);
 * const alerting = rules.filter((rule) => !silenced.has(rule));
 */
export function silencedBySigmaCorrelations(
  correlations: readonly Pick<SigmaCorrelation, 'rules' | 'generate'>[],
): {
  has(rule: { readonly id: string | null; readonly name?: string | null }): boolean;
} {
  const named = new Set<string>();
  const generated = new Set<string>();
  for (const correlation of correlations) {
    for (const ref of correlation.rules) (correlation.generate ? generated : named).add(ref.name);
  }
  const test = (ref: string | null | undefined): 'silenced' | 'generated' | 'free' =>
    ref === null || ref === undefined
      ? 'free'
      : generated.has(ref)
        ? 'generated'
        : named.has(ref)
          ? 'silenced'
          : 'free';
  return {
    has(rule) {
      const byId = test(rule.id);
      const byName = test(rule.name);
      if (byId === 'generated' || byName === 'generated') return false;
      return byId === 'silenced' || byName === 'silenced';
    },
  };
}

/** Every correlation of a set compiled, or its refusal; and which rules and correlations stay silent. */
export interface SigmaCorrelationSet<E> {
  /** The correlations that compiled and alert on their own (not silenced by an outer one), in input order. */
  readonly alerting: readonly CompiledSigmaCorrelation<E>[];
  /** Each correlation that could not be compiled, with the reason at its file:line:column. */
  readonly errors: readonly SigmaRuleError[];
  /**
   * The same refusals by the correlation compiled (the reason may point into another one: the inner
   * correlation of a chain that made it fail).
   */
  readonly refusals: ReadonlyMap<SigmaCorrelation, SigmaRuleError>;
  /** The detection rules (and correlations) that raise no alerts of their own (`generate: false`). */
  readonly silenced: ReturnType<typeof silencedBySigmaCorrelations>;
}

/**
 * Compiles the correlations of a rule set against its compiled detection rules: what a rule-set loader
 * wires in. Each correlation compiles on its own (one refusal does not take the others down); an inner
 * correlation named by an outer one with `generate: false` runs inside the outer one's chain only.
 *
 * @example
 * const set = compileSigmaCorrelations(ruleSet.rules, loaded.correlations, () => {
 *   const fields = new SequorEventFields();
 *   return (event) => fields.bind(event);
 * });
 * const entries = set.alerting.map((c) => ({ rule: c, spec: c.spec }));
 */
export function compileSigmaCorrelations<E>(
  rules: readonly CompiledSigmaRule[],
  correlations: readonly SigmaCorrelation[],
  /** A field source maker per correlation (a source may be one instance rebound per event). */
  sourceFor: () => (event: E) => FieldSource,
  options: SigmaCorrelationOptions<E> = {},
  /**
   * The correlations whose `generate` decides what is silenced, when more are loaded than compiled (a
   * selection leaves some out: the rules and correlations they name stay building blocks), or some did
   * not load at all (`SigmaUnloadedCorrelation`); default `correlations`.
   */
  silencers: readonly Pick<SigmaCorrelation, 'rules' | 'generate'>[] = correlations,
): SigmaCorrelationSet<E> {
  const references = new SigmaReferences(rules, correlations);
  const silenced = silencedBySigmaCorrelations(silencers);
  const alerting: CompiledSigmaCorrelation<E>[] = [];
  const errors: SigmaRuleError[] = [];
  const refusals = new Map<SigmaCorrelation, SigmaRuleError>();
  for (const correlation of correlations) {
    if (silenced.has(correlation)) continue;
    try {
      alerting.push(compileSigmaCorrelation(correlation, references, sourceFor(), options));
    } catch (error) {
      if (!(error instanceof SigmaRuleError)) throw error;
      errors.push(error);
      refusals.set(correlation, error);
    }
  }
  // A silenced correlation runs inside the chains of the alerting ones that name it. One that none of
  // those that compiled runs is compiled on its own: correlations that name each other in a cycle (and so
  // silence each other) would otherwise load as nothing without a word. One whose outer correlations were
  // all refused compiles and says nothing more: their refusals say why it does not run.
  const run = new Set(alerting.flatMap((c) => c.correlations));
  for (const correlation of correlations) {
    if (!silenced.has(correlation) || run.has(correlation)) continue;
    try {
      compileSigmaCorrelation(correlation, references, sourceFor(), options);
    } catch (error) {
      if (!(error instanceof SigmaRuleError)) throw error;
      errors.push(error);
      refusals.set(correlation, error);
    }
  }
  return { alerting, errors, refusals, silenced };
}
