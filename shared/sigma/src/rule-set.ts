/**
 * Many rules over one stream: each rule compiled once, identical matchers shared (`MatcherCache`), and
 * each event offered only to the rule variants whose logsource can match it. The index is on the
 * variants' conditions: first the source field (`Channel` for Windows, `_path` for Zeek), then `EventID`;
 * a variant without them is tried on every event.
 */
import type { CompiledSigmaRule, CompiledVariant, EventPredicate } from './compile.js';
import { compileSigmaRule, MatcherCache, selectsVariant } from './compile.js';
import type { SigmaRuleError } from './errors.js';
import {
  EventView,
  fieldCount,
  fieldId,
  memoTestCount,
  objectFieldSource,
  textOf,
  ValueMemo,
} from './field-source.js';
import type { FieldSource, FieldValue } from './field-source.js';
import type { ProcessingPipeline } from './pipeline.js';
import { applySigmaFilters } from './filters.js';
import type { Clause, Gate, GateKey } from './gate.js';
import { chooseGate, gateOptions, hitShare, KEYWORDS, requiredExact } from './gate.js';
import { LiteralIds, LiteralScanner } from './literals.js';
import { SkipScanner } from './skip-scanner.js';
import type { SigmaFilter, SigmaRule } from './rule.js';

/** Fields the index is keyed on, in order: the first a variant names is its first key. */
const SOURCE_FIELDS = ['Channel', '_path'] as const;
const ID_FIELD = 'EventID';
const ID_FIELD_ID = fieldId(ID_FIELD);

interface Entry {
  /** The event generation that last tried this entry (an entry can sit under several gate keys). */
  tried: number;
  readonly rule: CompiledSigmaRule;
  /** The rule's position in the set's `rules`. */
  readonly ruleIndex: number;
  readonly variant: CompiledVariant;
  /** The variant's conditions the index has not already checked (registry_add's EventType, …). */
  readonly residual: EventPredicate | null;
  /** The gate's check clause (`Gate.check`), tried before the detection. */
  readonly check: EventPredicate | null;
  /** What the gate was chosen from (`GateChoice`), kept for choosing again from measured shares. */
  readonly choice: GateChoice;
}

/**
 * A variant's gate options (`gateOptions`) and what learning measured of them: per option, on how many of
 * the events offered to the variant's index it held (`SigmaRuleSet`'s gate learning).
 */
interface GateChoice {
  /** Emptied with `tests` and `holds` once the gates are chosen again (the chosen gates keep theirs). */
  options: readonly Clause[];
  /**
   * Per option, a test of it on an event (none for options with keyword keys: estimated by shape); made
   * at the first sample, dropped with `holds` once the gates are chosen again.
   */
  tests: readonly (EventPredicate | null)[] | null;
  holds: Float64Array;
  offered: number;
  /** The sampled event that last counted this choice (a variant can sit in several indexes). */
  sampledAt: number;
}

/**
 * A gate clause as a predicate: some key holds. Exact and basename keys are a Set lookup per field, a
 * substring key an `includes` on the lower-cased value.
 */
function clauseTest(clause: Clause): EventPredicate {
  const byField = new Map<string, { field: string; kind: GateKey['kind']; keys: Set<string> }>();
  for (const { field, kind, key } of clause) {
    const id = `${kind}\u0000${field}`;
    let group = byField.get(id);
    if (group === undefined) byField.set(id, (group = { field, kind, keys: new Set() }));
    group.keys.add(key);
  }
  const tests = [...byField.values()].map(({ field, kind, keys }): EventPredicate => {
    const id = fieldId(field);
    if (kind === 'exact')
      return (view) => {
        const v = view.lowerAt(id);
        return v !== null && keys.has(v);
      };
    if (kind === 'basename')
      return (view) => {
        const v = view.basenameAt(id);
        return v !== null && keys.has(v);
      };
    const list = [...keys];
    return (view) => {
      const v = view.lowerAt(id);
      if (v === null) return false;
      for (let i = 0; i < list.length; i++) if (v.includes(list[i] as string)) return true;
      return false;
    };
  });
  if (tests.length === 1) return tests[0] as EventPredicate;
  return (view) => {
    for (let i = 0; i < tests.length; i++) if ((tests[i] as EventPredicate)(view)) return true;
    return false;
  };
}

/**
 * Entries behind one index key, split by their gates (`gate.ts`): gated ones are found by a lookup per
 * gate field, the others are always tried.
 */
/** One gate field's entries by key; an array of these per index, walked per event without iterators. */
interface FieldKeys<K> {
  /** The field's number (`fieldId`). */
  readonly field: number;
  readonly byKey: Map<K, Entry[]>;
  /**
   * Exact keys: the shortest and longest key's length. Lower-casing never shortens a text and at most
   * doubles it (U+0130 becomes two code units), so a text longer than `longest`, or shorter than half of
   * `shortest`, equals no key: it is neither lower-cased nor looked up.
   */
  shortest: number;
  longest: number;
}

