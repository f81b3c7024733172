/**
 * `evtx-json`: the evtx crate's JSON, framed (pretty-printed or one per line), sniffed and mapped; every
 * SigmaHQ regression file (`../shared/sigma/regression_data`, read in place) reads with no error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createEventCodec } from '@sequor/model';
import {
  decideFileFormat,
  DEFAULT_MAX_RECORD_BYTES,
  detectFormat,
  EVTX_JSON,
  frameJsonDocuments,
  getFormat,
  JsonDocumentFramer,
  NormalizeError,
  readEvtxDocument,
} from '../../src/index.js';
import { decodeError, decodeOne, repoRoot } from './helpers.js';

const REGRESSION = path.resolve(repoRoot, '../shared/sigma/regression_data');

const SYSMON_1 = {
  Event: {
    '#attributes': { xmlns: 'http://schemas.microsoft.com/win/2004/08/events/event' },
    System: {
      Provider: {
        '#attributes': { Name: 'Microsoft-Windows-Sysmon', Guid: '5770385F-C22A-43E0-BF4C-06F5698FFBD9' },
      },
      EventID: 1,
      Version: 5,
      Level: 4,
      Task: 1,
      Opcode: 0,
      Keywords: '0x8000000000000000',
      TimeCreated: { '#attributes': { SystemTime: '2025-10-24T23:41:00.601559Z' } },
      EventRecordID: 23503,
      Correlation: null,
      Execution: { '#attributes': { ProcessID: 3308, ThreadID: 4008 } },
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      Computer: 'ar-win-dc.attackrange.local',
      Security: { '#attributes': { UserID: 'S-1-5-18' } },
    },
    EventData: {
      RuleName: '-',
      ProcessGuid: '5AA13A44-0C90-68FC-BF1D-000000004002',
      ProcessId: 10048,
      Image: 'C:\\Windows\\System32\\cmd.exe',
      CommandLine: 'cmd.exe /c whoami',
      User: 'ATTACKRANGE\\Administrator',
      ParentProcessGuid: '5AA13A44-0C90-68FC-BF1D-000000004001',
      ParentProcessId: 4,
      ParentImage: 'C:\\Windows\\explorer.exe',
    },
  },
};

const pretty = (doc: unknown): string => JSON.stringify(doc, null, 2);
const docs = (text: string, max?: number): { text: string; line: number }[] =>
  frameJsonDocuments(text, max).map((d) => ({ text: d.bytes.toString('utf8'), line: d.line + 1 }));

/**
 * Every regression folder: its JSON file and the `match_count` info.yml gives, if any (the file holds at
 * least that many events; info.yml gives no count of events).
 */
function regressionFiles(): { json: string; matches: number | undefined }[] {
  const out: { json: string; matches: number | undefined }[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true });
    const json = entries.find((e) => e.isFile() && e.name.endsWith('.json'));
    if (json !== undefined) {
      const info = parse(readFileSync(path.join(dir, 'info.yml'), 'utf8')) as {
        regression_tests_info?: { match_count?: number }[];
      };
      out.push({ json: path.join(dir, json.name), matches: info.regression_tests_info?.[0]?.match_count });
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  walk(REGRESSION);
  return out;
}

