import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSigmaPath } from '../src/index.js';
import { ruleText } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sequor-sigma-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loading a folder', () => {
  it('3,000 files with bad ones among them: every good rule loads, each bad file is one clear error', async () => {
    for (let i = 0; i < 2996; i++) {
      const text = ruleText(`  sel:\n    CommandLine|contains: 'token${i}'\n  condition: sel`).replace(
        '5f1d6c1e-0000-4000-8000-000000000001',
        `5f1d6c1e-0000-4000-8000-${String(i).padStart(12, '0')}`,
      );
      writeFileSync(path.join(dir, `rule_${i}.yml`), text);
    }
    writeFileSync(path.join(dir, 'bad_yaml.yml'), 'title: x\ndetection: [\n');
    writeFileSync(
      path.join(dir, 'bad_bomb.yml'),
      'a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
    );
    writeFileSync(
      path.join(dir, 'bad_big.yml'),
      `title: big\ndescription: ${'x'.repeat(10 * 1024 * 1024)}\n`,
    );
    symlinkSync(path.join(dir, 'nowhere.yml'), path.join(dir, 'bad_link.yml'));
    const started = performance.now();
    const loaded = await loadSigmaPath(dir);
    console.log(`3,000 rule files loaded in ${(performance.now() - started).toFixed(0)} ms`);
    expect(loaded.files).toHaveLength(3000);
    expect(loaded.rules).toHaveLength(2996);
    expect(loaded.errors.map((e) => [path.basename(e.file), e.code]).sort()).toEqual([
      ['bad_big.yml', 'too-large'],
      ['bad_bomb.yml', 'yaml-syntax'],
      ['bad_link.yml', 'io'],
      ['bad_yaml.yml', 'yaml-syntax'],
    ]);
  }, 120_000);

  it('a path that does not exist is one io error', async () => {
    const r = await loadSigmaPath(path.join(dir, 'missing'));
    expect(r.errors[0]?.code).toBe('io');
    expect(r.rules).toEqual([]);
  });
});
