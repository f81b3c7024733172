/**
 * The event's own data (`winlog.event_data`, `zeek.fields`): which keys go in, their text, the bounds a
 * hostile record meets, and the same map from either encoding of a Zeek record.
 */
import { createEventCodec } from '@sequor/model';
import type { SequorEvent } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import { getFormat, NormalizeError } from '../src/index.js';
import { EVENT_DATA_LIMITS, eventDataOf, TRUNCATED_KEY, withUnnamedData } from '../src/event-data.js';

const encoder = new TextEncoder();
const origin = { topic: 't', partition: 0, offset: 1 };

function decodeWith(format: string, line: string, maxRecordBytes?: number): SequorEvent {
  const options = maxRecordBytes === undefined ? {} : { maxRecordBytes };
  const events = getFormat(format).createDecoder(options).decode(encoder.encode(line), origin);
  expect(events).toHaveLength(1);
  return events[0] as SequorEvent;
}

const flat = (fields: Record<string, unknown>): string =>
  JSON.stringify({
    '@timestamp': '2020-09-22T03:30:40.874Z',
    EventID: 1,
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    Hostname: 'WORKSTATION5',
    ...fields,
  });

describe('eventDataOf', () => {
  it('gives each value its text: strings as they are, numbers in decimal, arrays by line, #text', () => {
    expect(
      eventDataOf({
        Image: 'C:\\a.exe',
        ProcessId: 4242,
        Signed: true,
        Lines: ['a', 1, null],
        Element: { '#attributes': { x: '1' }, '#text': 'inner' },
        Empty: null,
        Nested: { a: 1 },
      }),
    ).toEqual({ Image: 'C:\\a.exe', ProcessId: '4242', Signed: 'true', Lines: 'a\n1\n', Element: 'inner' });
    expect(eventDataOf({})).toBeNull();
  });

  it('reads one level only: arrays nested 100,000 deep cost a loop, not the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}1${']'.repeat(100_000)}`) as unknown;
    expect(eventDataOf({ Deep: deep, Flat: ['a', ['b'], { '#text': ['c'] }] })).toEqual({
      Deep: '',
      Flat: 'a\n\n',
    });
  });

  it('keeps an object of strings within the limits as it is, and bounds one over them', () => {
    const strings = { Image: 'C:\\a.exe', User: 'X\\y' };
    expect(eventDataOf(strings)).toBe(strings);
    const many: Record<string, string> = {};
    for (let i = 0; i < EVENT_DATA_LIMITS.maxEntries + 10; i++) many[`k${i}`] = 'v';
    const bounded = eventDataOf(many)!;
    expect(bounded).not.toBe(many);
    expect(Object.keys(bounded)).toHaveLength(EVENT_DATA_LIMITS.maxEntries + 1);
    expect(bounded[TRUNCATED_KEY]).toMatch(/^10 entries, /);
  });

  it('leaves out names an object inherits or that start with #, and counts them', () => {
    const data = JSON.parse('{"__proto__": "x", "#note": "y", "Image": "a"}') as Record<string, unknown>;
    const map = eventDataOf(data)!;
    expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
    expect(map).toEqual({ Image: 'a', [TRUNCATED_KEY]: '2 entries, 16 chars left out' });
  });
});

