/**
 * Where a compiled rule reads fields: any event that can answer `get(field)`. The backend is independent
 * of the event's shape; adapters (`evtx-json.ts` today, `SequorEvent` later) give the fields by the names
 * the processing pipeline maps Sigma's names to.
 */
export type FieldValue = string | number | boolean | null | undefined;

export interface FieldSource {
  /** The field's value; undefined when the event has no such field. */
  get(field: string): FieldValue;
  /** Every field's value, for keywords (a Sigma search that names no field). */
  values(): Iterable<FieldValue>;
  /**
   * `get(field)` where `id` is the field's number (`fieldId`), for a source that can resolve a name once per
   * number rather than on every read.
   */
  getAt?(id: number, field: string): FieldValue;
}

/** A plain object of fields as a source (tests, flat events). */
export function objectFieldSource(fields: Readonly<Record<string, FieldValue>>): FieldSource {
  return {
    get: (field) => (Object.hasOwn(fields, field) ? fields[field] : undefined),
    values: () => Object.values(fields),
  };
}

/** A value as text, the form string matchers read: null when absent or null. */
export function textOf(value: FieldValue): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : String(value);
}

/**
 * Every field name a compiled rule reads, numbered once per process: generated detections, gates and index
 * lookups read an event's fields by number (an array slot), not by name (a `Map` lookup per read). Names
 * come from rule text, so the table grows only as rules are compiled.
 */
const FIELD_IDS = new Map<string, number>();
const FIELD_NAMES: string[] = [];

/** The number of the field `name` (the same for the process's lifetime). */
export function fieldId(name: string): number {
  let id = FIELD_IDS.get(name);
  if (id === undefined) {
    id = FIELD_NAMES.length;
    FIELD_IDS.set(name, id);
    FIELD_NAMES.push(name);
  }
  return id;
}

/** How many fields are numbered so far (ids are `0 .. fieldCount() - 1`). */
export function fieldCount(): number {
  return FIELD_NAMES.length;
}

/** The name of field number `id`. */
export function fieldName(id: number): string {
  return FIELD_NAMES[id] as string;
}

/**
 * One event as the compiled rules see it: each field's text and lower-cased text computed at most once per
 * event, however many rules and items read it (case-insensitive matching lower-cases the value, never the
 * pattern per event). A rule set keeps one view and rebinds it per event (`reset`).
 *
 * A view made with a `ValueMemo` (the rule set's) also keeps, across events, what it has worked out about
 * each distinct short text of a field (`ValueFacts`: its lower case, basename, gate hits and the results of
 * the costly tests): telemetry repeats its values (the same images, parents, hashes, service names), so most
 * reads of most fields find their answers already computed. Pure functions of the text only, so a memoized
 * answer is the answer.
 */
export class EventView {
  private generation = 1;
  /** Per field id: the generation the slot was read for, its text, its facts (memoized texts only). */
  private readonly readAt: number[] = [];
  private readonly textOfField: (string | null)[] = [];
  private readonly factsOfField: (ValueFacts | null)[] = [];
  /** Per field id: the generation `lowerOfField` belongs to (fields without facts). */
  private readonly loweredAt: number[] = [];
  private readonly lowerOfField: (string | null)[] = [];
  private readonly allTexts: string[] = [];
  private readonly allLowered: string[] = [];
  /** The generations `allTexts` and `allLowered` were filled for. */
  private textsGeneration = 0;
  private loweredGeneration = 0;

  constructor(
    public source: FieldSource,
    private readonly memo: ValueMemo | null = null,
  ) {}

  /** Rebinds the view to another event; forgets the last one. */
  reset(source: FieldSource): this {
    this.source = source;
    this.generation += 1;
    return this;
  }

  raw(field: string): FieldValue {
    return this.source.get(field);
  }

  rawAt(id: number): FieldValue {
    const source = this.source;
    const name = FIELD_NAMES[id] as string;
    return source.getAt !== undefined ? source.getAt(id, name) : source.get(name);
  }

  text(field: string): string | null {
    return this.textAt(fieldId(field));
  }