class GateIndex {
  readonly ungated: Entry[] = [];
  readonly exact: FieldKeys<string>[] = [];
  readonly basename: FieldKeys<string>[] = [];
  /** By field, then the id of the literal in that field's scanner. */
  readonly substring: FieldKeys<number>[] = [];
  /**
   * Keyword keys (a literal in any value) by their id in this index's own scanner: each index scans with
   * only its rules' keywords, so the `product: windows` rule's long ones are not held back by the short
   * ones of a channel's (the skip search moves by the shortest).
   */
  readonly keywords: FieldKeys<number>[] = [];
  keywordScan: KeywordScan | null = null;
  private every: Entry[] | null = null;

  constructor(private readonly scanners: FieldScanners) {}

  /** Every entry of the index once (gate learning), in the order they were added. */
  all(): readonly Entry[] {
    if (this.every !== null) return this.every;
    const out = new Set<Entry>(this.ungated);
    for (const fields of [this.exact, this.basename, this.substring, this.keywords] as FieldKeys<unknown>[][])
      for (const { byKey } of fields)
        for (const entries of byKey.values()) for (const e of entries) out.add(e);
    return (this.every = [...out]);
  }

  /** Returns whether the entry has a gate. */
  add(entry: Entry, gate: Gate | null): boolean {
    if (gate === null) {
      this.ungated.push(entry);
      return false;
    }
    for (const { field, kind, key } of gate.keys) {
      if (kind === 'substring' && field === KEYWORDS) {
        this.keywordScan ??= this.scanners.keywordScan();
        push(this.keywords, field, this.keywordScan.scanner.add(key), entry);
      } else if (kind === 'substring') {
        push(this.substring, field, this.scanners.literal(field, key), entry);
      } else push(kind === 'exact' ? this.exact : this.basename, field, key, entry);
    }
    return true;
  }
}

/** One index's keyword literals and what they found in the current event (`FieldScanners.keywordHits`). */
interface KeywordScan {
  readonly scanner: SkipScanner;
  seen: Int32Array;
  readonly hits: number[];
  /**
   * Values shorter than this hold no literal (set at build): an ASCII literal needs as many code units of
   * the value as it has; a literal with others, half as many (lower-casing U+0130 gives two units).
   */
  shortest: number;
  /**
   * Whether some literal could be in a number's text (`String(n)`: digits, sign, point, exponent,
   * `Infinity`, `NaN`); when none could, numbers are not turned into text to be scanned.
   */
  numbers: boolean;
}

/** The code units a number's text (`String(n)`) is made of, lower-cased. */
const NUMBER_TEXT = /^[0-9.+\-einfatyn]*$/;

function push<K>(fields: FieldKeys<K>[], name: string, key: K, entry: Entry): void {
  const field = fieldId(name);
  let keys = fields.find((f) => f.field === field);
  if (keys === undefined) fields.push((keys = { field, byKey: new Map(), shortest: Infinity, longest: 0 }));
  if (typeof key === 'string') {
    keys.shortest = Math.min(keys.shortest, key.length);
    keys.longest = Math.max(keys.longest, key.length);
  }
  const list = keys.byKey.get(key);
  if (list === undefined) keys.byKey.set(key, [entry]);
  else if (list[list.length - 1] !== entry) list.push(entry);
}

/** What a field's substring keys are scanned with: either scanner answers as a scan of the lower case. */
interface Scanner {
  add(literal: string): number;
  build(): void;
  readonly size: number;
  scanFolded(value: string, seen: Int32Array, stamp: number, out: number[]): void;
}

/**
 * A field whose keys are few and all long is scanned with a `SkipScanner` (reads a fraction of a long
 * value: PowerShell's `Payload`, `ContextInfo`); many keys, or short ones, make its skips short and its
 * candidate lists long, so those fields keep the `LiteralScanner`'s one lookup per code unit.
 */
const MAX_SKIP_LITERALS = 400;
const MIN_SKIP_LITERAL = 6;

function scannerFor(literals: readonly string[]): Scanner {
  const skip = literals.length <= MAX_SKIP_LITERALS && literals.every((l) => l.length >= MIN_SKIP_LITERAL);
  const scanner: Scanner = skip ? new SkipScanner() : new LiteralScanner();
  for (const literal of literals) scanner.add(literal);
  scanner.build();
  return scanner;
}

/**
 * One scanner per field over every substring gate key of every index, and the literals an event's value
 * holds: scanned at most once per event and field, on the first index that asks (once per distinct text
 * when the text is memoized).
 */
interface FieldScan {
  /** The field's keys by id, in the order their ids were given (the scanner numbers them alike). */
  readonly ids: LiteralIds;
  scanner: Scanner | null;
  /** The event generation `current` belongs to. */
  generation: number;
  /** Per literal id, the generation that last found it. */
  seen: Int32Array;
  /** The ids found in the current event's value: `buffer`, or the value's memoized `ValueFacts.hits`. */
  current: readonly number[];
  readonly buffer: number[];
}

const NO_HITS: readonly number[] = Object.freeze([]);

