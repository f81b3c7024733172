/** The files have the shapes the real shippers write (what @sequor/formats parses). */
import { describe, expect, it } from 'vitest';
import { generateScenario } from '@sequor/scenarios';
import type { WinEvent } from '../src/events.js';
import {
  escapeValues,
  renderMessage,
  renderMessageJson,
  sysmonMessageJson,
} from '../src/formats/messages.js';

// Checked line by line with expect(): slow-ish on a loaded machine, hence the timeouts below.
const gen = generateScenario({ events: 8_000, seed: 77, hosts: 15, users: 40, zeekJson: true });
const lines = (path: string): string[] => {
  const out = (gen.files.get(path) ?? '').split('\n');
  expect(out.pop()).toBe('');
  return out;
};
const isoMs = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Winlogbeat {
  '@timestamp': string;
  agent: { type: string };
  ecs: { version: string };
  event: { code: string; provider: string; kind: string; created: string; action: string; outcome?: string };
  host: { id: string; name: string; hostname: string; os: { family: string } };
  message: string;
  winlog: {
    channel: string;
    event_id: string;
    computer_name: string;
    record_id: number;
    provider_name: string;
    event_data: Record<string, unknown>;
  };
}

describe('Winlogbeat ECS JSON', { timeout: 60_000 }, () => {
  const events = lines('winlogbeat.ndjson').map((l) => JSON.parse(l) as Winlogbeat);

  it('has the shipper envelope and a raw winlog object with string event data', () => {
    expect(events.length).toBeGreaterThan(3_000);
    for (const e of events) {
      expect(e['@timestamp']).toMatch(isoMs);
      expect(Date.parse(e.event.created)).toBeGreaterThan(Date.parse(e['@timestamp']));
      expect([e.agent.type, e.ecs.version, e.event.kind, e.host.os.family]).toEqual([
        'winlogbeat',
        '8.0.0',
        'event',
        'windows',
      ]);
      expect(e.host.id).toMatch(uuid);
      expect(e.host.hostname).toBe(e.host.name);
      expect(e.winlog.computer_name.toLowerCase()).toBe(`${e.host.name}.acme.corp`);
      expect(e.winlog.event_id).toBe(e.event.code);
      expect(e.event.provider).toBe(e.winlog.provider_name);
      expect(['Security', 'Microsoft-Windows-Sysmon/Operational']).toContain(e.winlog.channel);
      const data = e.winlog.event_data;
      expect(Object.values(data).every((v) => typeof v === 'string')).toBe(true);
      expect(Object.keys(data)).toEqual(Object.keys(data).sort());
      expect(e.message.length).toBeGreaterThan(20);
    }
  });

  it('numbers records per machine and channel in event-time order', () => {
    const last = new Map<string, number>();
    for (const e of events) {
      const key = `${e.host.id} ${e.winlog.channel}`;
      expect(e.winlog.record_id).toBeGreaterThan(last.get(key) ?? 0);
      last.set(key, e.winlog.record_id);
    }
  });

  it('writes 4624 as Windows does: LogonType as text, NTLM network logons with "NtLmSsp "', () => {
    const logons = events.filter((e) => e.winlog.event_id === '4624');
    expect(logons.length).toBeGreaterThan(100);
    for (const e of logons) {
      const d = e.winlog.event_data as Record<string, string>;
      expect(['2', '3', '5', '7', '11']).toContain(d['LogonType']);
      expect(e.event.outcome).toBe('success');
      if (d['AuthenticationPackageName'] === 'NTLM') expect(d['LogonProcessName']).toBe('NtLmSsp ');
      expect(e.message).toContain(`\tLogon Type:\t\t${d['LogonType']}\n`);
      expect(e.message).toContain(`\tSource Network Address:\t${d['IpAddress']}\n`);
    }
    const types = new Set(logons.map((e) => (e.winlog.event_data as Record<string, string>)['LogonType']));
    expect([...types].sort()).toEqual(['11', '2', '3', '5', '7']);
  });

  it('writes Sysmon 1, 3, 11, 12 and 13 with newer Sysmon fields (User on registry events)', () => {
    const ids = new Set(events.filter((e) => e.winlog.channel !== 'Security').map((e) => e.winlog.event_id));
    expect([...ids].sort()).toEqual(['1', '11', '12', '13', '3']);
    for (const e of events.filter((x) => x.winlog.event_id === '13')) {
      const d = e.winlog.event_data as Record<string, string>;
      expect(d['EventType']).toBe('SetValue');
      expect(d['User']).toMatch(/^[^\\]+\\.+$/);
      expect(d['ProcessGuid']).toMatch(/^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/);
    }
    for (const e of events.filter((x) => x.winlog.event_id === '1')) {
      const d = e.winlog.event_data as Record<string, string>;
      for (const f of [
        'ProcessGuid',
        'ProcessId',
        'Image',
        'CommandLine',
        'ParentProcessGuid',
        'ParentImage',
        'ParentCommandLine',
        'User',
      ])
        expect(d[f], f).toBeTypeOf('string');
    }
  });
});

