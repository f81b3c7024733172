/**
 * The event's own data as the model keeps it (`winlog.event_data`, `zeek.fields`): a map of names to
 * text, bounded. Every format that carries a record's own fields builds it here, so one value gets one
 * text whichever format read it, and one bound applies everywhere.
 *
 * Text of a value: a string as it is; a number in decimal (`String(n)`); a boolean `true`/`false`; an
 * array, its items' texts joined with `\n` (as the evtx adapter reads multi-valued data); an object
 * with `#text` (evtx's rendering of an element with attributes), that text. `null` and other objects
 * give no entry: the map holds strings only, and a missing entry reads as null, as a null value would.
 *
 * Bounds (`EVENT_DATA_LIMITS`): a hostile record (100k tiny keys, one huge value) must not turn into an
 * event too large to publish or to hold in a detector's state. The record itself is already bounded
 * (`maxRecordBytes`, 1 MiB by default, refused before parsing); within it, the map keeps at most
 * `maxEntries` entries and `maxChars` characters of names and values, taken in the record's order. An
 * entry that does not fit is left out whole (a value cut short could match a rule it does not match)
 * and counted; the count is kept in the map under `#truncated` (no Windows or Zeek field name starts
 * with `#`), so the cut travels with the event and is visible wherever it is read. The event itself
 * is kept: its model fields are whole, and the rules that read them still run.
 */

import { EVENT_DATA_TRUNCATED_KEY } from '@sequor/model';

/** Where the map records what it left out: `"<entries> entries, <chars> chars left out"`. */
export const TRUNCATED_KEY = EVENT_DATA_TRUNCATED_KEY;

export interface EventDataLimits {
  /** Entries kept at most (a real EventData has a few dozen). */
  readonly maxEntries: number;
  /** Characters of names and values kept at most (PowerShell's 4104 splits scripts at 32,768 chars). */
  readonly maxChars: number;
}

export const EVENT_DATA_LIMITS: EventDataLimits = Object.freeze({ maxEntries: 512, maxChars: 131_072 });

type Json = Readonly<Record<string, unknown>>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A scalar's text; undefined for anything else. */
function scalarText(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
      return String(v);
    default:
      return undefined;
  }
}

/**
 * A value's text (see the module comment), or undefined when it gives no entry. One level only: an
 * array's items and a `#text` are read as scalars (anything deeper is no text), so a hostile record of
 * arrays nested ten thousand deep costs a loop, not the stack.
 */
export function eventDataText(v: unknown): string | undefined {
  if (typeof v !== 'object') return scalarText(v);
  if (v === null) return undefined;
  if (Array.isArray(v)) {
    let out = '';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : '\n') + (scalarText(v[i]) ?? '');
    return out;
  }
  return '#text' in v ? scalarText((v as Json)['#text']) : undefined;
}

/**
 * Collects entries under the limits. One per event: `add` each name and text in the record's order,
 * then `finish()` for the map (null when nothing was added).
 */
export class EventDataBuilder {
  private map: Record<string, string> | null = null;
  private entries = 0;
  private chars = 0;
  private cutEntries = 0;
  private cutChars = 0;

  constructor(private readonly limits: EventDataLimits = EVENT_DATA_LIMITS) {}

  add(name: string, text: string): void {
    // A name every object inherits would not be an entry of the decoded map (and `__proto__` would
    // not even be set): left out, like a name over the limits.
    if (name === '__proto__' || name.charCodeAt(0) === 35 /* # */) {
      this.cutEntries++;
      this.cutChars += name.length + text.length;
      return;
    }
    const size = name.length + text.length;
    if (this.entries >= this.limits.maxEntries || this.chars + size > this.limits.maxChars) {
      this.cutEntries++;
      this.cutChars += size;
      return;
    }
    (this.map ??= {})[name] = text;
    this.entries++;
    this.chars += size;
  }

  finish(): Record<string, string> | null {
    const map = this.map;
    if (this.cutEntries === 0) return map;
    const out = map ?? {};
    out[TRUNCATED_KEY] = `${this.cutEntries} entries, ${this.cutChars} chars left out`;
    return out;
  }
}

/**
 * `data` itself when it already is the map: every value a string, every name kept, within the limits
 * (Winlogbeat's `event_data`, the common case): the parsed object is the caller's own, and copying it
 * entry by entry into a new one was most of this module's cost. Null when empty; undefined otherwise.
 */
function asIs(data: Json, limits: EventDataLimits): Record<string, string> | null | undefined {
  let entries = 0;
  let chars = 0;
  for (const name in data) {
    const v = data[name];
    if (typeof v !== 'string' || name === '__proto__' || name.charCodeAt(0) === 35 /* # */) return undefined;
    entries++;
    chars += name.length + v.length;
  }
  if (entries > limits.maxEntries || chars > limits.maxChars) return undefined;
  return entries === 0 ? null : (data as Record<string, string>);
}

/**
 * The map of every entry of `data` (a parsed object), in its key order, except the names in `skip`;
 * null when there is none.
 */
export function eventDataOf(
  data: Json,
  skip: ReadonlySet<string> | null = null,
  limits: EventDataLimits = EVENT_DATA_LIMITS,
): Record<string, string> | null {
  if (skip === null) {
    const whole = asIs(data, limits);
    if (whole !== undefined) return whole;
  }
  const builder = new EventDataBuilder(limits);
  for (const name in data) {
    if (skip !== null && skip.has(name)) continue;
    const text = eventDataText(data[name]);
    if (text !== undefined) builder.add(name, text);
  }
  return builder.finish();
}

/** `eventDataOf` for a value that may not be an object (a shipper's `event_data`): null unless it is one. */
export function eventDataOfObject(
  value: unknown,
  skip: ReadonlySet<string> | null = null,
): Record<string, string> | null {
  return isObject(value) ? eventDataOf(value, skip) : null;
}

/**
 * `Data` for a Winlogbeat map: Winlogbeat names an event's unnamed `<Data>` elements `param1`…`paramN`
 * (classic PowerShell 400/600/800, Application Error 1000, MSExchange), where the evtx crate keeps them
 * as one `Data` list, which the evtx adapter reads as its items joined by newlines and SigmaHQ's rules
 * read as `Data` (`Data|contains: 'HostName=ConsoleHost'`). So `Data` is `param1`…`paramN` (consecutive,
 * from 1) joined by newlines, the same text for both shapes; the params stay too. Only for a map with
 * `param1` and no `Data`; left out (the map as it is) when it would not fit the limits, or when the map
 * is already truncated (its params may not all be there).
 */
export function withUnnamedData(
  map: Record<string, string> | null,
  limits: EventDataLimits = EVENT_DATA_LIMITS,
): Record<string, string> | null {
  if (map === null || !Object.hasOwn(map, 'param1') || Object.hasOwn(map, 'Data')) return map;
  if (Object.hasOwn(map, TRUNCATED_KEY)) return map;
  let data = map['param1'] as string;
  for (let i = 2; Object.hasOwn(map, `param${i}`); i++) data += `\n${map[`param${i}`] as string}`;
  let entries = 0;
  let chars = 0;
  for (const name in map) {
    entries++;
    chars += name.length + (map[name] as string).length;
  }
  if (entries + 1 > limits.maxEntries || chars + 4 + data.length > limits.maxChars) return map;
  map['Data'] = data;
  return map;
}
