/**
 * Zeek log value types and their parsers, shared by the TSV and JSON readers so both encodings of
 * one record give the same typed values (and so the same event and event id).
 *
 * Times are kept as integer microseconds since the epoch: Zeek writes six decimals, a double holds
 * that exactly for dates before 2255, and integer micros compare equal across encodings where
 * `seconds * 1000` in floating point would not (`1347446180.331 * 1000` is `...330.9999`).
 */
import { isExactLong, MAX_EXACT_LONG } from '../avro-long.js';
import { ZeekRecordError } from './errors.js';

/** The Zeek column types the Sequor Zeek formats read (`#types` names). */
export type ZeekType =
  'time' | 'string' | 'addr' | 'port' | 'count' | 'interval' | 'enum' | 'bool' | 'set[string]';

/** The JS value a Zeek type is read into. */
export type ZeekValueOf<T extends ZeekType> = T extends 'time' | 'port' | 'count' | 'interval'
  ? number
  : T extends 'bool'
    ? boolean
    : T extends 'set[string]'
      ? readonly string[]
      : string;

export type ZeekValue = number | boolean | string | readonly string[];

/** A wrong value in a message: JSON-quoted, at most 40 characters of it (a record can be a MiB). */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** A value that is not of its column's type. */
function wrongType(field: string, message: string): ZeekRecordError {
  return new ZeekRecordError('wrong-type', `${field}: ${message}`);
}

const EPOCH_SECONDS = /^(-?)(\d{1,12})(?:\.(\d{1,9}))?$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const UNSIGNED = /^\d{1,16}$/;
const DECIMAL = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// Shape check only (hex groups, `::`, optional embedded IPv4, optional zone): Zeek writes canonical text.
const IPV6 = /^[0-9A-Fa-f:]{2,39}(?:\d{1,3}(?:\.\d{1,3}){3})?(?:%[\w.-]+)?$/;

/** Six fractional digits from a decimal fraction string: truncated past micros, zero-padded below. */
function fractionMicros(fraction: string | undefined): number {
  if (fraction === undefined) return 0;
  return fraction.length >= 6 ? Number(fraction.slice(0, 6)) : Number(fraction) * 10 ** (6 - fraction.length);
}

/** `1347446180.330312` (seconds, TSV text) or an ISO-8601 string -> integer epoch microseconds. */
export function parseTimeText(field: string, text: string): number {
  const epoch = EPOCH_SECONDS.exec(text);
  if (epoch !== null) {
    const micros = Number(epoch[2]) * 1_000_000 + fractionMicros(epoch[3]);
    return epoch[1] === '-' ? 0 - micros : micros; // 0 - x: "-0.0" is 0, not -0 (an Avro long has no -0)
  }
  const iso = ISO_8601.exec(text);
  if (iso !== null) {
    const [, y, mo, d, h, mi, s, fraction, zone] = iso as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string | undefined,
      string,
    ];
    const month = Number(mo);
    const day = Number(d);
    if (
      month < 1 ||
      month > 12 ||
      day < 1 ||
      day > 31 ||
      Number(h) > 23 ||
      Number(mi) > 59 ||
      Number(s) > 60
    ) {
      throw wrongType(field, `not a valid time: ${quote(text)}`);
    }
    let ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s));
    if (zone !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
    }
    return ms * 1000 + fractionMicros(fraction);
  }
  throw wrongType(field, `not a time (epoch seconds or ISO-8601): ${quote(text)}`);
}

/** Epoch seconds as a JSON number -> integer epoch microseconds (rounded: the double is the nearest to Zeek's 6 decimals). */
export function parseTimeNumber(field: string, seconds: number): number {
  // Event time is epoch ms in an Avro long, exact within ±2^52 (avro-long.ts).
  if (!Number.isFinite(seconds) || Math.abs(seconds) > MAX_EXACT_LONG / 1000)
    throw wrongType(field, `not a time: ${seconds}`);
  return Math.round(seconds * 1_000_000) + 0; // + 0: -0 is 0
}

export function parsePortText(field: string, text: string): number {
  if (!UNSIGNED.test(text)) throw wrongType(field, `not a port number: ${quote(text)}`);
  return checkPort(field, Number(text));
}

export function checkPort(field: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw wrongType(field, `not a port number: ${JSON.stringify(port)}`);
  }
  return port + 0;
}

export function parseCountText(field: string, text: string): number {
  if (!UNSIGNED.test(text)) throw wrongType(field, `not a count: ${quote(text)}`);
  return checkCount(field, Number(text));
}

export function checkCount(field: string, count: number): number {
  // Counts go into Avro longs, exact up to 2^52 (avro-long.ts); 16 digits of text can exceed even 2^53.
  if (!isExactLong(count) || count < 0) throw wrongType(field, `not a count: ${count}`);
  return count + 0;
}

/** Interval in seconds (Zeek writes `0.005544`). */
export function parseIntervalText(field: string, text: string): number {
  if (!DECIMAL.test(text)) throw wrongType(field, `not an interval: ${quote(text)}`);
  return Number(text);
}

export function checkInterval(field: string, seconds: number): number {
  if (!Number.isFinite(seconds)) throw wrongType(field, `not an interval: ${seconds}`);
  return seconds;
}

export function checkAddr(field: string, text: string): string {
  if (IPV4.test(text) || (text.includes(':') && IPV6.test(text))) return text;
  throw wrongType(field, `not an IP address: ${quote(text)}`);
}

export function parseBoolText(field: string, text: string): boolean {
  if (text === 'T') return true;
  if (text === 'F') return false;
  throw wrongType(field, `not a bool (T or F): ${quote(text)}`);
}