describe('the bounds of the event data', () => {
  const codec = createEventCodec();

  it('a record of 100,000 keys keeps the first entries up to the limit, and says how many it left out', () => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < 100_000; i++) fields[`k${i}`] = '';
    // Over the default record limit (1 MiB): a normalizer configured with a larger one.
    const ev = decodeWith('flat-windows', flat(fields), 4 * 1024 * 1024);
    const data = ev.winlog!.event_data!;
    expect(Object.keys(data)).toHaveLength(EVENT_DATA_LIMITS.maxEntries + 1);
    expect(data['k0']).toBe('');
    expect(data[`k${EVENT_DATA_LIMITS.maxEntries - 1}`]).toBe('');
    expect(data[`k${EVENT_DATA_LIMITS.maxEntries}`]).toBeUndefined();
    expect(data[TRUNCATED_KEY]).toMatch(new RegExp(`^${100_000 - EVENT_DATA_LIMITS.maxEntries} entries, `));
    // The event stays small enough to publish.
    expect(codec.encodeSingleObject(ev).length).toBeLessThan(16_384);
  });

  it('a value over the size limit is left out whole (not cut short), the fields after it kept', () => {
    const huge = 'A'.repeat(EVENT_DATA_LIMITS.maxChars);
    const ev = decodeWith('flat-windows', flat({ Image: 'C:\\a.exe', CommandLine: huge, User: 'X\\y' }));
    expect(ev.winlog!.event_data).toEqual({
      Image: 'C:\\a.exe',
      User: 'X\\y',
      [TRUNCATED_KEY]: `1 entries, ${'CommandLine'.length + huge.length} chars left out`,
    });
    // The model's own fields are whole.
    expect(ev.process?.command_line).toBe(huge);
  });

  it('a 10 MB value is refused before parsing, as every record over maxRecordBytes', () => {
    const line = flat({ CommandLine: 'A'.repeat(10 * 1024 * 1024) });
    expect(() => decodeWith('flat-windows', line)).toThrow(NormalizeError);
    try {
      decodeWith('flat-windows', line);
    } catch (e) {
      expect((e as NormalizeError).reason).toBe('too-large');
    }
  });
});

describe('flat-windows event data', () => {
  it("takes nxlog's EventType as the header, and the event's own when the record renamed nxlog's", () => {
    const audit = decodeWith('flat-windows', flat({ EventType: 'INFO', Image: 'a' }));
    expect(audit.winlog!.event_data).toEqual({ Image: 'a' });
    const registry = decodeWith(
      'flat-windows',
      flat({ EventID: 13, EventType: 'SetValue', EventTypeOrignal: 'INFO', TargetObject: 'HKLM\\x' }),
    );
    expect(registry.winlog!.event_data).toEqual({ EventType: 'SetValue', TargetObject: 'HKLM\\x' });
  });

  it("keeps Sysmon's own EventType without nxlog's rename: a value nxlog never writes is the event's", () => {
    for (const type of ['CreateKey', 'DeleteKey', 'DeleteValue', 'SetValue', 'RenameKey']) {
      const own = decodeWith('flat-windows', flat({ EventID: 12, EventType: type, TargetObject: 'HKLM\\x' }));
      expect(own.winlog!.event_data, type).toEqual({ EventType: type, TargetObject: 'HKLM\\x' });
    }
    for (const type of ['AUDIT_SUCCESS', 'AUDIT_FAILURE', 'WARNING', 'ERROR', 'VERBOSE', 'CRITICAL'])
      expect(
        decodeWith('flat-windows', flat({ EventType: type, Image: 'a' })).winlog!.event_data,
        type,
      ).toEqual({
        Image: 'a',
      });
  });
});

describe('winlogbeat and ecs event data', () => {
  const doc = (winlog: Record<string, unknown>): string =>
    JSON.stringify({
      '@timestamp': '2020-09-22T03:30:40.874Z',
      event: { code: '1102' },
      winlog: { channel: 'Security', event_id: 1102, computer_name: 'DC1', ...winlog },
    });

  it('winlogbeat: event_data, or user_data where the event has none', () => {
    expect(decodeWith('winlogbeat', doc({ event_data: { ProcessId: 4 } })).winlog!.event_data).toEqual({
      ProcessId: '4',
    });
    expect(
      decodeWith('winlogbeat', doc({ user_data: { SubjectUserName: 'admin', xml_name: 'LogFileCleared' } }))
        .winlog!.event_data,
    ).toEqual({ SubjectUserName: 'admin', xml_name: 'LogFileCleared' });
    expect(decodeWith('winlogbeat', doc({})).winlog!.event_data).toBeNull();
  });

  it('ecs: winlog.event_data as Elastic Agent keeps it', () => {
    const line = JSON.stringify({
      '@timestamp': '2020-09-22T03:30:40.874Z',
      event: { kind: 'event' },
      winlog: { event_data: { TargetFilename: 'C:\\x.dll' } },
    });
    expect(decodeWith('ecs', line).winlog!.event_data).toEqual({ TargetFilename: 'C:\\x.dll' });
  });
});

