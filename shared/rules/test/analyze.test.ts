import { describe, expect, it } from 'vitest';
import { analyzeRuleText } from '../src/analyze.js';
import { severityForRiskScore } from '../src/metadata.js';
import { validRule, withLine, withQuery } from './fixtures.js';

const file = 'rules/test.yaml';
const analyze = (text: string) => analyzeRuleText(text, file);

describe('analyzeRuleText', () => {
  it('loads a valid rule with its parsed query and metadata', () => {
    const r = analyze(validRule);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.rule?.id).toBe('6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a11');
    expect(r.rule?.ast.body.kind).toBe('sequence');
    expect(r.rule?.threat[0]?.technique[0]?.id).toBe('T1112');
    expect(r.rule?.query).toContain('registry.path : "*\\\\Run\\\\*"');
  });

  it('reports a YAML syntax error at its file line and column and loads nothing', () => {
    const text = withLine(validRule, 7, 'author: [Sequor');
    const r = analyze(text);
    expect(r.rule).toBeNull();
    const e = r.errors[0];
    expect(e?.code).toBe('yaml-syntax');
    expect(e?.file).toBe(file);
    expect([e?.line, e?.column]).toEqual([8, 1]);
    expect(e?.message).toMatch(/^rules\/test\.yaml:8:1: YAML: /);
  });

  it('explains the YAML error an unquoted query with `:` causes', () => {
    const r = analyze(withQuery(validRule, 'query: registry where registry.value : "ImagePath"\n'));
    expect(r.errors[0]?.code).toBe('yaml-syntax');
    expect(r.errors[0]?.line).toBe(18);
    expect(r.errors[0]?.detail).toMatch(/block scalar, `query: \|`/);
  });

  it('points an EQL syntax error inside a | block at the file line and column', () => {
    // Line 21 of the file is the query's line 3; `and` is at query column 22, file column 24.
    const text = withQuery(
      validRule,
      'query: |\n  sequence by host.id with maxspan=1m\n    [process where true]\n    [registry where and]\n',
    );
    const r = analyze(text);
    expect(r.rule).toBeNull();
    expect(r.errors).toHaveLength(1);
    const e = r.errors[0];
    expect(e?.code).toBe('eql-syntax');
    expect([e?.line, e?.column]).toEqual([21, 21]);
    expect(e?.snippet.split('\n')).toEqual([
      expect.stringMatching(/^rules\/test\.yaml:21:21: /),
      '    [registry where and]',
      '                    ^~~',
    ]);
  });

  it('points an EQL error inside a folded > block and a quoted single-line query at the right place', () => {
    const folded = analyze(withQuery(validRule, 'query: >\n  registry where\n  registry.pth : "x"\n'));
    expect(folded.errors.map((e) => [e.code, e.line, e.column])).toEqual([['eql-semantic', 20, 3]]);
    const quoted = analyze(withQuery(validRule, 'query: "registry where registry.pth : \\"x\\""\n'));
    expect(quoted.errors.map((e) => [e.code, e.line, e.column])).toEqual([['eql-semantic', 18, 24]]);
  });

  it('reports an unknown field with its position and a suggestion', () => {
    const text = withLine(validRule, 21, '    [registry where registry.pth : "*\\\\Run\\\\*"]');
    const r = analyze(text);
    const e = r.errors[0];
    expect(e?.code).toBe('eql-semantic');
    expect([e?.line, e?.column]).toEqual([21, 21]);
    expect(e?.detail).toMatch(/registry\.pth/);
    expect(e?.detail).toMatch(/registry\.path/);
  });

  it('reports missing metadata at the document start and every problem in one pass', () => {
    let text = withLine(validRule, 5, '');
    text = withLine(text, 1, 'id: not-a-uuid');
    const r = analyze(text);
    expect(r.rule).toBeNull();
    const byCode = r.errors.map((e) => [e.code, e.line, e.column, e.detail]);
    expect(byCode).toContainEqual(['missing-field', 1, 1, expect.stringMatching(/has no `severity`/)]);
    expect(byCode).toContainEqual(['invalid-field', 1, 5, expect.stringMatching(/UUID/)]);
  });

  it('checks ATT&CK id formats and sub-technique parents', () => {
    let text = withLine(
      validRule,
      11,
      '    tactic: { id: T0005, name: Defense Evasion, reference: "https://attack.mitre.org/tactics/TA0005/" }',
    );
    text = withLine(text, 13, '      - id: T1112.001');
    const r = analyze(text);
    expect(r.errors.map((e) => [e.line, e.column, e.detail])).toEqual([
      [11, 19, expect.stringMatching(/tactic id/)],
      [13, 13, expect.stringMatching(/technique id/)],
    ]);
  });

  it('warns when risk_score and severity disagree in Elastic mapping, and still loads', () => {
    const r = analyze(withLine(validRule, 6, 'risk_score: 90'));
    expect(r.rule).not.toBeNull();
    expect(r.warnings.map((w) => [w.code, w.line, w.column])).toEqual([['risk-severity-mismatch', 6, 13]]);
    expect(r.warnings[0]?.snippet).toMatch(/warning: risk_score 90 is "critical"/);
  });

  it('refuses an out-of-range risk score and an unknown severity', () => {
    let text = withLine(validRule, 6, 'risk_score: 101');
    text = withLine(text, 5, 'severity: severe');
    const r = analyze(text);
    expect(r.errors.map((e) => [e.code, e.line])).toEqual([
      ['invalid-field', 5],
      ['invalid-field', 6],
    ]);
  });

  it('reports an unknown top-level key with a suggestion', () => {
    const r = analyze(withLine(validRule, 8, 'lisence: Apache License 2.0'));
    expect(r.errors.map((e) => [e.code, e.line, e.column])).toContainEqual(['unknown-key', 8, 1]);
    expect(r.errors.find((e) => e.code === 'unknown-key')?.detail).toMatch(/did you mean `license`/);
  });

  it('reports an unknown $field$ placeholder at its column in message', () => {
    const r = analyze(withLine(validRule, 16, 'message: Registry write on $host.nam$ to $registry.path$'));
    expect(r.errors.map((e) => [e.code, e.line, e.column, e.length])).toEqual([
      ['unknown-placeholder', 16, 28, 10],
    ]);
    expect(r.errors[0]?.detail).toMatch(/did you mean \$host\.name\$/);
  });

  it('refuses pipes and sample in streaming rules, and span/group_by on eql rules', () => {
    const piped = analyze(withQuery(validRule, 'query: process where true | head 5\n'));
    expect(piped.errors.map((e) => e.detail)).toEqual([expect.stringMatching(/hunting/)]);
    const sample = analyze(
      withQuery(
        validRule,
        'span: 1h\nquery: |\n  sample by host.id [process where true] [file where true]\n',
      ),
    );
    expect(sample.errors.map((e) => e.line)).toEqual([18, 20]);
  });

  it('requires span and group_by on span_aggregation rules and checks the group fields', () => {
    const text = withQuery(
      withLine(validRule, 17, 'type: span_aggregation'),
      'query: registry where true\nspan: 1x\ngroup_by: [host.id, registry.pth]\n',
    );
    const r = analyze(text);
    expect(r.errors.map((e) => [e.code, e.line, e.column])).toEqual([
      ['invalid-field', 19, 7],
      ['eql-semantic', 20, 21],
    ]);
  });

  it('requires every test event to have event.id and @timestamp, and evidence to name them', () => {
    const text =
      validRule +
      'tests:\n' +
      '  - name: t\n' +
      '    events:\n' +
      '      - { "@timestamp": "2024-01-01T00:00:00Z", event: { id: a } }\n' +
      '      - { event: { kind: event } }\n' +
      '    expect:\n' +
      '      - evidence: [a, b]\n';
    const r = analyze(text);
    expect(r.errors.map((e) => [e.code, e.line, e.column])).toEqual([
      ['invalid-test', 26, 9],
      ['invalid-test', 26, 9],
      ['invalid-test', 28, 23],
    ]);
  });

  it('maps risk scores to severities as Elastic does', () => {
    expect([0, 21, 22, 47, 48, 73, 74, 100].map(severityForRiskScore)).toEqual([
      'low',
      'low',
      'medium',
      'medium',
      'high',
      'high',
      'critical',
      'critical',
    ]);
  });
});