describe('Elastic Endpoint file events', { timeout: 60_000 }, () => {
  const events = lines('endpoint.ndjson').map(
    (l) =>
      JSON.parse(l) as {
        '@timestamp': string;
        data_stream: { dataset: string };
        event: { action: string; category: string[]; type: string[]; kind: string; id: string };
        file: { path: string; name: string; size?: number; Ext?: { header_bytes: string } };
        process: { name: string; pid: number; entity_id: string; executable: string };
        user: { id: string; name: string; domain: string };
        host: { id: string; name: string };
      },
  );
  const winlogbeatHosts = new Map(
    lines('winlogbeat.ndjson')
      .map((l) => JSON.parse(l) as Winlogbeat)
      .map((e) => [e.host.id, e.host.name]),
  );

  it('is ECS from the endpoint.events.file data stream, with the header bytes as hex', () => {
    expect(events.length).toBeGreaterThan(500);
    const typeOf: Record<string, string> = {
      creation: 'creation',
      modification: 'change',
      deletion: 'deletion',
    };
    for (const e of events) {
      expect(e.data_stream.dataset).toBe('endpoint.events.file');
      expect(e.event.category).toEqual(['file']);
      expect(e.event.type).toEqual([typeOf[e.event.action]]);
      expect(e.file.path.endsWith(`\\${e.file.name}`)).toBe(true);
      if (e.file.Ext !== undefined) expect(e.file.Ext.header_bytes).toMatch(/^[0-9a-f]{32}$/);
      expect(e.process.executable.toLowerCase().endsWith(e.process.name.toLowerCase())).toBe(true);
      expect(e.user.id).toMatch(/^S-1-5-/);
    }
  });

  it('reports the same host.id (and name) as Winlogbeat on the same machine', () => {
    for (const e of events) expect(winlogbeatHosts.get(e.host.id), e.host.id).toBe(e.host.name);
  });
});

describe('flat Windows event JSON', { timeout: 60_000 }, () => {
  const raw = lines('flat-windows.ndjson');
  const events = raw.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('is written by Python json.dumps: spaced separators, ASCII only, EventID a number', () => {
    expect(raw.length).toBeGreaterThan(200);
    for (const l of raw) {
      expect(l.startsWith('{"@timestamp": "')).toBe(true);
      expect(/[^\x20-\x7e]/.test(l)).toBe(false);
    }
    expect(raw.some((l) => l.includes('\\u00ae'))).toBe(true);
    for (const e of events) {
      expect(Object.keys(e).slice(0, 2)).toEqual(['@timestamp', 'TimeCreated']);
      expect(e['EventID']).toBeTypeOf('number');
      expect(e['host']).toBeUndefined();
      expect(String(e['Hostname'])).toMatch(/^[A-Z0-9-]+(\.acme\.corp)?$/);
    }
  });

  it('keeps the dataset quirks: older Sysmon without User on registry events', () => {
    const registry = events.filter((e) => e['EventID'] === 13 || e['EventID'] === 12);
    expect(registry.length).toBeGreaterThan(10);
    for (const e of registry) expect(e['User']).toBeUndefined();
    for (const e of events.filter((x) => x['EventID'] === 1)) expect(e['User']).toBeTypeOf('string');
  });
});

