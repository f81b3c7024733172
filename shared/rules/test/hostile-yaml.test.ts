/**
 * A hostile rule file ("billion laughs": anchors whose aliases expand exponentially) is one rule error
 * at its file:line:col, and never hides the findings of the other files loaded with it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRuleText } from '../src/analyze.js';
import { loadRuleFiles } from '../src/loader.js';
import { validRule } from './fixtures.js';

/** Nine levels of nine aliases each: 9^9 strings once expanded. Generated, never stored. */
function aliasBomb(): string {
  const lines = [
    'id: 00000000-0000-4000-8000-000000000000',
    'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
  ];
  for (let i = 1; i < 10; i++)
    lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

let dir = '';
beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'sequor-rules-hostile-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('alias bomb in a rule file', () => {
  it('is a yaml-syntax error at the first alias, not an exception', () => {
    const result = analyzeRuleText(aliasBomb(), 'bomb.yaml');
    expect(result.rule).toBeNull();
    expect(result.errors).toHaveLength(1);
    const error = result.errors[0];
    expect(error?.code).toBe('yaml-syntax');
    expect(error?.message).toMatch(/^bomb\.yaml:3:10: YAML: aliases expand to too many nodes/);
  });

  it('leaves the other files loaded and their findings reported', async () => {
    const bomb = path.join(dir, 'bomb.yaml');
    const broken = path.join(dir, 'broken.yaml');
    const good = path.join(dir, 'good.yaml');
    writeFileSync(bomb, aliasBomb());
    writeFileSync(broken, 'id: 1\nname: [\n');
    writeFileSync(good, validRule);
    const loaded = await loadRuleFiles([bomb, broken, good]);
    expect(loaded.rules.map((r) => r.id)).toEqual(['6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a11']);
    expect(loaded.errors.map((e) => path.basename(e.file))).toEqual(
      expect.arrayContaining(['bomb.yaml', 'broken.yaml']),
    );
  });
});

describe('positions of YAML syntax errors', () => {
  it('name the line the offset is on, after flow collections and lone carriage returns alike', () => {
    // yaml's own LineCounter placed this at 2:32 (it missed the break after the flow maps).
    const duplicate = analyzeRuleText('a:.x\n  b: { c: 1 }, d: { e: 2 },\n  b: 3', 'x.yaml');
    const unique = duplicate.errors.find((e) => e.message.includes('Map keys must be unique'));
    expect(unique).toMatchObject({ line: 3, column: 4, offset: 36 });
    const cr = analyzeRuleText('\r#comment\rid: x', 'y.yaml');
    expect(cr.errors[0]).toMatchObject({ line: 2, column: 1, offset: 1 });
  });
});
