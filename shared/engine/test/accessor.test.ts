import { describe, expect, it } from 'vitest';
import { compileAccessor } from '../src/index.js';

describe('compileAccessor', () => {
  it('reads a field at every depth, and undefined when a parent is missing or null', () => {
    const event = { a: { b: { c: { d: { e: 5 } } } }, n: null, top: 'x' };
    expect(compileAccessor(['top'])(event)).toBe('x');
    expect(compileAccessor(['a', 'b', 'c', 'd', 'e'])(event)).toBe(5);
    expect(compileAccessor(['a', 'missing', 'c'])(event)).toBeUndefined();
    expect(compileAccessor(['n', 'x'])(event)).toBeUndefined();
    expect(compileAccessor(['a', 'b', 'c', 'd', 'e', 'f'])(event)).toBeUndefined();
  });

  it('takes any property name as data, never as code (quotes, backslashes, line breaks)', () => {
    const odd = 'a"b\\c\'d\n`${e}`';
    const event = { [odd]: { '@timestamp': 1, constructor: 2 } };
    expect(compileAccessor([odd, '@timestamp'])(event)).toBe(1);
    expect(compileAccessor([odd, 'constructor'])(event)).toBe(2);
  });

  it('refuses an empty path', () => {
    expect(() => compileAccessor([])).toThrow(RangeError);
  });
});
