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

  describe('with suppress', () => {
    // Three process -> registry pairs on one host within 50 s: three sequence matches, one window.
    const pairs = `    events:
${[1, 2, 3]
  .map(
    (n) =>
      `      - { "@timestamp": "2024-01-01T00:00:${n}0Z", event: { id: p${n}, category: [process] }, host: { id: h1 }, process: { name: reg.exe } }\n` +
      `      - { "@timestamp": "2024-01-01T00:00:${n}5Z", event: { id: w${n}, category: [registry] }, host: { id: h1 }, registry: { path: "HKLM\\\\Software\\\\Run\\\\x" } }\n`,
  )
  .join('')}`;
    function suppressedRule(tests: string): Rule {
      const text = `${validRule}suppress: { by: [host.id], window: 1h }\ntests:\n${tests}`;
      const r = analyzeRuleText(text, 'rules/s.yaml');
      if (r.rule === null) throw new Error(r.errors.map((e) => e.format()).join('\n'));
      return r.rule;
    }

    it('expects the published alerts only, and the updates when the case lists them', () => {
      const [withUpdates, alertsOnly] = runRuleTests([
        suppressedRule(
          `  - name: counted\n${pairs}    expect:\n      - evidence: [p1, w1]\n` +
            `    expect_updates:\n      - { alert: [p1, w1], count: 2, last_evidence: [p3, w3] }\n` +
            `  - name: alerts only\n${pairs}    expect:\n      - evidence: [p1, w1]\n`,
        ),
      ]);
      expect(withUpdates).toMatchObject({
        passed: true,
        actual: [['p1', 'w1']],
        expectedUpdates: ['[p1, w1] +2 last [p3, w3]'],
        actualUpdates: ['[p1, w1] +2 last [p3, w3]'],
      });
      expect(alertsOnly).toMatchObject({ passed: true, expectedUpdates: null, missingUpdates: [] });
    });

    it('the unsuppressed alerts are not expected any more; a wrong update fails with a diff', () => {
      const [unsuppressed, wrongCount] = runRuleTests([
        suppressedRule(
          `  - name: every match\n${pairs}    expect:\n      - evidence: [p1, w1]\n      - evidence: [p2, w2]\n      - evidence: [p3, w3]\n` +
            `  - name: wrong count\n${pairs}    expect:\n      - evidence: [p1, w1]\n` +
            `    expect_updates:\n      - { alert: [p1, w1], count: 3, last_evidence: [p3, w3] }\n`,
        ),
      ]);
      expect(unsuppressed).toMatchObject({
        passed: false,
        missing: [
          ['p2', 'w2'],
          ['p3', 'w3'],
        ],
      });
      expect(wrongCount?.passed).toBe(false);
      expect(describeFailures([wrongCount!])).toEqual([
        'rules/s.yaml: wrong count: missing none; unexpected none; updates missing [p1, w1] +3 last [p3, w3]; unexpected [p1, w1] +2 last [p3, w3]',
      ]);
    });

    it('`expect_updates` on a rule without suppress is a failed case; a bad one is a load error', () => {
      const [result] = runRuleTests([
        ruleWithTests(
          `  - name: no suppress\n${events}    expect:\n      - evidence: [p, w]\n    expect_updates: []\n`,
        ),
      ]);
      expect(result?.error).toMatch(/expect_updates.*without `suppress`/);
      const bad = analyzeRuleText(
        `${validRule}suppress: { by: [host.id], window: 1h }\ntests:\n  - name: bad\n${pairs}    expect: []\n` +
          `    expect_updates:\n      - { alert: [p9], count: 0, last_evidence: [w1], closed: end }\n`,
        'rules/s.yaml',
      );
      expect(bad.errors.map((e) => e.message)).toEqual([
        expect.stringMatching(/unknown key `closed`/),
        expect.stringMatching(/count` must be an integer >= 1/),
        expect.stringMatching(/evidence "p9" is not the event.id/),
      ]);
    });
  });
});