describe('zeek.fields', () => {
  const tsv = [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    '#path\tsmb_files',
    '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tfuid\taction\tpath\tname\tsize\tprev_name\ttimes.modified\tanalyzers\tnote',
    '#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tenum\tstring\tstring\tcount\tstring\ttime\tset[string]\tstring',
    '1709287200.100000\tC1\t10.0.0.23\t49710\t10.0.0.5\t445\t-\tSMB::FILE_OPEN\t\\\\\\\\10.0.0.5\\\\ADMIN$\tx\\x2c.exe\t512\t-\t1709287100.000000\tPE,EXTRACT\t(empty)',
  ];
  const json = JSON.stringify({
    ts: 1709287200.1,
    uid: 'C1',
    'id.orig_h': '10.0.0.23',
    'id.orig_p': 49710,
    'id.resp_h': '10.0.0.5',
    'id.resp_p': 445,
    action: 'SMB::FILE_OPEN',
    path: '\\\\10.0.0.5\\ADMIN$',
    name: 'x,.exe',
    size: 512,
    'times.modified': 1709287100,
    analyzers: ['PE', 'EXTRACT'],
    note: '',
  });

  it('every field of the record by its Zeek name, the same text from TSV and JSON', () => {
    const decoder = getFormat('zeek-smb-files').createDecoder();
    const fromTsv = tsv.flatMap((line) => decoder.decode(encoder.encode(line), origin));
    expect(fromTsv).toHaveLength(1);
    const fromJson = decodeWith('zeek-smb-files', json);
    expect(fromTsv[0]!.zeek).toEqual({
      fields: {
        ts: '1709287200.1',
        uid: 'C1',
        'id.orig_h': '10.0.0.23',
        'id.orig_p': '49710',
        'id.resp_h': '10.0.0.5',
        'id.resp_p': '445',
        action: 'SMB::FILE_OPEN',
        path: '\\\\10.0.0.5\\ADMIN$',
        name: 'x,.exe',
        size: '512',
        'times.modified': '1709287100',
        analyzers: 'PE,EXTRACT',
        note: '',
      },
    });
    expect(fromJson.zeek).toEqual(fromTsv[0]!.zeek);
  });
});

describe('withUnnamedData (Winlogbeat param1..N as Data)', () => {
  it('joins param1..N, consecutive from 1, by newlines, as the evtx adapter joins the Data list', () => {
    expect(
      withUnnamedData({ param1: 'Available', param2: 'None', param3: '\tHostName=ConsoleHost', param5: 'x' }),
    ).toEqual({
      param1: 'Available',
      param2: 'None',
      param3: '\tHostName=ConsoleHost',
      param5: 'x',
      Data: 'Available\nNone\n\tHostName=ConsoleHost',
    });
  });

  it('leaves a map without param1, with its own Data, already truncated, or without room as it is', () => {
    expect(withUnnamedData(null)).toBeNull();
    expect(withUnnamedData({ param2: 'b' })).toEqual({ param2: 'b' });
    expect(withUnnamedData({ param1: 'a', Data: 'own' })).toEqual({ param1: 'a', Data: 'own' });
    const truncated = { param1: 'a', [TRUNCATED_KEY]: '1 entries, 9 chars left out' };
    expect(withUnnamedData({ ...truncated })).toEqual(truncated);
    const limits = { maxEntries: 10, maxChars: 20 };
    expect(withUnnamedData({ param1: 'abcdefghij' }, limits)).toEqual({ param1: 'abcdefghij' });
    expect(withUnnamedData({ param1: 'abc' }, limits)).toEqual({ param1: 'abc', Data: 'abc' });
  });
});