describe('framing JSON documents', () => {
  it('cuts pretty-printed documents, one-per-line documents and evtx_dump `Record N` wrappers alike', () => {
    const two = `${pretty(SYSMON_1)}\n${pretty(SYSMON_1)}\n`;
    const framed = docs(two);
    expect(framed.map((d) => d.line)).toEqual([1, pretty(SYSMON_1).split('\n').length + 1]);
    expect(framed.map((d) => JSON.parse(d.text) as unknown)).toEqual([SYSMON_1, SYSMON_1]);
    expect(docs(`${JSON.stringify(SYSMON_1)}\n\n${JSON.stringify(SYSMON_1)}`).map((d) => d.line)).toEqual([
      1, 3,
    ]);
    expect(docs(`Record 7\n${pretty(SYSMON_1)}\nRecord 8\n${pretty(SYSMON_1)}`)).toHaveLength(2);
    // A byte order mark before the first `Record <id>` line: the line is still evtx_dump's, not a document.
    expect(docs(`\ufeffRecord 1\n${pretty(SYSMON_1)}`).map((d) => JSON.parse(d.text) as unknown)).toEqual([
      SYSMON_1,
    ]);
    expect(docs('\ufeff{"a":"}{"}{"b":[1,"]"]}\r\n').map((d) => d.text)).toEqual([
      '{"a":"}{"}',
      '{"b":[1,"]"]}',
    ]);
  });

  it('a truncated document ends at the next one, so one bad document costs one record', () => {
    const lines = pretty(SYSMON_1).split('\n');
    const truncated = lines.slice(0, 20).join('\n');
    const text = `${truncated}\n${pretty(SYSMON_1)}\nnot json\n[1, 2]\n${pretty(SYSMON_1).slice(0, 30)}\n[3]\nRecord 9\n{"a":1}`;
    const framed = docs(text);
    const after = 21 + lines.length;
    expect(framed.map((d) => d.line)).toEqual([1, 21, after, after + 1, after + 2, after + 5, after + 7]);
    expect(JSON.parse(framed[1]?.text ?? '')).toEqual(SYSMON_1);
    expect(framed[2]?.text).toBe('not json');
  });

  it('a document is kept to maxBytes + 1 bytes, and a line cut for length resynchronises on column-0 braces', () => {
    const big = { Event: { ...SYSMON_1.Event, EventData: { CommandLine: 'A'.repeat(5000) } } };
    const framed = docs(`${pretty(big)}\n${pretty(SYSMON_1)}`, 2000);
    expect(framed.map((d) => d.text.length)).toEqual([2001, pretty(SYSMON_1).length]);
    // A reader cut the long line: its brackets are unknown, the document ends at the `}` line in column 0.
    const framer = new JsonDocumentFramer(100);
    const push = (s: string, i: number, cut = false): void => framer.push(Buffer.from(s), i, cut);
    push('{', 0);
    push('  "Event": { "x": "AAAAAAAAAAAAAAAAAAAA', 1, true);
    push('  }', 2);
    push('}', 3);
    push('{"Event":{}}', 4);
    framer.end();
    expect(framer.take()?.line).toBe(0);
    expect(framer.take()?.line).toBe(4);
    expect(framer.take()).toBeUndefined();
  });

  it('deep nesting is scanned without recursion', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(docs(`${deep}\n{"b":1}`).map((d) => d.line)).toEqual([1, 2]);
  });
});

describe('sniffing', () => {
  it('a pretty-printed file by its first lines, one per line by each line', () => {
    const head = pretty(SYSMON_1).split('\n').slice(0, 16);
    expect(decideFileFormat(head).format?.name).toBe(EVTX_JSON);
    expect(decideFileFormat(['Record 1', ...head]).format?.name).toBe(EVTX_JSON);
    expect(detectFormat(JSON.stringify(SYSMON_1))?.name).toBe(EVTX_JSON);
    expect(decideFileFormat(['{', '  "hello": 1', '}']).format).toBeUndefined();
    // A binary .evtx log (SigmaHQ keeps one beside each JSON file) is named as such, with what to do.
    const binary = readFileSync(regressionFiles()[0]!.json.replace(/\.json$/, '.evtx'), 'latin1').split('\n');
    expect(decideFileFormat(binary.slice(0, 16)).reason).toMatch(
      /^a binary Windows event log \(\.evtx\); convert it/,
    );
    expect(getFormat(EVTX_JSON).framing).toBe('json-documents');
    // The other Windows shapes are not taken for it.
    expect(
      detectFormat('{"EventID":4624,"Channel":"Security","@timestamp":"2020-01-01T00:00:00Z"}')?.name,
    ).toBe('flat-windows');
  });
});

