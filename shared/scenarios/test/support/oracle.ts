/**
 * A brute-force reference evaluation of the four seed analytics over the generated files, written
 * independently of the generator (it parses the output lines, nothing else): if the ground truth claims
 * exactly what this finds, noise did not leak into an alert and no planned alert went missing.
 * Semantics as in the task: Elasticsearch sequences (one pending logon per key, newer replaces older,
 * maxspan from the first event, completion clears), Splunk 1h buckets alerting at the first event,
 * an order-free GUID join within 1h, one alert per matching Zeek row.
 */
import type { GroundTruth } from '@sequor/scenarios';

export interface Parsed {
  readonly file: string;
  readonly line: number;
  readonly ts: number;
  readonly raw: Record<string, unknown>;
}

export interface WinRecord extends Parsed {
  readonly source: 'winlogbeat' | 'flat';
  readonly channel: 'security' | 'sysmon';
  readonly eventId: number;
  readonly data: Readonly<Record<string, string>>;
  /** host.id for Winlogbeat, Hostname for flat JSON. */
  readonly hostKey: string;
  readonly hostId: string | null;
}

export interface FileRecord extends Parsed {
  readonly action: string;
  readonly processName: string;
  readonly header: string | null;
  readonly size: number | null;
  readonly userId: string;
  readonly hostId: string;
}

export interface ZeekRecord extends Parsed {
  readonly respP: number;
  readonly origH: string;
  readonly respH: string;
  readonly namedPipe: string;
  readonly endpoint: string;
  readonly operation: string;
}

export interface ParsedScenario {
  readonly win: WinRecord[];
  readonly files: FileRecord[];
  readonly zeek: ZeekRecord[];
  /** file -> 1-based line -> parsed record (events only). */
  readonly byLine: Map<string, Map<number, Parsed>>;
}

interface WinlogbeatJson {
  '@timestamp': string;
  host: { id: string };
  winlog: { channel: string; event_id: string; event_data: Record<string, string> };
}

interface EndpointJson {
  '@timestamp': string;
  event: { action: string };
  process: { name: string };
  file: { Ext?: { header_bytes?: string }; size?: number };
  user: { id: string };
  host: { id: string };
}

type FlatJson = Record<string, string | number> & {
  '@timestamp': string;
  Channel: string;
  EventID: number;
  Hostname: string;
};

/** Zeek's "seconds.micros" as epoch ms with a fraction, computed in integers. */
function zeekMs(ts: string): number {
  const [sec, frac] = ts.split('.') as [string, string];
  return Number(sec) * 1000 + Number(frac.padEnd(6, '0')) / 1000;
}

function lines(text: string): string[] {
  const out = text.split('\n');
  if (out[out.length - 1] === '') out.pop();
  return out;
}

