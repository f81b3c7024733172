/**
 * The rendered `message` / `Message` text of Windows events, as the event log formats it from the
 * provider's message template. Winlogbeat writes it with "\n", the flat collector with "\r\n".
 */
import type { EventData, WinEvent } from '../events.js';

const SYSMON_TITLES: Readonly<Record<number, string>> = {
  1: 'Process Create:',
  3: 'Network connection detected:',
  11: 'File created:',
  12: 'Registry object added or deleted:',
  13: 'Registry value set:',
};

function v(data: EventData, key: string): string {
  return data[key] ?? '-';
}

/** Logon ids print as upper-case hex in messages (0x3E7) but lower case in event data (0x3e7). */
function logonIdText(s: string): string {
  return s.startsWith('0x') ? `0x${s.slice(2).toUpperCase()}` : s;
}

function yesNo(token: string): string {
  return token === '%%1842' ? 'Yes' : token === '%%1843' ? 'No' : token;
}

const LOGON_TRAILER = [
  '',
  'This event is generated when a logon session is created. It is generated on the computer that was accessed.',
  '',
  'The subject fields indicate the account on the local system which requested the logon. This is most commonly a service such as the Server service, or a local process such as Winlogon.exe or Services.exe.',
  '',
  'The logon type field indicates the kind of logon that occurred. The most common types are 2 (interactive) and 3 (network).',
  '',
  'The New Logon fields indicate the account for whom the new logon was created, i.e. the account that was logged on.',
  '',
  'The network fields indicate where a remote logon request originated. Workstation name is not always available and may be left blank in some cases.',
  '',
  'The impersonation level field indicates the extent to which a process in the logon session can impersonate.',
  '',
  'The authentication information fields provide detailed information about this specific logon request.',
  '\t- Logon GUID is a unique identifier that can be used to correlate this event with a KDC event.',
  '\t- Transited services indicate which intermediate services have participated in this logon request.',
  '\t- Package name indicates which sub-protocol was used among the NTLM protocols.',
  '\t- Key length indicates the length of the generated session key. This will be 0 if no session key was requested.',
];

function subject(d: EventData, prefix: 'Subject' | 'Target'): string[] {
  return [
    `\tSecurity ID:\t\t${v(d, `${prefix}UserSid`)}`,
    `\tAccount Name:\t\t${v(d, `${prefix}UserName`)}`,
    `\tAccount Domain:\t\t${v(d, `${prefix}DomainName`)}`,
    `\tLogon ID:\t\t${logonIdText(v(d, `${prefix}LogonId`))}`,
  ];
}

function securityLines(e: WinEvent): string[] {
  const d = e.data;
  switch (e.eventId) {
    case 4624:
      return [
        'An account was successfully logged on.',
        '',
        'Subject:',
        ...subject(d, 'Subject'),
        '',
        'Logon Information:',
        `\tLogon Type:\t\t${v(d, 'LogonType')}`,
        `\tRestricted Admin Mode:\t${yesNo(v(d, 'RestrictedAdminMode'))}`,
        `\tVirtual Account:\t\t${yesNo(v(d, 'VirtualAccount'))}`,
        `\tElevated Token:\t\t${yesNo(v(d, 'ElevatedToken'))}`,
        '',
        'Impersonation Level:\t\tImpersonation',
        '',
        'New Logon:',
        ...subject(d, 'Target'),
        `\tLinked Logon ID:\t\t${logonIdText(v(d, 'TargetLinkedLogonId'))}`,
        '\tNetwork Account Name:\t-',
        '\tNetwork Account Domain:\t-',
        `\tLogon GUID:\t\t${v(d, 'LogonGuid')}`,
        '',
        'Process Information:',
        `\tProcess ID:\t\t${v(d, 'ProcessId')}`,
        `\tProcess Name:\t\t${v(d, 'ProcessName')}`,
        '',
        'Network Information:',
        `\tWorkstation Name:\t${v(d, 'WorkstationName')}`,
        `\tSource Network Address:\t${v(d, 'IpAddress')}`,
        `\tSource Port:\t\t${v(d, 'IpPort')}`,
        '',
        'Detailed Authentication Information:',
        `\tLogon Process:\t\t${v(d, 'LogonProcessName')}`,
        `\tAuthentication Package:\t${v(d, 'AuthenticationPackageName')}`,
        `\tTransited Services:\t${v(d, 'TransmittedServices')}`,
        `\tPackage Name (NTLM only):\t${v(d, 'LmPackageName')}`,
        `\tKey Length:\t\t${v(d, 'KeyLength')}`,
      ];
    case 4625:
      return [
        'An account failed to log on.',
        '',
        'Subject:',
        ...subject(d, 'Subject'),
        '',
        `Logon Type:\t\t\t${v(d, 'LogonType')}`,
        '',
        'Account For Which Logon Failed:',
        `\tSecurity ID:\t\t${v(d, 'TargetUserSid')}`,
        `\tAccount Name:\t\t${v(d, 'TargetUserName')}`,
        `\tAccount Domain:\t\t${v(d, 'TargetDomainName')}`,
        '',
        'Failure Information:',
        '\tFailure Reason:\t\tUnknown user name or bad password.',
        `\tStatus:\t\t\t${v(d, 'Status').toUpperCase().replace('0X', '0x')}`,
        `\tSub Status:\t\t${v(d, 'SubStatus').toUpperCase().replace('0X', '0x')}`,
        '',
        'Process Information:',
        `\tCaller Process ID:\t${v(d, 'ProcessId')}`,
        `\tCaller Process Name:\t${v(d, 'ProcessName')}`,
        '',
        'Network Information:',
        `\tWorkstation Name:\t${v(d, 'WorkstationName')}`,
        `\tSource Network Address:\t${v(d, 'IpAddress')}`,
        `\tSource Port:\t\t${v(d, 'IpPort')}`,
        '',
        'Detailed Authentication Information:',
        `\tLogon Process:\t\t${v(d, 'LogonProcessName')}`,
        `\tAuthentication Package:\t${v(d, 'AuthenticationPackageName')}`,
        `\tTransited Services:\t${v(d, 'TransmittedServices')}`,
        `\tPackage Name (NTLM only):\t${v(d, 'LmPackageName')}`,
        `\tKey Length:\t\t${v(d, 'KeyLength')}`,
      ];
    case 4634:
      return [
        'An account was logged off.',
        '',
        'Subject:',
        ...subject(d, 'Target'),
        '',
        `Logon Type:\t\t\t${v(d, 'LogonType')}`,
      ];
    case 4672:
      return [
        'Special privileges assigned to new logon.',
        '',
        'Subject:',
        ...subject(d, 'Subject'),
        '',
        `Privileges:\t\t${v(d, 'PrivilegeList')}`,
      ];
    default:
      throw new RangeError(`no message template for Security event ${e.eventId}`);
  }
}

