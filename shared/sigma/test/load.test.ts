import { describe, expect, it } from 'vitest';
import { loadSigmaText, MAX_RULE_BYTES } from '../src/index.js';
import { splitAuthors } from '../src/rule.js';
import { load, matcher, refusal, ruleText } from './helpers.js';

describe('conditions', () => {
  const detection = (condition: string): string =>
    `  sel_a:\n    A: 'x'\n  sel_b:\n    B: 'x'\n  filter_c:\n    C: 'x'\n  _private:\n    D: 'x'\n  condition: ${condition}`;
  const cases: [string, Record<string, string>, boolean][] = [
    ['sel_a and sel_b', { A: 'x', B: 'x' }, true],
    ['sel_a and sel_b', { A: 'x' }, false],
    ['sel_a or sel_b', { B: 'x' }, true],
    ['sel_a and not filter_c', { A: 'x', C: 'x' }, false],
    ['sel_a and not filter_c', { A: 'x' }, true],
    ['not sel_a and sel_b', { B: 'x' }, true],
    ['sel_a or sel_b and filter_c', { A: 'x' }, true], // and binds tighter than or
    ['(sel_a or sel_b) and filter_c', { A: 'x' }, false],
    ['1 of sel_*', { B: 'x' }, true],
    ['any of sel_*', { B: 'x' }, true],
    ['all of sel_*', { B: 'x' }, false],
    ['all of sel_*', { A: 'x', B: 'x' }, true],
    ['all of them', { A: 'x', B: 'x', C: 'x' }, true], // _private is not in them
    ['1 of them', { D: 'x' }, false],
    ['1 of *', { D: 'x' }, false], // a pattern is `them` restricted: _private is not in it either
    ['1 of *', { A: 'x' }, true],
    ['1 of _priv*', { D: 'x' }, true], // unless the pattern names such identifiers itself
    ['1 of sel_* and not 1 of filter_*', { A: 'x', C: 'x' }, false],
    ['not not sel_a', { A: 'x' }, true],
  ];
  it.each(cases)('%s over %j', (condition, event, expected) => {
    expect(matcher(detection(condition))(event)).toBe(expected);
  });

  it('an empty search map is refused: it would hold on every event, so `not filter` never would', () => {
    expect(refusal("  sel:\n    A: 'x'\n  filter: {}\n  condition: sel and not filter")).toMatchObject({
      code: 'invalid-rule',
      line: 11,
      detail: expect.stringMatching(/empty search map/),
    });
    expect(refusal("  sel:\n    - {}\n    - A: 'x'\n  condition: sel")).toMatchObject({
      code: 'invalid-rule',
    });
  });

  it("fields named as an object's inherited properties (toString, constructor) are fields like any other", () => {
    const m = matcher("  sel:\n    toString: 'y'\n    constructor|contains: 'z'\n  condition: sel");
    expect(m({ toString: 'y', constructor: 'xzx' })).toBe(true);
    expect(m({ toString: 'n', constructor: 'xzx' })).toBe(false);
    expect(m({ Image: 'x' })).toBe(false);
  });

  it('a list of conditions is their or', () => {
    const m = matcher("  a:\n    A: 'x'\n  b:\n    B: 'x'\n  condition:\n    - a\n    - b");
    expect(m({ B: 'x' })).toBe(true);
  });

  it('a list of maps is any of the maps', () => {
    const m = matcher("  sel:\n    - A: 'x'\n      B: 'y'\n    - C: 'z'\n  condition: sel");
    expect(m({ A: 'x', B: 'y' })).toBe(true);
    expect(m({ A: 'x' })).toBe(false);
    expect(m({ C: 'z' })).toBe(true);
  });

  it('errors point at the condition token', () => {
    expect(refusal("  sel:\n    A: 'x'\n  condition: sel and nope")).toMatchObject({
      code: 'invalid-condition',
      line: 11,
      column: 22,
    });
    expect(refusal("  sel:\n    A: 'x'\n  condition: 1 of nothing*").detail).toMatch(
      /matches no search identifier/,
    );
    expect(refusal("  sel:\n    A: 'x'\n  condition: (sel").detail).toMatch(/without `\)`/);
    expect(refusal("  sel:\n    A: 'x'\n  condition: sel and").code).toBe('invalid-condition');
    expect(refusal("  sel:\n    A: 'x'\n  condition: 2 of sel").code).toBe('invalid-condition');
  });

  it('Sigma 1 aggregations and near are refused with the reason', () => {
    const agg = refusal("  sel:\n    A: 'x'\n  condition: sel | count() by B > 5");
    expect(agg).toMatchObject({ code: 'unsupported', line: 11, column: 18 });
    expect(agg.detail).toMatch(/correlation rule/);
    expect(refusal("  sel:\n    A: 'x'\n  timeframe: 5m\n  condition: sel").code).toBe('unsupported');
  });
});

