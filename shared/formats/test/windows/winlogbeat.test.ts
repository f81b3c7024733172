import { describe, expect, it } from 'vitest';
import { datasetLines, decodeError, decodeOne } from './helpers.js';

/** A Winlogbeat 8 document as the shipper sends it without an ingest pipeline: event data under winlog. */
function winlogbeatDoc(
  over: Record<string, unknown> = {},
  winlog: Record<string, unknown> = {},
  eventData: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    '@timestamp': '2020-09-22T03:30:40.874Z',
    agent: { type: 'winlogbeat', version: '8.11.0', id: '0e5bd9b5-4a0e-4c1d-9a5f-2b0b2c0a5f11' },
    ecs: { version: '8.0.0' },
    host: { name: 'workstation6', hostname: 'workstation6' },
    event: {
      code: '4624',
      kind: 'event',
      provider: 'Microsoft-Windows-Security-Auditing',
      created: '2020-09-22T03:30:41.002Z',
    },
    log: { level: 'information' },
    message: 'An account was successfully logged on.',
    winlog: {
      channel: 'Security',
      event_id: '4624',
      computer_name: 'WORKSTATION6.theshire.local',
      record_id: 869786,
      provider_name: 'Microsoft-Windows-Security-Auditing',
      api: 'wineventlog',
      keywords: ['Audit Success'],
      opcode: 'Info',
      task: 'Logon',
      event_data: {
        SubjectUserSid: 'S-1-0-0',
        SubjectUserName: '-',
        TargetUserSid: 'S-1-5-21-4228717743-1032521047-1810997296-1104',
        TargetUserName: 'pgustavo',
        TargetDomainName: 'THESHIRE.LOCAL',
        LogonType: '3',
        IpAddress: '172.18.39.5',
        IpPort: '53143',
        ProcessId: '0x0',
        ProcessName: '-',
        ...eventData,
      },
      ...winlog,
    },
    ...over,
  });
}

