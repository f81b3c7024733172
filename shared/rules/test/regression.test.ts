import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRuleSet } from '../src/rule-set.js';
import { listRegressionTests, runRegressionTests } from '../src/regression.js';

const sigmaDir = path.resolve(import.meta.dirname, '../../../../shared/sigma');

describe("SigmaHQ's regression tests through the rule set, the evtx-json format and the engine", () => {
  it('every loaded rule gives its match_count but the four extras SigmaHQ counts less (see @sequor/sigma)', async () => {
    const loaded = await loadRuleSet({ paths: [path.join(sigmaDir, 'rules')], builtins: false });
    const infos = await listRegressionTests(path.join(sigmaDir, 'regression_data'));
    expect(infos.length).toBeGreaterThanOrEqual(162);
    const results = await runRegressionTests(infos, loaded.rules);
    const failed = results.filter((r) => r.outcome !== 'pass');
    // Each extra event satisfies the rule as written (the same four as the standalone Sigma tests).
    expect(failed.map((r) => [r.ruleId, r.outcome, r.matched, r.expected])).toEqual([
      ['0b9ad457-2554-44c1-82c2-d56a99c42377', 'fail', 3, 1],
      ['8fbf3271-1ef6-4e94-8210-03c2317947f6', 'fail', 3, 1],
      ['45e112d0-7759-4c2a-aa36-9f8fb79d3393', 'fail', 3, 1],
      ['c7dcacd0-cc59-4004-b0a4-1d6cdebe6f3e', 'fail', 2, 1],
    ]);
    expect(results.length - failed.length).toBeGreaterThanOrEqual(158);
  }, 120_000);

  it('a rule the loader refused is refused with its reason; one it never saw is an error (the test cannot run)', async () => {
    const infos = (await listRegressionTests(path.join(sigmaDir, 'regression_data'))).slice(0, 1);
    const [absent] = await runRegressionTests(infos, [], new Map());
    expect(absent).toMatchObject({ outcome: 'error', reason: 'the rule is not in the loaded rule set' });
    const id = absent!.ruleId.toLowerCase();
    const [refused] = await runRegressionTests(infos, [], new Map([[id, 'logsource: no source']]));
    expect(refused).toMatchObject({ outcome: 'refused', reason: 'logsource: no source' });
  });
});

describe('a malformed info.yml is one error row, never a crash or a test that vanishes', () => {
  const folder = path.join(
    sigmaDir,
    'regression_data/rules/windows/file/file_event/file_event_win_creation_system_file',
  );
  const ruleFile = path.join(
    sigmaDir,
    'rules/windows/file/file_event/file_event_win_creation_system_file.yml',
  );
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'regression-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The folder's info.yml rewritten by `edit`, beside a copy of its events, run against its rule. */
  const run = async (edit: (text: string) => string) => {
    const info = path.join(dir, 'info.yml');
    await writeFile(info, edit(await readFile(path.join(folder, 'info.yml'), 'utf8')));
    await copyFile(
      path.join(folder, 'd5866ddf-ce8f-4aea-b28e-d96485a20d3d.json'),
      path.join(dir, 'd5866ddf-ce8f-4aea-b28e-d96485a20d3d.json'),
    );
    const loaded = await loadRuleSet({ paths: [ruleFile], builtins: false });
    return (await runRegressionTests([info], loaded.rules)).map((r) => [r.outcome, r.expected, r.reason]);
  };

  it('as written it passes; a quoted match_count is the number', async () => {
    expect(await run((t) => t)).toEqual([['pass', 1, null]]);
    expect(await run((t) => t.replace('match_count: 1', 'match_count: "1"'))).toEqual([['pass', 1, null]]);
    expect(await run((t) => t.replace('match_count: 1', 'match_count: "2"'))).toEqual([['fail', 2, null]]);
  });

  it('an empty file, a misspelt section, a count that is no whole number: an error each', async () => {
    const needs =
      'info.yml needs rule_metadata and regression_tests_info, each a non-empty list of maps (SigmaHQ regression test format)';
    expect(await run(() => '')).toEqual([['error', null, needs]]);
    expect(await run((t) => t.replace('rule_metadata:', 'rule_metdata:'))).toEqual([['error', null, needs]]);
    expect(await run((t) => t.replace('regression_tests_info:', 'regression_test_info:'))).toEqual([
      ['error', null, needs],
    ]);
    expect(
      await run((t) => t.replace(/regression_tests_info:[\s\S]*$/, 'regression_tests_info:\n    - null\n')),
    ).toEqual([['error', null, needs]]);
    expect(await run((t) => t.replace('match_count: 1', 'match_count: many'))).toEqual([
      ['error', null, 'match_count must be a whole number, not "many"'],
    ]);
  });
});
