/**
 * Zeek dce_rpc.log in the ASCII (TSV) writer's format, with its exact header, and the JSON writer's
 * format (LogAscii::use_json=T: same field names, `ts` as epoch seconds, unset fields left out).
 * The TSV writer escapes a backslash as `\\`; the JSON string holds the real value.
 */
import type { ZeekRow } from '../events.js';

export const ZEEK_FIELDS = [
  'ts',
  'uid',
  'id.orig_h',
  'id.orig_p',
  'id.resp_h',
  'id.resp_p',
  'rtt',
  'named_pipe',
  'endpoint',
  'operation',
] as const;

/** Zeek's #open/#close stamp: 2024-03-04-08-00-00 (UTC). */
function zeekDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)}-${iso.slice(11, 13)}-${iso.slice(14, 16)}-${iso.slice(17, 19)}`;
}

export function zeekHeader(openMs: number): string[] {
  return [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    '#path\tdce_rpc',
    `#open\t${zeekDate(openMs)}`,
    `#fields\t${ZEEK_FIELDS.join('\t')}`,
    '#types\ttime\tstring\taddr\tport\taddr\tport\tinterval\tstring\tstring\tstring',
  ];
}

export function zeekFooter(closeMs: number): string {
  return `#close\t${zeekDate(closeMs)}`;
}

/** Epoch seconds with microseconds, as Zeek writes `time` values: 1709539200.123456. */
export function zeekTime(ms: number, micros: number): string {
  const sec = Math.floor(ms / 1000);
  const frac = (ms - sec * 1000) * 1000 + micros;
  return `${sec}.${String(frac).padStart(6, '0')}`;
}

const backslash = /\\/g;

function tsvString(s: string): string {
  return s === '' ? '(empty)' : s.replace(backslash, '\\\\');
}

export function zeekTsvLine(ts: number, r: ZeekRow): string {
  return `${zeekTime(ts, r.micros)}\t${r.uid}\t${r.origH}\t${r.origP}\t${r.respH}\t${r.respP}\t${r.rtt ?? '-'}\t${tsvString(r.namedPipe)}\t${tsvString(r.endpoint)}\t${tsvString(r.operation)}`;
}

/** Zeek JSON prints doubles without trailing zeros. */
function jsonNumber(text: string): string {
  if (!text.includes('.')) return text;
  const trimmed = text.replace(/0+$/, '');
  return trimmed.endsWith('.') ? `${trimmed}0` : trimmed;
}

export function zeekJsonLine(ts: number, r: ZeekRow): string {
  const rtt = r.rtt === null ? '' : `,"rtt":${jsonNumber(r.rtt)}`;
  return (
    `{"ts":${jsonNumber(zeekTime(ts, r.micros))},"uid":"${r.uid}","id.orig_h":"${r.origH}","id.orig_p":${r.origP},"id.resp_h":"${r.respH}","id.resp_p":${r.respP}` +
    `${rtt},"named_pipe":${JSON.stringify(r.namedPipe)},"endpoint":${JSON.stringify(r.endpoint)},"operation":${JSON.stringify(r.operation)}}`
  );
}
