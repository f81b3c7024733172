/**
 * `--no-builtins` (detect, rules test|lint), the summary's rule labels when two rules share a name (a
 * Sigma seed and its built-in), and what a Sigma alert carries through `sequor detect`: ATT&CK rows from
 * its tags and the fields its detection read.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ruleLabels } from '../src/summary.js';
import { assertBuilt, datasetsDir, ndjson, repoRoot, sequor } from './support.js';

const seedsDir = path.resolve(repoRoot, 'shared/rules/sigma-seeds');
const fax = path.join(datasetsDir, 'cmd_service_mod_fax.json');
const sigmaDir = path.resolve(repoRoot, '../shared/sigma');
const anydeskRule = path.join(sigmaDir, 'rules/windows/file/file_event/file_event_win_anydesk_artefact.yml');
const anydeskEvents = path.join(
  sigmaDir,
  'regression_data/rules/windows/file/file_event/file_event_win_anydesk_artefact/0b9ad457-2554-44c1-82c2-d56a99c42377.json',
);

interface AlertLine {
  readonly rule: { readonly id: string; readonly type: string };
  readonly threat: readonly unknown[];
  readonly evidence: readonly { readonly fields: readonly { name: string; value: unknown }[] }[];
}

beforeAll(() => assertBuilt());

describe('rule labels in the detect summary', () => {
  it('adds a short id where two rules share a name, the whole id where short ids collide too', () => {
    expect(
      ruleLabels([
        { id: 'dc985e9a-0000', name: 'Remote Registry' },
        { id: '5fc46ff7-0000', name: 'Remote Registry' },
        { id: 'abcdef12-0001', name: 'Twin' },
        { id: 'abcdef12-0002', name: 'Twin' },
        { id: 'abcdef12-0003', name: 'Alone' },
      ]),
    ).toEqual([
      'Remote Registry [dc985e9a]',
      'Remote Registry [5fc46ff7]',
      'Twin [abcdef12-0001]',
      'Twin [abcdef12-0002]',
      'Alone',
    ]);
  });
});

describe('sequor detect --no-builtins', () => {
  it('runs only the --rules: the Sigma seeds alone, not beside the built-ins they port', async () => {
    const both = await sequor(['detect', '--rules', seedsDir, fax]);
    expect(both.code, both.stderr).toBe(0);
    const bothAlerts = ndjson<AlertLine>(both.stdout);
    expect(bothAlerts.filter((a) => a.rule.type === 'span_aggregation')).toHaveLength(2);
    // The seed and its built-in share a name: the summary tells them apart by a short id.
    expect(both.stderr).toMatch(/^Windows Service Creation Using Registry Entry \[25212358\] +2 /m);
    expect(both.stderr).toMatch(/^Windows Service Creation Using Registry Entry \[f08a1761\] +2 /m);

    const only = await sequor(['detect', '--no-builtins', '--rules', seedsDir, fax]);
    expect(only.code, only.stderr).toBe(0);
    const alerts = ndjson<AlertLine>(only.stdout);
    expect(alerts.map((a) => a.rule.id)).toEqual([
      'f08a1761-6529-483a-ac4b-676e2993344e',
      'f08a1761-6529-483a-ac4b-676e2993344e',
    ]);
    expect(only.stderr).toMatch(/^Windows Service Creation Using Registry Entry +2 /m);
    expect(only.stderr).not.toContain('[');
  }, 120_000);

  it('without --rules is a usage error (exit 2): there would be nothing to run', async () => {
    const result = await sequor(['detect', '--no-builtins', fax]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--no-builtins needs rules to run: give --rules PATH');
  });
});

describe('sequor rules lint|test --no-builtins', () => {
  it('checks and tests only the given rules', async () => {
    const lint = await sequor(['rules', 'lint', '--no-builtins', seedsDir]);
    expect(lint.code, lint.stdout).toBe(0);
    expect(lint.stdout).toMatch(
      /^rules loaded: 9 \(0 Sequor YAML, 6 Sigma, 3 Sigma correlations; 5 alert only through a correlation\)/m,
    );
    const withBuiltins = await sequor(['rules', 'lint', seedsDir]);
    expect(withBuiltins.stdout).toMatch(/^rules loaded: 13 \(4 Sequor YAML, 6 Sigma, 3 Sigma correlations;/m);

    const test = await sequor(['rules', 'test', '--no-builtins', seedsDir]);
    expect(test.code, test.stdout).toBe(0);
    expect(test.stdout).toMatch(/^0 passed, 0 failed \(4 rules\)$/m);
    const bad = await sequor(['rules', 'test', '--no-builtins']);
    expect(bad.code).toBe(2);
  }, 120_000);

  it('test --regression: a refused rule of a multi-document file is reported refused, under its own id', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sequor-regression-multi-'));
    const rule = (id: string, category: string) =>
      `title: Rule ${id.slice(-1)}\nid: ${id}\nlogsource: { product: windows, category: ${category} }\ndetection:\n  selection: { CommandLine|contains: whoami }\n  condition: selection\n`;
    const kept = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbb1';
    const refused = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbb2';
    mkdirSync(path.join(dir, 'rules'));
    // Written with CRLF line ends: the separator line is `---\r` then.
    writeFileSync(
      path.join(dir, 'rules', 'r.yml'),
      `${rule(kept, 'process_creation')}---\n${rule(refused, 'file_access')}`.replaceAll('\n', '\r\n'),
    );
    const event = JSON.stringify({
      Event: {
        System: {
          Channel: 'Microsoft-Windows-Sysmon/Operational',
          EventID: 1,
          Computer: 'h0',
          EventRecordID: 1,
          TimeCreated: { '#attributes': { SystemTime: '2024-01-01T00:00:00.000Z' } },
        },
        EventData: { CommandLine: 'cmd /c whoami' },
      },
    });
    for (const id of [kept, refused]) {
      const test = path.join(dir, 'data', id);
      mkdirSync(test, { recursive: true });
      writeFileSync(path.join(test, `${id}.json`), `${event}\n`);
      writeFileSync(
        path.join(test, 'info.yml'),
        `id: 00000000-0000-4000-8000-000000000001\nrule_metadata:\n  - id: ${id}\n    title: t\nregression_tests_info:\n  - name: Positive Detection Test\n    type: evtx\n    match_count: 1\n`,
      );
    }
    const result = await sequor([
      'rules',
      'test',
      '--no-builtins',
      path.join(dir, 'rules'),
      '--regression',
      path.join(dir, 'data'),
    ]);
    rmSync(dir, { recursive: true, force: true });
    expect(result.stdout).toMatch(new RegExp(`refused ${refused}: sigma-logsource: .*file_access`));
    expect(result.stdout).toMatch(/^regression: 1 passed, 0 failed, 1 refused, 0 errors \(2 tests\)$/m);
  }, 120_000);

  it('counts a rule a refused correlation keeps silent among those that alert only through a correlation', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sequor-lint-silenced-'));
    writeFileSync(
      path.join(dir, 'failed-logon.yml'),
      [
        'title: Failed logon',
        'name: failed_logon',
        'id: 0b6e2c2e-1d3a-4c55-9a61-3a7d2f1c0001',
        'logsource: { product: windows, service: security }',
        'detection: { selection: { EventID: 4625 }, condition: selection }',
        '---',
        'title: Logon failures by percentile',
        'id: 0b6e2c2e-1d3a-4c55-9a61-3a7d2f1c0002',
        'correlation:',
        '  type: value_percentile',
        '  rules: [failed_logon]',
        '  group-by: [host.id]',
        '  timespan: 5m',
        '  condition: { field: TargetUserName, gte: 1 }',
        '',
      ].join('\n'),
    );
    const lint = await sequor(['rules', 'lint', '--no-builtins', dir]);
    rmSync(dir, { recursive: true, force: true });
    expect(lint.code, lint.stdout).toBe(1);
    expect(lint.stdout).toMatch(/value_percentile/);
    expect(lint.stdout).toMatch(
      /^rules loaded: 1 \(0 Sequor YAML, 1 Sigma, 0 Sigma correlations; 1 alert only through a correlation\)/m,
    );
  }, 120_000);
});

describe('a Sigma alert through sequor detect', () => {
  it('carries ATT&CK rows from its tags and the fields its detection read', async () => {
    const result = await sequor(['detect', '--no-builtins', '--rules', anydeskRule, anydeskEvents]);
    expect(result.code, result.stderr).toBe(0);
    const [alert] = ndjson<AlertLine>(result.stdout);
    // tags: attack.command-and-control, attack.t1219.002
    expect(alert!.threat).toEqual([
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0011', name: 'Command and Control' },
        technique: { id: 'T1219', name: 'T1219' },
        subtechnique: { id: 'T1219.002', name: 'T1219.002' },
      },
    ]);
    const fields = alert!.evidence[0]!.fields;
    expect(fields.map((f) => f.name)).toContain('TargetFilename');
    expect(String(fields.find((f) => f.name === 'TargetFilename')!.value)).toMatch(/anydesk/i);
  }, 120_000);
});
