/**
 * What every Zeek log here maps the same way: time, the connection 4-tuple, the Zeek uid, the
 * correlation host and the event id. Per-log modules fill in their own groups on top.
 *
 * Zeek is a network sensor, so its records have no host of their own. The host an analytic reasons
 * about is the responder: CAR-2014-11-005 asks which machine's registry was written remotely, the
 * SMB logs which machine's shares and files were touched. So `host.ip` is `[id.resp_h]` and `host.id`
 * is derived from that address (`ip:10.0.0.5`), which keeps all lines about one server on one key
 * (one Kafka partition) and never pretends to be an agent's host id.
 */
import type { SequorEvent } from '@sequor/model';
import { deriveHostIdFromIp, eventIdFromParts } from '@sequor/model';
import { originOf } from '../origin.js';
import type { RecordOrigin } from '../types.js';
import type { ZeekColumn, ZeekConnIdRow, ZeekRowOf } from './columns.js';

function canonicalText(v: string | number | boolean | readonly string[]): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  let set = '';
  for (const e of v) set += `${e.length}:${e},`;
  return set;
}

/**
 * The event id of a row: a hash over the log path and every column value in spec order. Zeek has no
 * per-record id, and the row is what the TSV line and the JSON object both decode to, so one record
 * gets one id whether it was logged as TSV or JSON, read from a file or from any Kafka offset.
 *
 * The values are length-prefixed into one string (unset as `~`, which no length prefix starts with)
 * and hashed as one part: one hash update per event instead of one per column.
 */
export function zeekEventId<C extends readonly ZeekColumn[]>(
  path: string,
  columns: C,
  row: ZeekRowOf<C>,
): string {
  const values = row as unknown as Readonly<Record<string, unknown>>;
  let canonical = '';
  for (const col of columns) {
    const v = values[col.key];
    if (v === null || v === undefined) {
      canonical += '~\0';
      continue;
    }
    const s = canonicalText(v as string | number | boolean | readonly string[]);
    canonical += `${s.length}:${s}\0`;
  }
  return eventIdFromParts('zeek', path, canonical);
}

export interface ZeekEventContext {
  readonly format: string;
  readonly origin: RecordOrigin;
  readonly eventId: string;
}

export interface ZeekEventMeta {
  /** Zeek log path: `dce_rpc`, `smb_mapping`, ... (`event.dataset` is `zeek.<path>`). */
  readonly path: string;
  readonly type: string;
  readonly action: string | null;
  readonly transport: string | null;
  readonly protocol: string | null;
}

/** The common part of every Zeek event; per-log groups (dce_rpc, smb, file) are null here. */
export function zeekEvent(row: ZeekConnIdRow, meta: ZeekEventMeta, ctx: ZeekEventContext): SequorEvent {
  return {
    // Integer micros to ms, floored so an event never moves later than Zeek saw it.
    timestamp: Math.floor(row.ts / 1000),
    event: {
      id: ctx.eventId,
      kind: 'event',
      category: ['network'],
      type: [meta.type],
      action: meta.action,
      outcome: null,
      code: null,
      provider: 'zeek',
      dataset: `zeek.${meta.path}`,
      ingested: null,
      sequence: null,
      duration: null,
    },
    host: { id: deriveHostIdFromIp(row.resp_h), name: null, ip: [row.resp_h] },
    user: null,
    source: { ip: row.orig_h, port: row.orig_p, bytes: null },
    destination: { ip: row.resp_h, port: row.resp_p, bytes: null },
    network: { transport: meta.transport, protocol: meta.protocol, connection_id: row.uid },
    process: null,
    registry: null,
    file: null,
    winlog: null,
    dce_rpc: null,
    origin: originOf(ctx),
    smb: null,
    zeek: null,
  };
}

/** `\\10.0.0.5\ADMIN$` -> `ADMIN$`; null when the path has no share component (Zeek's `<unknown>`). */
export function shareOfTreePath(path: string | null): string | null {
  if (path === null) return null;
  const cut = path.lastIndexOf('\\');
  if (cut < 0 || cut === path.length - 1) return null;
  return path.slice(cut + 1);
}