export function parseScenario(files: ReadonlyMap<string, string>): ParsedScenario {
  const win: WinRecord[] = [];
  const fileEvents: FileRecord[] = [];
  const zeek: ZeekRecord[] = [];
  const byLine = new Map<string, Map<number, Parsed>>();
  const index = (p: Parsed): void => {
    let m = byLine.get(p.file);
    if (m === undefined) byLine.set(p.file, (m = new Map()));
    m.set(p.line, p);
  };

  lines(files.get('winlogbeat.ndjson') ?? '').forEach((text, i) => {
    const o = JSON.parse(text) as WinlogbeatJson;
    const channel = o.winlog.channel === 'Security' ? 'security' : 'sysmon';
    const r: WinRecord = {
      file: 'winlogbeat.ndjson',
      line: i + 1,
      ts: Date.parse(o['@timestamp']),
      raw: o as unknown as Record<string, unknown>,
      source: 'winlogbeat',
      channel,
      eventId: Number(o.winlog.event_id),
      data: o.winlog.event_data,
      hostKey: o.host.id,
      hostId: o.host.id,
    };
    win.push(r);
    index(r);
  });
  lines(files.get('flat-windows.ndjson') ?? '').forEach((text, i) => {
    const o = JSON.parse(text) as FlatJson;
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) if (typeof v === 'string') data[k] = v;
    const r: WinRecord = {
      file: 'flat-windows.ndjson',
      line: i + 1,
      ts: Date.parse(o['@timestamp']),
      raw: o as unknown as Record<string, unknown>,
      source: 'flat',
      channel: String(o.Channel).toLowerCase() === 'security' ? 'security' : 'sysmon',
      eventId: o.EventID,
      data,
      hostKey: o.Hostname,
      hostId: null,
    };
    win.push(r);
    index(r);
  });
  lines(files.get('endpoint.ndjson') ?? '').forEach((text, i) => {
    const o = JSON.parse(text) as EndpointJson;
    const r: FileRecord = {
      file: 'endpoint.ndjson',
      line: i + 1,
      ts: Date.parse(o['@timestamp']),
      raw: o as unknown as Record<string, unknown>,
      action: o.event.action,
      processName: o.process.name,
      header: o.file.Ext?.header_bytes ?? null,
      size: o.file.size ?? null,
      userId: o.user.id,
      hostId: o.host.id,
    };
    fileEvents.push(r);
    index(r);
  });
  const tsv = lines(files.get('zeek/dce_rpc.log') ?? '');
  let fields: string[] = [];
  tsv.forEach((text, i) => {
    if (text.startsWith('#')) {
      if (text.startsWith('#fields\t')) fields = text.split('\t').slice(1);
      return;
    }
    const cols = text.split('\t');
    const get = (name: string): string => {
      const v = cols[fields.indexOf(name)] as string;
      return v.replace(/\\\\/g, '\\');
    };
    const r: ZeekRecord = {
      file: 'zeek/dce_rpc.log',
      line: i + 1,
      ts: zeekMs(get('ts')),
      raw: Object.fromEntries(fields.map((f, j) => [f, cols[j]])),
      respP: Number(get('id.resp_p')),
      origH: get('id.orig_h'),
      respH: get('id.resp_h'),
      namedPipe: get('named_pipe'),
      endpoint: get('endpoint'),
      operation: get('operation'),
    };
    zeek.push(r);
    index(r);
  });
  return { win, files: fileEvents, zeek, byLine };
}

export interface OracleAlert {
  readonly rule: string;
  readonly evidence: readonly Parsed[];
}

export const HOUR = 3_600_000;
const loopback = new Set(['127.0.0.1', '::1']);

export function isRemoteRegistryWrite(z: ZeekRecord): boolean {
  const winreg = z.endpoint.toLowerCase() === 'winreg' || z.namedPipe.toLowerCase().endsWith('winreg');
  return (
    z.respP === 445 &&
    winreg &&
    (z.operation.startsWith('BaseRegCreateKey') || z.operation.startsWith('BaseRegSetValue'))
  );
}

export function isServiceImagePath(w: WinRecord): boolean {
  if (w.channel !== 'sysmon' || w.eventId !== 13) return false;
  const target = w.data['TargetObject'] ?? '';
  const valueName = target.slice(target.lastIndexOf('\\') + 1);
  return (
    target.toLowerCase().includes('\\system\\currentcontrolset\\services') &&
    valueName === 'ImagePath' &&
    w.data['Details'] !== undefined
  );
}

export function isQualifyingLogon(w: WinRecord): boolean {
  const d = w.data;
  return (
    w.source === 'winlogbeat' &&
    w.channel === 'security' &&
    w.eventId === 4624 &&
    d['LogonType'] === '3' &&
    d['TargetUserName'] !== 'ANONYMOUS LOGON' &&
    d['TargetDomainName'] !== 'NT AUTHORITY' &&
    !loopback.has(d['IpAddress'] ?? '')
  );
}