describe('mapping', () => {
  it('a Sysmon 1 event: header, process and parent as the other Windows formats map them', () => {
    const ev = decodeOne(EVTX_JSON, pretty(SYSMON_1));
    expect(ev.timestamp).toBe(Date.parse('2025-10-24T23:41:00.601Z'));
    expect(ev.host?.name).toBe('ar-win-dc.attackrange.local');
    expect(ev.winlog?.channel).toBe('Microsoft-Windows-Sysmon/Operational');
    expect(ev.winlog?.event_id).toBe('1');
    expect(ev.winlog?.record_id).toBe(23503);
    expect(ev.event?.provider).toBe('Microsoft-Windows-Sysmon');
    expect(ev.event?.category).toEqual(['process']);
    expect(ev.process?.executable).toBe('C:\\Windows\\System32\\cmd.exe');
    expect(ev.process?.name).toBe('cmd.exe');
    expect(ev.process?.pid).toBe(10048);
    expect(ev.process?.parent?.executable).toBe('C:\\Windows\\explorer.exe');
    expect(ev.user?.name).toBe('Administrator');
    expect(ev.origin?.format).toBe(EVTX_JSON);
    // The event's own data, whole, as text (numbers in decimal).
    expect(ev.winlog?.event_data).toEqual({
      RuleName: '-',
      ProcessGuid: '5AA13A44-0C90-68FC-BF1D-000000004002',
      ProcessId: '10048',
      Image: 'C:\\Windows\\System32\\cmd.exe',
      CommandLine: 'cmd.exe /c whoami',
      User: 'ATTACKRANGE\\Administrator',
      ParentProcessGuid: '5AA13A44-0C90-68FC-BF1D-000000004001',
      ParentProcessId: '4',
      ParentImage: 'C:\\Windows\\explorer.exe',
    });
    // The same event through flat-windows gets the same id and mapping.
    const flat = {
      ...SYSMON_1.Event.EventData,
      EventID: 1,
      Channel: SYSMON_1.Event.System.Channel,
      Hostname: SYSMON_1.Event.System.Computer,
      EventRecordID: 23503,
      '@timestamp': '2025-10-24T23:41:00.601559Z',
      SourceName: 'Microsoft-Windows-Sysmon',
    };
    const viaFlat = decodeOne('flat-windows', JSON.stringify(flat));
    expect(ev.event?.id).toBe(viaFlat.event?.id);
    expect(ev.process).toEqual(viaFlat.process);
    expect(ev.winlog?.event_data).toEqual(viaFlat.winlog?.event_data);
    expect(ev.user).toEqual(viaFlat.user);
  });

  it('a channel no other Windows format maps is read as header and data; UserData gives the data', () => {
    const doc = {
      Event: {
        System: {
          EventID: { '#attributes': { Qualifiers: 16384 }, '#text': 142 },
          Channel: 'Microsoft-Windows-TaskScheduler/Operational',
          Computer: 'pc1',
          EventRecordID: 9,
          TimeCreated_attributes: { SystemTime: '2024-01-01T00:00:00Z' },
          Security_attributes: { UserID: 'S-1-5-21-1-2-3-1001' },
        },
        UserData: { TaskDisabled: { '#attributes': { xmlns: 'x' }, TaskName: '\\Evil', UserName: 'bob' } },
      },
    };
    const ev = decodeOne(EVTX_JSON, JSON.stringify(doc));
    expect(ev.winlog?.channel).toBe('Microsoft-Windows-TaskScheduler/Operational');
    expect(ev.winlog?.event_id).toBe('142');
    expect(ev.timestamp).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(ev.user?.id).toBe('S-1-5-21-1-2-3-1001');
    expect(readEvtxDocument(doc).data).toEqual({ TaskName: '\\Evil', UserName: 'bob' });
    expect(ev.winlog?.event_data).toEqual({ TaskName: '\\Evil', UserName: 'bob' });
    expect(readEvtxDocument(doc).system['EventID']).toBe(142);
  });

  it('UserData written with --separate-json-attributes: the element, not its attributes before it', () => {
    const doc = {
      Event: {
        System: { EventID: 1102, Channel: 'Security', Computer: 'pc1', EventRecordID: 3 },
        UserData: {
          LogFileCleared_attributes: { xmlns: 'http://manifests.microsoft.com/win/2004/08/windows/eventlog' },
          LogFileCleared: {
            SubjectUserName: 'alice',
            SubjectDomainName: 'CORP',
            Flag_attributes: { a: '1' },
            Flag: 'x',
          },
        },
      },
    };
    expect(readEvtxDocument(doc).data).toEqual({
      SubjectUserName: 'alice',
      SubjectDomainName: 'CORP',
      Flag: 'x',
    });
  });

  it('element values: text of attributed elements, lists joined by newlines, nothing recursive', () => {
    const doc = {
      Event: {
        System: {},
        EventData: {
          Data: ['a', { '#text': 'b' }, 3, null, [[['deep']]]],
          Binary: null,
          Obj: { x: 1 },
          N: 4,
        },
      },
    };
    expect(readEvtxDocument(doc).data).toEqual({ Data: 'a\nb\n3\n\n', Binary: null, N: 4 });
  });

  it('bad documents are NormalizeErrors with a reason, never a crash', () => {
    const cases: [string, string][] = [
      ['{"Event": 1}', 'wrong-type'],
      ['{"NotEvent": {}}', 'missing-field'],
      ['[1]', 'malformed'],
      ['{"Event": {"System": {"EventID": 1}}', 'malformed'],
      [JSON.stringify({ Event: { System: { EventID: 1, Channel: 'Security' } } }), 'missing-field'],
      [
        JSON.stringify({
          Event: {
            System: {
              EventID: 'x',
              Channel: 'Security',
              TimeCreated: { '#attributes': { SystemTime: 'y' } },
            },
          },
        }),
        'wrong-type',
      ],
      [`{"Event":{"System":{"Channel":"${'A'.repeat(DEFAULT_MAX_RECORD_BYTES)}"}}}`, 'too-large'],
      [`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'malformed'],
      [`{"Event":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`, 'missing-field'],
    ];
    for (const [text, reason] of cases) {
      const e = decodeError(EVTX_JSON, text);
      expect(e, text.slice(0, 60)).toBeInstanceOf(NormalizeError);
      expect(e.reason, text.slice(0, 60)).toBe(reason);
    }
  });
});

describe("SigmaHQ's regression data", () => {
  const files = regressionFiles();

  it('is all there', () => {
    expect(files.length).toBe(162);
  });

  it('every file reads with no error: one event per document (each opens with `{` in column 0)', () => {
    const codec = createEventCodec();
    let events = 0;
    for (const { json, matches } of files) {
      const text = readFileSync(json);
      expect(decideFileFormat(text.toString('utf8').split('\n').slice(0, 16)).format?.name, json).toBe(
        EVTX_JSON,
      );
      const framed = frameJsonDocuments(text, DEFAULT_MAX_RECORD_BYTES);
      const decoder = getFormat(EVTX_JSON).createDecoder();
      const decoded = framed.flatMap((d) =>
        decoder.decode(d.bytes, { topic: json, partition: 0, offset: d.line }),
      );
      expect(decoded.length, json).toBe(framed.length);
      const opened = text
        .toString('utf8')
        .split('\n')
        .filter((l) => l.startsWith('{')).length;
      expect(decoded.length, json).toBe(opened);
      expect(decoded.length, json).toBeGreaterThanOrEqual(matches ?? 1);
      for (const ev of decoded) expect(codec.decode(codec.encodeSingleObject(ev))).toEqual(ev);
      events += decoded.length;
    }
    expect(events).toBe(189);
  });
});