describe('Zeek dce_rpc.log', { timeout: 60_000 }, () => {
  const tsv = lines('zeek/dce_rpc.log');
  const json = lines('zeek/dce_rpc.json');

  it('has the ASCII writer header and a #close footer', () => {
    expect(tsv.slice(0, 8)).toEqual([
      '#separator \\x09',
      '#set_separator\t,',
      '#empty_field\t(empty)',
      '#unset_field\t-',
      '#path\tdce_rpc',
      '#open\t2024-03-04-08-00-00',
      '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\trtt\tnamed_pipe\tendpoint\toperation',
      '#types\ttime\tstring\taddr\tport\taddr\tport\tinterval\tstring\tstring\tstring',
    ]);
    expect(tsv[tsv.length - 1]).toMatch(/^#close\t\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$/);
  });

  it('writes rows of 10 columns, escaping backslashes in pipe names', () => {
    const rows = tsv.slice(8, -1);
    expect(rows.length).toBeGreaterThan(300);
    for (const r of rows) {
      const c = r.split('\t');
      expect(c).toHaveLength(10);
      expect(c[0]).toMatch(/^\d{10}\.\d{6}$/);
      expect(c[1]).toMatch(/^C[A-Za-z0-9]{17}$/);
      expect(c[6]).toMatch(/^(-|\d+\.\d{6})$/);
      expect(c[7]).toMatch(/^(\\\\(PIPE|pipe)\\\\[A-Za-z]+|\d+)$/);
    }
    expect(rows.some((r) => r.includes('\t\\\\PIPE\\\\winreg\twinreg\t'))).toBe(true);
  });

  it('mirrors the same rows as JSON, line for line, with the real pipe names', () => {
    const offset = gen.groundTruth.files.find((f) => f.path === 'zeek/dce_rpc.json')?.mirrors?.lineOffset;
    expect(offset).toBe(-8);
    expect(json).toHaveLength(tsv.length - 9);
    json.forEach((l, i) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      const c = (tsv[i + 8] as string).split('\t');
      expect([o['uid'], o['id.orig_h'], o['id.resp_p'], o['operation']]).toEqual([
        c[1],
        c[2],
        Number(c[5]),
        c[9],
      ]);
      expect(o['ts']).toBe(Number(c[0]));
      expect(o['named_pipe']).toBe((c[7] as string).replace(/\\\\/g, '\\'));
      expect('rtt' in o).toBe(c[6] !== '-');
    });
  });
});

describe('message rendering', () => {
  const data = {
    SubjectUserSid: 'S-1-0-0',
    SubjectUserName: '-',
    SubjectDomainName: '-',
    SubjectLogonId: '0x0',
    TargetUserSid: 'S-1-5-21-1-2-3-1104',
    TargetUserName: 'zo\u00eb "q"',
    TargetDomainName: 'ACME',
    TargetLogonId: '0x3e7',
    LogonType: '3',
    PrivilegeList: 'SeDebugPrivilege\r\n\t\t\tSeBackupPrivilege',
  };
  it('the cached-trailer JSON of every Security message equals JSON.stringify of the rendered text', () => {
    for (const eventId of [4624, 4625, 4634, 4672]) {
      const e: WinEvent = { kind: 'win', channel: 'security', eventId, data };
      for (const nl of ['\n', '\r\n'] as const)
        expect(renderMessageJson(e, nl)).toBe(JSON.stringify(renderMessage(e, nl)));
    }
  });
  it('the Sysmon message built from escaped values equals JSON.stringify of the rendered text', () => {
    const e: WinEvent = {
      kind: 'win',
      channel: 'sysmon',
      eventId: 13,
      data: { RuleName: '-', TargetObject: 'HKU\\S-1\\Software\\x "y"', Details: 'caf\u00e9\ttab' },
    };
    for (const nl of ['\n', '\r\n'] as const)
      expect(sysmonMessageJson(e, escapeValues(e.data), nl)).toBe(JSON.stringify(renderMessage(e, nl)));
  });
});
