/**
 * Which logsource variant a Sigma alert's evidence fields are read under (`sigmaEvidenceReader`): the
 * first that selects and detects the event, else the first that selects it, else the names as written.
 * A rule's reader decides by the logsource conditions alone where that cannot change the names read; these
 * cases pin the choice where it can.
 */
import { describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import type { CompiledSigmaRule, CompiledVariant, EventView } from '@sequor/sigma';
import { loadSigmaText } from '@sequor/sigma';
import { sigmaEvidenceReader } from '../src/sigma-evidence.js';

const rule = loadSigmaText(
  `title: t
id: 0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5a6b
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\evil.exe'
  condition: selection
`,
  'rule.yml',
).rule!;

/** A variant that selects events whose `Channel` is `channel` and detects those whose `Mark` is `mark`. */
function variant(channel: string, mark: string, fieldMap: Record<string, string>): CompiledVariant {
  return {
    variant: { name: `${channel}/${mark}`, conditions: { Channel: [channel] }, fieldMap },
    selects: (view: EventView) => view.text('Channel') === channel,
    detects: (view: EventView) => view.text('Mark') === mark,
  };
}

function event(channel: string, mark: string): SequorEvent {
  return {
    timestamp: 0,
    event: { id: 'e1', code: '1', dataset: null },
    host: { id: 'h1', name: 'H1' },
    winlog: {
      channel,
      event_id: '1',
      event_data: { Image: 'as written', NewProcessName: 'as 4688', ProcessPath: 'as other', Mark: mark },
    },
    origin: { format: 'test', topic: null, partition: null, offset: null },
  } as unknown as SequorEvent;
}

describe("a Sigma alert's evidence fields, read under the variant that matched", () => {
  const compiled = (variants: CompiledVariant[]): CompiledSigmaRule => ({
    rule,
    variants,
    matches: (view) => variants.some((v) => v.selects(view) && v.detects(view)),
  });
  const image = (variants: CompiledVariant[], e: SequorEvent) =>
    sigmaEvidenceReader([compiled(variants)], new Set())(e).find((f) => f.name === 'Image')?.value;

  it('takes the variant that detects the event among several that select it and read differently', () => {
    const variants = [
      variant('Security', 'a', { Image: 'NewProcessName' }),
      variant('Security', 'b', { Image: 'ProcessPath' }),
    ];
    expect(image(variants, event('Security', 'b'))).toBe('as other');
    expect(image(variants, event('Security', 'a'))).toBe('as 4688');
    // None detects it: the first that selects it.
    expect(image(variants, event('Security', 'z'))).toBe('as 4688');
  });

  it('takes the one variant that selects the event, detecting or not; none: the names as written', () => {
    const variants = [
      variant('Sysmon', 'a', {}),
      variant('Security', 'b', { Image: 'NewProcessName' }),
      variant('Other', 'c', { Image: 'ProcessPath' }),
    ];
    expect(image(variants, event('Security', 'b'))).toBe('as 4688');
    expect(image(variants, event('Security', 'z'))).toBe('as 4688');
    expect(image(variants, event('Other', 'z'))).toBe('as other');
    expect(image(variants, event('Nowhere', 'b'))).toBe('as written');
  });

  it('takes a variant whose code throws on the event as not matching it (it never throws itself)', () => {
    // A correlation of correlations can alert with an event one of its rules threw on (reported then).
    const bug = new Error('detection bug');
    const throwing = (v: CompiledVariant, part: 'selects' | 'detects'): CompiledVariant => ({
      ...v,
      [part]: () => {
        throw bug;
      },
    });
    const b = variant('Security', 'b', { Image: 'ProcessPath' });
    const a = variant('Security', 'a', { Image: 'NewProcessName' });
    // One rule: its variants read differently, so the reader runs their detection. None detects: the
    // first that selects; one whose selection throws selects nothing.
    expect(image([throwing(b, 'detects'), a], event('Security', 'b'))).toBe('as other');
    expect(image([throwing(b, 'selects'), a], event('Security', 'b'))).toBe('as 4688');
    // A correlation's reader over two rules: the first throws, the second matched the event.
    const correlation = sigmaEvidenceReader([compiled([throwing(b, 'detects')]), compiled([a])], new Set());
    expect(correlation(event('Security', 'a')).find((f) => f.name === 'Image')?.value).toBe('as 4688');
    const bothThrow = sigmaEvidenceReader(
      [compiled([throwing(b, 'selects')]), compiled([throwing(a, 'detects')])],
      new Set(),
    );
    expect(bothThrow(event('Security', 'a')).find((f) => f.name === 'Image')?.value).toBe('as written');
  });
});