describe('rule files', () => {
  it('reads the metadata', () => {
    const text = [
      'title: Suspicious thing',
      'id: 0e5b4b4c-1111-4222-8333-444455556666',
      'related:',
      '  - id: 11111111-1111-4111-8111-111111111111',
      '    type: derived',
      'status: experimental',
      'description: A test',
      'author: Alice (Org), Bob',
      'date: 2024-01-01',
      'tags:',
      '  - attack.execution',
      '  - attack.t1059',
      'logsource:',
      '  product: windows',
      '  service: security',
      'detection:',
      '  sel:',
      '    EventID: 4688',
      '  condition: sel',
      'level: critical',
    ].join('\n');
    const { rule, errors } = loadSigmaText(text, 'r.yml');
    expect(errors).toEqual([]);
    expect(rule).toMatchObject({
      id: '0e5b4b4c-1111-4222-8333-444455556666',
      title: 'Suspicious thing',
      status: 'experimental',
      level: 'critical',
      author: 'Alice (Org), Bob',
      authors: ['Alice (Org)', 'Bob'],
      tags: ['attack.execution', 'attack.t1059'],
      related: [{ id: '11111111-1111-4111-8111-111111111111', type: 'derived' }],
      logsource: { product: 'windows', service: 'security' },
      date: '2024-01-01',
    });
  });

  it('a bad level, a missing title or detection are errors with positions', () => {
    const bad = loadSigmaText(
      ruleText("  sel:\n    A: 'x'\n  condition: sel").replace('level: high', 'level: severe'),
      'r.yml',
    );
    expect(bad.errors[0]).toMatchObject({ code: 'invalid-rule', line: 4, column: 8 });
    expect(bad.errors[0]?.format()).toContain('r.yml:4:8: `level` must be one of');
    const noTitle = loadSigmaText(
      ruleText("  sel:\n    A: 'x'\n  condition: sel").replace(/^title.*\n/, ''),
      'r.yml',
    );
    expect(noTitle.errors[0]?.detail).toMatch(/needs `title`/);
    expect(loadSigmaText('title: x\nlogsource:\n  product: windows\n', 'r.yml').errors[0]?.detail).toMatch(
      /needs a `detection`/,
    );
  });

  it('YAML syntax errors are reported with their position', () => {
    const r = loadSigmaText('title: x\ndetection: [\n', 'r.yml');
    expect(r.rule).toBeNull();
    expect(r.errors[0]?.code).toBe('yaml-syntax');
    expect(r.errors[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it('an alias bomb is refused cleanly', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'title: bomb',
      'logsource:',
      '  product: windows',
      'detection:',
      '  sel:',
      '    A: *f',
      '  condition: sel',
    ].join('\n');
    const r = loadSigmaText(bomb, 'bomb.yml');
    expect(r.rule).toBeNull();
    expect(r.errors[0]?.code).toBe('yaml-syntax');
    expect(r.errors[0]?.detail).toMatch(/alias bomb/);
  });

  it('an alias used before its anchor is said so, not called a bomb', () => {
    const early =
      'title: early\nx: *e\ny: &e [1]\nlogsource:\n  product: windows\ndetection:\n  sel:\n    A: 1\n  condition: sel';
    const r = loadSigmaText(early, 'early.yml');
    expect(r.rule).toBeNull();
    expect(r.errors.map((e) => [e.code, e.line, e.detail])).toEqual([
      ['yaml-syntax', 2, expect.stringMatching(/an alias is used before its anchor, or has none/)],
    ]);
  });

  it('a 10 MB rule is refused unread', () => {
    const big =
      ruleText("  sel:\n    A: 'x'\n  condition: sel") + `description: ${'x'.repeat(10 * 1024 * 1024)}\n`;
    expect(big.length).toBeGreaterThan(MAX_RULE_BYTES);
    const r = loadSigmaText(big, 'big.yml');
    expect(r.rule).toBeNull();
    expect(r.errors[0]).toMatchObject({ code: 'too-large', line: 1, column: 1 });
  });

  it('several documents (correlations, Sigma 1 collections) are refused with the reason', () => {
    const r = loadSigmaText(
      `${ruleText("  sel:\n    A: 'x'\n  condition: sel")}---\ntitle: second\n`,
      'multi.yml',
    );
    expect(r.errors[0]).toMatchObject({ code: 'unsupported', line: 13 });
  });

  it('every error of independent parts is reported at once', () => {
    const r = load("  sel:\n    A|nope: 'x'\n  other:\n    B|re: '(?=x)'\n  condition: sel");
    expect(r.errors.map((e) => e.code)).toEqual(['invalid-modifier', 'unsupported']);
  });
});

describe('authors', () => {
  it('splits the author line at commas outside parentheses (affiliations stay with their author)', () => {
    expect(splitAuthors('Florian Roth (Nextron Systems), X (@x, y)')).toEqual([
      'Florian Roth (Nextron Systems)',
      'X (@x, y)',
    ]);
    expect(splitAuthors(' a ,b,, c ')).toEqual(['a', 'b', 'c']);
    expect(splitAuthors('')).toEqual([]);
    // An unclosed parenthesis: every comma, rather than one author swallowing the rest.
    expect(splitAuthors('A (x, B')).toEqual(['A (x', 'B']);
  });
});