const LOGOFF_TRAILER = [
  '',
  'This event is generated when a logon session is destroyed. It may be positively correlated with a logon event using the Logon ID value. Logon IDs are only unique between reboots on the same computer.',
];

/** The fixed explanatory text after the fields, per Security event id. */
function trailerLines(eventId: number): readonly string[] {
  return eventId === 4624 ? LOGON_TRAILER : eventId === 4634 ? LOGOFF_TRAILER : [];
}

/** JSON-escaped trailers (without quotes), computed once: most of a 4624 message is this constant text. */
const trailerJson = new Map<string, string>();
function escapedTrailer(eventId: number, newline: string): string {
  const key = `${eventId}${newline}`;
  let t = trailerJson.get(key);
  if (t === undefined) {
    const lines = trailerLines(eventId);
    t = lines.length === 0 ? '' : JSON.stringify(newline + lines.join(newline)).slice(1, -1);
    trailerJson.set(key, t);
  }
  return t;
}

export function renderMessage(e: WinEvent, newline: '\n' | '\r\n'): string {
  if (e.channel === 'security') return [...securityLines(e), ...trailerLines(e.eventId)].join(newline);
  const title = SYSMON_TITLES[e.eventId];
  if (title === undefined) throw new RangeError(`no message template for Sysmon event ${e.eventId}`);
  let out = title;
  for (const key in e.data) out += `${newline}${key}: ${e.data[key]}`;
  return out;
}

/** `JSON.stringify(renderMessage(e, newline))`, without re-escaping the constant trailer every time. */
export function renderMessageJson(e: WinEvent, newline: '\n' | '\r\n'): string {
  if (e.channel !== 'security') return JSON.stringify(renderMessage(e, newline));
  const head = JSON.stringify(securityLines(e).join(newline));
  return `${head.slice(0, -1)}${escapedTrailer(e.eventId, newline)}"`;
}

/**
 * JSON escaping of every event data value, once: the same escaped text goes into the record's data
 * fields and into the Sysmon message (which is just "Key: value" lines).
 */
export function escapeValues(data: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in data) out[key] = JSON.stringify(data[key]);
  return out;
}

/** The JSON string literal of a Sysmon message built from already-escaped values (same text as renderMessage). */
export function sysmonMessageJson(
  e: WinEvent,
  escaped: Readonly<Record<string, string>>,
  newline: '\n' | '\r\n',
): string {
  const title = SYSMON_TITLES[e.eventId];
  if (title === undefined) throw new RangeError(`no message template for Sysmon event ${e.eventId}`);
  const nl = newline === '\n' ? '\\n' : '\\r\\n';
  let out = `"${title}`;
  for (const key in e.data) out += `${nl}${key}: ${(escaped[key] as string).slice(1, -1)}`;
  return `${out}"`;
}

/** Event log task names (event.action in Winlogbeat) and numbers (Task in the flat format). */
export function taskOf(e: WinEvent): {
  readonly name: string;
  readonly number: string;
  readonly version: number;
} {
  if (e.channel === 'security') {
    switch (e.eventId) {
      case 4624:
        return { name: 'Logon', number: '12544', version: 2 };
      case 4625:
        return { name: 'Logon', number: '12544', version: 0 };
      case 4634:
        return { name: 'Logoff', number: '12545', version: 0 };
      case 4672:
        return { name: 'Special Logon', number: '12548', version: 0 };
      default:
        throw new RangeError(`unknown Security event ${e.eventId}`);
    }
  }
  switch (e.eventId) {
    case 1:
      return { name: 'Process Create (rule: ProcessCreate)', number: '1', version: 5 };
    case 3:
      return { name: 'Network connection detected (rule: NetworkConnect)', number: '3', version: 5 };
    case 11:
      return { name: 'File created (rule: FileCreate)', number: '11', version: 2 };
    case 12:
      return { name: 'Registry object added or deleted (rule: RegistryEvent)', number: '12', version: 2 };
    case 13:
      return { name: 'Registry value set (rule: RegistryEvent)', number: '13', version: 2 };
    default:
      throw new RangeError(`unknown Sysmon event ${e.eventId}`);
  }
}

export const SECURITY_PROVIDER = {
  name: 'Microsoft-Windows-Security-Auditing',
  guid: '{54849625-5478-4994-a5ba-3e3b0328c30d}',
} as const;
export const SYSMON_PROVIDER = {
  name: 'Microsoft-Windows-Sysmon',
  guid: '{5770385f-c22a-43e0-bf4c-06f5698ffbd9}',
} as const;
export const SYSMON_CHANNEL = 'Microsoft-Windows-Sysmon/Operational';
