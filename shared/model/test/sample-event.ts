import type { SequorEvent } from '../src/index.js';

/** A fully populated event (every group present), about 1 KB as JSON. */
export function sampleEvent(overrides: Partial<SequorEvent> = {}): SequorEvent {
  return {
    timestamp: Date.UTC(2020, 9, 21, 8, 45, 33, 693),
    event: {
      id: '0f3c1b4e9a2d4c7b8e1f2a3b4c5d6e7f',
      kind: 'event',
      category: ['registry'],
      type: ['change'],
      action: 'Registry value set (rule: RegistryEvent)',
      outcome: null,
      code: '13',
      provider: 'Microsoft-Windows-Sysmon',
      dataset: null,
      ingested: null,
      sequence: null,
      duration: null,
    },
    host: { id: 'name:workstation5', name: 'WORKSTATION5', ip: ['172.18.39.6', 'fe80::1'] },
    user: null,
    source: null,
    destination: null,
    network: null,
    process: {
      entity_id: '{39e4a257-f131-5f8b-0b00-000000000700}',
      pid: 628,
      name: 'services.exe',
      executable: 'C:\\windows\\system32\\services.exe',
      command_line: null,
      parent: null,
    },
    registry: {
      hive: 'HKLM',
      key: 'System\\CurrentControlSet\\Services\\Fax',
      path: 'HKLM\\System\\CurrentControlSet\\Services\\Fax\\ImagePath',
      value: 'ImagePath',
      data: {
        strings: [
          'C:\\windows\\system32\\WindowsPowerShell\\v1.0\\powershell.exe -noexit -c "write-host \'T1543.003 Test\'"',
        ],
        type: null,
      },
    },
    file: null,
    winlog: {
      event_id: '13',
      channel: 'Microsoft-Windows-Sysmon/Operational',
      logon: null,
      computer_name: 'WORKSTATION5',
      record_id: 123456,
      event_data: {
        EventType: 'SetValue',
        Image: 'C:\\windows\\system32\\services.exe',
        TargetObject: 'HKLM\\System\\CurrentControlSet\\Services\\Fax\\ImagePath',
      },
      level_raw: 4,
      keywords_raw: '0x8000000000000000',
      task_raw: 13,
      opcode_raw: 0,
    },
    dce_rpc: null,
    smb: null,
    zeek: null,
    origin: { format: 'flat-windows', topic: 'cmd_service_mod_fax.json', partition: 0, offset: 42 },
    ...overrides,
  };
}
