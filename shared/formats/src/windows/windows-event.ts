/**
 * The mapping every Windows format shares: one Windows event (header + EventData fields, whatever
 * shipper carried it) -> the event model. Flat Windows JSON has EventData at the top level, Winlogbeat
 * under `winlog.event_data`; both end here, so a record gets the same fields from either.
 */
import type { EntityIdentityOptions, SequorEvent } from '@sequor/model';
import { deriveHostId, deriveUserId } from '@sequor/model';
import { blank, blankEvent } from './blank.js';
import type { EventClass, KnownChannel } from './channels.js';
import { logonTypeNames, securityClasses, sysmonClasses, sysmonRegistryTypes } from './channels.js';
import { registryData, splitRegistryPath } from './registry-path.js';
import type { SystemNumbers } from './system-numbers.js';
import type { Json } from './values.js';
import { basename, extension, readInteger, readPort, readString } from './values.js';

export interface WindowsHeader {
  readonly timestamp: number;
  readonly eventId: string;
  readonly code: number;
  readonly channel: KnownChannel;
  readonly computerName: string | null;
  readonly recordId: number | null;
  readonly provider: string | null;
  /** The account the event was logged under (System/UserID, winlog.user): used only where the event data names no user. */
  readonly logUser: {
    readonly id: string | null;
    readonly name: string | null;
    readonly domain: string | null;
  } | null;
  readonly format: string;
  /** System's Level, Keywords, Task and Opcode where the input gives them exactly (system-numbers.ts). */
  readonly numbers: SystemNumbers;
}

/** NULL SID: "nobody", as in a failed logon's unknown account; not an identity. */
const NULL_SID = 'S-1-0-0';

/** Security events whose subject of interest is the target account (the one logging on or off). */
const targetUserEvents = new Set([4624, 4625, 4634, 4647]);

/** IANA protocol numbers in Windows Filtering Platform events (5156, 5158). */
const ipProtocols: Readonly<Record<string, string>> = Object.freeze({
  '1': 'icmp',
  '6': 'tcp',
  '17': 'udp',
  '58': 'ipv6-icmp',
});

export function mapWindowsEvent(h: WindowsHeader, data: Json, identity: EntityIdentityOptions): SequorEvent {
  const ev = blankEvent();
  ev.timestamp = h.timestamp;

  const meta = blank('event');
  meta.id = h.eventId;
  meta.kind = 'event';
  meta.code = String(h.code);
  meta.provider = h.provider;
  ev.event = meta;

  const winlog = blank('winlog');
  winlog.event_id = meta.code;
  winlog.channel = h.channel.name;
  winlog.computer_name = h.computerName;
  winlog.record_id = h.recordId;
  winlog.level_raw = h.numbers.level;
  winlog.keywords_raw = h.numbers.keywords;
  winlog.task_raw = h.numbers.task;
  winlog.opcode_raw = h.numbers.opcode;
  ev.winlog = winlog;

  if (h.computerName !== null) {
    const host = blank('host');
    host.name = h.computerName;
    host.id = deriveHostId({ name: h.computerName }, identity);
    ev.host = host;
  }

  let cls: EventClass | undefined;
  switch (h.channel.kind) {
    case 'security':
      cls = securityClasses.get(h.code);
      mapSecurity(ev, h.code, data, identity);
      break;
    case 'sysmon':
      cls = sysmonClasses.get(h.code);
      mapSysmon(ev, h.code, data, identity);
      break;
    default:
      // System, Application, PowerShell: no per-event mapping; the logging account is the best user there is.
      break;
  }
  if (ev.user === null && h.channel.kind !== 'sysmon' && h.logUser !== null) {
    ev.user = user(h.logUser.id, h.logUser.name, h.logUser.domain, identity);
  }
  if (cls !== undefined) {
    meta.category = [...cls.category];
    meta.type = [...cls.type];
    meta.action = cls.action;
    meta.outcome = cls.outcome;
  }
  if (h.channel.kind === 'sysmon' && h.code === 12) {
    const t = readString(data['EventType'], 'EventType');
    const types = t === null ? undefined : sysmonRegistryTypes[t];
    if (types !== undefined) meta.type = [...types];
  }

  const logonType = readString(data['LogonType'], 'LogonType');
  if (logonType !== null) {
    const logon = blank('winlog.logon');
    logon.type = logonTypeNames[logonType] ?? logonType;
    winlog.logon = logon;
  }
  return ev;
}

function user(
  sid: string | null,
  name: string | null,
  domain: string | null,
  identity: EntityIdentityOptions,
): SequorEvent['user'] {
  const id = sid === NULL_SID ? null : sid;
  if (id === null && name === null) return null;
  const u = blank('user');
  u.name = name;
  u.domain = domain;
  u.id = deriveUserId({ id, name, domain }, identity);
  return u;
}

