/**
 * A Zeek record's own fields for `zeek.fields`: every field by Zeek's name (`id.orig_h`, `query`), its
 * value as text, the same from TSV and JSON: unset (`-`, JSON null or absent) gives no entry, `(empty)`
 * an empty text, a set or vector its items joined with `,`, a number in decimal (TSV `time`, `interval`
 * and `double` read as numbers, so `1507562478.100000` is `1507562478.1` as in JSON), a bool `true`/`false`
 * (as Zeek's JSON writer has it and SigmaHQ's Zeek rules compare it: `rejected: 'true'`; TSV's `T`/`F`).
 * Strings are unescaped as the typed row's are. A TSV log without `#types` keeps numbers as written.
 * Bounded as every event's own data (`../event-data.ts`).
 */
import { EventDataBuilder } from '../event-data.js';
import type { ZeekTsvHeader } from './tsv.js';
import { unescapeZeek } from './tsv.js';

const DECIMAL_TYPES = new Set(['time', 'interval', 'double']);

function scalarText(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return undefined;
  }
}

/** A JSON value's text: a scalar, or a set/vector of scalars joined with `,` (one level: no recursion). */
function jsonText(v: unknown): string | undefined {
  if (!Array.isArray(v)) return scalarText(v);
  let out = '';
  for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + (scalarText(v[i]) ?? '');
  return out;
}

/** `zeek.fields` of a parsed JSON record. */
export function zeekFieldsFromJson(record: Readonly<Record<string, unknown>>): Record<string, string> | null {
  const out = new EventDataBuilder();
  for (const name in record) {
    const text = jsonText(record[name]);
    if (text !== undefined) out.add(name, text);
  }
  return out.finish();
}

/** `zeek.fields` of a TSV data line's raw values under its header. */
export function zeekFieldsFromTsv(
  header: ZeekTsvHeader,
  values: readonly string[],
): Record<string, string> | null {
  const out = new EventDataBuilder();
  const { fields, types } = header;
  for (let i = 0; i < fields.length && i < values.length; i++) {
    const raw = values[i] as string;
    if (raw === header.unsetField) continue;
    const name = fields[i] as string;
    if (raw === header.emptyField) {
      out.add(name, '');
      continue;
    }
    const type = types?.[i];
    if (type !== undefined && (type.startsWith('set[') || type.startsWith('vector['))) {
      const items = raw.split(header.setSeparator);
      // `vector[interval]` (dns TTLs) and the like: each item in decimal, as JSON has it.
      const decimal = DECIMAL_TYPES.has(type.slice(type.indexOf('[') + 1, -1));
      let text = '';
      for (let k = 0; k < items.length; k++) {
        const item = unescapeZeek(items[k] as string);
        const n = decimal ? Number(item) : NaN;
        text += (k === 0 ? '' : ',') + (Number.isFinite(n) ? String(n) : item);
      }
      out.add(name, text);
    } else if (type === 'bool' && (raw === 'T' || raw === 'F')) {
      out.add(name, raw === 'T' ? 'true' : 'false');
    } else if (type !== undefined && DECIMAL_TYPES.has(type)) {
      const n = Number(raw);
      out.add(name, Number.isFinite(n) ? String(n) : raw);
    } else {
      out.add(name, unescapeZeek(raw));
    }
  }
  return out.finish();
}
