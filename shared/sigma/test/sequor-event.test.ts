import type { SequorEvent } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import {
  fieldId,
  SEQUOR_EVENT_SIGMA_FIELDS,
  SequorEventFields,
  sequorEventFieldSource,
  sigmaRuleEventFields,
} from '../src/index.js';
import { load } from './helpers.js';

function windowsEvent(eventData: Record<string, string> | null): SequorEvent {
  return {
    timestamp: 0,
    event: {
      id: 'e1',
      kind: 'event',
      category: ['process'],
      type: ['start'],
      action: null,
      outcome: null,
      code: '1',
      provider: 'Microsoft-Windows-Sysmon',
      dataset: null,
      ingested: null,
      sequence: null,
      duration: null,
    },
    host: null,
    user: null,
    source: null,
    destination: { ip: '10.0.0.5', port: 445, bytes: null },
    network: null,
    process: {
      entity_id: '{g}',
      pid: 4242,
      name: 'a.exe',
      executable: 'C:\\a.exe',
      command_line: 'a.exe /x',
      parent: null,
    },
    registry: null,
    file: null,
    winlog: {
      event_id: '1',
      channel: 'Microsoft-Windows-Sysmon/Operational',
      logon: null,
      computer_name: 'WS5',
      record_id: 77,
      event_data: eventData,
      level_raw: null,
      keywords_raw: null,
      task_raw: null,
      opcode_raw: null,
    },
    dce_rpc: null,
    origin: { format: 'winlogbeat', topic: null, partition: null, offset: null },
    smb: null,
    zeek: null,
  };
}