class FieldScanners {
  /** By field id. */
  private readonly byField: (FieldScan | undefined)[] = [];
  private readonly keywordScans: KeywordScan[] = [];

  /** The ids of the fields with a substring scanner. */
  fields(): number[] {
    const ids: number[] = [];
    this.byField.forEach((f, id) => {
      if (f !== undefined) ids.push(id);
    });
    return ids;
  }

  /** A scanner for one index's keyword keys, built with the others. */
  keywordScan(): KeywordScan {
    const scan: KeywordScan = {
      scanner: new SkipScanner(),
      seen: new Int32Array(0),
      hits: [],
      shortest: 0,
      numbers: true,
    };
    this.keywordScans.push(scan);
    return scan;
  }

  /**
   * Ids of the scan's literals in any of the event's values, each value scanned on its own (no literal is
   * found across two fields) as written: the scanner folds case itself, so values are never lower-cased.
   */
  keywordHits(scan: KeywordScan, view: EventView, generation: number): readonly number[] {
    const hits = scan.hits;
    if (hits.length !== 0) hits.length = 0;
    const { scanner, seen, shortest, numbers } = scan;
    const values = view.source.values();
    if (!Array.isArray(values)) {
      for (const raw of values) {
        const text = textOf(raw);
        if (text !== null) scanner.scanFolded(text, seen, generation, hits);
      }
      return hits;
    }
    for (let i = 0; i < values.length; i++) {
      const raw = values[i] as FieldValue;
      if (typeof raw === 'string') {
        if (raw.length >= shortest) scanner.scanFolded(raw, seen, generation, hits);
      } else if (raw !== undefined && raw !== null && (numbers || typeof raw !== 'number')) {
        scanner.scanFolded(String(raw), seen, generation, hits);
      }
    }
    return hits;
  }

  literal(field: string, key: string): number {
    const id = fieldId(field);
    let f = this.byField[id];
    if (f === undefined) {
      f = {
        ids: new LiteralIds(),
        scanner: null,
        generation: 0,
        seen: new Int32Array(0),
        current: NO_HITS,
        buffer: [],
      };
      this.byField[id] = f;
    }
    return f.ids.add(key, 'substring gate');
  }

  /**
   * Builds every scanner; one whose literals (in id order) are those of a scanner of `previous` (the set
   * before its gates were chosen again) is taken over instead: building the large ones is most of the cost.
   */
  build(previous: FieldScanners | null = null): void {
    const built = new Map<string, Scanner>();
    previous?.byField.forEach((f, id) => {
      if (f?.scanner != null) built.set(`${id}\u0000${JSON.stringify(f.ids.literals)}`, f.scanner);
    });
    for (const k of previous?.keywordScans ?? [])
      built.set(`k\u0000${JSON.stringify(k.scanner.literals)}`, k.scanner);
    this.byField.forEach((f, id) => {
      if (f === undefined) return;
      f.scanner = built.get(`${id}\u0000${JSON.stringify(f.ids.literals)}`) ?? scannerFor(f.ids.literals);
      f.seen = new Int32Array(f.scanner.size);
    });
    for (const k of this.keywordScans) {
      const same = built.get(`k\u0000${JSON.stringify(k.scanner.literals)}`);
      if (same !== undefined) (k as { scanner: SkipScanner }).scanner = same as SkipScanner;
      else k.scanner.build();
      k.seen = new Int32Array(k.scanner.size);
      k.shortest = Math.min(
        ...k.scanner.literals.map((l) =>
          [...l].every((c) => c < '\u0080') ? l.length : Math.ceil(l.length / 2),
        ),
      );
      k.numbers = k.scanner.literals.some((l) => NUMBER_TEXT.test(l.toLowerCase()));
    }
  }

  /**
   * Ids of the field's literals in the event's lower-cased value (valid until the next event): scanned once
   * per distinct memoized text (its `ValueFacts.hits`), else once per event.
   */
  hits(field: number, view: EventView, generation: number): readonly number[] {
    const f = this.byField[field] as FieldScan;
    if (f.generation === generation) return f.current;
    f.generation = generation;
    const hits = f.buffer;
    if (hits.length !== 0) hits.length = 0;
    const scanner = f.scanner as Scanner;
    const facts = view.factsAt(field);
    if (facts !== null) {
      if (facts.hits === undefined) {
        scanner.scanFolded(facts.lower, f.seen, generation, hits);
        facts.hits = hits.length === 0 ? NO_HITS : hits.slice();
      }
      return (f.current = facts.hits);
    }
    // As written: the scanner folds case itself (a long value is not lower-cased to be scanned).
    const value = view.textAt(field);
    if (value !== null) scanner.scanFolded(value, f.seen, generation, hits);
    return (f.current = hits);
  }
}

/** The index under one source field (`Channel`, `_path`): its buckets by the field's lower-cased value. */
interface SourceIndex {
  /** The field's number (`fieldId`). */
  readonly field: number;
  readonly byValue: Map<string, Bucket>;
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
  /** Matchers reused from another rule instead of compiled again. */
  readonly sharedMatchers: number;
  readonly matchers: number;
  /** Detection items compiled (inlined into each rule's generated detection). */
  readonly items: number;
  /** Variants behind a gate (`gate.ts`): tried only when one of their gate keys is in the event. */
  readonly gatedVariants: number;
  /** Variants whose gate learning chose another gate than their shape did (0 before learning ends). */
  readonly gatesLearned: number;
}

