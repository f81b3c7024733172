import { describe, expect, it } from 'vitest';
import { analyzeRuleText } from '../src/analyze.js';
import { describeFailures, runRuleTests } from '../src/test-runner.js';
import type { Rule } from '../src/types.js';
import { validRule } from './fixtures.js';

const events = `    events:
      - { "@timestamp": "2024-01-01T00:00:10Z", event: { id: w, category: [registry] }, host: { id: h1 }, registry: { path: "HKLM\\\\Software\\\\Run\\\\x" } }
      - { "@timestamp": "2024-01-01T00:00:00Z", event: { id: p, category: [process] }, host: { id: h1 }, process: { name: reg.exe } }
`;

function ruleWithTests(tests: string): Rule {
  const r = analyzeRuleText(`${validRule}tests:\n${tests}`, 'rules/t.yaml');
  if (r.rule === null) throw new Error(r.errors.map((e) => e.format()).join('\n'));
  return r.rule;
}

describe('runRuleTests', () => {
  it('passes when the evidence matches, with events listed out of time order', () => {
    const [result] = runRuleTests([
      ruleWithTests(`  - name: fires\n${events}    expect:\n      - evidence: [p, w]\n`),
    ]);
    expect(result).toMatchObject({
      testName: 'fires',
      passed: true,
      actual: [['p', 'w']],
      missing: [],
      unexpected: [],
      error: null,
    });
  });

  it('fails with a diff of missing and unexpected evidence', () => {
    const rule = ruleWithTests(
      `  - name: wrong order expected\n${events}    expect:\n      - evidence: [w, p]\n` +
        `  - name: must not fire\n${events}    expect: []\n`,
    );
    const [wrong, silent] = runRuleTests([rule]);
    expect(wrong).toMatchObject({ passed: false, missing: [['w', 'p']], unexpected: [['p', 'w']] });
    expect(silent).toMatchObject({ passed: false, missing: [], unexpected: [['p', 'w']] });
    expect(describeFailures([wrong, silent].filter((r) => r !== undefined))).toEqual([
      'rules/t.yaml: wrong order expected: missing [w, p]; unexpected [p, w]',
      'rules/t.yaml: must not fire: missing none; unexpected [p, w]',
    ]);
  });

  it('reports an event the ecs format refuses as a failed case, not an exception', () => {
    const bad = `  - name: bad event\n    events:\n      - { "@timestamp": "not a time", event: { id: x }, host: { id: h1 } }\n    expect: []\n`;
    const [result] = runRuleTests([ruleWithTests(bad)]);
    expect(result?.passed).toBe(false);
    expect(result?.error).toMatch(/ecs/);
  });
});
