import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alertId, alertIdOf, AlertIdPrefix } from '../src/index.js';

describe('alertId', () => {
  it('is 32 lowercase hex characters and stable across runs and releases', () => {
    const id = alertId('elastic-remote-sam', 1, ['evt-logon', 'evt-file']);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    // Pinned: a change here changes every alert id in production (dedup keys downstream).
    expect(id).toBe(alertId('elastic-remote-sam', 1, ['evt-logon', 'evt-file']));
    // Computed independently (Python hashlib) from the documented encoding: each part as a 4-byte
    // big-endian UTF-8 length then the bytes; parts = domain, rule id, version, evidence count, ids.
    expect(id).toBe('67c552174fd92af44faaf9551e32e3c3');
  });

  it('depends on the order of the evidence', () => {
    expect(alertId('r', 1, ['a', 'b'])).not.toBe(alertId('r', 1, ['b', 'a']));
  });

  it('length-prefixes every part, so concatenations cannot collide', () => {
    expect(alertId('r', 1, ['ab', 'c'])).not.toBe(alertId('r', 1, ['a', 'bc']));
    expect(alertId('r', 1, ['a', ''])).not.toBe(alertId('r', 1, ['a']));
    expect(alertId('r1', 1, ['x'])).not.toBe(alertId('r', 11, ['x']));
    expect(alertId('r', 1, [])).not.toBe(alertId('r', 1, ['']));
  });

  it('depends on the rule id and version', () => {
    expect(alertId('r', 1, ['a'])).not.toBe(alertId('r', 2, ['a']));
    expect(alertId('r', 1, ['a'])).not.toBe(alertId('s', 1, ['a']));
    expect(alertId('r', 1, ['a'])).toBe(alertId('r', '1', ['a']));
  });

  it('hashes non-ASCII ids by their UTF-8 bytes', () => {
    expect(alertId('r', 1, ['é'])).not.toBe(alertId('r', 1, ['e\u0301']));
  });
});

describe('alertIdOf (a rule encodes its prefix once)', () => {
  it('gives alertId for the same parts, ASCII or not, short or long', () => {
    const cases: [string, number | string, string[]][] = [
      ['elastic-remote-sam', 1, ['evt-logon', 'evt-file']],
      ['r', '1:abc', []],
      ['r', 1, ['']],
      ['ü-rule', 3, ['é', 'e\u0301', '\ud800lone', '😀', 'x'.repeat(5_000)]],
    ];
    for (const [rule, version, ids] of cases)
      expect(alertIdOf(new AlertIdPrefix(rule, version), ids)).toBe(alertId(rule, version, ids));
    // Pinned (computed before the one-shot encoding): the bytes hashed did not change.
    expect(alertId('ü-rule', 3, ['\ud800lone', '😀'])).toBe('1a4edc311d17665ca1abf9b4083d1b00');
    expect(alertId('r', '1:abc', [])).toBe('2df13a285b46c2c1dbc981e62085f9ff');
  });
});

/** The documented encoding, written out part by part: the reference both of alertIdOf's paths must give. */
function referenceId(ruleId: string, version: number | string, ids: readonly string[]): string {
  const part = (text: string): Buffer => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const count = Buffer.alloc(4);
  count.writeUInt32BE(ids.length);
  const parts = [part('sequor.alert.v1'), part(ruleId), part(String(version)), count, ...ids.map(part)];
  return createHash('sha256').update(Buffer.concat(parts)).digest('hex').slice(0, 32);
}

describe('alertIdOf: the ASCII path (one string) and the byte path give the documented encoding', () => {
  it('at the edges of the ASCII path: 127/128-unit ids and rule ids, 127/128 ids, NUL and DEL, non-ASCII', () => {
    const many = (n: number): string[] => Array.from({ length: n }, (_, i) => `e${i}`);
    const cases: [string, number | string, string[]][] = [
      ['r', 1, ['x'.repeat(127)]],
      ['r', 1, ['x'.repeat(128)]],
      ['r', 1, ['a', 'x'.repeat(128), 'b']],
      ['r'.repeat(127), 1, ['a']],
      ['r'.repeat(128), 1, ['a']],
      ['r', 1, many(127)],
      ['r', 1, many(128)],
      ['r', 1, ['\u0000\u007f', '']],
      ['r', 1, ['\u0080']],
      ['r', 1, ['a', 'é', 'b']],
      ['ü', 1, ['a']],
      ['r', 1, ['\ud800']],
      ['r', 'v'.repeat(200), ['a']],
    ];
    for (const [rule, version, ids] of cases)
      expect(alertIdOf(new AlertIdPrefix(rule, version), ids)).toBe(referenceId(rule, version, ids));
  });
});