/** A rule whose check or detection threw on the event last given to `match`: not matched there. */
export interface SigmaRuleFailure {
  readonly rule: CompiledSigmaRule;
  readonly error: unknown;
}

const NO_FAILURES: readonly SigmaRuleFailure[] = Object.freeze([]);

/**
 * Gate learning: after `gateLearningEvents` × `LEARN_EVERY` events (16,384 by default) the rule set samples
 * one event in `LEARN_EVERY` of as many more, measures on each how often every variant's gate options hold,
 * then indexes the variants again under the options that held least often (so from ~32,768 events on). A gate chosen by a clause's shape alone can be a value most
 * events have (`Company: Microsoft Corporation` is long, so it looks rare); the stream says which are.
 * Matches do not change: every option is a clause the rule requires.
 */
const DEFAULT_GATE_LEARNING_EVENTS = 1_024;
const NO_HOLDS = new Float64Array(0);
const NO_OPTIONS: readonly Clause[] = Object.freeze([]);
const LEARN_EVERY = 16;
/** A variant offered fewer sampled events than this keeps its gate by shape. */
const MIN_OFFERED = 32;
/**
 * What reading one more gate field costs each event of an index, in tries (`consolidate`). Measured with
 * every SigmaHQ rule over generated events: dropping the 220 gate fields that hold at most two variants
 * took 2.3 field reads and 0.22 tries per event away and saved 640 ns, so a read costs ~250 ns (its
 * value's first touch, lower case or memo lookup, map lookup or scan), and a try ~500 ns.
 */
const READ_PER_TRY = 0.5;

/**
 * An option's measured share of the events offered to its variant (`GateChoice`), for options that could
 * be tested (keyword clauses keep their shape's estimate); the shape's estimate, scaled down, breaks ties.
 */
function measuredShare(choice: GateChoice): (clause: Clause) => number {
  const { options, tests, holds, offered } = choice;
  return (clause) => {
    const o = options.indexOf(clause);
    return tests?.[o] == null ? hitShare(clause) : (holds[o] as number) / offered + hitShare(clause) * 1e-3;
  };
}

export interface SigmaRuleSetOptions {
  /**
   * Remember per field what each recent distinct text gives (`ValueMemo`; default true). Off, every event
   * is worked out from scratch: the cost when no text repeats, for benchmarks.
   */
  readonly valueMemo?: boolean;
  /**
   * Events sampled (one in 16, after as many events as the sampling spans) to choose gates again from how
   * often their options hold on the stream (default 1,024; 0: gates by shape only). A one-time cost of ~10-200 µs per sampled
   * event and one re-indexing (~0.1-0.3 s for every SigmaHQ rule); matches are the same either way.
   */
  readonly gateLearningEvents?: number;
}

export class SigmaRuleSet {
  readonly rules: readonly CompiledSigmaRule[];
  /** Rules the pipeline cannot run (unknown logsource, a pattern past the bounds), with the reason. */
  readonly refused: readonly SigmaRuleError[];
  private scanners = new FieldScanners();
  private everywhere = new GateIndex(this.scanners);
  /** Variants without a source field but with `absent` fields: offered only events that lack them all. */
  private unless: { readonly fields: readonly number[]; readonly index: GateIndex }[] = [];
  private generation = 0;
  private gatedVariants = 0;
  private gatesLearned = 0;
  private bySource = new Map<string, Map<string, Bucket>>();
  /** `bySource` as an array, walked per event without an iterator. */
  private sources: SourceIndex[] = [];
  private readonly cache: MatcherCache;
  /** The one view every event is read through, rebound per event. */
  private view: EventView;
  /** What the view remembers of repeated field values across events (`ValueMemo`), unless turned off. */
  private memo: ValueMemo | null;
  /** Each variant's gate choice, by the entry's variant (one per variant, shared by its index entries). */
  private readonly choices = new Map<CompiledVariant, GateChoice>();
  /**
   * Gate learning: events left to sample, one in `LEARN_EVERY` (0: done or off), and the indexes the
   * current event reached while sampling.
   */
  private learnLeft: number;
  private learnSkip = 0;
  /** The generation of the event being sampled (0: none). */
  private learnGeneration = 0;
  private readonly reached: GateIndex[] = [];
  private readonly useMemo: boolean;
  /**
   * Per rule (by position in `rules`), the event generation in which it last matched or threw: either
   * way it is decided for that event, and its other variants are not tried.
   */
  private readonly decidedAt: Float64Array;
  /**
   * The current event's matches: the first `foundCount` entries (reused and never shortened: V8 frees a
   * truncated array's storage).
   */
  private readonly found: CompiledSigmaRule[] = [];
  private foundCount = 0;
  /** The current event's rules that threw: the first `failedCount` (reused like `found`). */
  private readonly failed: SigmaRuleFailure[] = [];
  private failedCount = 0;
  /** Orders matches as `rules` does (one comparator for the set's lifetime, not a closure per event). */
  private readonly bySetOrder = (a: CompiledSigmaRule, b: CompiledSigmaRule): number =>
    (this.position.get(a) as number) - (this.position.get(b) as number);
  /** Each rule's position in `rules`, to give matches in the set's order. */
  private readonly position = new Map<CompiledSigmaRule, number>();

