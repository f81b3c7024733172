/**
 * Format-neutral raw events: Windows events as their EventData (the same fields Winlogbeat puts under
 * winlog.event_data and the flat collector puts at top level), Elastic Endpoint file events, Zeek rows.
 * A host's collector decides the format when the event is written (src/formats/*). The builders here
 * fill the fields the way Windows and Sysmon do, in the order of the event's XML template.
 */
import type { Rng } from './random.js';
import type { Account, Host, Proc } from './world.js';
import { qualifiedName } from './world.js';

export type EventData = Record<string, string>;

export interface WinEvent {
  readonly kind: 'win';
  readonly channel: 'security' | 'sysmon';
  readonly eventId: number;
  readonly data: EventData;
}

export interface FileEvent {
  readonly kind: 'file';
  readonly action: 'creation' | 'modification' | 'deletion';
  readonly path: string;
  readonly size: number | null;
  /** Hex of the first 16 bytes; null when the file is empty or gone. */
  readonly headerBytes: string | null;
  readonly proc: Proc;
  /** The effective user: the impersonated caller when a service acts on a client's behalf. */
  readonly account: Account;
}

export interface ZeekRow {
  readonly kind: 'zeek';
  readonly uid: string;
  readonly origH: string;
  readonly origP: number;
  readonly respH: string;
  readonly respP: number;
  /** Seconds with 6 decimals, or null (unset: `-`). */
  readonly rtt: string | null;
  /** The real pipe name (`\PIPE\winreg`) or a TCP port as text; the TSV writer escapes it. */
  readonly namedPipe: string;
  readonly endpoint: string;
  readonly operation: string;
  /** Microseconds below the millisecond of the event time (Zeek writes µs). */
  readonly micros: number;
}

export type RawEvent = WinEvent | FileEvent | ZeekRow;

export const ZERO_GUID = '{00000000-0000-0000-0000-000000000000}';
/** Regf hive header magic ("regf"). */
export const REGF = '72656766';

/** Sysmon's UtcTime: "2024-03-04 08:00:00.123". */
export function utcTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

export type LogonType = 2 | 3 | 5 | 7 | 10 | 11;
export type AuthPackage = 'NTLM' | 'Kerberos' | 'Negotiate';

export interface LogonSpec {
  readonly type: LogonType;
  readonly target: Account;
  readonly auth: AuthPackage;
  /** Source address; "-" for service logons, "127.0.0.1" for console logons. */
  readonly ip?: string;
  readonly port?: string;
  readonly workstation?: string;
  readonly elevated?: boolean;
  readonly logonId?: string;
}

export function newLogonId(host: Host, rng: Rng): string {
  host.counters.logon += rng.range(16, 65_536);
  return `0x${host.counters.logon.toString(16)}`;
}