describe('SequorEventFields', () => {
  it('gives the System names from the model and every other name from the event data', () => {
    const fields = sequorEventFieldSource(
      windowsEvent({ Image: 'C:\\b.exe', Channel: 'not this', '#truncated': '1 entries, 9 chars left out' }),
    );
    expect(fields.get('Channel')).toBe('Microsoft-Windows-Sysmon/Operational');
    expect(fields.get('EventID')).toBe('1');
    expect(fields.get('Computer')).toBe('WS5');
    expect(fields.get('EventRecordID')).toBe(77);
    expect(fields.get('Provider_Name')).toBe('Microsoft-Windows-Sysmon');
    // The event data is the event's own word: Image from it, CommandLine absent (no ECS guess).
    expect(fields.get('Image')).toBe('C:\\b.exe');
    expect(fields.get('CommandLine')).toBeUndefined();
    expect(fields.get('#truncated')).toBeUndefined();
    expect(fields.get('toString')).toBeUndefined();
    expect([...fields.values()]).toEqual([
      'Microsoft-Windows-Sysmon/Operational',
      '1',
      'WS5',
      77,
      'Microsoft-Windows-Sysmon',
      'C:\\b.exe',
      'not this',
    ]);
  });

  it('gives Level, Keywords, Task and Opcode from the System numbers, as the evtx adapter types them', () => {
    const event = windowsEvent({ Image: 'C:\\b.exe', Level: 'not this' });
    event.winlog = {
      ...event.winlog!,
      level_raw: 4,
      keywords_raw: '0x8000000000000000',
      task_raw: 1,
      opcode_raw: 0,
    };
    const fields = new SequorEventFields().bind(event);
    expect(['Level', 'Keywords', 'Task', 'Opcode'].map((n) => fields.get(n))).toEqual([
      4,
      '0x8000000000000000',
      1,
      0,
    ]);
    for (const n of ['Level', 'Keywords', 'Task', 'Opcode'])
      expect(fields.getAt(fieldId(n), n)).toBe(fields.get(n));
    expect([...fields.values()].slice(4, 8)).toEqual([4, '0x8000000000000000', 1, 0]);
    // Absent numbers are absent, never the event data's entry of the same name.
    expect(fields.bind(windowsEvent({ Level: 'not this' })).get('Level')).toBeUndefined();
    for (const f of ['winlog.level_raw', 'winlog.keywords_raw', 'winlog.task_raw', 'winlog.opcode_raw'])
      expect(SEQUOR_EVENT_SIGMA_FIELDS).toContain(f);
  });

  it('reuses its values array: after an event with more values the rest read as absent', () => {
    const fields = new SequorEventFields();
    const big = windowsEvent({ A: 'a', B: 'b', C: 'c', D: 'd' });
    const small = windowsEvent({ Image: 'C:\\b.exe' });
    const first = [...fields.bind(big).values()];
    expect(first).toHaveLength(9);
    const second = fields.bind(small).values();
    expect(second).toBe(fields.bind(big).values()); // the same array
    fields.bind(small);
    expect([...fields.values()].filter((v) => v !== undefined)).toEqual([
      'Microsoft-Windows-Sysmon/Operational',
      '1',
      'WS5',
      77,
      'Microsoft-Windows-Sysmon',
      'C:\\b.exe',
    ]);
    expect([...fields.values()].slice(6).every((v) => v === undefined)).toBe(true);
  });

  it('falls back to the exact ECS fields for an event without event data', () => {
    const fields = sequorEventFieldSource(windowsEvent(null));
    expect(fields.get('Image')).toBe('C:\\a.exe');
    expect(fields.get('CommandLine')).toBe('a.exe /x');
    expect(fields.get('ProcessId')).toBe(4242);
    expect(fields.get('ProcessGuid')).toBe('{g}');
    expect(fields.get('DestinationPort')).toBe(445);
    expect(fields.get('ParentImage')).toBeUndefined();
    expect(fields.get('TargetObject')).toBeUndefined();
  });

  it("reads a Zeek event's log as _path and its fields by Zeek's names; one instance rebinds", () => {
    const zeek: SequorEvent = {
      ...windowsEvent(null),
      winlog: null,
      event: { ...windowsEvent(null).event, provider: 'zeek', dataset: 'zeek.dns' },
      zeek: { fields: { query: 'example.org', 'id.orig_h': '10.0.0.1' } },
    };
    const fields = new SequorEventFields();
    expect(fields.get('query')).toBeUndefined();
    expect(fields.bind(zeek).get('_path')).toBe('dns');
    expect(fields.get('id.orig_h')).toBe('10.0.0.1');
    expect(fields.get('Provider_Name')).toBeUndefined();
    expect(fields.get('Channel')).toBeUndefined();
    expect(fields.bind(windowsEvent({ Image: 'x' })).get('query')).toBeUndefined();
    expect(fields.get('_path')).toBeUndefined();
  });
});

describe('SequorEventFields.getAt', () => {
  it('answers as get for System, data, model, truncation, missing and prototype names, with or without data', () => {
    const fields = new SequorEventFields();
    const names = [
      'Channel',
      'EventID',
      'Provider_Name',
      '_path',
      'Image',
      'CommandLine',
      'host.id',
      'event.provider',
      '#truncated',
      'Missing',
      'constructor',
      'toString',
      '__proto__',
    ];
    for (const event of [
      windowsEvent({ Image: 'C:\\b.exe', Channel: 'not this', '#truncated': '1 entries, 9 chars left out' }),
      windowsEvent(null),
    ]) {
      fields.bind(event);
      // Twice: the first read resolves the number, the second uses what it resolved.
      for (let round = 0; round < 2; round++)
        for (const name of names)
          expect([name, fields.getAt(fieldId(name), name)]).toEqual([name, fields.get(name)]);
    }
  });
});

describe('sigmaRuleEventFields', () => {
  it('keeps what the source reads and the model fields a rule names by their ECS name', () => {
    const { rule } = load('  sel:\n    Image|endswith: x.exe\n    host.id: name:ws5\n  condition: sel');
    const fields = sigmaRuleEventFields(rule!);
    expect(fields).toEqual([...SEQUOR_EVENT_SIGMA_FIELDS, 'host.id']);
    expect(fields).toContain('winlog.event_data');
  });
});
