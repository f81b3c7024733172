/**
 * Readers for loosely typed JSON values: collectors disagree on types (nxlog writes some numbers
 * as numbers, Winlogbeat writes event data as strings), so each reader accepts the representations
 * real shippers use and rejects everything else with a RecordProblem naming the field.
 */
import { isExactLong } from '../avro-long.js';
import { RecordProblem } from './problem.js';

export type Json = Readonly<Record<string, unknown>>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "-" and "" mean "no value" in Windows event data. */
function isEmptyMarker(s: string): boolean {
  return s === '' || s === '-';
}

/** A string (numbers are written as decimal text); null when missing, empty or "-". */
export function readString(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return isEmptyMarker(v) ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new RecordProblem('wrong-type', `${field}: expected a string, got ${describe(v)}`);
}

const decimal = /^-?\d+$/;
const hexadecimal = /^0x[0-9a-f]+$/i;

/**
 * An integer: a JSON integer, decimal text, or 0x-hex text (Security log pids); null when missing or "-".
 * Within ±2^52, the range the event codec carries exactly (avro-long.ts).
 */
export function readInteger(v: unknown, field: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') {
    if (isExactLong(v)) return v + 0; // + 0: -0 is 0 (an Avro long has no -0)
  } else if (typeof v === 'string') {
    if (isEmptyMarker(v)) return null;
    if (decimal.test(v) || hexadecimal.test(v)) {
      const n = Number(v);
      if (isExactLong(n)) return n + 0;
    }
  }
  throw new RecordProblem('wrong-type', `${field}: expected an integer, got ${describe(v)}`);
}

/** A port: integer in 0..65535. */
export function readPort(v: unknown, field: string): number | null {
  const n = readInteger(v, field);
  if (n !== null && (n < 0 || n > 65535))
    throw new RecordProblem('wrong-type', `${field}: port ${n} out of range`);
  return n;
}

// Date-time with a zone, as ISO 8601/RFC 3339 (fractional digits of any length); no zone is ambiguous.
const isoTimestamp = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Event time in epoch ms from an ISO 8601 string with a zone, or epoch ms as a number (ECS allows both). */
export function readTimestamp(v: unknown, field: string, allowEpochMillis: boolean): number {
  if (v === undefined || v === null) throw new RecordProblem('missing-field', `${field} is missing`);
  if (typeof v === 'string') {
    if (isoTimestamp.test(v)) {
      const ms = Date.parse(v);
      if (Number.isFinite(ms)) return ms;
    }
    throw new RecordProblem(
      'wrong-type',
      `${field}: ${JSON.stringify(v.slice(0, 40))} is not an ISO 8601 time with a zone`,
    );
  }
  if (allowEpochMillis && typeof v === 'number' && isExactLong(v)) return v + 0;
  throw new RecordProblem('wrong-type', `${field}: expected a time, got ${describe(v)}`);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Last path component after a Windows or POSIX separator. */
export function basename(path: string): string {
  const i = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return i < 0 ? path : path.slice(i + 1);
}

/** ECS file.extension: after the last dot of the base name, without the dot; null when none. */
export function extension(name: string): string | null {
  const i = name.lastIndexOf('.');
  return i <= 0 || i === name.length - 1 ? null : name.slice(i + 1);
}
