import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinRulesDir } from '../src/builtin.js';
import { listRuleFiles } from '../src/loader.js';
import { loadRuleSet, RulePathError, ruleSetFiles } from '../src/rule-set.js';

const builtinFile = 'car-2014-11-005-remote-registry.yaml';

async function problemOf(
  promise: Promise<unknown>,
): Promise<{ path: string; problem: string; cause: unknown }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RulePathError);
  const { path: p, problem, cause } = error as RulePathError;
  return { path: p, problem, cause };
}

describe('the rule-set loader the CLI and the detector share', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rule-set-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts from the built-ins, then each path: a directory searched, a file taken as is', async () => {
    const builtins = await listRuleFiles(builtinRulesDir);
    await mkdir(path.join(dir, 'nested'));
    await writeFile(path.join(dir, 'nested', 'b.yml'), 'x');
    await writeFile(path.join(dir, 'a.yaml'), 'x');
    await writeFile(path.join(dir, 'notes.txt'), 'x');
    const single = path.join(dir, 'notes.txt');
    expect(await ruleSetFiles({ paths: [dir, single] })).toEqual([
      ...builtins,
      path.join(dir, 'a.yaml'),
      path.join(dir, 'nested', 'b.yml'),
      single,
    ]);
    expect(await ruleSetFiles({ paths: [dir], builtins: false })).toEqual([
      path.join(dir, 'a.yaml'),
      path.join(dir, 'nested', 'b.yml'),
    ]);
  });

  it('names a path it cannot read, with the file system error as cause', async () => {
    const missing = path.join(dir, 'missing');
    const { path: p, problem, cause } = await problemOf(ruleSetFiles({ paths: [missing] }));
    expect([p, problem, (cause as NodeJS.ErrnoException).code]).toEqual([missing, 'unreadable', 'ENOENT']);
  });

  it('refuses an empty directory unless told a mounted folder may be empty', async () => {
    expect(await problemOf(ruleSetFiles({ paths: [dir] }))).toMatchObject({
      path: dir,
      problem: 'no-rule-files',
    });
    expect(await ruleSetFiles({ paths: [dir], builtins: false, refuseEmptyDirectories: false })).toEqual([]);
  });

  it('refuses a file where only directories are taken (a service setting)', async () => {
    const file = path.join(dir, 'a.yaml');
    await writeFile(file, 'x');
    expect(await problemOf(ruleSetFiles({ paths: [file], directoriesOnly: true }))).toMatchObject({
      path: file,
      problem: 'not-a-directory',
    });
  });

  it('checks the user rules with the built-ins: a reused built-in id is an error, the rest load', async () => {
    await copyFile(path.join(builtinRulesDir, builtinFile), path.join(dir, 'copy.yaml'));
    const loaded = await loadRuleSet({ paths: [dir] });
    expect(loaded.rules).toHaveLength(4);
    expect(loaded.errors.map((e) => [path.basename(e.file), e.code])).toEqual([
      ['copy.yaml', 'duplicate-id'],
    ]);
  });

  it('checks correlation keys against the partition key it is given', async () => {
    const loose = await loadRuleSet({}, { partitionKeyFields: ['user.id'] });
    expect(loose.errors.every((e) => e.code === 'incompatible-partition-key')).toBe(true);
    expect(loose.errors.length).toBeGreaterThan(0);
    expect((await loadRuleSet({})).errors).toEqual([]);
  });
});