function guid(rng: Rng): string {
  const h = rng.hex(32);
  return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}}`;
}

/** Security 4624 "An account was successfully logged on" (version 2, Windows 10 / Server 2016+). */
export function logonSuccess(host: Host, rng: Rng, s: LogonSpec): WinEvent {
  const logonId = s.logonId ?? newLogonId(host, rng);
  const network = s.type === 3;
  const service = s.type === 5;
  const ntlm = s.auth === 'NTLM';
  const anonymous = s.target.sid === 'S-1-5-7';
  const local = !network && !service;
  const data: EventData = {
    SubjectUserSid: network ? 'S-1-0-0' : 'S-1-5-18',
    SubjectUserName: network ? '-' : host.machineAccount.name,
    SubjectDomainName: network ? '-' : host.machineAccount.domain,
    SubjectLogonId: network ? '0x0' : '0x3e7',
    TargetUserSid: s.target.sid,
    TargetUserName: s.target.name,
    TargetDomainName: s.target.domain,
    TargetLogonId: logonId,
    LogonType: String(s.type),
    LogonProcessName: service ? 'Advapi  ' : local ? 'User32 ' : ntlm ? 'NtLmSsp ' : 'Kerberos',
    AuthenticationPackageName: s.auth,
    WorkstationName: s.workstation ?? (local ? host.name : '-'),
    LogonGuid: ntlm || service ? ZERO_GUID : guid(rng),
    TransmittedServices: '-',
    LmPackageName: ntlm ? (anonymous ? 'NTLM V1' : 'NTLM V2') : '-',
    KeyLength: ntlm && !anonymous ? '128' : '0',
    ProcessId: network
      ? '0x0'
      : `0x${(service ? host.procs.services.pid : host.procs.lsass.pid + 88).toString(16)}`,
    ProcessName: network
      ? '-'
      : service
        ? 'C:\\Windows\\System32\\services.exe'
        : 'C:\\Windows\\System32\\winlogon.exe',
    IpAddress: s.ip ?? (local ? '127.0.0.1' : '-'),
    IpPort: s.port ?? (local ? '0' : '-'),
    ImpersonationLevel: '%%1833',
    RestrictedAdminMode: local && s.type === 10 ? '%%1843' : '-',
    TargetOutboundUserName: '-',
    TargetOutboundDomainName: '-',
    VirtualAccount: '%%1843',
    TargetLinkedLogonId: '0x0',
    ElevatedToken:
      s.elevated === true || s.target.kind === 'builtin' || s.target.kind === 'machine' ? '%%1842' : '%%1843',
  };
  return { kind: 'win', channel: 'security', eventId: 4624, data };
}

/** Security 4625 "An account failed to log on" (bad password over the network). */
export function logonFailure(
  host: Host,
  target: Account,
  ip: string,
  port: string,
  workstation: string,
): WinEvent {
  return {
    kind: 'win',
    channel: 'security',
    eventId: 4625,
    data: {
      SubjectUserSid: 'S-1-0-0',
      SubjectUserName: '-',
      SubjectDomainName: '-',
      SubjectLogonId: '0x0',
      TargetUserSid: 'S-1-0-0',
      TargetUserName: target.name,
      TargetDomainName: target.domain,
      Status: '0xc000006d',
      FailureReason: '%%2313',
      SubStatus: '0xc000006a',
      LogonType: '3',
      LogonProcessName: 'NtLmSsp ',
      AuthenticationPackageName: 'NTLM',
      WorkstationName: workstation,
      TransmittedServices: '-',
      LmPackageName: '-',
      KeyLength: '0',
      ProcessId: '0x0',
      ProcessName: '-',
      IpAddress: ip,
      IpPort: port,
    },
  };
}

/** Security 4634 "An account was logged off". */
export function logoff(target: Account, logonId: string, type: LogonType): WinEvent {
  return {
    kind: 'win',
    channel: 'security',
    eventId: 4634,
    data: {
      TargetUserSid: target.sid,
      TargetUserName: target.name,
      TargetDomainName: target.domain,
      TargetLogonId: logonId,
      LogonType: String(type),
    },
  };
}

const ADMIN_PRIVILEGES = [
  'SeSecurityPrivilege',
  'SeBackupPrivilege',
  'SeRestorePrivilege',
  'SeTakeOwnershipPrivilege',
  'SeDebugPrivilege',
  'SeSystemEnvironmentPrivilege',
  'SeLoadDriverPrivilege',
  'SeImpersonatePrivilege',
  'SeDelegateSessionUserImpersonatePrivilege',
].join('\r\n\t\t\t');
const SERVICE_PRIVILEGES = [
  'SeAssignPrimaryTokenPrivilege',
  'SeAuditPrivilege',
  'SeImpersonatePrivilege',
].join('\r\n\t\t\t');

/** Security 4672 "Special privileges assigned to new logon" (admins and service accounts). */
export function specialPrivileges(target: Account, logonId: string): WinEvent {
  return {
    kind: 'win',
    channel: 'security',
    eventId: 4672,
    data: {
      SubjectUserSid: target.sid,
      SubjectUserName: target.name,
      SubjectDomainName: target.domain,
      SubjectLogonId: logonId,
      PrivilegeList: target.kind === 'builtin' ? SERVICE_PRIVILEGES : ADMIN_PRIVILEGES,
    },
  };
}

/** Sysmon 1 Process Create (Sysmon 15 field set). */
export function processCreate(proc: Proc, hashes: ReadonlyMap<string, string>): WinEvent {
  const p = proc.parent;
  return {
    kind: 'win',
    channel: 'sysmon',
    eventId: 1,
    data: {
      RuleName: '-',
      UtcTime: utcTime(proc.startMs),
      ProcessGuid: proc.guid,
      ProcessId: String(proc.pid),
      Image: proc.image,
      FileVersion: proc.info.fileVersion,
      Description: proc.info.description,
      Product: proc.info.product,
      Company: proc.info.company,
      OriginalFileName: proc.info.originalFileName,
      CommandLine: proc.commandLine,
      CurrentDirectory: proc.currentDirectory,
      User: qualifiedName(proc.account),
      LogonGuid: proc.logonGuid,
      LogonId: proc.logonId,
      TerminalSessionId: proc.sessionId,
      IntegrityLevel: proc.integrity,
      Hashes: hashes.get(proc.image) ?? '-',
      ParentProcessGuid: p?.guid ?? '{00000000-0000-0000-0000-000000000000}',
      ParentProcessId: p === null ? '0' : String(p.pid),
      ParentImage: p?.image ?? '-',
      ParentCommandLine: p?.commandLine ?? '-',
      ParentUser: p === null ? '-' : qualifiedName(p.account),
    },
  };
}

/** Sysmon 13 Registry value set. `details` is Sysmon's rendering: a string, "DWORD (0x00000002)", "Binary Data". */
export function registryValueSet(
  host: Host,
  ts: number,
  proc: Proc,
  targetObject: string,
  details: string,
): WinEvent {
  const data: EventData = {
    RuleName: '-',
    EventType: 'SetValue',
    UtcTime: utcTime(ts),
    ProcessGuid: proc.guid,
    ProcessId: String(proc.pid),
    Image: proc.image,
    TargetObject: targetObject,
    Details: details,
  };
  if (host.sysmonHasUser) data['User'] = qualifiedName(proc.account);
  return { kind: 'win', channel: 'sysmon', eventId: 13, data };
}

/** Sysmon 12 Registry object added or deleted. */
export function registryKeyEvent(
  host: Host,
  ts: number,
  proc: Proc,
  targetObject: string,
  eventType: 'CreateKey' | 'DeleteKey' | 'DeleteValue',
): WinEvent {
  const data: EventData = {
    RuleName: '-',
    EventType: eventType,
    UtcTime: utcTime(ts),
    ProcessGuid: proc.guid,
    ProcessId: String(proc.pid),
    Image: proc.image,
    TargetObject: targetObject,
  };
  if (host.sysmonHasUser) data['User'] = qualifiedName(proc.account);
  return { kind: 'win', channel: 'sysmon', eventId: 12, data };
}

/** Sysmon 11 File created. */
export function fileCreated(host: Host, ts: number, proc: Proc, targetFilename: string): WinEvent {
  const data: EventData = {
    RuleName: '-',
    UtcTime: utcTime(ts),
    ProcessGuid: proc.guid,
    ProcessId: String(proc.pid),
    Image: proc.image,
    TargetFilename: targetFilename,
    CreationUtcTime: utcTime(ts),
  };
  if (host.sysmonHasUser) data['User'] = qualifiedName(proc.account);
  return { kind: 'win', channel: 'sysmon', eventId: 11, data };
}

/** Sysmon 3 Network connection detected (outbound TCP). */
export function networkConnect(
  ts: number,
  proc: Proc,
  srcIp: string,
  srcPort: number,
  dstIp: string,
  dstHost: string,
  dstPort: number,
  dstPortName: string,
): WinEvent {
  return {
    kind: 'win',
    channel: 'sysmon',
    eventId: 3,
    data: {
      RuleName: '-',
      UtcTime: utcTime(ts),
      ProcessGuid: proc.guid,
      ProcessId: String(proc.pid),
      Image: proc.image,
      User: qualifiedName(proc.account),
      Protocol: 'tcp',
      Initiated: 'true',
      SourceIsIpv6: 'false',
      SourceIp: srcIp,
      SourceHostname: '-',
      SourcePort: String(srcPort),
      SourcePortName: '-',
      DestinationIsIpv6: 'false',
      DestinationIp: dstIp,
      DestinationHostname: dstHost,
      DestinationPort: String(dstPort),
      DestinationPortName: dstPortName,
    },
  };
}

export function fileEvent(
  action: FileEvent['action'],
  path: string,
  size: number | null,
  headerBytes: string | null,
  proc: Proc,
  account: Account,
): FileEvent {
  return { kind: 'file', action, path, size, headerBytes, proc, account };
}

/** A Zeek connection uid: "C" and 17 base62 characters. */
export function zeekUid(rng: Rng): string {
  return `C${rng.alnum(17)}`;
}

export function zeekRow(
  rng: Rng,
  uid: string,
  origH: string,
  origP: number,
  respH: string,
  respP: number,
  namedPipe: string,
  endpoint: string,
  operation: string,
): ZeekRow {
  const rtt = rng.chance(0.03) ? null : (0.00012 + rng.next() * rng.next() * 0.004).toFixed(6);
  return {
    kind: 'zeek',
    uid,
    origH,
    origP,
    respH,
    respP,
    rtt,
    namedPipe,
    endpoint,
    operation,
    micros: rng.int(1000),
  };
}

/**
 * The first 16 bytes of a registry hive file, as hex: "regf", the primary and secondary sequence
 * numbers, and the low half of the last-written FILETIME (the header goes on, the capture stops at 16).
 */
export function hiveHeader(rng: Rng, ms: number): string {
  const seq = rng.range(1, 60_000);
  const le32 = (n: number): string =>
    [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
  const ft = (BigInt(ms) + 11_644_473_600_000n) * 10_000n;
  const lo = Number(ft & 0xffffffffn);
  return `${REGF}${le32(seq)}${le32(seq)}${le32(lo)}`;
}
