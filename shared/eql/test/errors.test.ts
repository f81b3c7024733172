import { describe, expect, it } from 'vitest';
import { SequorError } from '@sequor/model';
import { EqlSyntaxError, MAX_NESTING, parse } from '@sequor/eql';

function syntaxError(source: string): EqlSyntaxError {
  try {
    parse(source);
  } catch (error) {
    expect(error).toBeInstanceOf(EqlSyntaxError);
    return error as EqlSyntaxError;
  }
  throw new Error(`expected a syntax error for: ${source}`);
}

/** The column of the first occurrence of `marker` on its line (1-based), to keep expectations readable. */
function columnOf(source: string, marker: string, occurrence = 0): { line: number; column: number } {
  let from = 0;
  let at = -1;
  for (let i = 0; i <= occurrence; i++) {
    at = source.indexOf(marker, from);
    from = at + 1;
  }
  if (at < 0) throw new Error(`marker ${marker} not in source`);
  const before = source.slice(0, at);
  const line = before.split('\n').length;
  return { line, column: at - before.lastIndexOf('\n') };
}

describe('syntax error positions', () => {
  const cases: Array<[string, string, string, number?]> = [
    // [query, the text the caret must sit on, expected fragment of the message, occurrence]
    ['process where', '', 'end of input'],
    ['process where a == ', '', 'a field, literal or function call'],
    ['process a == 1', 'a ==', '"where"'],
    ['process where a = 1', '= 1', '"=="'],
    ['process where a == "x" AND b == 1', 'AND', 'keywords are lowercase'],
    ['process where (a == 1', '', '")"'],
    ['process where a == "unterminated', '"unterminated', 'unterminated string'],
    ['process where a == "bad \\q escape"', '\\q', 'unknown escape'],
    ["process where a == 'single'", "'single'", 'double quotes'],
    ['process where a : 5', '5', 'string pattern'],
    ['process where a == 1 == 2', '== 2', 'do not chain'],
    ['process where a in "x"', '"x"', '"("'],
    ['process where a == 1 | count', 'count', '"head"'],
    ['sequence with maxspan=5 [a where true] [b where true]', '5', 'unit'],
    ['sequence with maxspan=5x [a where true] [b where true]', 'x [', 'unit'],
    ['sequence [a where true] with maxspan=1m [b where true]', 'maxspan', 'header'],
    ['sample by h with maxspan=1m [a where true] [b where true]', 'with', 'sample takes no maxspan'],
    ['sample by h [a where true] [b where true] until [c where true]', 'until', 'sample takes no until'],
    ['sequence [a where true] [b where true] until ![c where true]', '![c', 'until item cannot be a missing'],
    ['process where a ! b', '!', 'not'],
    ['process where a == 1 + 2', '+', 'arithmetic'],
    ['SEQUENCE by h [a where true] [b where true]', 'SEQUENCE', 'keywords are lowercase'],
    ['process where /* never closed', '/*', 'unterminated comment'],
    ['process where a.', '', 'a field name after "."'],
    ['process where `unclosed', '`unclosed', 'unterminated backquoted'],
  ];

  it.each(cases)('%s', (source, marker, message, occurrence = 0) => {
    const error = syntaxError(source);
    const where =
      marker === '' ? { line: 1, column: source.trimEnd().length + 1 } : columnOf(source, marker, occurrence);
    expect({ line: error.line, column: error.column }).toEqual(where);
    expect(error.message).toContain(message);
    expect(error.offset).toBe(marker === '' ? source.trimEnd().length : source.indexOf(marker));
  });

  it('points into line 3 of a multi-line sequence, with a caret under the column', () => {
    const source = [
      'sequence by host.id with maxspan=1m',
      '  [authentication where event.outcome == "success"]',
      '  [file where file.size >= 30000 and process.name : ]',
    ].join('\n');
    const error = syntaxError(source);
    expect(error.line).toBe(3);
    expect(error.column).toBe(53);
    expect(error.found).toBe(']');
    expect(error.expected).toEqual(['a string pattern after ":"']);
    const formatted = error.format('rules/remote-registry.yaml');
    const lines = formatted.split('\n');
    expect(lines[0]).toBe(
      'rules/remote-registry.yaml:3:53: expected a string pattern after ":" but found "]"',
    );
    expect(lines[1]).toBe('  [file where file.size >= 30000 and process.name : ]');
    expect(lines[2]!.indexOf('^')).toBe(52);
    expect(lines[2]!.trim()).toBe('^');
  });

  it('counts CRLF line breaks once and keeps tabs in the caret line', () => {
    const source = 'process where\r\n\ta == 1 and\r\n\tb ==';
    const error = syntaxError(source);
    expect(error.line).toBe(3);
    expect(error.column).toBe(6);
    expect(error.format().split('\n')[2]).toBe('\t    ^');
  });

  it('puts an end-of-input error right after the last token, not on trailing blank lines', () => {
    const error = syntaxError('sequence by host.id\n  [process where a ==\n\n  // trailing comment\n');
    expect({ line: error.line, column: error.column, offset: error.offset }).toEqual({
      line: 2,
      column: 22,
      offset: 41,
    });
    expect(error.format().split('\n').slice(1)).toEqual(['  [process where a ==', ' '.repeat(21) + '^']);
    const raw = syntaxError('sequence [a where b == ' + '"'.repeat(3) + 'x\ny' + '"'.repeat(3));
    expect({ line: raw.line, column: raw.column }).toEqual({ line: 2, column: 5 });
  });

  it('underlines the whole offending token', () => {
    const error = syntaxError('process where a == 1 AND b');
    expect(error.length).toBe(3);
    expect(error.format().split('\n')[2]).toBe(' '.repeat(21) + '^~~');
  });

  it('reports what was expected and what was found', () => {
    const error = syntaxError('sequence [a where true] [b where x == 1');
    expect(error.expected).toEqual(['"]"', '"and"', '"or"']);
    expect(error.found).toBe('end of input');
  });

  it('is a SequorError that is not retriable', () => {
    const error = syntaxError('nope');
    expect(error).toBeInstanceOf(SequorError);
    expect(error.retriable).toBe(false);
    expect(error.name).toBe('EqlSyntaxError');
  });

  it('rejects absurd nesting with a syntax error, not a stack overflow', () => {
    const deep = `process where ${'('.repeat(MAX_NESTING + 5)}a${')'.repeat(MAX_NESTING + 5)}`;
    expect(syntaxError(deep).message).toContain('nested more than');
    const nots = `process where ${'not '.repeat(MAX_NESTING + 5)}a`;
    expect(syntaxError(nots).message).toContain('nested more than');
    expect(() => parse(`process where ${'('.repeat(50)}a${')'.repeat(50)}`)).not.toThrow();
  });

  it.each([
    ['process where a == "\\u{41"', 'bad unicode escape'],
    ['process where a == "\\u{110000}"', 'bad unicode escape'],
    ['process where a == 1e999', 'out of range'],
    ['process where a : """never closed', 'unterminated raw string'],
    ['', 'empty query'],
    ['process where a == 1 &&', 'write "and"'],
    ['process where `` == 1', 'empty backquoted name'],
    ['process where a~ == 1', '"~"'],
    ['sequence [a where true] [b where true] with runs=1.5', 'whole number'],
    ['sequence with maxspan=1.5h [a where true] [b where true]', 'whole number'],
    ['sequence by a', '"["'],
    ['process where a in ()', 'a field, literal or function call'],
    ['process where f(a b)', '")"'],
  ])('rejects %s', (source, message) => {
    expect(syntaxError(source).message).toContain(message);
  });
});
