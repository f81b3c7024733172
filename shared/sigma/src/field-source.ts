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
 * One event as the compiled rules see it: each field's text and lower-cased text computed at most once,
 * however many rules and items read it (case-insensitive matching lower-cases the value, never the
 * pattern per event).
 */
export class EventView {
  private readonly lowered = new Map<string, string | null>();

  constructor(
    readonly source: FieldSource,
    /** Results of shared detection items for this event (a rule set passes one, reset per event). */
    readonly memo: ItemMemo | null = null,
  ) {}

  raw(field: string): FieldValue {
    return this.source.get(field);
  }

  text(field: string): string | null {
    return textOf(this.source.get(field));
  }

  lower(field: string): string | null {
    let v = this.lowered.get(field);
    if (v === undefined) {
      const t = this.text(field);
      v = t === null ? null : t.toLowerCase();
      this.lowered.set(field, v);
    }
    return v;
  }

  private allTexts: readonly string[] | null = null;
  private allLowered: readonly string[] | null = null;

  /** Every field's text (absent and null left out), for keywords: read once per event. */
  texts(): readonly string[] {
    if (this.allTexts === null) {
      const out: string[] = [];
      for (const raw of this.source.values()) {
        const t = textOf(raw);
        if (t !== null) out.push(t);
      }
      this.allTexts = out;
    }
    return this.allTexts;
  }

  /** `texts()` lower-cased, once per event however many keyword items read it. */
  lowerTexts(): readonly string[] {
    if (this.allLowered === null) this.allLowered = this.texts().map((t) => t.toLowerCase());
    return this.allLowered;
  }
}

/**
 * Per-event results of shared detection items, by slot: 0 not computed, 1 false, 2 true. One table per
 * rule set, reused for every event: `begin()` starts an event by moving to a new generation, so nothing is
 * cleared or allocated per event.
 */
export class ItemMemo {
  private readonly generation: Uint32Array;
  private readonly results: Uint8Array;
  private current = 0;

  constructor(slots: number) {
    this.generation = new Uint32Array(slots);
    this.results = new Uint8Array(slots);
  }

  begin(): this {
    this.current += 1;
    if (this.current === 0xffffffff) {
      this.generation.fill(0);
      this.current = 1;
    }
    return this;
  }

  get(slot: number): number {
    return this.generation[slot] === this.current ? (this.results[slot] as number) : 0;
  }

  set(slot: number, value: boolean): void {
    this.generation[slot] = this.current;
    this.results[slot] = value ? 2 : 1;
  }
}
