import { describe, expect, it } from 'vitest';
import { createEventCodec, eventIdFromParts } from '@sequor/model';
import { datasetLines, decodeError, decodeOne } from './helpers.js';

// Real samples from ../shared/datasets/security-datasets (Security-Datasets, MIT); see PROVENANCE.md there.
describe('flat-windows on real Security-Datasets records', () => {
  it('maps a 4624 network logon by pgustavo from 172.18.39.5 (empire_shell_dcerpc_smb_service_dll_hijack.json line 4527)', () => {
    const line = datasetLines('empire_shell_dcerpc_smb_service_dll_hijack.json')[4526] as string;
    const ev = decodeOne('flat-windows', line, undefined, { topic: 'raw.windows', partition: 3, offset: 99 });
    expect(ev.timestamp).toBe(Date.parse('2020-09-22T03:30:40.874Z'));
    expect(ev.event).toMatchObject({
      kind: 'event',
      category: ['authentication'],
      type: ['start'],
      action: 'logged-in',
      outcome: 'success',
      code: '4624',
      provider: 'Microsoft-Windows-Security-Auditing',
    });
    // Channel "security" (lower case in this file) is stored canonically; the id uses computer + channel + RecordNumber.
    const { event_data: eventData, ...winlog } = ev.winlog!;
    expect(winlog).toEqual({
      event_id: '4624',
      channel: 'Security',
      logon: { type: 'Network' },
      computer_name: 'WORKSTATION6.theshire.local',
      record_id: 869786,
      // NXLog's numbers: Keywords -9214364837600034816 (signed), Task 12544 (Logon), OpcodeValue 0; its
      // SeverityValue 2 (INFO) is no Level (Level 0 and 4 both give it).
      level_raw: null,
      keywords_raw: '0x8020000000000000',
      task_raw: 12544,
      opcode_raw: 0,
    });
    // Every EventData name of the record as text, none of nxlog's or Logstash's header keys.
    expect(eventData).toMatchObject({
      TargetUserName: 'pgustavo',
      LogonType: '3',
      IpPort: '53143',
      ProcessId: '0x0',
      WorkstationName: '-',
    });
    expect(Object.keys(eventData!)).toHaveLength(27); // a Windows 10 4624 (version 2) has 27 Data elements
    for (const header of [
      'EventID',
      'Channel',
      'Hostname',
      '@timestamp',
      'SourceName',
      'Keywords',
      'host',
      'tags',
    ])
      expect(eventData).not.toHaveProperty(header);
    expect(ev.event.id).toBe(eventIdFromParts('winlog', 'workstation6.theshire.local', 'security', 869786));
    expect(ev.host).toEqual({ id: 'name:workstation6', name: 'WORKSTATION6.theshire.local', ip: null });
    expect(ev.user).toEqual({
      id: 'S-1-5-21-4228717743-1032521047-1810997296-1104',
      name: 'pgustavo',
      domain: 'THESHIRE.LOCAL',
    });
    expect(ev.source).toMatchObject({ ip: '172.18.39.5', port: 53143 });
    // ProcessName "-" and ProcessId 0x0: no process.
    expect(ev.process).toBeNull();
    expect(ev.origin).toEqual({ format: 'flat-windows', topic: 'raw.windows', partition: 3, offset: 99 });
  });

  it('maps the Sysmon 13 Services\\Fax\\ImagePath write (cmd_service_mod_fax.json line 127)', () => {
    const line = datasetLines('cmd_service_mod_fax.json')[126] as string;
    const ev = decodeOne('flat-windows', line);
    expect(new Date(ev.timestamp).toISOString()).toBe('2020-10-21T08:45:33.693Z');
    expect(ev.event).toMatchObject({
      category: ['registry'],
      type: ['change'],
      action: 'Registry value set (rule: RegistryEvent)',
      code: '13',
    });
    expect(ev.registry).toEqual({
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
    });
    expect(ev.process).toMatchObject({
      entity_id: '{39e4a257-f131-5f8b-0b00-000000000700}',
      pid: 716,
      name: 'services.exe',
      executable: 'C:\\windows\\system32\\services.exe',
      parent: null,
    });
    expect(ev.host).toEqual({ id: 'name:workstation5', name: 'WORKSTATION5', ip: null });
    // Older Sysmon: no User on registry events, and no record number in this capture.
    expect(ev.user).toBeNull();
    expect(ev.winlog?.record_id).toBeNull();
    expect(ev.event.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('maps a Sysmon 1 process create with its GUIDs (cmd_service_mod_fax.json line 116)', () => {
    const ev = decodeOne('flat-windows', datasetLines('cmd_service_mod_fax.json')[115] as string);
    expect(ev.event).toMatchObject({
      category: ['process'],
      type: ['start'],
      action: 'Process Create (rule: ProcessCreate)',
    });
    expect(ev.process).toEqual({
      entity_id: '{39e4a257-d62d-5f90-8710-000000000700}',
      pid: 3112,
      name: 'sc.exe',
      executable: 'C:\\Windows\\System32\\sc.exe',
      command_line:
        'sc  config Fax binPath= "C:\\windows\\system32\\WindowsPowerShell\\v1.0\\powershell.exe -noexit -c \\"write-host \'T1543.003 Test\'\\""',
      parent: {
        entity_id: '{39e4a257-d603-5f90-8010-000000000700}',
        pid: 8692,
        name: 'cmd.exe',
        executable: 'C:\\Windows\\System32\\cmd.exe',
        command_line: '"C:\\windows\\system32\\cmd.exe" ',
      },
    });
    expect(ev.user).toEqual({ id: 'name:workstation5\\wardog', name: 'wardog', domain: 'WORKSTATION5' });
  });

  it('maps a Security 4688 with hex pids (cmd_service_mod_fax.json line 2)', () => {
    const ev = decodeOne('flat-windows', datasetLines('cmd_service_mod_fax.json')[1] as string);
    expect(ev.event).toMatchObject({ category: ['process'], type: ['start'], action: 'created-process' });
    expect(ev.process).toMatchObject({
      pid: 0xc28,
      executable: 'C:\\Windows\\System32\\sc.exe',
      name: 'sc.exe',
      parent: { pid: 0x21f4, executable: 'C:\\Windows\\System32\\cmd.exe', name: 'cmd.exe' },
    });
    expect(ev.user).toEqual({
      id: 'S-1-5-21-3940915590-64593676-1414006259-500',
      name: 'wardog',
      domain: 'WORKSTATION5',
    });
  });

  it('maps a Sysmon 11 file creation by svchost (empire_shell_dcerpc_smb_service_dll_hijack.json)', () => {
    const line = datasetLines('empire_shell_dcerpc_smb_service_dll_hijack.json').find(
      (l) => l.includes('"EventID":11,') && l.includes('Microsoft-Windows-Sysmon') && l.includes('lastalive'),
    ) as string;
    const ev = decodeOne('flat-windows', line);
    expect(ev.event).toMatchObject({
      category: ['file'],
      type: ['creation'],
      action: 'File created (rule: FileCreate)',
    });
    expect(ev.file?.path).toMatch(/^C:\\Windows\\ServiceState\\EventLog\\Data\\lastalive\d\.dat$/);
    expect(ev.file).toMatchObject({ extension: 'dat', size: null, Ext: null });
    expect(ev.file?.name).toMatch(/^lastalive\d\.dat$/);
    expect(ev.process?.name).toBe('svchost.exe');
  });

  it('gives WORKSTATION5 and WORKSTATION5.theshire.local one host.id, and keeps FQDNs when configured', () => {
    const short = JSON.parse(datasetLines('cmd_service_mod_fax.json')[126] as string) as Record<
      string,
      unknown
    >;
    const fqdn = { ...short, Hostname: 'WORKSTATION5.theshire.local' };
    expect(decodeOne('flat-windows', JSON.stringify(fqdn)).host?.id).toBe(
      decodeOne('flat-windows', JSON.stringify(short)).host?.id,
    );
    const keepFqdn = { identity: { hostIdFrom: 'source', hostNameForm: 'fqdn' } } as const;
    expect(decodeOne('flat-windows', JSON.stringify(fqdn), keepFqdn).host?.id).toBe(
      'name:workstation5.theshire.local',
    );
  });

  it('gives a record the same id at any offset, and a round trip through the Avro codec keeps every field', () => {
    const line = datasetLines('cmd_service_mod_fax.json')[126] as string;
    const a = decodeOne('flat-windows', line, undefined, { topic: 'file.json', partition: 0, offset: 126 });
    const b = decodeOne('flat-windows', line + '\r\n', undefined, {
      topic: 'raw',
      partition: 7,
      offset: 123456,
    });
    expect(b.event.id).toBe(a.event.id);
    const codec = createEventCodec();
    expect(codec.decode(codec.encodeSingleObject(a))).toEqual(a);
  });
});

describe('flat-windows mapping details', () => {
  const base = {
    '@timestamp': '2020-10-21T08:45:33.693Z',
    Hostname: 'WS1',
    Channel: 'Microsoft-Windows-Sysmon/Operational',
  };

  it('types Sysmon 12 by its EventType and keeps key events without a value name', () => {
    const ev = decodeOne(
      'flat-windows',
      JSON.stringify({
        ...base,
        EventID: 12,
        EventType: 'CreateKey',
        TargetObject: 'HKLM\\SOFTWARE\\Remcos',
      }),
    );
    expect(ev.event.type).toEqual(['creation']);
    expect(ev.registry).toMatchObject({
      hive: 'HKLM',
      key: 'SOFTWARE\\Remcos',
      value: null,
      path: 'HKLM\\SOFTWARE\\Remcos',
    });
    const del = decodeOne(
      'flat-windows',
      JSON.stringify({
        ...base,
        EventID: 12,
        EventType: 'DeleteValue',
        TargetObject: 'HKU\\S-1-5-18\\Run\\x',
      }),
    );
    expect(del.event.type).toEqual(['deletion']);
    expect(del.registry).toMatchObject({ hive: 'HKU', key: 'S-1-5-18\\Run', value: 'x' });
  });

  it('turns DWORD details into decimal with a type, as Winlogbeat does', () => {
    const ev = decodeOne(
      'flat-windows',
      JSON.stringify({
        ...base,
        EventID: 13,
        EventType: 'SetValue',
        TargetObject: 'HKLM\\System\\CurrentControlSet\\Services\\EventLog\\Start',
        Details: 'DWORD (0x00000004)',
      }),
    );
    expect(ev.registry?.data).toEqual({ strings: ['4'], type: 'SZ_DWORD' });
  });

  it('maps Sysmon 3 network connections', () => {
    const ev = decodeOne(
      'flat-windows',
      JSON.stringify({
        ...base,
        EventID: 3,
        Protocol: 'tcp',
        SourceIp: '172.18.39.5',
        SourcePort: '56607',
        DestinationIp: '172.18.39.6',
        DestinationPort: '135',
        DestinationPortName: '-',
        User: 'NT AUTHORITY\\NETWORK SERVICE',
      }),
    );
    expect(ev.source).toMatchObject({ ip: '172.18.39.5', port: 56607 });
    expect(ev.destination).toMatchObject({ ip: '172.18.39.6', port: 135 });
    expect(ev.network).toMatchObject({ transport: 'tcp', protocol: null });
    expect(ev.user).toEqual({
      id: 'name:nt authority\\network service',
      name: 'NETWORK SERVICE',
      domain: 'NT AUTHORITY',
    });
  });

  it('maps the logon type number to its name and "-" addresses to null; a NULL SID is no user id', () => {
    const ev = decodeOne(
      'flat-windows',
      JSON.stringify({
        ...base,
        Channel: 'Security',
        EventID: 4625,
        LogonType: '11',
        IpAddress: '-',
        IpPort: '-',
        TargetUserSid: 'S-1-0-0',
        TargetUserName: 'pedro',
        TargetDomainName: 'PEDRO01',
      }),
    );
    expect(ev.winlog?.logon?.type).toBe('CachedInteractive');
    expect(ev.source).toBeNull();
    expect(ev.event.outcome).toBe('failure');
    expect(ev.user).toEqual({ id: 'name:pedro01\\pedro', name: 'pedro', domain: 'PEDRO01' });
  });

  it('passes unmapped event ids of known channels with the common fields', () => {
    const ev = decodeOne(
      'flat-windows',
      JSON.stringify({
        ...base,
        Channel: 'System',
        EventID: 7045,
        RecordNumber: 1075,
        ServiceName: 'Updater',
        UserID: 'S-1-5-21-1',
        AccountName: 'pgustavo',
        Domain: 'THESHIRE',
      }),
    );
    expect(ev.event).toMatchObject({ code: '7045', category: null, type: null, action: null });
    expect(ev.winlog).toMatchObject({ channel: 'System', event_id: '7045', record_id: 1075 });
    expect(ev.user).toEqual({ id: 'S-1-5-21-1', name: 'pgustavo', domain: 'THESHIRE' });
  });

  it('passes events of channels no mapping knows, as written, with their own data and nothing guessed', () => {
    const ev = decodeOne(
      'flat-windows',
      JSON.stringify({
        ...base,
        Channel: 'Microsoft-Windows-TaskScheduler/Operational',
        EventID: 106,
        RecordNumber: 7,
        TaskName: '\\Evil',
        UserContext: 'THESHIRE\\pgustavo',
      }),
    );
    expect(ev.winlog).toMatchObject({
      channel: 'Microsoft-Windows-TaskScheduler/Operational',
      event_id: '106',
      record_id: 7,
      event_data: { TaskName: '\\Evil', UserContext: 'THESHIRE\\pgustavo' },
    });
    expect(ev.event).toMatchObject({ code: '106', category: null, type: null, action: null });
    expect(ev.process).toBeNull();
  });
});

describe('flat-windows refuses what it cannot read', () => {
  const good = {
    '@timestamp': '2020-10-21T08:45:33.693Z',
    Hostname: 'WS1',
    Channel: 'Security',
    EventID: 4624,
  };
  const cases: [string, string | Uint8Array, string][] = [
    ['truncated JSON', JSON.stringify(good).slice(0, 30), 'malformed'],
    ['binary garbage', Uint8Array.of(0xff, 0xfe, 0x00, 0x81, 0x7b), 'malformed'],
    ['a JSON array', '[1,2]', 'malformed'],
    ['an empty record', '', 'malformed'],
    ['no timestamp', JSON.stringify({ ...good, '@timestamp': undefined }), 'missing-field'],
    ['an unparseable timestamp', JSON.stringify({ ...good, '@timestamp': '21/10/2020 08:45' }), 'wrong-type'],
    [
      'a timestamp without a zone',
      JSON.stringify({ ...good, '@timestamp': '2020-10-21T08:45:33.693' }),
      'wrong-type',
    ],
    ['EventID {}', JSON.stringify({ ...good, EventID: {} }), 'wrong-type'],
    ['EventID out of range', JSON.stringify({ ...good, EventID: 70000 }), 'wrong-type'],
    ['no EventID', JSON.stringify({ ...good, EventID: undefined }), 'missing-field'],
    ['no Channel', JSON.stringify({ ...good, Channel: undefined }), 'missing-field'],
    ['an empty channel name', JSON.stringify({ ...good, Channel: '' }), 'wrong-type'],
    ['LogonType as an object', JSON.stringify({ ...good, LogonType: { n: 3 } }), 'wrong-type'],
    [
      'a port out of range',
      JSON.stringify({ ...good, IpAddress: '10.0.0.1', IpPort: '70000' }),
      'wrong-type',
    ],
  ];
  it.each(cases)('%s', (_name, input, reason) => {
    const e = decodeError('flat-windows', input);
    expect(e.reason).toBe(reason);
    expect(e.format).toBe('flat-windows');
    expect(e.retriable).toBe(false);
  });

  it('records over the size limit, before parsing', () => {
    const big = JSON.stringify({ ...good, Message: 'x'.repeat(2000) });
    expect(decodeError('flat-windows', big, { maxRecordBytes: 1000 }).reason).toBe('too-large');
    expect(decodeOne('flat-windows', big, { maxRecordBytes: 4096 }).event.code).toBe('4624');
  });

  it('names the origin in the error', () => {
    const e = decodeError('flat-windows', '{');
    expect(e.origin).toEqual({ topic: 't', partition: 0, offset: 0 });
    expect(e.message).toMatch(/^flat-windows t\[0\]@0: malformed: /);
  });
});
