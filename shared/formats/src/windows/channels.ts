/**
 * The Windows event channels the Windows formats map per event, by their canonical spelling. Channel
 * names arrive in several cases (`Security`, `security`): matching is case-insensitive and the event
 * keeps the canonical name, so rules can compare it exactly. `other`: any other channel, kept as written
 * and read as header and data only (the common fields and `winlog.event_data`): nothing is guessed about
 * it, and the rules written for it (SigmaHQ's Task Scheduler, WMI, AppLocker, ... rules) read its data.
 */
export type ChannelKind = 'security' | 'sysmon' | 'system' | 'application' | 'powershell' | 'other';

export interface KnownChannel {
  readonly name: string;
  readonly kind: ChannelKind;
}

export const knownChannels: readonly KnownChannel[] = Object.freeze([
  { name: 'Security', kind: 'security' },
  { name: 'Microsoft-Windows-Sysmon/Operational', kind: 'sysmon' },
  { name: 'System', kind: 'system' },
  { name: 'Application', kind: 'application' },
  { name: 'Windows PowerShell', kind: 'powershell' },
  { name: 'Microsoft-Windows-PowerShell/Operational', kind: 'powershell' },
]);

const byLowerName = new Map(knownChannels.map((c) => [c.name.toLowerCase(), c]));

export function lookupChannel(name: string): KnownChannel | undefined {
  return byLowerName.get(name.toLowerCase());
}

/** Logon type number -> the name Elastic's Windows pipelines write to `winlog.logon.type`. */
export const logonTypeNames: Readonly<Record<string, string>> = Object.freeze({
  '0': 'System',
  '2': 'Interactive',
  '3': 'Network',
  '4': 'Batch',
  '5': 'Service',
  '7': 'Unlock',
  '8': 'NetworkCleartext',
  '9': 'NewCredentials',
  '10': 'RemoteInteractive',
  '11': 'CachedInteractive',
  '12': 'CachedRemoteInteractive',
  '13': 'CachedUnlock',
});

/** What each mapped event id means in ECS categorization terms. */
export interface EventClass {
  readonly category: readonly string[];
  readonly type: readonly string[];
  readonly action: string;
  readonly outcome: string | null;
}

const c = (
  category: string,
  type: readonly string[],
  action: string,
  outcome: string | null = null,
): EventClass =>
  Object.freeze({ category: Object.freeze([category]), type: Object.freeze([...type]), action, outcome });

/** Security log: actions as Winlogbeat's security module names them. */
export const securityClasses: ReadonlyMap<number, EventClass> = new Map([
  [4624, c('authentication', ['start'], 'logged-in', 'success')],
  [4625, c('authentication', ['start'], 'logon-failed', 'failure')],
  [4634, c('authentication', ['end'], 'logged-out', 'success')],
  [4688, c('process', ['start'], 'created-process')],
  [4689, c('process', ['end'], 'exited-process')],
]);

/** Sysmon: actions are the event's task names, which is what Winlogbeat writes to event.action. */
export const sysmonClasses: ReadonlyMap<number, EventClass> = new Map([
  [1, c('process', ['start'], 'Process Create (rule: ProcessCreate)')],
  [3, c('network', ['connection', 'start'], 'Network connection detected (rule: NetworkConnect)')],
  [5, c('process', ['end'], 'Process terminated (rule: ProcessTerminate)')],
  [11, c('file', ['creation'], 'File created (rule: FileCreate)')],
  [12, c('registry', ['change'], 'Registry object added or deleted (rule: RegistryEvent)')],
  [13, c('registry', ['change'], 'Registry value set (rule: RegistryEvent)')],
  [14, c('registry', ['change'], 'Registry object renamed (rule: RegistryEvent)')],
]);

/** Sysmon 12's EventType says which of its two meanings it has. */
export const sysmonRegistryTypes: Readonly<Record<string, readonly string[]>> = Object.freeze({
  CreateKey: Object.freeze(['creation']),
  CreateValue: Object.freeze(['creation']),
  DeleteKey: Object.freeze(['deletion']),
  DeleteValue: Object.freeze(['deletion']),
  SetValue: Object.freeze(['change']),
  RenameKey: Object.freeze(['change']),
});