export function isQualifyingHiveWrite(f: FileRecord): boolean {
  return (
    f.action === 'creation' &&
    f.processName.toLowerCase() === 'svchost.exe' &&
    (f.header ?? '').toLowerCase().startsWith('72656766') &&
    f.userId.startsWith('S-1-5-21-') &&
    (f.size ?? 0) >= 30_000
  );
}

export function isRemcosWrite(w: WinRecord): boolean {
  return (
    w.channel === 'sysmon' &&
    w.eventId === 13 &&
    (w.data['TargetObject'] ?? '').toLowerCase().includes('\\software\\remcos') &&
    w.data['Details'] !== undefined
  );
}

export function evaluate(p: ParsedScenario): OracleAlert[] {
  const alerts: OracleAlert[] = [];
  const byTime = <T extends Parsed>(xs: T[]): T[] =>
    [...xs].sort((a, b) => a.ts - b.ts || cmp(a.file, b.file) || a.line - b.line);

  for (const z of p.zeek)
    if (isRemoteRegistryWrite(z)) alerts.push({ rule: 'car-2014-11-005-remote-registry', evidence: [z] });

  const seenGroups = new Set<string>();
  for (const w of byTime(p.win.filter(isServiceImagePath))) {
    const d = w.data;
    const group = JSON.stringify([
      w.hostKey,
      d['User'] ?? null,
      d['TargetObject'],
      d['Details'],
      d['ProcessGuid'],
      Math.floor(w.ts / HOUR),
    ]);
    if (seenGroups.has(group)) continue;
    seenGroups.add(group);
    alerts.push({ rule: 'splunk-windows-service-creation-using-registry-entry', evidence: [w] });
  }

  const pending = new Map<string, WinRecord>();
  const merged: (WinRecord | FileRecord)[] = byTime<WinRecord | FileRecord>([
    ...p.win.filter(isQualifyingLogon),
    ...p.files.filter(isQualifyingHiveWrite),
  ]);
  for (const e of merged) {
    if ('eventId' in e) {
      pending.set(`${e.hostId}|${e.data['TargetUserSid']}`, e);
    } else {
      const key = `${e.hostId}|${e.userId}`;
      const logon = pending.get(key);
      if (logon === undefined) continue;
      pending.delete(key);
      if (e.ts - logon.ts <= 60_000)
        alerts.push({
          rule: 'elastic-potential-remote-credential-access-via-registry',
          evidence: [logon, e],
        });
    }
  }

  const creates = new Map<string, WinRecord[]>();
  for (const w of p.win)
    if (w.channel === 'sysmon' && w.eventId === 1)
      pushTo(creates, `${w.hostKey}|${w.data['ProcessGuid']}`, w);
  const writes = new Map<string, WinRecord[]>();
  for (const w of byTime(p.win.filter(isRemcosWrite)))
    pushTo(writes, `${w.hostKey}|${w.data['ProcessGuid']}`, w);
  for (const [key, ws] of writes) {
    const cs = creates.get(key);
    if (cs === undefined) continue;
    const pair = ws.flatMap((w) =>
      cs.filter((c) => Math.abs(c.ts - w.ts) <= HOUR).map((c) => [c, w] as const),
    )[0];
    if (pair !== undefined)
      alerts.push({
        rule: 'splunk-remcos-client-registry-install-entry',
        evidence: byTime([pair[0], pair[1]]),
      });
  }
  return alerts;
}

function pushTo<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [v]);
  else l.push(v);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function alertKey(rule: string, evidence: readonly { file: string; line: number }[]): string {
  return `${rule} ${evidence.map((e) => `${e.file}:${e.line}`).join(' ')}`;
}

export function groundTruthKeys(gt: GroundTruth): string[] {
  return gt.alerts.map((a) => alertKey(a.rule, a.evidence)).sort();
}

export function oracleKeys(alerts: readonly OracleAlert[]): string[] {
  return alerts.map((a) => alertKey(a.rule, a.evidence)).sort();
}
