import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  defaultPipeline,
  EventView,
  fieldId,
  memoTestId,
  objectFieldSource,
  SigmaRuleSet,
  ValueMemo,
} from '../src/index.js';
import { processCreationRule as rule } from './helpers.js';

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
const proc = (fields: Record<string, string>) =>
  objectFieldSource({ Channel: SYSMON, EventID: 1, ...fields });

describe('ValueMemo', () => {
  it('keeps its own copy of a text, not the larger string a decoder cut it from', () => {
    // The Avro map reader gives values as substrings of the map's whole text (V8 keeps a substring as a
    // slice of its parent): a memoized slice would keep the event's data alive, a PowerShell script block
    // with it, long after the event.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const memo = new ValueMemo();
    const id = fieldId('Image');
    memo.keep(id);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200; i++) {
      // 100 KB of one event's data, and an image path of its own length (a text of its own slot).
      const data = `${'x'.repeat(100_000)}C:\\Tools\\${'t'.repeat(i)}.exe`;
      memo.facts(id, data.slice(100_000));
    }
    gc();
    gc();
    expect(memo.heldChars).toBeGreaterThan(200 * 14);
    // 200 × 100 KB = 20 MB if the slices kept their parents.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(6 * 2 ** 20);
  });

  it('keeps one facts object per distinct text of a field, and not across fields', () => {
    const memo = new ValueMemo();
    expect(memo.facts(fieldId('Image'), 'C:\\Windows\\CMD.exe')).toBeNull(); // not kept: worked out per event
    memo.keep(fieldId('Image'));
    memo.keep(fieldId('ParentImage'));
    const a = memo.facts(fieldId('Image'), 'C:\\Windows\\CMD.exe');
    expect(a?.lower).toBe('c:\\windows\\cmd.exe');
    expect(memo.facts(fieldId('Image'), 'C:\\Windows\\CMD.exe')).toBe(a);
    expect(memo.facts(fieldId('ParentImage'), 'C:\\Windows\\CMD.exe')).not.toBe(a);
    expect([memo.hits, memo.lookups]).toEqual([1, 3]);
  });

  it('is bounded per field and in all, keeps texts in steady use, never keeps long texts', () => {
    const memo = new ValueMemo();
    const id = fieldId('CommandLine');
    memo.keep(id);
    const hot = memo.facts(id, 'hot');
    let hotHits = 0;
    // Half the lookups are of one text, so the field stays memoized while 10,000 others come and go.
    for (let i = 0; i < 10_000; i++) {
      expect(memo.facts(id, `cmd.exe /c echo ${i} ${'x'.repeat(80)}`)?.lower).toContain(`echo ${i} `);
      if (memo.facts(id, 'hot') === hot) hotHits += 1;
    }
    expect(hotHits).toBeGreaterThan(9_000);
    // At most 2,048 texts of this field are held.
    expect(memo.heldChars).toBeLessThanOrEqual(2_048 * 100);
    expect(memo.facts(id, 'x'.repeat(257))).toBeNull();
    // All fields together hold about 4 M characters at most: past that the memo starts again.
    for (let f = 0; f < 24; f++) {
      const field = fieldId(`Field${f}`);
      memo.keep(field);
      for (let i = 0; i < 2_048; i++) {
        memo.facts(field, `${f}:${i}:${'y'.repeat(100)}`);
        memo.facts(field, `${f}:hot`); // keeps the field's hit share up
        expect(memo.heldChars).toBeLessThanOrEqual(4_000_000);
      }
    }
  });

  it('leaves a field whose texts do not repeat alone for a while, then tries again', () => {
    const memo = new ValueMemo();
    const id = fieldId('UtcTime');
    memo.keep(id);
    memo.keep(fieldId('Image'));
    for (let i = 0; i < 511; i++) expect(memo.facts(id, `2026-12-04 10:00:${i}`)).not.toBeNull();
    expect(memo.facts(id, 'the 512th')).not.toBeNull();
    // Under 40 % of a 512-lookup window hit: the next 4,096 reads are worked out without the memo.
    for (let i = 0; i < 4_096; i++) expect(memo.facts(id, 'repeated')).toBeNull();
    expect(memo.facts(id, 'repeated')?.lower).toBe('repeated');
    // Another field is judged on its own.
    expect(memo.facts(fieldId('Image'), 'a.exe')).not.toBeNull();
  });

  it('numbers a test once per field and key', () => {
    const image = fieldId('Image');
    const a = memoTestId(image, 'i:*\\\\memo-a.exe');
    expect(memoTestId(image, 'i:*\\\\memo-a.exe')).toBe(a);
    expect(memoTestId(image, 'c:*\\\\memo-a.exe')).not.toBe(a);
  });

  it('remembers a test per text: the test runs once however many events carry the text', () => {
    const memo = new ValueMemo();
    const view = new EventView(objectFieldSource({}), memo);
    const id = fieldId('Image');
    memo.keep(id);
    const test = memoTestId(id, 'i:test-runs-once');
    let runs = 0;
    const isCmd = (s: string) => {
      runs += 1;
      return s.endsWith('\\cmd.exe');
    };
    for (let i = 0; i < 5; i++) {
      expect(view.reset(objectFieldSource({ Image: 'C:\\X\\CMD.EXE' })).memoTest(id, test, true, isCmd)).toBe(
        true,
      );
      expect(view.reset(objectFieldSource({ Image: 'C:\\X\\a.exe' })).memoTest(id, test, true, isCmd)).toBe(
        false,
      );
      expect(view.reset(objectFieldSource({})).memoTest(id, test, true, isCmd)).toBe(false);
    }
    expect(runs).toBe(2);
  });

  it("keeps each of a field's many tests' result apart, in any order, across blocks of 32 (bit 31 too)", () => {
    const memo = new ValueMemo();
    const view = new EventView(objectFieldSource({}), memo);
    const id = fieldId('CommandLine');
    memo.keep(id);
    const tests = Array.from({ length: 100 }, (_, k) => memoTestId(id, `i:many-tests-${k}`));
    const runs = new Array<number>(100).fill(0);
    // Test k holds when k is a multiple of 3; asked in a shuffled order, twice, for one text.
    const order = [...tests.keys()].sort((a, b) => ((a * 37) % 100) - ((b * 37) % 100));
    for (let pass = 0; pass < 2; pass++)
      for (const k of order) {
        const got = view
          .reset(objectFieldSource({ CommandLine: 'x' }))
          .memoTest(id, tests[k] as number, true, () => {
            runs[k] = (runs[k] as number) + 1;
            return k % 3 === 0;
          });
        expect(got).toBe(k % 3 === 0);
      }
    expect(runs.every((n) => n === 1)).toBe(true);
    expect(tests.some((t) => t % 32 === 31)).toBe(true);
  });
});

