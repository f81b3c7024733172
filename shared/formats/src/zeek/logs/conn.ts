/**
 * Zeek `conn.log`: one line per connection (TCP) or flow (UDP, ICMP), written when it ends.
 * `proto` is the transport, `service` the application protocols Zeek's analyzers confirmed
 * (comma-separated when several: `smb,dce_rpc`), `duration` seconds, `orig_bytes`/`resp_bytes`
 * payload bytes each way; `unknown_transport` (Zeek 7.1+, with `ip_proto`) becomes the IANA keyword.
 * The other columns are read (they take part in the event id) but not mapped.
 */
import { column, connIdColumns } from '../columns.js';
import type { ZeekLogSpec } from '../log-spec.js';
import { isExactLong } from '../../avro-long.js';
import { ZeekRecordError } from '../errors.js';
import { zeekEvent } from '../event.js';

const columns = [
  ...connIdColumns,
  column('proto', 'enum', { required: true }),
  column('service', 'string'),
  column('duration', 'interval'),
  column('orig_bytes', 'count'),
  column('resp_bytes', 'count'),
  column('conn_state', 'string'),
  column('local_orig', 'bool'),
  column('local_resp', 'bool'),
  column('missed_bytes', 'count'),
  column('history', 'string'),
  column('orig_pkts', 'count'),
  column('orig_ip_bytes', 'count'),
  column('resp_pkts', 'count'),
  column('resp_ip_bytes', 'count'),
  column('tunnel_parents', 'set[string]'),
  column('ip_proto', 'count'),
] as const;

// IANA keywords (ECS network.transport) for protocols Zeek logs as `unknown_transport` with an `ip_proto`.
const TRANSPORT_BY_IP_PROTO: ReadonlyMap<number, string> = new Map([
  [2, 'igmp'],
  [4, 'ipv4'],
  [41, 'ipv6'],
  [47, 'gre'],
  [50, 'esp'],
  [51, 'ah'],
  [58, 'ipv6-icmp'],
  [89, 'ospf'],
  [103, 'pim'],
  [112, 'vrrp'],
  [132, 'sctp'],
]);

/** `tcp`, `udp`, `icmp` as Zeek writes them; `unknown_transport` by its IP protocol number when known. */
function transportOf(proto: string, ipProto: number | null): string | null {
  if (proto !== 'unknown_transport') return proto;
  return ipProto === null ? null : (TRANSPORT_BY_IP_PROTO.get(ipProto) ?? null);
}

export const zeekConn: ZeekLogSpec<typeof columns> = {
  formatName: 'zeek-conn',
  path: 'conn',
  description:
    'Zeek conn.log (TSV or JSON): connections and flows with their service, duration and byte counts',
  columns,
  jsonSignature: ['proto', 'conn_state'],
  toEvent(row, ctx) {
    const event = zeekEvent(
      row,
      {
        path: 'conn',
        type: 'connection',
        action: null,
        transport: transportOf(row.proto, row.ip_proto),
        protocol: row.service,
      },
      ctx,
    );
    const nanos = row.duration === null ? null : Math.round(row.duration * 1e9) + 0; // + 0: -0 is 0
    // event.duration is nanoseconds in an Avro long, exact within ±2^52 ns (52 days; avro-long.ts).
    if (nanos !== null && !isExactLong(nanos))
      throw new ZeekRecordError('wrong-type', `duration: ${row.duration} s is out of range`);
    event.event.duration = nanos;
    event.source = { ip: row.orig_h, port: row.orig_p, bytes: row.orig_bytes };
    event.destination = { ip: row.resp_h, port: row.resp_p, bytes: row.resp_bytes };
    return event;
  },
};