  lower(field: string): string | null {
    return this.lowerAt(fieldId(field));
  }

  /** Reads field `id` for this event (once): its text and, for a memoized text, its facts. */
  private read(id: number): void {
    this.readAt[id] = this.generation;
    const source = this.source;
    const name = FIELD_NAMES[id] as string;
    const raw = source.getAt !== undefined ? source.getAt(id, name) : source.get(name);
    if (typeof raw === 'string') {
      this.textOfField[id] = raw;
      this.factsOfField[id] = this.memo === null ? null : this.memo.facts(id, raw);
      return;
    }
    this.textOfField[id] = textOf(raw);
    this.factsOfField[id] = null;
  }

  textAt(id: number): string | null {
    if (this.readAt[id] !== this.generation) this.read(id);
    return this.textOfField[id] as string | null;
  }

  lowerAt(id: number): string | null {
    if (this.readAt[id] !== this.generation) this.read(id);
    const facts = this.factsOfField[id];
    if (facts != null) return facts.lower;
    if (this.loweredAt[id] !== this.generation) {
      this.loweredAt[id] = this.generation;
      const t = this.textOfField[id] as string | null;
      this.lowerOfField[id] = t === null ? null : t.toLowerCase();
    }
    return this.lowerOfField[id] as string | null;
  }

  /** The memoized facts of field `id`'s text in this event; null when absent, not a string, or not kept. */
  factsAt(id: number): ValueFacts | null {
    if (this.readAt[id] !== this.generation) this.read(id);
    return this.factsOfField[id] as ValueFacts | null;
  }

  /** The lower-cased text from its last backslash on (a path's basename gate key); null when none. */
  basenameAt(id: number): string | null {
    const facts = this.factsAt(id);
    if (facts !== null) return facts.basename !== undefined ? facts.basename : facts.computeBasename();
    return basenameOf(this.lowerAt(id));
  }

  /**
   * `test` (a pure function of a field's text or lower case) on field `id`, remembered per distinct text
   * under the compile-time number `testId` (`memoTestId`); a missing field is false.
   */
  memoTest(id: number, testId: number, lower: boolean, test: (s: string) => boolean): boolean {
    const facts = this.factsAt(id);
    if (facts === null) {
      const s = lower ? this.lowerAt(id) : (this.textOfField[id] as string | null);
      return s !== null && test(s);
    }
    // Per block of 32 tests two bit sets, which tests have run and which held, in one array of small
    // integers grown as tests run: a value meets a few dozen of a field's thousands of tests, and a typed
    // array per block cost an allocation each (most of them surviving into the old generation).
    const results = facts.results;
    const at = (testId >> 5) << 1;
    const bit = 1 << (testId & 31);
    const ran = results[at];
    if (ran !== undefined && (ran & bit) !== 0) return ((results[at + 1] as number) & bit) !== 0;
    const holds = test(lower ? facts.lower : facts.text);
    results[at] = (ran ?? 0) | bit;
    results[at + 1] = ((results[at + 1] ?? 0) as number) | (holds ? bit : 0);
    return holds;
  }

  /** Every field's text (absent and null left out), for keywords: read once per event. */
  texts(): readonly string[] {
    const out = this.allTexts;
    if (this.textsGeneration !== this.generation) {
      this.textsGeneration = this.generation;
      out.length = 0;
      for (const raw of this.source.values()) {
        const t = textOf(raw);
        if (t !== null) out.push(t);
      }
    }
    return out;
  }

  /** `texts()` lower-cased, once per event however many keyword items read it. */
  lowerTexts(): readonly string[] {
    const out = this.allLowered;
    if (this.loweredGeneration !== this.generation) {
      this.loweredGeneration = this.generation;
      const texts = this.texts();
      out.length = texts.length;
      for (let i = 0; i < texts.length; i++) out[i] = (texts[i] as string).toLowerCase();
    }
    return out;
  }
}

function basenameOf(lower: string | null): string | null {
  if (lower === null) return null;
  const slash = lower.lastIndexOf('\\');
  return slash < 0 ? null : lower.slice(slash);
}

