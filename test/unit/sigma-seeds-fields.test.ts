// What the Sigma forms of the seed analytics (shared/rules/sigma-seeds) need of SequorEventFields beyond
// SigmaHQ's names: a model field by its own ECS name (`host.id` in a correlation's group-by, Elastic
// Endpoint's `file.Ext.header_bytes`), for any event, without overriding the event's own data.
import type { SequorEvent } from '@sequor/model';
import { SequorEventFields } from '@sequor/sigma';
import { describe, expect, it } from 'vitest';

function event(overrides: Partial<SequorEvent>): SequorEvent {
  return {
    timestamp: 0,
    event: {
      id: 'e1',
      kind: 'event',
      category: ['file'],
      type: ['creation'],
      action: 'creation',
      outcome: null,
      code: null,
      provider: null,
      dataset: 'endpoint.events.file',
      ingested: null,
      sequence: null,
      duration: null,
    },
    host: { id: 'b6b8e454', name: 'wks-0019', ip: null },
    user: { id: 'S-1-5-21-1-2-3-1134', name: 'adm', domain: 'ACME' },
    source: null,
    destination: null,
    network: null,
    process: null,
    registry: null,
    file: null,
    winlog: null,
    dce_rpc: null,
    origin: { format: 'ecs', topic: null, partition: null, offset: null },
    smb: null,
    zeek: null,
    ...overrides,
  } as SequorEvent;
}

describe('SequorEventFields: model fields by their ECS names', () => {
  const fields = new SequorEventFields();

  it('reads a scalar model field of an event without event data (Elastic Endpoint)', () => {
    const hive = event({
      file: {
        path: 'C:\\Windows\\System32\\ZlZSKhTA.tmp',
        name: 'ZlZSKhTA.tmp',
        extension: 'tmp',
        size: 61440,
        Ext: { header_bytes: '726567667084000070840000301406f7' },
      },
    } as Partial<SequorEvent>);
    fields.bind(hive);
    expect(fields.get('file.Ext.header_bytes')).toBe('726567667084000070840000301406f7');
    expect(fields.get('file.size')).toBe(61440);
    expect(fields.get('user.id')).toBe('S-1-5-21-1-2-3-1134');
    expect(fields.get('event.action')).toBe('creation');
    // A list has no one value; a name the model lacks, a null field and a missing group are absent.
    expect(fields.get('event.category')).toBeUndefined();
    expect(fields.get('file.no_such_field')).toBeUndefined();
    expect(fields.get('process.name')).toBeUndefined();
    expect(fields.get('source.ip')).toBeUndefined();
  });

  it('reads it beside a Windows event\u2019s own data, which keeps every name it has', () => {
    const logon = event({
      event: { ...event({}).event, category: ['authentication'], code: '4624', dataset: null },
      winlog: {
        event_id: '4624',
        channel: 'Security',
        logon: { type: 'Network' },
        computer_name: 'WKS-0019.acme.corp',
        record_id: 1,
        event_data: { TargetUserSid: 'S-1-5-21-1-2-3-1134', 'host.id': 'its own word' },
        level_raw: null,
        keywords_raw: null,
        task_raw: null,
        opcode_raw: null,
      },
    } as Partial<SequorEvent>);
    fields.bind(logon);
    expect(fields.get('TargetUserSid')).toBe('S-1-5-21-1-2-3-1134');
    expect(fields.get('host.id')).toBe('its own word');
    expect(fields.get('host.name')).toBe('wks-0019');
    expect(fields.get('winlog.logon.type')).toBe('Network');
    // Sysmon names stay the event data's: no ECS fallback where the data is present.
    expect(fields.get('TargetFilename')).toBeUndefined();
    // Keywords read the event's own data only.
    expect([...fields.values()]).not.toContain('wks-0019');
  });
});