describe('winlogbeat', () => {
  it('maps a 4624 from winlog.event_data like flat-windows does, with the same event id', () => {
    const ev = decodeOne('winlogbeat', winlogbeatDoc());
    const flat = decodeOne(
      'flat-windows',
      datasetLines('empire_shell_dcerpc_smb_service_dll_hijack.json')[4526] as string,
    );
    expect(ev.event.id).toBe(flat.event.id);
    expect(ev.user).toEqual(flat.user);
    expect(ev.source).toEqual(flat.source);
    const { event_data: data, ...winlog } = ev.winlog!;
    const { event_data: flatData, ...flatWinlog } = flat.winlog!;
    // Winlogbeat gives Task and Opcode as names, not numbers (and this document sends no task_raw or
    // opcode_raw): only the flat record has the numbers.
    expect(winlog).toEqual({ ...flatWinlog, task_raw: null, opcode_raw: null });
    expect(flatWinlog).toMatchObject({ keywords_raw: '0x8020000000000000', task_raw: 12544, opcode_raw: 0 });
    // The document's event_data as it is (this one names ten of the record's 27), as in the flat record.
    expect(Object.keys(data!)).toHaveLength(10);
    expect(flatData).toMatchObject(data!);
    expect(ev.event).toMatchObject({
      category: ['authentication'],
      type: ['start'],
      action: 'logged-in',
      outcome: 'success',
      code: '4624',
    });
    // host.name is the shipper's; host.id from the computer name, short form: the same as flat-windows gives.
    expect(ev.host).toEqual({ id: 'name:workstation6', name: 'workstation6', ip: null });
    expect(ev.origin.format).toBe('winlogbeat');
  });

  it("keeps the shipper's ECS fields over its own mapping", () => {
    const ev = decodeOne(
      'winlogbeat',
      winlogbeatDoc({
        event: {
          code: '4624',
          action: 'logged-in-special',
          category: 'authentication',
          type: ['start'],
          outcome: 'success',
        },
        user: { id: 'S-1-5-21-9', name: 'pg', domain: 'THESHIRE' },
        source: { ip: '10.1.1.1', port: 5 },
        host: { name: 'ws6', id: '6f1c2d3e-agent-guid', ip: ['172.18.39.6'] },
      }),
    );
    expect(ev.event.action).toBe('logged-in-special');
    expect(ev.event.category).toEqual(['authentication']);
    expect(ev.user).toEqual({ id: 'S-1-5-21-9', name: 'pg', domain: 'THESHIRE' });
    expect(ev.source).toMatchObject({ ip: '10.1.1.1', port: 5 });
    // An agent host id is the source's own id; forcing name-based ids gives the name form instead.
    expect(ev.host).toEqual({ id: '6f1c2d3e-agent-guid', name: 'ws6', ip: ['172.18.39.6'] });
    const forced = decodeOne(
      'winlogbeat',
      winlogbeatDoc({ host: { name: 'ws6', id: '6f1c2d3e-agent-guid' } }),
      { identity: { hostIdFrom: 'name', hostNameForm: 'short' } },
    );
    expect(forced.host?.id).toBe('name:workstation6');
  });

  it("keeps Winlogbeat's Sysmon file action, and its own when the shipper set none", () => {
    const sysmon = {
      channel: 'Microsoft-Windows-Sysmon/Operational',
      event_id: 11,
      provider_name: 'Microsoft-Windows-Sysmon',
      record_id: '77',
    };
    const data = {
      TargetFilename: 'C:\\Windows\\System32\\config\\SAM.save',
      Image: 'C:\\Windows\\System32\\svchost.exe',
      ProcessGuid: '{d273d0f0-0000-0000-0000-000000000800}',
      ProcessId: '1234',
      User: 'NT AUTHORITY\\SYSTEM',
    };
    const raw = decodeOne('winlogbeat', winlogbeatDoc({ event: { code: '11' } }, sysmon, data));
    expect(raw.event).toMatchObject({
      action: 'File created (rule: FileCreate)',
      category: ['file'],
      type: ['creation'],
    });
    expect(raw.file).toMatchObject({
      path: 'C:\\Windows\\System32\\config\\SAM.save',
      name: 'SAM.save',
      extension: 'save',
    });
    expect(raw.process).toMatchObject({
      entity_id: '{d273d0f0-0000-0000-0000-000000000800}',
      pid: 1234,
      name: 'svchost.exe',
    });
    expect(raw.winlog?.record_id).toBe(77);
    const shipped = decodeOne(
      'winlogbeat',
      winlogbeatDoc({ event: { code: '11', action: 'creation' } }, sysmon, data),
    );
    expect(shipped.event.action).toBe('creation');
  });

  it('maps a Sysmon 13 from event data and keeps a shipper registry split', () => {
    const sysmon = { channel: 'Microsoft-Windows-Sysmon/Operational', event_id: '13' };
    const data = {
      EventType: 'SetValue',
      TargetObject: 'HKLM\\System\\CurrentControlSet\\Services\\Updater\\ImagePath',
      Details: '%%COMSPEC%% /C start /b x',
      ProcessGuid: '{d273d0f0-e865-5f64-0b00-000000000800}',
    };
    const ev = decodeOne('winlogbeat', winlogbeatDoc({ event: { code: '13' } }, sysmon, data));
    expect(ev.registry).toEqual({
      hive: 'HKLM',
      key: 'System\\CurrentControlSet\\Services\\Updater',
      path: 'HKLM\\System\\CurrentControlSet\\Services\\Updater\\ImagePath',
      value: 'ImagePath',
      data: { strings: ['%%COMSPEC%% /C start /b x'], type: null },
    });
    const shipped = decodeOne(
      'winlogbeat',
      winlogbeatDoc(
        { event: { code: '13' }, registry: { key: 'from-shipper', 'data.strings': ['x'] } },
        sysmon,
        data,
      ),
    );
    expect(shipped.registry).toMatchObject({
      key: 'from-shipper',
      value: 'ImagePath',
      data: { strings: ['x'], type: null },
    });
  });

  it('accepts a numeric event_id and a string record_id (Winlogbeat 7)', () => {
    const ev = decodeOne('winlogbeat', winlogbeatDoc({}, { event_id: 4624, record_id: '869786' }));
    expect(ev.winlog).toMatchObject({ event_id: '4624', record_id: 869786 });
  });

  it.each([
    ['no winlog', winlogbeatDoc({ winlog: undefined }), 'missing-field'],
    ['winlog not an object', winlogbeatDoc({ winlog: 'Security' }), 'wrong-type'],
    ['event_data not an object', winlogbeatDoc({}, { event_data: ['a'] }), 'wrong-type'],
    ['a channel of no name', winlogbeatDoc({}, { channel: '' }), 'wrong-type'],
    ['event_id {}', winlogbeatDoc({}, { event_id: {} }), 'wrong-type'],
    ['a shipper field of the wrong type', winlogbeatDoc({ source: { port: 'high' } }), 'wrong-type'],
    ['no @timestamp', winlogbeatDoc({ '@timestamp': undefined }), 'missing-field'],
  ])('refuses %s', (_name, input, reason) => {
    expect(decodeError('winlogbeat', input).reason).toBe(reason);
  });
});
