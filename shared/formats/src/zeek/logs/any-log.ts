/**
 * Any Zeek log (`dns`, `http`, `kerberos`, `rdp`, `x509`, `ssl`, ...), named by its TSV `#path` or its
 * JSON `_path`: the record's own fields in `zeek.fields` (by Zeek's names, as every Zeek event has them)
 * and the common ECS fields where the record has them: `@timestamp` from `ts`, `network.connection_id`
 * from `uid`, `source`/`destination` from the `id.*` 4-tuple, `network.transport` from `proto` (dns,
 * notice), `network.protocol` the log's path for Zeek's application-protocol logs. The host is the
 * responder, as for every Zeek log (event.ts); a log without one (x509, files) has no host.
 *
 * The logs with a mapping of their own (dce_rpc, smb_mapping, smb_files, conn) are read by it, so a
 * record gives the same event whichever Zeek format reads it (apart from `origin.format`).
 *
 * The event id hashes the path and every field's text, names sorted and JSON-only names (`_path`,
 * `_write_ts`) left out: the TSV line and the JSON object of one record agree on those texts
 * (fields.ts), whatever order a shipper wrote the JSON keys in.
 */
import { deriveHostIdFromIp, eventIdFromParts } from '@sequor/model';
import { originOf } from '../../origin.js';
import { column } from '../columns.js';
import { ZeekRecordError } from '../errors.js';
import type { ZeekLogSpec } from '../log-spec.js';
import { zeekConn } from './conn.js';
import { zeekDceRpc } from './dce-rpc.js';
import { zeekSmbFiles } from './smb-files.js';
import { zeekSmbMapping } from './smb-mapping.js';

export const ZEEK_ANY_LOG = 'zeek';

/** The logs read by their own mapping; their JSON signatures also name a JSON record without `_path`. */
export const mappedZeekLogs: readonly ZeekLogSpec[] = [
  zeekDceRpc,
  zeekSmbMapping,
  zeekSmbFiles,
  zeekConn,
] as unknown as readonly ZeekLogSpec[];

const mappedByPath: ReadonlyMap<string, ZeekLogSpec> = new Map(mappedZeekLogs.map((s) => [s.path, s]));

const columns = [
  column('ts', 'time', { required: true }),
  column('uid', 'string'),
  column('orig_h', 'addr', { names: ['id.orig_h'] }),
  column('orig_p', 'port', { names: ['id.orig_p'] }),
  column('resp_h', 'addr', { names: ['id.resp_h'] }),
  column('resp_p', 'port', { names: ['id.resp_p'] }),
  column('proto', 'enum'),
] as const;

/** Zeek's logs of one application protocol each: their path is the ECS `network.protocol`. */
const PROTOCOL_LOGS: ReadonlySet<string> = new Set([
  'dce_rpc',
  'dhcp',
  'dnp3',
  'dns',
  'ftp',
  'http',
  'irc',
  'kerberos',
  'ldap',
  'modbus',
  'mqtt',
  'mysql',
  'ntlm',
  'ntp',
  'quic',
  'radius',
  'rdp',
  'rfb',
  'sip',
  'smtp',
  'snmp',
  'socks',
  'ssh',
  'ssl',
  'syslog',
]);

/** A Zeek log path as Zeek writes it: letters, digits, `_`, `-`, `.` (never a `/` or a blank). */
const PATH_SHAPE = /^[A-Za-z0-9_.-]{1,100}$/;

function canonicalFields(fields: Readonly<Record<string, string>> | null): string {
  if (fields === null) return '';
  const names = Object.keys(fields)
    .filter((n) => n.charCodeAt(0) !== 0x5f /* _ */)
    .sort();
  let out = '';
  for (const name of names) {
    const value = fields[name] as string;
    out += `${name.length}:${name}${value.length}:${value}\0`;
  }
  return out;
}

function genericSpec(path: string): ZeekLogSpec<typeof columns> {
  const protocol = PROTOCOL_LOGS.has(path) ? path : null;
  return {
    formatName: ZEEK_ANY_LOG,
    path,
    description: `Zeek ${path}.log`,
    columns,
    jsonSignature: [],
    eventId: (_row, fields) => eventIdFromParts('zeek', path, canonicalFields(fields)),
    toEvent(row, ctx) {
      const resp = row.resp_h;
      return {
        // Integer micros to ms, floored so an event never moves later than Zeek saw it.
        timestamp: Math.floor(row.ts / 1000),
        event: {
          id: ctx.eventId,
          kind: 'event',
          category: ['network'],
          type: [protocol === null ? 'info' : 'protocol'],
          action: null,
          outcome: null,
          code: null,
          provider: 'zeek',
          dataset: `zeek.${path}`,
          ingested: null,
          sequence: null,
          duration: null,
        },
        host: resp === null ? null : { id: deriveHostIdFromIp(resp), name: null, ip: [resp] },
        user: null,
        source: row.orig_h === null ? null : { ip: row.orig_h, port: row.orig_p, bytes: null },
        destination: resp === null ? null : { ip: resp, port: row.resp_p, bytes: null },
        network:
          row.uid === null && row.proto === null && protocol === null
            ? null
            : { transport: row.proto, protocol, connection_id: row.uid },
        process: null,
        registry: null,
        file: null,
        winlog: null,
        dce_rpc: null,
        origin: originOf(ctx),
        smb: null,
        zeek: null,
      };
    },
  };
}

/** Specs of the logs seen, by path; bounded, since paths come from the data. */
const genericByPath = new Map<string, ZeekLogSpec>();
const GENERIC_CACHE_LIMIT = 256;

/**
 * The spec that reads a record of log `path`: the log's own mapping, or the common one. Throws
 * ZeekRecordError for a path that is not one (`where` says which header or key gave it).
 */
export function zeekLogSpecFor(path: unknown, where: string): ZeekLogSpec {
  if (typeof path !== 'string' || !PATH_SHAPE.test(path))
    throw new ZeekRecordError(
      'wrong-type',
      `${where}: ${typeof path === 'string' ? JSON.stringify(path.slice(0, 40)) : typeof path} is not a Zeek log path`,
    );
  const mapped = mappedByPath.get(path);
  if (mapped !== undefined) return mapped;
  let spec = genericByPath.get(path);
  if (spec === undefined) {
    spec = genericSpec(path) as unknown as ZeekLogSpec;
    if (genericByPath.size >= GENERIC_CACHE_LIMIT) genericByPath.clear();
    genericByPath.set(path, spec);
  }
  return spec;
}

/** The log of a JSON record: its `_path`, else the mapped log whose signature keys it carries. */
export function zeekJsonLogSpec(record: Readonly<Record<string, unknown>>): ZeekLogSpec {
  const path = record['_path'];
  if (path !== undefined) return zeekLogSpecFor(path, '_path');
  for (const spec of mappedZeekLogs) if (spec.jsonSignature.every((k) => k in record)) return spec;
  throw new ZeekRecordError(
    'missing-field',
    '_path is missing: the zeek format names a JSON record’s log by it (Zeek’s JSON writer with `_path`, or a per-log format such as zeek-conn)',
  );
}
