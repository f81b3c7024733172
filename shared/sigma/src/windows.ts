/**
 * The Windows processing pipeline: logsource → channel and EventID conditions, and the few field renames
 * an event source needs (Security 4688 names the image `NewProcessName`). Sysmon events carry SigmaHQ's
 * field names as they are.
 */
import type { LogsourceVariant, ProcessingPipeline } from './pipeline.js';

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
const POWERSHELL = ['Microsoft-Windows-PowerShell/Operational', 'PowerShellCore/Operational'];
const POWERSHELL_CLASSIC = 'Windows PowerShell';
const DEFENDER = 'Microsoft-Windows-Windows Defender/Operational';

/** `service` → the event log channels it names. */
export const WINDOWS_SERVICE_CHANNELS: Readonly<Record<string, readonly string[]>> = {
  security: ['Security'],
  system: ['System'],
  application: ['Application'],
  sysmon: [SYSMON],
  powershell: POWERSHELL,
  'powershell-classic': [POWERSHELL_CLASSIC],
  ntlm: ['Microsoft-Windows-NTLM/Operational'],
  taskscheduler: ['Microsoft-Windows-TaskScheduler/Operational'],
  wmi: ['Microsoft-Windows-WMI-Activity/Operational'],
  dhcp: ['Microsoft-Windows-DHCP-Server/Operational'],
  'printservice-admin': ['Microsoft-Windows-PrintService/Admin'],
  'printservice-operational': ['Microsoft-Windows-PrintService/Operational'],
  'smbclient-security': ['Microsoft-Windows-SmbClient/Security'],
  'smbclient-connectivity': ['Microsoft-Windows-SmbClient/Connectivity'],
  'smbserver-connectivity': ['Microsoft-Windows-SMBServer/Connectivity'],
  'terminalservices-localsessionmanager': [
    'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational',
  ],
  'codeintegrity-operational': ['Microsoft-Windows-CodeIntegrity/Operational'],
  applocker: [
    'Microsoft-Windows-AppLocker/MSI and Script',
    'Microsoft-Windows-AppLocker/EXE and DLL',
    'Microsoft-Windows-AppLocker/Packaged app-Deployment',
    'Microsoft-Windows-AppLocker/Packaged app-Execution',
  ],
  'msexchange-management': ['MSExchange Management'],
  windefend: [DEFENDER],
  'firewall-as': ['Microsoft-Windows-Windows Firewall With Advanced Security/Firewall'],
  'bits-client': ['Microsoft-Windows-Bits-Client/Operational'],
  'security-mitigations': [
    'Microsoft-Windows-Security-Mitigations/Kernel Mode',
    'Microsoft-Windows-Security-Mitigations/User Mode',
  ],
  'diagnosis-scripted': ['Microsoft-Windows-Diagnosis-Scripted/Operational'],
  'shell-core': ['Microsoft-Windows-Shell-Core/Operational'],
  openssh: ['OpenSSH/Operational'],
  ldap: ['Microsoft-Windows-LDAP-Client/Debug'],
  bitlocker: ['Microsoft-Windows-BitLocker/BitLocker Management'],
  vhdmp: ['Microsoft-Windows-VHDMP/Operational'],
  'appxdeployment-server': ['Microsoft-Windows-AppXDeploymentServer/Operational'],
  'lsa-server': ['Microsoft-Windows-LSA/Operational'],
  'appxpackaging-om': ['Microsoft-Windows-AppxPackaging/Operational'],
  'dns-client': ['Microsoft-Windows-DNS Client Events/Operational'],
  'dns-server': ['DNS Server'],
  'appmodel-runtime': ['Microsoft-Windows-AppModel-Runtime/Admin'],
  capi2: ['Microsoft-Windows-CAPI2/Operational'],
  'certificateservicesclient-lifecycle-system': [
    'Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational',
  ],
  'kernel-shimengine': [
    'Microsoft-Windows-Kernel-ShimEngine/Operational',
    'Microsoft-Windows-Kernel-ShimEngine/Diagnostic',
  ],
  'application-experience': [
    'Microsoft-Windows-Application-Experience/Program-Telemetry',
    'Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant',
  ],
  ntfs: ['Microsoft-Windows-Ntfs/Operational'],
  'hyper-v-worker': ['Microsoft-Windows-Hyper-V-Worker'],
  'kernel-event-tracing': ['Microsoft-Windows-Kernel-EventTracing'],
  sense: ['Microsoft-Windows-SENSE/Operational'],
  'servicebus-client': ['Microsoft-ServiceBus-Client/Admin', 'Microsoft-ServiceBus-Client/Operational'],
  'microsoft-servicebus-client': [
    'Microsoft-ServiceBus-Client/Admin',
    'Microsoft-ServiceBus-Client/Operational',
  ],
  'iis-configuration': ['Microsoft-IIS-Configuration/Operational'],
  'driver-framework': ['Microsoft-Windows-DriverFrameworks-UserMode/Operational'],
};

function sysmon(
  name: string,
  eventIds: readonly number[],
  extra: Record<string, readonly string[]> = {},
): LogsourceVariant {
  return {
    name: `sysmon/${name}`,
    conditions: { Channel: [SYSMON], EventID: eventIds, ...extra },
    fieldMap: {},
  };
}