function mapSecurity(ev: SequorEvent, code: number, d: Json, identity: EntityIdentityOptions): void {
  ev.user = targetUserEvents.has(code)
    ? user(
        readString(d['TargetUserSid'], 'TargetUserSid'),
        readString(d['TargetUserName'], 'TargetUserName'),
        readString(d['TargetDomainName'], 'TargetDomainName'),
        identity,
      )
    : user(
        readString(d['SubjectUserSid'], 'SubjectUserSid'),
        readString(d['SubjectUserName'], 'SubjectUserName'),
        readString(d['SubjectDomainName'], 'SubjectDomainName'),
        identity,
      );

  const ip = readString(d['IpAddress'], 'IpAddress');
  const port = readPort(d['IpPort'], 'IpPort');
  if (ip !== null) {
    const src = blank('source');
    src.ip = ip;
    src.port = port;
    ev.source = src;
  }

  if (code === 4688) {
    // 4688: the new process, its creator as parent (ProcessId/ParentProcessName are the creator's).
    const p = blank('process');
    p.pid = readInteger(d['NewProcessId'], 'NewProcessId');
    p.executable = readString(d['NewProcessName'], 'NewProcessName');
    p.name = p.executable === null ? null : basename(p.executable);
    p.command_line = readString(d['CommandLine'], 'CommandLine');
    const parent = blank('process.parent');
    parent.pid = readInteger(d['ProcessId'], 'ProcessId');
    parent.executable = readString(d['ParentProcessName'], 'ParentProcessName');
    parent.name = parent.executable === null ? null : basename(parent.executable);
    p.parent = parent;
    ev.process = p;
    return;
  }
  if (code === 5156 || code === 5158) {
    const src = blank('source');
    src.ip = readString(d['SourceAddress'], 'SourceAddress');
    src.port = readPort(d['SourcePort'], 'SourcePort');
    ev.source = src;
    const dst = blank('destination');
    dst.ip = readString(d['DestAddress'], 'DestAddress');
    dst.port = readPort(d['DestPort'], 'DestPort');
    ev.destination = dst;
    const proto = readString(d['Protocol'], 'Protocol');
    if (proto !== null) {
      const net = blank('network');
      net.transport = ipProtocols[proto] ?? proto;
      ev.network = net;
    }
    const app = readString(d['Application'], 'Application');
    const pid = readInteger(d['ProcessID'] ?? d['ProcessId'], 'ProcessID');
    if (app !== null || pid !== null) {
      const p = blank('process');
      p.executable = app;
      p.name = app === null ? null : basename(app);
      p.pid = pid;
      ev.process = p;
    }
    return;
  }
  const exe = readString(d['ProcessName'], 'ProcessName');
  const pid = readInteger(d['ProcessId'], 'ProcessId');
  if (exe !== null || (pid !== null && pid !== 0)) {
    const p = blank('process');
    p.executable = exe;
    p.name = exe === null ? null : basename(exe);
    p.pid = pid;
    ev.process = p;
  }
}

function mapSysmon(ev: SequorEvent, code: number, d: Json, identity: EntityIdentityOptions): void {
  // Sysmon's User is "DOMAIN\name" of the process's account; older Sysmon omits it on registry events.
  const account = readString(d['User'], 'User');
  if (account !== null) {
    const sep = account.indexOf('\\');
    ev.user =
      sep < 0
        ? user(null, account, null, identity)
        : user(null, account.slice(sep + 1), account.slice(0, sep), identity);
  }

  const image = readString(d['Image'], 'Image');
  const guid = readString(d['ProcessGuid'], 'ProcessGuid');
  const pid = readInteger(d['ProcessId'], 'ProcessId');
  if (image !== null || guid !== null || pid !== null) {
    const p = blank('process');
    p.entity_id = guid;
    p.pid = pid;
    p.executable = image;
    p.name = image === null ? null : basename(image);
    ev.process = p;
    if (code === 1) {
      p.command_line = readString(d['CommandLine'], 'CommandLine');
      const parent = blank('process.parent');
      parent.entity_id = readString(d['ParentProcessGuid'], 'ParentProcessGuid');
      parent.pid = readInteger(d['ParentProcessId'], 'ParentProcessId');
      parent.executable = readString(d['ParentImage'], 'ParentImage');
      parent.name = parent.executable === null ? null : basename(parent.executable);
      parent.command_line = readString(d['ParentCommandLine'], 'ParentCommandLine');
      p.parent = parent;
    }
  }

  switch (code) {
    case 3: {
      const src = blank('source');
      src.ip = readString(d['SourceIp'], 'SourceIp');
      src.port = readPort(d['SourcePort'], 'SourcePort');
      ev.source = src;
      const dst = blank('destination');
      dst.ip = readString(d['DestinationIp'], 'DestinationIp');
      dst.port = readPort(d['DestinationPort'], 'DestinationPort');
      ev.destination = dst;
      const net = blank('network');
      const transport = readString(d['Protocol'], 'Protocol');
      net.transport = transport === null ? null : transport.toLowerCase();
      net.protocol = readString(d['DestinationPortName'], 'DestinationPortName');
      ev.network = net;
      break;
    }
    case 11: {
      const path = readString(d['TargetFilename'], 'TargetFilename');
      if (path !== null) {
        const f = blank('file');
        f.path = path;
        f.name = basename(path);
        f.extension = extension(f.name);
        ev.file = f;
      }
      break;
    }
    case 12:
    case 13:
    case 14: {
      const target = readString(d['TargetObject'], 'TargetObject');
      if (target === null) break;
      const eventType = readString(d['EventType'], 'EventType');
      const isValue =
        code === 13 || eventType === 'SetValue' || eventType === 'DeleteValue' || eventType === 'CreateValue';
      const parts = splitRegistryPath(target, isValue);
      const r = blank('registry');
      r.path = target;
      r.hive = parts.hive;
      r.key = parts.key;
      r.value = parts.value;
      const details = readString(d['Details'], 'Details');
      if (details !== null) {
        const data = blank('registry.data');
        const parsed = registryData(details);
        data.strings = parsed.strings;
        data.type = parsed.type;
        r.data = data;
      }
      ev.registry = r;
      break;
    }
    default:
      break;
  }
}
