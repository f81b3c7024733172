import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeRuleText } from '../src/analyze.js';
import { runRuleTests } from '../src/test-runner.js';

const readme = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../README.md'), 'utf8');
const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const typoOutput = /A typo in it reads like this:\n\n```\n([\s\S]*?)\n```/.exec(readme)?.[1] ?? '';

describe('README worked example', () => {
  it('is a valid rule whose embedded test passes', () => {
    const r = analyzeRuleText(example, 'rules/run-key.yaml');
    expect(r.errors.map((e) => e.format())).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(runRuleTests(r.rule === null ? [] : [r.rule]).map((t) => [t.testName, t.passed])).toEqual([
      ['fires', true],
    ]);
  });

  it('shows the error its typo really produces', () => {
    const r = analyzeRuleText(
      example.replace('registry where registry.path', 'registry where registry.pth'),
      'rules/run-key.yaml',
    );
    expect(r.errors.map((e) => e.format())).toEqual([typoOutput]);
  });
});