/** How many memoizable tests of field `id` compiled rules have (`memoTestId`). */
export function memoTestCount(id: number): number {
  return TESTS_OF_FIELD[id] ?? 0;
}

/** Memoized tests per field id (`memoTestId`). */
const TESTS_OF_FIELD: number[] = [];
const TEST_IDS = new Map<string, number>();

/**
 * The number of a memoizable test of field `id` (`EventView.memoTest`), the same for every rule with the
 * same `key`: `key` must say everything the test's answer depends on besides the text (pattern, case).
 */
export function memoTestId(id: number, key: string): number {
  const full = `${id}\u0000${key}`;
  let test = TEST_IDS.get(full);
  if (test === undefined) {
    test = TESTS_OF_FIELD[id] ?? 0;
    TESTS_OF_FIELD[id] = test + 1;
    TEST_IDS.set(full, test);
  }
  return test;
}

/** What is known about one distinct text of one field, kept across events by a `ValueMemo`. */
export class ValueFacts {
  readonly lower: string;
  /** `basenameOf(lower)`, once asked. */
  basename: string | null | undefined = undefined;
  /** The field's substring-gate literal ids found in `lower` (the rule set's scanner), once scanned. */
  hits: readonly number[] | undefined = undefined;
  /**
   * Per memoized test of the field, by blocks of 32 test ids: at `2 × block` the tests that have run, at
   * `2 × block + 1` those that held (bits; holes for blocks no test has reached).
   */
  readonly results: (number | undefined)[] = [];

  constructor(readonly text: string) {
    this.lower = text.toLowerCase();
  }

  computeBasename(): string | null {
    return (this.basename = basenameOf(this.lower));
  }
}

/** Texts longer than this are not memoized (rarely repeated; they would hold the most memory). */
const MAX_MEMO_TEXT = 256;
/** Slots per field (a power of two); a text sits in one of `MEMO_WAYS` slots from its hash. */
const MEMO_SLOTS = 2_048;
const MEMO_WAYS = 4;
/** Characters (UTF-16 code units) all fields' memos may hold, roughly, before they are all dropped. */
const MEMO_BUDGET = 4_000_000;

/** A field's hit share is judged over this many lookups... */
const MEMO_WINDOW = 512;
/** ...and below this share the field's texts are not memoized for the next `MEMO_PAUSE` reads. */
const MEMO_MIN_HIT_SHARE = 0.4;
const MEMO_PAUSE = 8 * MEMO_WINDOW;

/**
 * A hash of a text from its length and six of its code units: a `Map` hashes every code unit of each
 * event's fresh string (about 100 ns for a command line), this a fixed handful; equal texts still compare
 * in full. Texts that share these units collide into the same few slots, which bounds what a crafted
 * family of texts can cost (a lookup compares at most `MEMO_WAYS` texts) and only lowers the hit share.
 */