/** `category` → the event sources that log it. */
export const WINDOWS_CATEGORIES: Readonly<Record<string, readonly LogsourceVariant[]>> = {
  process_creation: [
    sysmon('process_creation', [1]),
    {
      name: 'security/4688',
      conditions: { Channel: ['Security'], EventID: [4688] },
      fieldMap: { Image: 'NewProcessName', ParentImage: 'ParentProcessName' },
    },
  ],
  file_change: [sysmon('file_change', [2])],
  network_connection: [sysmon('network_connection', [3])],
  sysmon_status: [sysmon('sysmon_status', [4, 16])],
  process_termination: [sysmon('process_termination', [5])],
  driver_load: [sysmon('driver_load', [6])],
  image_load: [sysmon('image_load', [7])],
  create_remote_thread: [sysmon('create_remote_thread', [8])],
  raw_access_thread: [sysmon('raw_access_thread', [9])],
  process_access: [sysmon('process_access', [10])],
  file_event: [sysmon('file_event', [11])],
  registry_event: [sysmon('registry_event', [12, 13, 14])],
  registry_add: [sysmon('registry_add', [12], { EventType: ['CreateKey'] })],
  registry_delete: [sysmon('registry_delete', [12], { EventType: ['DeleteKey', 'DeleteValue'] })],
  registry_set: [sysmon('registry_set', [13])],
  registry_rename: [sysmon('registry_rename', [14])],
  create_stream_hash: [sysmon('create_stream_hash', [15])],
  pipe_created: [sysmon('pipe_created', [17, 18])],
  wmi_event: [sysmon('wmi_event', [19, 20, 21])],
  dns_query: [sysmon('dns_query', [22])],
  file_delete: [sysmon('file_delete', [23])],
  clipboard_change: [sysmon('clipboard_change', [24])],
  process_tampering: [sysmon('process_tampering', [25])],
  file_delete_detected: [sysmon('file_delete_detected', [26])],
  file_block_executable: [sysmon('file_block_executable', [27])],
  file_block_shredding: [sysmon('file_block_shredding', [28])],
  file_executable_detected: [sysmon('file_executable_detected', [29])],
  sysmon_error: [sysmon('sysmon_error', [255])],
  ps_module: [
    { name: 'powershell/4103', conditions: { Channel: POWERSHELL, EventID: [4103] }, fieldMap: {} },
  ],
  ps_script: [
    { name: 'powershell/4104', conditions: { Channel: POWERSHELL, EventID: [4104] }, fieldMap: {} },
  ],
  ps_classic_start: [
    {
      name: 'powershell-classic/400',
      conditions: { Channel: [POWERSHELL_CLASSIC], EventID: [400] },
      fieldMap: {},
    },
  ],
  ps_classic_provider_start: [
    {
      name: 'powershell-classic/600',
      conditions: { Channel: [POWERSHELL_CLASSIC], EventID: [600] },
      fieldMap: {},
    },
  ],
  ps_classic_script: [
    {
      name: 'powershell-classic/800',
      conditions: { Channel: [POWERSHELL_CLASSIC], EventID: [800] },
      fieldMap: {},
    },
  ],
  antivirus: [
    {
      name: 'windefend/antivirus',
      conditions: {
        Channel: [DEFENDER],
        EventID: [1006, 1007, 1008, 1009, 1010, 1011, 1012, 1017, 1018, 1019, 1115, 1116],
      },
      fieldMap: { Signature: 'ThreatName', Filename: 'Path' },
    },
  ],
};

/** SigmaHQ's Windows rules on Windows event log records (evtx, Winlogbeat's `winlog`, …). */
export const windowsPipeline: ProcessingPipeline = {
  name: 'windows',
  resolve(logsource) {
    const { category, service } = logsource;
    if (category !== undefined) {
      const variants = WINDOWS_CATEGORIES[category];
      if (variants === undefined) {
        return `no Windows event source is mapped for category \`${category}\` (Sysmon and the event log channels do not log it)`;
      }
      if (service === undefined) return variants;
      const channels = WINDOWS_SERVICE_CHANNELS[service];
      const kept = variants.filter((v) =>
        (v.conditions['Channel'] ?? []).some((c) => channels?.includes(c as string)),
      );
      return kept.length > 0 ? kept : `category \`${category}\` is not logged by service \`${service}\``;
    }
    if (service !== undefined) {
      const channels = WINDOWS_SERVICE_CHANNELS[service];
      if (channels === undefined) return `no Windows event log channel is mapped for service \`${service}\``;
      return [{ name: service, conditions: { Channel: channels }, fieldMap: {} }];
    }
    // `product: windows` alone: every Windows event, i.e. every event that is not a Zeek record (those name
    // their log in `_path`). pySigma's pipeline adds no condition here; on the sources we read, only a Zeek
    // record can have `_path`, so the scope drops no Windows event, ECS ones (no `Channel`) included.
    return [{ name: 'windows', conditions: {}, absent: ['_path'], fieldMap: {} }];
  },
};
