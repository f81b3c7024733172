/**
 * Hostile and broken Sigma files in a rule folder (issue 13, "Bad input"): each is a clear error at
 * file:line:column, nothing crashes, and the good rules beside them still load.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ALIAS_COUNT, MAX_RULE_BYTES } from '@sequor/sigma';
import { loadRuleSet } from '../src/rule-set.js';

const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const rule = (n: number, selection = "Image|endswith: '\\\\x.exe'"): string => `title: Rule ${n}
id: ${uuid(n)}
level: medium
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    ${selection}
  condition: selection
`;

/** Billion laughs: nine levels of ten aliases each (10^9 nodes if expanded). */
function aliasBomb(): string {
  const lines = [
    'title: Bomb',
    `id: ${uuid(9_999)}`,
    'logsource: { product: windows, category: process_creation }',
    'lol:',
  ];
  lines.push('  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]');
  for (let i = 1; i < 9; i++)
    lines.push(`  a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  lines.push('detection:', '  selection:', '    Image: *a8', '  condition: selection');
  return `${lines.join('\n')}\n`;
}

describe('bad Sigma input in a rule folder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sigma-bad-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an alias bomb, an unknown modifier and a 10 MB rule with their positions; the good rule loads', async () => {
    const folder = path.join(dir, 'mixed');
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    await writeFile(path.join(folder, 'a-good.yml'), rule(1));
    await writeFile(path.join(folder, 'b-bomb.yml'), aliasBomb());
    await writeFile(path.join(folder, 'c-modifier.yml'), rule(3, "Image|endswith|sometimes: 'x'"));
    const huge = rule(4, `Image|contains: '${'A'.repeat(10 * 1024 * 1024)}'`);
    expect(huge.length).toBeGreaterThan(MAX_RULE_BYTES);
    await writeFile(path.join(folder, 'd-huge.yml'), huge);
    const loaded = await loadRuleSet({ paths: [folder], builtins: false });

    expect(loaded.rules.map((r) => r.id)).toEqual([uuid(1)]);
    const byFile = new Map(loaded.errors.map((e) => [path.basename(e.file), e]));
    // At the first alias (line 6: `a1: &a1 [*a0, ...`), not at the top of the file.
    expect(byFile.get('b-bomb.yml')).toMatchObject({ code: 'yaml-syntax', line: 6, column: 12 });
    expect(byFile.get('b-bomb.yml')?.detail).toContain(`more than ${MAX_ALIAS_COUNT}`);
    expect(byFile.get('c-modifier.yml')).toMatchObject({ code: 'sigma-modifier', line: 9, column: 5 });
    expect(byFile.get('c-modifier.yml')?.detail).toContain('sometimes');
    expect(byFile.get('d-huge.yml')).toMatchObject({ code: 'too-large', line: 1, column: 1 });
    // Every error reads file:line:column first.
    for (const e of loaded.errors) {
      expect(e.message.startsWith(`${e.file}:`)).toBe(true);
      expect(e.message.slice(e.file.length)).toMatch(/^:\d+:\d+: /);
    }
  }, 60_000);

  it('loads a folder of 3,000 Sigma files, bad ones reported, and says how long it took', async () => {
    const folder = path.join(dir, 'many');
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    const count = 3_000;
    for (let i = 0; i < count; i += 100)
      await Promise.all(
        Array.from({ length: 100 }, (_, k) => {
          const n = 10_000 + i + k;
          // Every 500th file is broken: an unknown modifier.
          const text =
            (i + k) % 500 === 0 ? rule(n, "Image|nope: 'x'") : rule(n, `Image|endswith: '\\\\t${n}.exe'`);
          return writeFile(path.join(folder, `r${n}.yml`), text);
        }),
      );
    const started = performance.now();
    const loaded = await loadRuleSet({ paths: [folder], builtins: false });
    const ms = performance.now() - started;
    console.log(
      `3,000 Sigma files loaded, checked and compiled in ${Math.round(ms)} ms (${loaded.rules.length} rules, ${loaded.errors.length} errors)`,
    );
    expect(loaded.rules).toHaveLength(count - count / 500);
    expect(loaded.errors).toHaveLength(count / 500);
    expect(loaded.errors.every((e) => e.code === 'sigma-modifier')).toBe(true);
  }, 300_000);
});