  /** `filters`: meta filters, joined to the rules they apply to before anything is compiled. */
  constructor(
    rules: readonly SigmaRule[],
    pipeline: ProcessingPipeline,
    filters: readonly SigmaFilter[] = [],
    options: SigmaRuleSetOptions = {},
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
    compiled.forEach((rule, ruleIndex) => this.position.set(rule, ruleIndex));
    this.useMemo = options.valueMemo !== false;
    this.memo = null;
    this.view = this.buildIndexes((choice) => chooseGate(choice.options), null);
    this.learnLeft = Math.max(0, Math.floor(options.gateLearningEvents ?? DEFAULT_GATE_LEARNING_EVENTS));
    // Sampling starts after as many events as it spans: a short run (a small file through `sequor
    // detect`) never pays for learning it could not use.
    this.learnSkip = -this.learnLeft * LEARN_EVERY;
    if (this.learnLeft === 0) this.forgetChoices();
    this.decidedAt = new Float64Array(compiled.length);
  }

  /**
   * (Re)builds every index, scanner and the value memo, each variant gated as `choose` says; returns the
   * view over them. The rules and their compiled detections stay as they are.
   */
  private buildIndexes(
    choose: (choice: GateChoice) => Gate | null,
    previous: FieldScanners | null,
  ): EventView {
    this.placeEntries(choose);
    this.scanners.build(previous);
    this.sources = [...this.bySource].map(([field, byValue]) => ({ field: fieldId(field), byValue }));
    this.memo = this.useMemo ? this.valueMemo() : null;
    return new EventView(objectFieldSource({}), this.memo);
  }

  /** Every variant in its indexes under the gate `choose` gives (the scanners' literals added, not built). */
  private placeEntries(choose: (choice: GateChoice) => Gate | null): void {
    this.scanners = new FieldScanners();
    this.everywhere = new GateIndex(this.scanners);
    this.unless = [];
    this.bySource = new Map();
    this.gatedVariants = 0;
    this.rules.forEach((rule, ruleIndex) => {
      for (const variant of rule.variants) this.index(rule, ruleIndex, variant, choose);
    });
  }

  /** One sampled event: how often each option of each variant offered it holds (the view is bound to it). */
  private learn(view: EventView, generation: number): void {
    const reached = this.reached;
    for (let r = 0; r < reached.length; r++) {
      const entries = (reached[r] as GateIndex).all();
      for (let i = 0; i < entries.length; i++) {
        const choice = (entries[i] as Entry).choice;
        if (choice.options.length < 2 || choice.sampledAt === generation) continue;
        choice.sampledAt = generation;
        choice.offered++;
        if (choice.tests === null) {
          choice.tests = choice.options.map((c) =>
            c.some((k) => k.field === KEYWORDS) ? null : clauseTest(c),
          );
          choice.holds = new Float64Array(choice.options.length);
        }
        const { tests, holds } = choice;
        for (let o = 0; o < tests.length; o++) {
          const test = tests[o];
          if (test != null && test(view)) holds[o] = (holds[o] as number) + 1;
        }
      }
    }
    reached.length = 0;
  }

  /** Learning is over (or off): its options, tests and counts go. */
  private forgetChoices(): void {
    for (const choice of this.choices.values()) {
      choice.options = NO_OPTIONS;
      choice.tests = null;
      choice.holds = NO_HOLDS;
    }
    this.choices.clear();
  }

  /** Gates chosen again from the measured shares (`GateChoice`), the indexes rebuilt under them. */
  private regate(): void {
    const previous = this.scanners;
    // All or nothing: a rebuild that fails midway (none is known to) leaves the set as it was.
    const kept = {
      scanners: this.scanners,
      everywhere: this.everywhere,
      unless: this.unless,
      bySource: this.bySource,
      sources: this.sources,
      memo: this.memo,
      view: this.view,
      gatedVariants: this.gatedVariants,
      gatesLearned: this.gatesLearned,
    };
    try {
      this.view = this.rebuildLearned(previous);
    } catch {
      Object.assign(this, kept);
    }
    this.forgetChoices();
  }

