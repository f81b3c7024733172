/**
 * System Level, Keywords, Task and Opcode (`winlog.level_raw`, `keywords_raw`, `task_raw`, `opcode_raw`):
 * taken from every input that gives the exact numbers, absent where it gives names only or a number the
 * JSON parser may have rounded (system-numbers.ts).
 */
import { describe, expect, it } from 'vitest';
import { keywordsFromNames, keywordsMask, systemInteger } from '../../src/windows/system-numbers.js';
import { datasetLines, decodeOne } from './helpers.js';

const numbersOf = (format: string, line: string) => {
  const w = decodeOne(format, line).winlog!;
  return { level: w.level_raw, keywords: w.keywords_raw, task: w.task_raw, opcode: w.opcode_raw };
};

/** A Security 4673 (privileged service called) as the evtx crate renders it; `system` overrides System. */
function evtx4673(system: Record<string, unknown> = {}): string {
  return JSON.stringify({
    Event: {
      System: {
        Provider: { '#attributes': { Name: 'Microsoft-Windows-Security-Auditing' } },
        EventID: 4673,
        Version: 0,
        Level: 0,
        Task: 13056,
        Opcode: 0,
        Keywords: '0x8010000000000000',
        TimeCreated: { '#attributes': { SystemTime: '2019-10-24T10:00:00.000Z' } },
        EventRecordID: 42,
        Channel: 'Security',
        Computer: 'WS1.acme.local',
        ...system,
      },
      EventData: {
        Service: 'LsaRegisterLogonProcess()',
        ObjectServer: 'NT Local Security Authority / Authentication Service',
      },
    },
  });
}

/** An NXLog (im_msvistalog) flat record as in the Security-Datasets, with `over` replacing keys. */
function nxlog(over: Record<string, unknown>, keywordsText?: string): string {
  const json = JSON.stringify({
    EventID: 4673,
    Channel: 'Security',
    Hostname: 'WS1.acme.local',
    '@timestamp': '2020-09-22T03:30:40.874Z',
    SourceName: 'Microsoft-Windows-Security-Auditing',
    Keywords: 0,
    Task: 13056,
    Opcode: 'Info',
    OpcodeValue: 0,
    Severity: 'ERROR',
    SeverityValue: 4,
    EventType: 'AUDIT_FAILURE',
    Message: 'A privileged service was called. "Keywords": 1',
    ...over,
  });
  // A number JSON.stringify cannot write exactly (past 2^53) goes in as text.
  return keywordsText === undefined ? json : json.replace('"Keywords":0', `"Keywords":${keywordsText}`);
}

describe('evtx JSON', () => {
  it('gives the four numbers as the crate renders them', () => {
    expect(numbersOf('evtx-json', evtx4673())).toEqual({
      level: 0,
      keywords: '0x8010000000000000',
      task: 13056,
      opcode: 0,
    });
  });

  it("converts a Keywords number (a converter other than the crate) as NXLog's, exactly or not at all", () => {
    const withNumber = (text: string): string =>
      evtx4673({ Keywords: 0 }).replace('"Keywords":0', `"Keywords":${text}`);
    expect(numbersOf('evtx-json', withNumber('-9218868437227405312')).keywords).toBe('0x8010000000000000');
    expect(numbersOf('evtx-json', withNumber('9227875636482146304')).keywords).toBe('0x8010000000000000');
    expect(numbersOf('evtx-json', withNumber('9227875636482146305')).keywords).toBeNull();
  });

  it('leaves out a value of another form and keeps the event', () => {
    expect(
      numbersOf(
        'evtx-json',
        evtx4673({ Level: 'Information', Keywords: 'Audit Failure', Task: -1, Opcode: 256 }),
      ),
    ).toEqual({ level: null, keywords: null, task: null, opcode: null });
  });
});

describe('flat Windows', () => {
  it('reads the hex shape (Level, Keywords, Task as text) of cmd_service_mod_fax.json', () => {
    // Line 2: the 4688 of `sc config Fax`, Level "0", Keywords "0x8020000000000000", Task "13312".
    const line = datasetLines('cmd_service_mod_fax.json')[1] as string;
    expect(numbersOf('flat-windows', line)).toEqual({
      level: 0,
      keywords: '0x8020000000000000',
      task: 13312,
      opcode: null,
    });
  });

  it("reads NXLog's signed decimal Keywords exactly, its OpcodeValue, and no Level from its Severity", () => {
    expect(numbersOf('flat-windows', nxlog({}, '-9218868437227405312'))).toEqual({
      level: null,
      keywords: '0x8010000000000000',
      task: 13056,
      opcode: 0,
    });
    expect(numbersOf('flat-windows', nxlog({}, '36028797018963968')).keywords).toBe('0x80000000000000');
    expect(numbersOf('flat-windows', nxlog({ Keywords: 0 })).keywords).toBe('0x0');
    // -2^63 + 1 parses to -2^63: its digits are not the record's, so the mask is not known.
    expect(numbersOf('flat-windows', nxlog({}, '-9223372036854775807')).keywords).toBeNull();
    expect(numbersOf('flat-windows', nxlog({}, '-9223372036854775808')).keywords).toBe('0x8000000000000000');
    expect(numbersOf('flat-windows', nxlog({}, '-9223372036854775808.5')).keywords).toBeNull();
  });

  it('reads Opcode when it is a number, not when it is a name', () => {
    expect(numbersOf('flat-windows', nxlog({ OpcodeValue: undefined })).opcode).toBeNull();
    expect(numbersOf('flat-windows', nxlog({ OpcodeValue: undefined, Opcode: '2' })).opcode).toBe(2);
  });

  it('gives every real NXLog Security audit of the datasets its exact mask', () => {
    const seen = new Map<string, number>();
    for (const line of datasetLines('empire_shell_dcerpc_smb_service_dll_hijack.json')) {
      const doc = JSON.parse(line) as Record<string, unknown>;
      if (doc['SourceName'] !== 'Microsoft-Windows-Security-Auditing') continue;
      const mask = numbersOf('flat-windows', line).keywords ?? 'absent';
      expect([doc['EventType'], mask]).toEqual([
        doc['EventType'],
        doc['EventType'] === 'AUDIT_FAILURE' ? '0x8010000000000000' : '0x8020000000000000',
      ]);
      seen.set(mask, (seen.get(mask) ?? 0) + 1);
    }
    expect(seen.get('0x8010000000000000')).toBeGreaterThan(0);
    expect(seen.get('0x8020000000000000')).toBeGreaterThan(1000);
  });
});

