/** The oracle's event flattening and reader (sigma-events.ts), pinned on small documents. */
import { describe, expect, it } from 'vitest';
import {
  flattenEvtx,
  regressionEvents,
  SigmaEventError,
  splitJsonDocuments,
  variantEvents,
  type EvtxDocument,
} from './sigma-events.ts';

const doc = (event: Record<string, unknown>): EvtxDocument =>
  ({ Event: { System: {}, ...event } }) as unknown as EvtxDocument;

describe('splitJsonDocuments', () => {
  it('reads pretty-printed documents one after another, braces inside strings included', () => {
    const text = '{\n  "a": "x{\\"}"\n}\n{"b": [1, {"c": "]"}]}\n\n';
    expect(splitJsonDocuments(text, 'f')).toEqual([{ a: 'x{"}' }, { b: [1, { c: ']' }] }]);
  });

  it('names the file of a truncated document or text between documents', () => {
    expect(() => splitJsonDocuments('{"a": 1', 'f.json')).toThrow(SigmaEventError);
    expect(() => splitJsonDocuments('{"a": 1} x {}', 'f.json')).toThrow(/f.json: text between documents/);
  });
});

describe('flattenEvtx', () => {
  it('System children by name, attributes as Element_Attribute, #text as the element', () => {
    const flat = flattenEvtx(
      doc({
        System: {
          Provider: { '#attributes': { Name: 'Service Control Manager', Guid: 'G' } },
          EventID: { '#attributes': { Qualifiers: 16384 }, '#text': 7045 },
          Channel: 'System',
          Correlation: null,
          Execution: { '#attributes': { ProcessID: 4 } },
        },
        EventData: {
          '#attributes': { Name: 'TaskDisabled' },
          ProcessId: 7,
          Flag: true,
          Lines: ['a', 'b'],
          Empty: null,
        },
      }),
      't',
    );
    expect(flat).toEqual({
      Provider_Name: 'Service Control Manager',
      Provider_Guid: 'G',
      EventID_Qualifiers: '16384',
      EventID: '7045',
      Channel: 'System',
      Execution_ProcessID: '4',
      ProcessId: '7',
      Flag: 'true',
      Lines: 'a\nb',
    });
  });

  it("UserData: its one element's children by name, not the element's attributes", () => {
    const flat = flattenEvtx(
      doc({
        UserData: {
          Operation_ClientFailure: { '#attributes': { xmlns: 'u' }, Operation: 'op', ResultCode: '0x1' },
        },
      }),
      't',
    );
    expect(flat).toEqual({ Operation: 'op', ResultCode: '0x1' });
  });

  it('refuses two fields that differ only in case (one SQLite column)', () => {
    expect(() => flattenEvtx(doc({ System: { Channel: 'a' }, EventData: { channel: 'b' } }), 'ev')).toThrow(
      /ev: two fields named channel/,
    );
  });
});

describe('the oracle events', () => {
  it('reads every SigmaHQ regression event, and seeded variants that change only the data', () => {
    const regression = regressionEvents();
    expect(regression.length).toBe(189);
    const sample = regression.filter((e) => e.fields['Image'] !== undefined).slice(0, 3);
    const variants = variantEvents(sample, 13);
    expect(variants.map((v) => v.origin.split(':')[0])).toEqual([
      'case-swap',
      'drop-char',
      'case-swap',
      'drop-char',
      'case-swap',
      'drop-char',
    ]);
    const original = sample[0]!.fields;
    const swapped = variants[0]!.fields;
    expect(swapped['Channel']).toBe(original['Channel']);
    expect(swapped['Image']).toBe(
      original['Image']!.replace(/[A-Za-z]/g, (c) => (c <= 'Z' ? c.toLowerCase() : c.toUpperCase())),
    );
    expect(variantEvents(sample, 13)).toEqual(variants);
  });
});