  /**
   * `buildIndexes` with each gate chosen by its measured shares (`regate`), then gates moved off the
   * fields only a few variants read (`consolidate`).
   */
  private rebuildLearned(previous: FieldScanners): EventView {
    const learned = (choice: GateChoice): Gate | null =>
      choice.offered < MIN_OFFERED
        ? chooseGate(choice.options)
        : chooseGate(choice.options, measuredShare(choice));
    this.placeEntries(learned);
    const moved = this.consolidate(learned);
    return this.buildIndexes((choice) => {
      const byShape = chooseGate(choice.options);
      const to = moved.get(choice);
      const gate =
        to === undefined
          ? learned(choice)
          : chooseGate(choice.options, (clause) => (clause === to ? -1 : measuredShare(choice)(clause)));
      if (gate?.keys !== byShape?.keys) this.gatesLearned++;
      return gate;
    }, previous);
  }

  /**
   * Gates moved so that each index reads fewer fields: a field read for a few variants' gates costs every
   * event of the index about half a try (`READ_PER_TRY`: the read, its lower case or memo lookup, its scan),
   * however rarely those gates hold. So the variants gated on such a field move to another option each
   * requires, on fields the index reads anyway, when the tries this adds (by the measured shares) cost
   * less than the read saved. The fields with the fewest variants are judged first. Only variants with
   * measured shares in exactly one index move; matches are the same (every option is a valid gate).
   */
  private consolidate(learned: (choice: GateChoice) => Gate | null): Map<GateChoice, Clause> {
    const chosen = new Map<GateChoice, Clause | null>();
    const current = (choice: GateChoice): Clause | null => {
      let clause = chosen.get(choice);
      if (clause === undefined) chosen.set(choice, (clause = learned(choice)?.keys ?? null));
      return clause;
    };
    const indexes: { index: GateIndex; shared: GateIndex[] }[] = [{ index: this.everywhere, shared: [] }];
    for (const { index } of this.unless) indexes.push({ index, shared: [this.everywhere] });
    for (const byValue of this.bySource.values())
      for (const bucket of byValue.values()) {
        indexes.push({ index: bucket.anyId, shared: [this.everywhere] });
        for (const index of bucket.byId.values())
          indexes.push({ index, shared: [bucket.anyId, this.everywhere] });
      }
    const placed = new Map<GateChoice, number>();
    for (const { index } of indexes)
      for (const e of index.all()) placed.set(e.choice, (placed.get(e.choice) ?? 0) + 1);
    const moved = new Map<GateChoice, Clause>();
    /** The fields an index's gates read, each with the choices gated on it. */
    const readers = (index: GateIndex): Map<string, Set<GateChoice>> => {
      const by = new Map<string, Set<GateChoice>>();
      for (const { choice } of index.all()) {
        for (const { field } of current(choice) ?? []) {
          if (field === KEYWORDS) continue;
          let set = by.get(field);
          if (set === undefined) by.set(field, (set = new Set()));
          set.add(choice);
        }
      }
      return by;
    };
    /** The fields each judged index reads once its moves are made (shared indexes are judged first). */
    const readAfter = new Map<GateIndex, string[]>();
    for (const { index, shared } of indexes) {
      const users = readers(index);
      const free = new Set<string>([...SOURCE_FIELDS, ID_FIELD]);
      for (const other of shared) for (const field of readAfter.get(other) ?? []) free.add(field);
      const reads = (field: string): boolean => free.has(field) || (users.get(field)?.size ?? 0) > 0;
      const fields = [...users.keys()]
        .filter((f) => !free.has(f))
        .sort((a, b) => (users.get(a) as Set<GateChoice>).size - (users.get(b) as Set<GateChoice>).size);
      for (const field of fields) {
        const using = users.get(field) as Set<GateChoice>;
        if (using.size === 0) continue;
        let added = 0;
        const plan: [GateChoice, Clause][] = [];
        for (const choice of using) {
          const now = current(choice);
          if (
            placed.get(choice) !== 1 ||
            choice.offered < MIN_OFFERED ||
            choice.tests === null ||
            now === null
          ) {
            added = Infinity;
            break;
          }
          const share = measuredShare(choice);
          let best: Clause | null = null;
          for (let o = 0; o < choice.options.length; o++) {
            const option = choice.options[o] as Clause;
            if (choice.tests[o] == null) continue;
            if (option.some((k) => k.field === field || !reads(k.field))) continue;
            if (best === null || share(option) < share(best)) best = option;
          }
          if (best === null) {
            added = Infinity;
            break;
          }
          added += Math.max(0, share(best) - share(now));
          plan.push([choice, best]);
        }
        if (added >= READ_PER_TRY) continue;
        for (const [choice, to] of plan) {
          for (const { field: f } of current(choice) ?? []) users.get(f)?.delete(choice);
          chosen.set(choice, to);
          moved.set(choice, to);
          for (const { field: f } of to) {
            if (f === KEYWORDS) continue;
            let set = users.get(f);
            if (set === undefined) users.set(f, (set = new Set()));
            set.add(choice);
          }
        }
      }
      readAfter.set(
        index,
        [...users].filter(([, using]) => using.size > 0).map(([field]) => field),
      );
    }
    return moved;
  }

