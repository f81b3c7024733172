import { describe, expect, it } from 'vitest';
import { MessageTemplate, renderValue } from '../src/message.js';

describe('MessageTemplate', () => {
  it('finds $field$ placeholders with their offsets and leaves other dollars alone', () => {
    const t = MessageTemplate.parse('Cost $5 on $host.name$ ($user.name$ paid $)');
    expect(t.placeholders).toEqual([
      { field: 'host.name', offset: 11, length: 11 },
      { field: 'user.name', offset: 24, length: 11 },
    ]);
    expect(t.render((f) => (f === 'host.name' ? 'WS1' : null))).toBe('Cost $5 on WS1 (unknown paid $)');
  });

  it('renders Splunk RBA messages with ECS names', () => {
    const t = MessageTemplate.parse(
      'A registry entry $registry.path$ with registry keyname $registry.key$ related to Remcos RAT in host $host.name$',
    );
    expect(t.fields()).toEqual(['registry.path', 'registry.key', 'host.name']);
    const values: Record<string, unknown> = {
      'registry.path': 'HKU\\S\\Software\\Remcos-1\\licence',
      'registry.key': 'S\\Software\\Remcos-1',
      'host.name': 'WS7',
    };
    expect(t.render((f) => values[f])).toBe(
      'A registry entry HKU\\S\\Software\\Remcos-1\\licence with registry keyname S\\Software\\Remcos-1 related to Remcos RAT in host WS7',
    );
  });

  it('renders values: arrays joined, numbers as text, null and empty arrays as missing', () => {
    expect(renderValue(['a', 'b'])).toBe('a, b');
    expect(renderValue(445)).toBe('445');
    expect(renderValue(false)).toBe('false');
    expect(renderValue([])).toBeNull();
    expect(renderValue(null)).toBeNull();
    expect(MessageTemplate.parse('$a$$b$').render((f) => f.toUpperCase())).toBe('AB');
  });
});
