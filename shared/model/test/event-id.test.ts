import { describe, expect, it } from 'vitest';
import { eventIdFromContent, eventIdFromPartText, eventIdFromParts, eventIdPart } from '../src/index.js';

const enc = new TextEncoder();

describe('event ids', () => {
  it('are deterministic 128-bit hex', () => {
    const id = eventIdFromParts('winlog', 'workstation5', 'security', 1234);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(eventIdFromParts('winlog', 'workstation5', 'security', 1234)).toBe(id);
    expect(eventIdFromParts('winlog', 'workstation5', 'security', 1235)).not.toBe(id);
  });

  it('are SHA-256 of the length-prefixed UTF-8 parts, first 128 bits (pinned: alert ids depend on them)', () => {
    expect(eventIdFromParts('winlog', 'workstation5', 'security', 1234)).toBe(
      '9eb4704166b1f110d7520846dd3e57a6',
    );
    expect(eventIdFromParts('cmd', '\u00e9t\u00e9')).toBe('f8661190ef57a536bf8227b0672780c1');
  });

  it('from part text written once equal those from the parts', () => {
    const constant = eventIdPart('winlog') + eventIdPart('security');
    expect(eventIdFromPartText(constant + eventIdPart(1234))).toBe(
      eventIdFromParts('winlog', 'security', 1234),
    );
    expect(eventIdFromPartText('')).toBe(eventIdFromParts());
  });

  it('do not confuse part boundaries', () => {
    expect(eventIdFromParts('a|b', 'c')).not.toBe(eventIdFromParts('a', 'b|c'));
    expect(eventIdFromParts('ab', 'c')).not.toBe(eventIdFromParts('a', 'bc'));
  });

  it('from content ignore the line ending, so file lines and Kafka values agree', () => {
    const record = '{"EventID":4624,"Channel":"Security"}';
    const id = eventIdFromContent(enc.encode(record));
    expect(eventIdFromContent(enc.encode(record + '\n'))).toBe(id);
    expect(eventIdFromContent(enc.encode(record + '\r\n'))).toBe(id);
    expect(eventIdFromContent(enc.encode(record + ' '))).not.toBe(id);
    // A view into a larger buffer (a Kafka batch) hashes only its own bytes.
    const batch = enc.encode('xx' + record + 'yy');
    expect(eventIdFromContent(batch.subarray(2, 2 + record.length))).toBe(id);
  });

  it('from content and from parts never coincide for the same text', () => {
    expect(eventIdFromContent(enc.encode('x'))).not.toBe(eventIdFromParts('x'));
  });
});