  private index(
    rule: CompiledSigmaRule,
    ruleIndex: number,
    variant: CompiledVariant,
    choose: (choice: GateChoice) => Gate | null,
  ): void {
    const conditions = variant.variant.conditions;
    const field = SOURCE_FIELDS.find((f) => conditions[f] !== undefined);
    const fieldMap = variant.variant.fieldMap;
    // EventIDs the detection requires index the variant as its logsource's would (the lookup is by text).
    const required = conditions[ID_FIELD] === undefined ? requiredExact(rule.rule, fieldMap, ID_FIELD) : null;
    const impliedIds =
      required !== null && [...required].every((k) => /^[0-9]+$/.test(k)) ? [...required] : null;
    let choice = this.choices.get(variant);
    if (choice === undefined) {
      const options = gateOptions(rule.rule, fieldMap, impliedIds === null ? null : ID_FIELD);
      choice = {
        options,
        tests: null,
        holds: NO_HOLDS,
        offered: 0,
        sampledAt: 0,
      };
      this.choices.set(variant, choice);
    }
    const gate = choose(choice);
    const check = gate?.check ? clauseTest(gate.check) : null;
    if (field === undefined) {
      const entry: Entry = { tried: 0, rule, ruleIndex, variant, residual: variant.selects, check, choice };
      if (this.absentIndex(variant.variant.absent ?? []).add(entry, gate)) this.gatedVariants += 1;
      return;
    }
    const rest = Object.entries(conditions).filter(([f]) => f !== field && f !== ID_FIELD);
    const absent = variant.variant.absent ?? [];
    const entry: Entry = {
      tried: 0,
      rule,
      ruleIndex,
      variant,
      residual:
        rest.length === 0 && absent.length === 0
          ? null
          : selectsVariant({ ...variant.variant, conditions: Object.fromEntries(rest) }),
      check,
      choice,
    };
    let byValue = this.bySource.get(field);
    if (byValue === undefined) this.bySource.set(field, (byValue = new Map()));
    let gated = false;
    for (const source of conditions[field] ?? []) {
      const key = String(source).toLowerCase();
      let bucket = byValue.get(key);
      if (bucket === undefined) byValue.set(key, (bucket = new Bucket(this.scanners)));
      const ids = conditions[ID_FIELD] ?? impliedIds;
      if (ids === null) gated = bucket.anyId.add(entry, gate);
      else {
        for (const id of ids) {
          const k = String(id);
          let index = bucket.byId.get(k);
          if (index === undefined) bucket.byId.set(k, (index = new GateIndex(this.scanners)));
          gated = index.add(entry, gate);
        }
      }
    }
    if (gated) this.gatedVariants += 1;
  }

  /**
   * A memo of the fields whose texts cost something to work out: scanned for substring keys, cut for
   * basename keys, or tested by a memoized test of some rule.
   */
  private valueMemo(): ValueMemo {
    const memo = new ValueMemo();
    const keep = (id: number) => memo.keep(id);
    this.scanners.fields().forEach(keep);
    // The source fields are read on every event and hold a handful of texts: their lower case and its
    // hash come from the memo rather than a fresh copy hashed whole per event.
    for (const { field } of this.sources) keep(field);
    const indexes = [this.everywhere, ...this.unless.map((u) => u.index)];
    for (const byValue of this.bySource.values())
      for (const bucket of byValue.values()) indexes.push(bucket.anyId, ...bucket.byId.values());
    for (const index of indexes) for (const { field } of index.basename) keep(field);
    for (let id = 0; id < fieldCount(); id++) if (memoTestCount(id) > 0) keep(id);
    return memo;
  }

  /** The index for variants without a source field that need `fields` absent (none: every event's). */
  private absentIndex(fields: readonly string[]): GateIndex {
    if (fields.length === 0) return this.everywhere;
    const ids = [...fields].sort().map(fieldId);
    const key = ids.join(',');
    let found = this.unless.find((u) => u.fields.join(',') === key);
    if (found === undefined) this.unless.push((found = { fields: ids, index: new GateIndex(this.scanners) }));
    return found.index;
  }

  /**
   * The rules that match the event, each once, in the set's order (`rules`): the same whichever gates and
   * indexes found them. A rule whose check or detection throws on the event counts as not matched and
   * is named by `failures()`, so one rule's bug does not cost the event the other rules.
   */
  match(source: FieldSource): CompiledSigmaRule[] {
    const view = this.view.reset(source);
    const generation = ++this.generation;
    if (this.learnLeft > 0 && ++this.learnSkip === LEARN_EVERY) this.sampled(generation);
    this.foundCount = 0;
    this.failedCount = 0;
    const sources = this.sources;
    for (let s = 0; s < sources.length; s++) {
      const { field, byValue } = sources[s] as SourceIndex;
      const value = view.lowerAt(field);
      if (value === null) continue;
      const bucket = byValue.get(value);
      if (bucket === undefined) continue;
      this.gated(bucket.anyId, view, generation);
      if (bucket.byId.size === 0) continue;
      const id = view.textAt(ID_FIELD_ID);
      if (id !== null) {
        const index = bucket.byId.get(id);
        if (index !== undefined) this.gated(index, view, generation);
      }
    }
    this.gated(this.everywhere, view, generation);
    const unless = this.unless;
    for (let u = 0; u < unless.length; u++) {
      const { fields, index } = unless[u] as (typeof unless)[number];
      let lacks = true;
      for (let i = 0; i < fields.length && lacks; i++) {
        const raw = view.rawAt(fields[i] as number);
        lacks = raw === undefined || raw === null;
      }
      if (lacks) this.gated(index, view, generation);
    }
    if (this.learnGeneration === generation) this.learned(view, generation);
    const count = this.foundCount;
    if (count === 0) return [];
    const found = this.found.slice(0, count);
    if (count > 1) found.sort(this.bySetOrder);
    return found;
  }

