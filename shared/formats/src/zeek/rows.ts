/**
 * Typed rows from either encoding of a Zeek log. The TSV side compiles, once per header, where each
 * column sits in `#fields`; the JSON side reads the same field names as object keys. Both convert
 * values with the same parsers, so one record gives the same row whichever way it was written.
 */
import type { ZeekColumn, ZeekRowOf } from './columns.js';
import { parseWellFormedJson } from '../well-formed.js';
import { ZeekRecordError } from './errors.js';
import type { ZeekTsvHeader } from './tsv.js';
import { unescapeZeek } from './tsv.js';
import type { ZeekType, ZeekValue } from './values.js';
import {
  checkAddr,
  checkCount,
  checkInterval,
  checkPort,
  parseBoolText,
  parseCountText,
  parseIntervalText,
  parsePortText,
  parseTimeNumber,
  parseTimeText,
} from './values.js';

/** Where each column of a spec sits in one header's `#fields` (-1: absent, value unset). */
export interface ZeekTsvPlan {
  readonly header: ZeekTsvHeader;
  readonly indices: Int32Array;
  /** The Zeek field name each column was found under, for error messages. */
  readonly names: readonly string[];
}

// `#types` a column may carry for each type it is read as (Zeek logs enums and strings alike as text).
const COMPATIBLE_TYPES: Readonly<Record<ZeekType, readonly string[]>> = {
  time: ['time'],
  string: ['string', 'enum'],
  enum: ['enum', 'string'],
  addr: ['addr'],
  port: ['port'],
  count: ['count'],
  interval: ['interval'],
  bool: ['bool'],
  'set[string]': ['set[string]', 'vector[string]', 'set[enum]', 'vector[enum]', 'set[addr]', 'vector[addr]'],
};

/**
 * Locates a spec's columns in a header. Throws ZeekRecordError `bad-header` when a required column is
 * missing or `#types` gives a column a type it cannot be read as.
 */
export function compileTsvPlan(header: ZeekTsvHeader, columns: readonly ZeekColumn[]): ZeekTsvPlan {
  const indices = new Int32Array(columns.length);
  const names: string[] = [];
  columns.forEach((col, i) => {
    let index = -1;
    let name = col.names[0] ?? col.key;
    for (const candidate of col.names) {
      const at = header.fields.indexOf(candidate);
      if (at >= 0) {
        index = at;
        name = candidate;
        break;
      }
    }
    if (index < 0 && col.required) {
      throw new ZeekRecordError(
        'bad-header',
        `#fields lacks ${col.names.join(' or ')}${header.path === null ? '' : ` (#path ${header.path})`}`,
      );
    }
    const declared = index >= 0 ? header.types?.[index] : undefined;
    if (declared !== undefined && !COMPATIBLE_TYPES[col.type].includes(declared)) {
      throw new ZeekRecordError('bad-header', `#types gives ${name} type ${declared}, expected ${col.type}`);
    }
    indices[i] = index;
    names.push(name);
  });
  return { header, indices, names };
}

function tsvValue(type: ZeekType, field: string, raw: string, header: ZeekTsvHeader): ZeekValue | null {
  if (raw === header.unsetField) return null;
  if (raw === header.emptyField) {
    if (type === 'string' || type === 'enum') return '';
    if (type === 'set[string]') return [];
    throw new ZeekRecordError('wrong-type', `${field}: ${header.emptyField} is not a ${type}`);
  }
  switch (type) {
    case 'time':
      return parseTimeText(field, raw);
    case 'port':
      return parsePortText(field, raw);
    case 'count':
      return parseCountText(field, raw);
    case 'interval':
      return parseIntervalText(field, raw);
    case 'addr':
      return checkAddr(field, raw);
    case 'bool':
      return parseBoolText(field, raw);
    case 'string':
    case 'enum':
      return unescapeZeek(raw);
    case 'set[string]':
      return raw.split(header.setSeparator).map(unescapeZeek);
    default:
      return unreachable(type);
  }
}

function jsonValue(type: ZeekType, field: string, value: unknown): ZeekValue | null {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'time':
      if (typeof value === 'number') return parseTimeNumber(field, value);
      if (typeof value === 'string') return parseTimeText(field, value);
      break;
    case 'port':
      if (typeof value === 'number') return checkPort(field, value);
      break;
    case 'count':
      if (typeof value === 'number') return checkCount(field, value);
      break;
    case 'interval':
      if (typeof value === 'number') return checkInterval(field, value);
      break;
    case 'addr':
      if (typeof value === 'string') return checkAddr(field, value);
      break;
    case 'bool':
      if (typeof value === 'boolean') return value;
      break;
    case 'string':
    case 'enum':
      if (typeof value === 'string') return value;
      break;
    case 'set[string]':
      if (isStringArray(value)) return value;
      break;
    default:
      return unreachable(type);
  }
  throw new ZeekRecordError('wrong-type', `${field}: expected ${type}, got ${describeJson(value)}`);
}

/**
 * A wrong value for an error message: short, and never JSON.stringify of a container (whose recursion
 * overflows the stack on deeply nested input, and whose text could be as large as the record).
 */
function describeJson(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

function isStringArray(value: unknown): value is readonly string[] {
  if (!Array.isArray(value)) return false;
  for (const v of value) if (typeof v !== 'string') return false;
  return true;
}

function unreachable(type: never): never {
  throw new Error(`unknown Zeek type ${String(type)}`);
}

function missing(field: string, how: string): ZeekRecordError {
  return new ZeekRecordError('missing-field', `${field} is ${how}`);
}

/** The typed row of one TSV data line, given the plan compiled for its header. */
export function rowFromTsv<C extends readonly ZeekColumn[]>(
  columns: C,
  plan: ZeekTsvPlan,
  values: readonly string[],
): ZeekRowOf<C> {
  const row: Record<string, ZeekValue | null> = {};
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i] as ZeekColumn;
    const index = plan.indices[i] as number;
    const field = plan.names[i] as string;
    const value = index < 0 ? null : tsvValue(col.type, field, values[index] as string, plan.header);
    if (value === null && col.required) throw missing(field, 'unset');
    row[col.key] = value;
  }
  return row as ZeekRowOf<C>;
}

/** The typed row of one parsed Zeek JSON object (keys are Zeek's field names: `id.orig_h`, ...). */
export function rowFromJson<C extends readonly ZeekColumn[]>(
  columns: C,
  record: Readonly<Record<string, unknown>>,
): ZeekRowOf<C> {
  const row: Record<string, ZeekValue | null> = {};
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i] as ZeekColumn;
    let field = col.names[0] as string;
    let raw: unknown = undefined;
    for (const name of col.names) {
      if (record[name] !== undefined) {
        field = name;
        raw = record[name];
        break;
      }
    }
    const value = jsonValue(col.type, field, raw);
    if (value === null && col.required) throw missing(field, raw === undefined ? 'missing' : 'null');
    row[col.key] = value;
  }
  return row as ZeekRowOf<C>;
}

/** Parses one JSON record (lone surrogates become U+FFFD); anything but a JSON object is `malformed`. */
export function parseZeekJson(text: string): Readonly<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = parseWellFormedJson(text);
  } catch (err) {
    throw new ZeekRecordError('malformed', `invalid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ZeekRecordError('malformed', 'JSON record is not an object');
  }
  return parsed as Record<string, unknown>;
}