describe('SigmaRuleSet with the value memo', () => {
  // The same pattern cased and not: the memo's key must tell them apart whichever runs first.
  const rules = [
    rule('cased', "  sel:\n    CommandLine|contains|cased: 'invoke-memo'\n  condition: sel"),
    rule('folded', "  sel:\n    CommandLine|contains: 'invoke-memo'\n  condition: sel"),
    rule('regex', "  sel:\n    CommandLine|re: '-[Ee]nc(odedCommand)? [A-Za-z0-9+/=]{8,}'\n  condition: sel"),
    rule(
      'list',
      "  sel:\n    Image|endswith:\n      - '\\\\a1.exe'\n      - '\\\\a2.exe'\n      - '\\\\a3.exe'\n      - '\\\\a4.exe'\n  filter:\n    ParentImage|contains: '\\\\Trusted\\\\'\n  condition: sel and not filter",
    ),
  ];
  const events = [
    { CommandLine: 'powershell invoke-memo', Image: 'C:\\t\\A1.EXE', ParentImage: 'C:\\p.exe' },
    { CommandLine: 'powershell INVOKE-MEMO', Image: 'C:\\t\\A1.EXE', ParentImage: 'C:\\Trusted\\p.exe' },
    { CommandLine: 'powershell -enc SQBFAFgAIAAo', Image: 'C:\\t\\a4.exe', ParentImage: 'C:\\p.exe' },
    { CommandLine: 'powershell -ENC SQBFAFgAIAAo', Image: 'C:\\t\\a5.exe', ParentImage: 'C:\\p.exe' },
  ];
  const expected = [['cased', 'folded', 'list'], ['folded'], ['regex', 'list'], []];
  const ids = (set: SigmaRuleSet, fields: Record<string, string>) =>
    set
      .match(proc(fields))
      .map((r) => r.rule.id)
      .sort();

  it('answers as without it, in any order and however often a text repeats', () => {
    const set = new SigmaRuleSet(rules, defaultPipeline);
    for (let round = 0; round < 3; round++) {
      events.forEach((e, i) => expect(ids(set, e)).toEqual([...(expected[i] as string[])].sort()));
      [...events]
        .reverse()
        .forEach((e, i) =>
          expect(ids(set, e)).toEqual([...(expected[events.length - 1 - i] as string[])].sort()),
        );
    }
  });

  it('memoizes only fields whose texts cost something to work out, and the source field', () => {
    const exact = new SigmaRuleSet(
      [rule('exact-only', "  sel:\n    Company: 'Memo Test Corp'\n  condition: sel")],
      defaultPipeline,
    );
    // The channel (the source field, read on every event) is memoized; Company, read for an exact key, not.
    exact.match(proc({ Company: 'memo test corp' }));
    expect(exact.valueMemoCounts().lookups).toBe(1);
    const scanned = new SigmaRuleSet(
      [rule('scanned', "  sel:\n    Product|contains: 'memo-test-product'\n  condition: sel")],
      defaultPipeline,
    );
    expect(scanned.match(proc({ Product: 'a MEMO-TEST-PRODUCT b' })).map((r) => r.rule.id)).toEqual([
      'scanned',
    ]);
    expect(scanned.match(proc({ Product: 'a MEMO-TEST-PRODUCT b' })).map((r) => r.rule.id)).toEqual([
      'scanned',
    ]);
    // Product and the channel, each looked up twice and found the second time.
    expect(scanned.valueMemoCounts()).toEqual({ hits: 2, lookups: 4 });
  });

  it('gives each rule set its own memo (a second set is not answered from the first)', () => {
    const a = new SigmaRuleSet(rules, defaultPipeline);
    const b = new SigmaRuleSet(rules.slice(1), defaultPipeline);
    expect(ids(a, events[0]!)).toEqual(['cased', 'folded', 'list']);
    expect(ids(b, events[0]!)).toEqual(['folded', 'list']);
  });
});