  /** The rules that threw during the last `match`, with their errors; valid until the next `match`. */
  failures(): readonly SigmaRuleFailure[] {
    const count = this.failedCount;
    return count === 0 ? NO_FAILURES : this.failed.slice(0, count);
  }

  /** Starts sampling the event of `generation` for gate learning (`gated` notes the indexes it reaches). */
  private sampled(generation: number): void {
    this.learnSkip = 0;
    this.learnGeneration = generation;
    this.reached.length = 0;
  }

  /** Ends sampling: counts the event, and once enough are counted chooses the gates again. */
  private learned(view: EventView, generation: number): void {
    this.learnGeneration = 0;
    try {
      this.learn(view, generation);
    } catch {
      // A gate test that throws on some value (none is known to): learning stops, the gates by shape
      // stay. Only speed is at stake, never the event's matches.
      this.reached.length = 0;
      this.learnLeft = 0;
      this.forgetChoices();
      return;
    }
    if (--this.learnLeft === 0) this.regate();
  }

  /** Tries the entries of one index whose gate holds on the event. */
  private gated(index: GateIndex, view: EventView, generation: number): void {
    if (this.learnGeneration === generation) this.reached.push(index);
    if (index.ungated.length > 0) this.test(index.ungated, view, generation);
    const { exact, basename, substring } = index;
    for (let f = 0; f < exact.length; f++) {
      const { field, byKey, shortest, longest } = exact[f] as FieldKeys<string>;
      const text = view.textAt(field);
      if (text === null || text.length > longest || 2 * text.length < shortest) continue;
      const value = view.lowerAt(field) as string;
      const entries = byKey.get(value);
      if (entries !== undefined) this.test(entries, view, generation);
    }
    for (let f = 0; f < basename.length; f++) {
      const { field, byKey } = basename[f] as FieldKeys<string>;
      const value = view.basenameAt(field);
      if (value === null) continue;
      const entries = byKey.get(value);
      if (entries !== undefined) this.test(entries, view, generation);
    }
    for (let f = 0; f < substring.length; f++) {
      const { field, byKey } = substring[f] as FieldKeys<number>;
      const hits = this.scanners.hits(field, view, generation);
      for (let i = 0; i < hits.length; i++) {
        const entries = byKey.get(hits[i] as number);
        if (entries !== undefined) this.test(entries, view, generation);
      }
    }
    const keywordScan = index.keywordScan;
    if (keywordScan !== null) {
      const { byKey } = index.keywords[0] as FieldKeys<number>;
      const hits = this.scanners.keywordHits(keywordScan, view, generation);
      for (let i = 0; i < hits.length; i++) {
        const entries = byKey.get(hits[i] as number);
        if (entries !== undefined) this.test(entries, view, generation);
      }
    }
  }

  /** Runs each entry not yet tried for this event whose rule is not decided yet. */
  private test(entries: readonly Entry[], view: EventView, generation: number): void {
    const decidedAt = this.decidedAt;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as Entry;
      if (e.tried === generation) continue;
      e.tried = generation;
      if (decidedAt[e.ruleIndex] === generation) continue;
      let matched: boolean;
      try {
        matched =
          (e.check === null || e.check(view)) &&
          (e.residual === null || e.residual(view)) &&
          e.variant.detects(view);
      } catch (error) {
        // Decided as not matched (its other variants are not tried either): reported, not thrown.
        decidedAt[e.ruleIndex] = generation;
        this.failed[this.failedCount++] = { rule: e.rule, error };
        continue;
      }
      if (matched) {
        decidedAt[e.ruleIndex] = generation;
        this.found[this.foundCount++] = e.rule;
      }
    }
  }

  /** Drops what the value memo holds (a benchmark's cold start). */
  forgetValues(): void {
    this.memo?.clear();
  }

  /** Field reads the value memo answered, and all it was asked (0 / 0 when it is off). */
  valueMemoCounts(): { readonly hits: number; readonly lookups: number } {
    return { hits: this.memo?.hits ?? 0, lookups: this.memo?.lookups ?? 0 };
  }

  stats(): SigmaRuleSetStats {
    return {
      rules: this.rules.length,
      variants: this.rules.reduce((n, r) => n + r.variants.length, 0),
      matchers: this.cache.size,
      items: this.cache.items,
      gatedVariants: this.gatedVariants,
      gatesLearned: this.gatesLearned,
      sharedMatchers: this.cache.hits,
    };
  }
}