describe('Winlogbeat', () => {
  const doc = (winlog: Record<string, unknown>): string =>
    JSON.stringify({
      '@timestamp': '2020-09-22T03:30:40.874Z',
      log: { level: 'information' },
      winlog: {
        channel: 'Security',
        event_id: '4673',
        computer_name: 'WS1.acme.local',
        record_id: 42,
        provider_name: 'Microsoft-Windows-Security-Auditing',
        task: 'Sensitive Privilege Use',
        opcode: 'Info',
        event_data: { Service: 'LsaRegisterLogonProcess()' },
        ...winlog,
      },
    });

  it("maps Security-Auditing's one audit keyword name to its mask, and no name to a number", () => {
    expect(numbersOf('winlogbeat', doc({ keywords: ['Audit Failure'] }))).toEqual({
      level: null,
      keywords: '0x8010000000000000',
      task: null,
      opcode: null,
    });
    expect(numbersOf('winlogbeat', doc({ keywords: ['Audit Success'] })).keywords).toBe('0x8020000000000000');
  });

  it('leaves Keywords absent where the names do not determine the mask', () => {
    // The Eventlog provider's 1102 is "Audit Success" in the Security channel with 0x4020000000000000.
    expect(
      numbersOf(
        'winlogbeat',
        doc({ provider_name: 'Microsoft-Windows-Eventlog', keywords: ['Audit Success'] }),
      ).keywords,
    ).toBeNull();
    expect(numbersOf('winlogbeat', doc({ keywords: ['Audit Success', 'Classic'] })).keywords).toBeNull();
    expect(numbersOf('winlogbeat', doc({ keywords: 'Audit Success' })).keywords).toBeNull();
  });

  it('reads the _raw numbers where the shipper sends them', () => {
    expect(
      numbersOf(
        'winlogbeat',
        doc({
          level_raw: 0,
          keywords_raw: '0x8010000000000000',
          task_raw: 13056,
          opcode_raw: 0,
          keywords: [],
        }),
      ),
    ).toEqual({ level: 0, keywords: '0x8010000000000000', task: 13056, opcode: 0 });
  });
});

describe('the readers', () => {
  it('systemInteger takes integers and decimal text in range only', () => {
    expect([4, '4', '04', 0, 255].map((v) => systemInteger(v, 255))).toEqual([4, 4, 4, 0, 255]);
    expect([256, -1, 4.5, '4.0', ' 4', 'Information', null, true].map((v) => systemInteger(v, 255))).toEqual(
      Array(8).fill(null),
    );
  });

  it('keywordsMask keeps hex text, converts exact integers, refuses what it cannot know', () => {
    expect(keywordsMask('0x8010000000000000')).toBe('0x8010000000000000');
    expect(keywordsMask('9232379236109516800')).toBe('0x8020000000000000');
    expect(keywordsMask('-9214364837600034816')).toBe('0x8020000000000000');
    expect(keywordsMask('18446744073709551616')).toBeNull(); // 2^64
    expect(keywordsMask('0x18010000000000000')).toBeNull(); // 17 hex digits
    expect(keywordsMask(-9214364837600034816)).toBeNull(); // past 2^53, no text to check against
    const raw = new TextEncoder().encode(
      '{"Message":"\\"Keywords\\":-9214364837600034816","Keywords":-9214364837600034817}',
    );
    expect(keywordsMask(-9214364837600034816, raw, 'Keywords')).toBeNull(); // the quoted one is text
  });

  it('keywordsFromNames reads only the Security-Auditing audit names', () => {
    expect(keywordsFromNames(['Audit Failure'], 'Microsoft-Windows-Security-Auditing')).toBe(
      '0x8010000000000000',
    );
    expect(keywordsFromNames(['Audit Failure'], null)).toBeNull();
    expect(keywordsFromNames([7], 'Microsoft-Windows-Security-Auditing')).toBeNull();
  });
});
