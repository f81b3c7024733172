/**
 * The flat Windows event JSON of the public Security-Datasets (Mordor): system fields and EventData at
 * top level, `EventID` a number, everything else strings, written by Python's json.dumps (", " and
 * ": " separators, non-ASCII as \u escapes). No host id: these machines have no Elastic agent.
 */
import type { WinEvent } from '../events.js';
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

const hasNonAscii = /[\u0080-\uffff]/;
const nonAscii = /[\u0080-\uffff]/g;

/**
 * Python's json.dumps(ensure_ascii=True) escapes what JSON.stringify escapes (quotes, backslash, control
 * characters, the same short forms) and also every non-ASCII character: applied to a whole line at once.
 */
function asciiOnly(json: string): string {
  return hasNonAscii.test(json)
    ? json.replace(nonAscii, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
}

export function flatWindowsLine(host: Host, ts: number, e: WinEvent): string {
  const security = e.channel === 'security';
  const provider = security ? SECURITY_PROVIDER : SYSMON_PROVIDER;
  const task = taskOf(e);
  const iso = new Date(ts).toISOString();
  if (security) ++host.counters.security;
  else ++host.counters.sysmon;
  let out = `{"@timestamp": "${iso}", "TimeCreated": "${iso}", "ProviderGuid": "${provider.guid}"`;
  const escaped = escapeValues(e.data);
  for (const key in escaped) out += `, "${key}": ${escaped[key]}`;
  const message = security ? renderMessageJson(e, '\r\n') : sysmonMessageJson(e, escaped, '\r\n');
  const channel = security ? host.flatSecurityChannel : SYSMON_CHANNEL;
  const keywords = security
    ? e.eventId === 4625
      ? '0x8010000000000000'
      : '0x8020000000000000'
    : '0x8000000000000000';
  out +=
    `, "Level": "${security ? '0' : '4'}", "Channel": "${channel}", "Task": "${task.number}", "SourceName": "${provider.name}"` +
    `, "Hostname": ${JSON.stringify(host.flatHostname)}, "EventID": ${e.eventId}, "Keywords": "${keywords}", "Message": ${message}}`;
  return asciiOnly(out);
}