function sampledHash(text: string): number {
  const n = text.length;
  let h = Math.imul(n, 0x9e3779b1);
  if (n > 0) {
    h = Math.imul(h ^ text.charCodeAt(0), 0x85ebca6b);
    h = Math.imul(h ^ text.charCodeAt(n - 1), 0xc2b2ae35);
    h = Math.imul(h ^ text.charCodeAt(n >> 1), 0x27d4eb2f);
    h = Math.imul(h ^ text.charCodeAt(n >> 2), 0x165667b1);
    h = Math.imul(h ^ text.charCodeAt((3 * n) >> 2), 0x9e3779b1);
    h = Math.imul(h ^ text.charCodeAt(n >> 3), 0x85ebca6b);
  }
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * A text the memo keeps, as a string of its own: a decoder may hand out a value as a slice of a larger
 * string (the Avro map reader cuts values out of the map's whole text, and V8 keeps a substring as a slice
 * of its parent), which would keep the event's data, a PowerShell script block with it, alive as long as
 * the memo keeps the value. Made on a miss only: V8 copies the concatenation into a string of its own
 * before cutting the prefix off again (test: value-memo.test.ts; an internalized copy cost 10 % more).
 */
export function ownCopy(text: string): string {
  return ` ${text}`.slice(1);
}

interface FieldMemo {
  /** By slot: the text kept there and its facts. */
  readonly texts: (string | undefined)[];
  readonly facts: (ValueFacts | undefined)[];
  /** Which of a full window's slots the next text replaces (turns round). */
  victim: number;
  /** Lookups and hits in the current window. */
  windowLookups: number;
  windowHits: number;
  /** Reads left before the paused field is memoized again. */
  paused: number;
}

/**
 * Facts of recent texts per field, bounded: per field a table of `MEMO_SLOTS` texts, each text in one of
 * `MEMO_WAYS` slots from its hash (a new text replaces one of a full window's in turn, so texts in steady
 * use are found again and the rest come and go), and all fields together about `MEMO_BUDGET` characters;
 * past that everything is dropped and refilled. A field whose texts rarely repeat (times, GUIDs, most
 * registry paths; or text an attacker makes unique) costs a lookup and an insert per read while it is
 * judged, then is left alone for a while (`MEMO_MIN_HIT_SHARE`, `MEMO_PAUSE`): it is worked out per event
 * as without a memo. Memory is never unbounded.
 */
export class ValueMemo {
  private readonly byField: (FieldMemo | undefined)[] = [];
  /**
   * By field id: whether its texts are worth a lookup (`keep`). A field read only for exact keys and cheap
   * comparisons is not: lower-casing it again costs less than finding it in the memo.
   */
  private readonly kept: boolean[] = [];
  private chars = 0;
  /** Lookups that found their text, and all lookups (for the bench). */
  hits = 0;
  lookups = 0;

  /** Memoizes field `id`'s texts from now on (fields with scans, basename keys or memoized tests). */
  keep(id: number): void {
    this.kept[id] = true;
  }

  facts(id: number, text: string): ValueFacts | null {
    if (this.kept[id] !== true || text.length > MAX_MEMO_TEXT) return null;
    this.lookups += 1;
    let memo = this.byField[id];
    if (memo === undefined) {
      memo = {
        texts: new Array<string | undefined>(MEMO_SLOTS).fill(undefined),
        facts: new Array<ValueFacts | undefined>(MEMO_SLOTS).fill(undefined),
        victim: 0,
        windowLookups: 0,
        windowHits: 0,
        paused: 0,
      };
      this.byField[id] = memo;
    }
    if (memo.paused > 0) {
      memo.paused -= 1;
      return null;
    }
    if (++memo.windowLookups === MEMO_WINDOW) {
      if (memo.windowHits < MEMO_MIN_HIT_SHARE * MEMO_WINDOW) memo.paused = MEMO_PAUSE;
      memo.windowLookups = 0;
      memo.windowHits = 0;
    }
    const { texts } = memo;
    const first = sampledHash(text) & (MEMO_SLOTS - MEMO_WAYS);
    let free = -1;
    for (let slot = first; slot < first + MEMO_WAYS; slot++) {
      const kept = texts[slot];
      if (kept === text) {
        this.hits += 1;
        memo.windowHits += 1;
        return memo.facts[slot] as ValueFacts;
      }
      if (kept === undefined) {
        free = slot; // a window fills in order and empties only all at once: nothing after a hole
        break;
      }
    }
    const kept = ownCopy(text);
    const facts = new ValueFacts(kept);
    let slot = free;
    if (slot < 0) {
      slot = first + memo.victim;
      memo.victim = (memo.victim + 1) % MEMO_WAYS;
      this.chars -= (texts[slot] as string).length;
    }
    texts[slot] = kept;
    memo.facts[slot] = facts;
    this.chars += kept.length;
    if (this.chars > MEMO_BUDGET) this.clear();
    return facts;
  }

  /** Characters of text the memo holds now. */
  get heldChars(): number {
    return this.chars;
  }

  clear(): void {
    this.byField.length = 0;
    this.chars = 0;
  }
}
