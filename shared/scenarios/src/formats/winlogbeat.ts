/**
 * Winlogbeat 8.x output as the shipper writes it to Kafka (before any Elasticsearch ingest pipeline):
 * ECS envelope (`@timestamp`, `agent`, `ecs`, `event.{action,code,created,kind,outcome,provider}`,
 * `host`, `log`, `message`) and the raw `winlog` object with `event_data` values as strings. Keys are
 * sorted as Go's JSON encoder writes maps; `event_id` is a string and `record_id` a number, as in
 * the Beats collection test baselines.
 */
import type { WinEvent } from '../events.js';
import type { Rng } from '../random.js';
import type { Host } from '../world.js';
import {
  SECURITY_PROVIDER,
  SYSMON_CHANNEL,
  SYSMON_PROVIDER,
  escapeValues,
  renderMessageJson,
  sysmonMessageJson,
  taskOf,
} from './messages.js';

const SYSMON_USER = '{"domain":"NT AUTHORITY","identifier":"S-1-5-18","name":"SYSTEM","type":"User"}';

/**
 * event_data keys in Go's (sorted) order. An event id's builder always fills the same keys, so the
 * sorted list is cached per (event id, key count) and checked against the data it is used for.
 */
const sortedKeyCache = new Map<number, readonly string[]>();
function sortedKeys(eventId: number, data: Readonly<Record<string, string>>): readonly string[] {
  const keys = Object.keys(data);
  const cacheKey = eventId * 64 + keys.length;
  const cached = sortedKeyCache.get(cacheKey);
  if (cached !== undefined && cached.every((k) => k in data)) return cached;
  const sorted = keys.sort();
  sortedKeyCache.set(cacheKey, sorted);
  return sorted;
}

export function winlogbeatLine(host: Host, ts: number, e: WinEvent, rng: Rng): string {
  const security = e.channel === 'security';
  const provider = security ? SECURITY_PROVIDER : SYSMON_PROVIDER;
  const task = taskOf(e);
  const code = String(e.eventId);
  const failure = e.eventId === 4625;
  const recordId = security ? ++host.counters.security : ++host.counters.sysmon;
  const created = new Date(ts + 150 + rng.int(2500)).toISOString();
  const pid = security ? host.procs.lsass.pid : host.procs.sysmon.pid;

  const escaped = escapeValues(e.data);
  let eventData = '{';
  for (const key of sortedKeys(e.eventId, e.data))
    eventData += `${eventData.length === 1 ? '' : ','}"${key}":${escaped[key]}`;
  eventData += '}';
  const message = security ? renderMessageJson(e, '\n') : sysmonMessageJson(e, escaped, '\n');

  const event = security
    ? `{"action":${JSON.stringify(task.name)},"code":"${code}","created":"${created}","kind":"event","outcome":"${failure ? 'failure' : 'success'}","provider":"${provider.name}"}`
    : `{"action":${JSON.stringify(task.name)},"code":"${code}","created":"${created}","kind":"event","provider":"${provider.name}"}`;
  const keywords = security
    ? failure
      ? ',"keywords":["Audit Failure"]'
      : ',"keywords":["Audit Success"]'
    : '';
  const user = security ? '' : `,"user":${SYSMON_USER}`;
  const winlog =
    `{"api":"wineventlog","channel":"${security ? 'Security' : SYSMON_CHANNEL}","computer_name":${JSON.stringify(host.fqdn)}` +
    `,"event_data":${eventData},"event_id":"${code}"${keywords},"opcode":"Info"` +
    `,"process":{"pid":${pid},"thread":{"id":${1000 + 4 * rng.int(4000)}}},"provider_guid":"${provider.guid}","provider_name":"${provider.name}"` +
    `,"record_id":${recordId},"task":${JSON.stringify(task.name)}${user},"version":${task.version}}`;

  return (
    `{"@timestamp":"${new Date(ts).toISOString()}","agent":${host.json.winlogbeatAgent},"ecs":{"version":"8.0.0"},"event":${event}` +
    `,"host":${host.json.winlogbeatHost},"log":{"level":"information"},"message":${message},"winlog":${winlog}}`
  );
}
