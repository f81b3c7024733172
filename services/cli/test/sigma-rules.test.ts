/**
 * Sigma rules through `sequor rules lint|test` and `sequor detect`, as subprocesses, on SigmaHQ's rules
 * and regression data (../shared/sigma; PROVENANCE.md).
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, ndjson, repoRoot, sequor } from './support.js';

const sigmaDir = path.resolve(repoRoot, '../shared/sigma');
const anydeskRule = path.join(sigmaDir, 'rules/windows/file/file_event/file_event_win_anydesk_artefact.yml');
const anydeskEvents = path.join(
  sigmaDir,
  'regression_data/rules/windows/file/file_event/file_event_win_anydesk_artefact/0b9ad457-2554-44c1-82c2-d56a99c42377.json',
);

interface AlertLine {
  readonly rule: {
    id: string;
    type: string;
    severity: string;
    level: string | null;
    tags: string[];
    author: string[];
  };
  readonly evidence: readonly unknown[];
}

beforeAll(() => assertBuilt());

describe('sequor rules on Sigma files', () => {
  it("lint: SigmaHQ's rules beside the built-ins, loaded and refused counted per reason (exit 1 on a refusal)", async () => {
    const result = await sequor(['rules', 'lint', path.join(sigmaDir, 'rules')]);
    expect(result.code).toBe(1);
    const summary =
      /^rules loaded: (\d+) \(4 Sequor YAML, (\d+) Sigma, 0 Sigma correlations; 0 alert only through a correlation\), 0 Sigma meta filters; refused: (\d+) files \(by reason: (.*)\)$/m.exec(
        result.stdout,
      );
    expect(summary, result.stdout.slice(-2000)).not.toBeNull();
    const [, , sigma, refused, reasons] = summary!;
    expect(Number(sigma)).toBeGreaterThanOrEqual(2400);
    expect(Number(refused)).toBeLessThanOrEqual(20);
    expect(reasons).toMatch(/sigma-logsource \d+/);
    // Each refusal is a file:line:column error with its reason.
    expect(result.stdout).toMatch(/file_access_win_susp_credhist\.yml:\d+:\d+: logsource: .*file_access/);
  }, 120_000);

  it('test --regression: every rule gives its match_count through the evtx-json input, failures explained', async () => {
    const result = await sequor([
      'rules',
      'test',
      path.join(sigmaDir, 'rules'),
      '--regression',
      path.join(sigmaDir, 'regression_data'),
    ]);
    const counts =
      /^regression: (\d+) passed, (\d+) failed, (\d+) refused, (\d+) errors \((\d+) tests\)$/m.exec(
        result.stdout,
      );
    expect(counts, result.stdout.slice(-3000)).not.toBeNull();
    const [, passed, failed, , errors] = counts!.map(Number);
    expect(passed).toBeGreaterThanOrEqual(158);
    expect(errors).toBe(0);
    expect(result.stdout).toMatch(
      /file_event_win_anydesk_artefact\/info\.yml: fail 0b9ad457\S*: matched 3, expected 1/,
    );
    expect(result.code).toBe(failed! > 0 ? 1 : 0);
  }, 120_000);
});

describe('sequor detect --rules with a Sigma rule', () => {
  it("alerts as NDJSON with the rule's id, level, tags and authors", async () => {
    const result = await sequor(['detect', '--rules', anydeskRule, anydeskEvents]);
    expect(result.code, result.stderr).toBe(0);
    const alerts = ndjson<AlertLine>(result.stdout);
    expect(alerts).toHaveLength(3);
    expect(alerts[0]!.rule).toMatchObject({
      id: '0b9ad457-2554-44c1-82c2-d56a99c42377',
      type: 'sigma',
      severity: 'medium',
      level: 'medium',
      tags: ['attack.command-and-control', 'attack.t1219.002'],
      author: ['frack113'],
    });
  }, 120_000);

  it('--min-level, --status and --tags choose the rules; a bad value is a usage error (exit 2)', async () => {
    const count = async (...flags: string[]): Promise<number> => {
      const result = await sequor(['detect', '--rules', anydeskRule, ...flags, anydeskEvents]);
      expect(result.code, result.stderr).toBe(0);
      return ndjson(result.stdout).length;
    };
    expect(await count('--min-level', 'high')).toBe(0);
    expect(await count('--min-level', 'medium', '--status', 'test,stable')).toBe(3);
    expect(await count('--status', 'stable')).toBe(0);
    expect(await count('--tags', 'attack.t1219*')).toBe(3);
    expect(await count('--tags', 'attack.execution')).toBe(0);
    const bad = await sequor(['detect', '--rules', anydeskRule, '--min-level', 'severe', anydeskEvents]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--min-level: "severe" is not a level');
  }, 120_000);

  it('runs every SigmaHQ rule beside the built-ins on a real dataset; the summary lists only the rules that did something', async () => {
    const fax = path.resolve(repoRoot, '../shared/datasets/security-datasets/cmd_service_mod_fax.json');
    const result = await sequor(['detect', '--rules', path.join(sigmaDir, 'rules'), fax]);
    expect(result.code, result.stderr.slice(0, 2000)).toBe(0);
    const alerts = ndjson<AlertLine>(result.stdout);
    // The two service-creation alerts PROVENANCE.md expects, and Sigma's own on the same events.
    expect(alerts.filter((a) => a.rule.type === 'span_aggregation')).toHaveLength(2);
    expect(alerts.filter((a) => a.rule.type === 'sigma').length).toBeGreaterThan(0);
    expect(result.stderr).toMatch(
      /^sequor detect: \d+ Sigma rule\(s\) refused \(the pipeline cannot run them\)$/m,
    );
    expect(result.stderr).toMatch(/^\([\d,]+ more rules: no alerts, nothing expired or dropped\)$/m);
  }, 180_000);
});
