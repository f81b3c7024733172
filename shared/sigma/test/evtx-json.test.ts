import { describe, expect, it } from 'vitest';
import { EvtxJsonError, readEvtxJson, splitJsonDocuments } from '../src/index.js';

const EVENT = {
  Event: {
    '#attributes': { xmlns: 'http://schemas.microsoft.com/win/2004/08/events/event' },
    System: {
      Provider: {
        '#attributes': { Name: 'Microsoft-Windows-Sysmon', Guid: '5770385F-C22A-43E0-BF4C-06F5698FFBD9' },
      },
      EventID: 1,
      TimeCreated: { '#attributes': { SystemTime: '2025-10-24T23:41:00.601559Z' } },
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      Computer: 'host1',
      Security: { '#attributes': { UserID: 'S-1-5-18' } },
    },
    EventData: { Image: 'C:\\Windows\\cmd.exe', ProcessId: 42, Empty: null, '#attributes': { Name: 'x' } },
  },
};

describe('evtx JSON', () => {
  it('reads pretty-printed documents one after another, and one per line', () => {
    const pretty = `${JSON.stringify(EVENT, null, 2)}\n${JSON.stringify(EVENT, null, 2)}\n`;
    expect(readEvtxJson(pretty)).toHaveLength(2);
    const lines = `${JSON.stringify(EVENT)}\n${JSON.stringify(EVENT)}\n`;
    expect(readEvtxJson(lines)).toHaveLength(2);
    expect(splitJsonDocuments('{"a":"}{"}{"b":1}').map((d) => d.value)).toEqual([{ a: '}{' }, { b: 1 }]);
  });

  it('names System fields as SigmaHQ rules do and EventData as it is', () => {
    const [e] = readEvtxJson(JSON.stringify(EVENT));
    expect(e?.get('EventID')).toBe(1);
    expect(e?.get('Channel')).toBe('Microsoft-Windows-Sysmon/Operational');
    expect(e?.get('Provider_Name')).toBe('Microsoft-Windows-Sysmon');
    expect(e?.get('Security_UserID')).toBe('S-1-5-18');
    expect(e?.get('TimeCreated_SystemTime')).toBe('2025-10-24T23:41:00.601559Z');
    expect(e?.get('Image')).toBe('C:\\Windows\\cmd.exe');
    expect(e?.get('ProcessId')).toBe(42);
    expect(e?.get('Empty')).toBeNull();
    expect(e?.get('#attributes')).toBeUndefined();
    expect(e?.get('Missing')).toBeUndefined();
  });

  it('UserData: the one element under it gives the fields', () => {
    const doc = {
      Event: { System: { EventID: 5 }, UserData: { TaskDisabled: { '#attributes': {}, TaskName: '\\x' } } },
    };
    expect(readEvtxJson(JSON.stringify(doc))[0]?.get('TaskName')).toBe('\\x');
  });

  it('bad input is an error with the line', () => {
    expect(() => readEvtxJson('{"Event":{}}\n\n{"a": ')).toThrow(EvtxJsonError);
    expect(() => readEvtxJson('{"Event":{}}\n\n{"a": ')).toThrow(/line 3/);
    expect(() => readEvtxJson('\n{"NotEvent": 1}')).toThrow(/line 2: not an evtx event/);
  });
});
