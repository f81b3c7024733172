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

/** What a view has read of one field for the current event. */
interface FieldSlot {
  /** The view's event generation `text` belongs to. */
  textGeneration: number;
  text: string | null;
  /** The view's event generation `lower` belongs to. */
  generation: number;
  lower: string | null;
}

/**
 * One event as the compiled rules see it: each field's text and lower-cased text computed at most once,
 * however many rules and items read it (case-insensitive matching lower-cases the value, never the pattern per
 * event). A rule set keeps one view and rebinds it per event (`reset`): the per-field slots and the
 * keyword arrays are reused, so reading an event allocates only the lower-cased strings themselves.
 */
export class EventView {
  private readonly slots = new Map<string, FieldSlot>();
  private generation = 1;
  private readonly allTexts: string[] = [];
  private readonly allLowered: string[] = [];
  /** The generations `allTexts` and `allLowered` were filled for. */
  private textsGeneration = 0;
  private loweredGeneration = 0;

  constructor(public source: FieldSource) {}

  /** Rebinds the view to another event; forgets the last one. */
  reset(source: FieldSource): this {
    this.source = source;
    this.generation += 1;
    return this;
  }

  raw(field: string): FieldValue {
    return this.source.get(field);
  }

  text(field: string): string | null {
    const slot = this.slot(field);
    if (slot.textGeneration !== this.generation) {
      slot.text = textOf(this.source.get(field));
      slot.textGeneration = this.generation;
    }
    return slot.text;
  }

  lower(field: string): string | null {
    const slot = this.slot(field);
    if (slot.generation !== this.generation) {
      const t = this.text(field);
      slot.lower = t === null ? null : t.toLowerCase();
      slot.generation = this.generation;
    }
    return slot.lower;
  }

  private slot(field: string): FieldSlot {
    let slot = this.slots.get(field);
    if (slot === undefined) {
      slot = { textGeneration: 0, text: null, generation: 0, lower: null };
      this.slots.set(field, slot);
    }
    return slot;
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
