import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@sequor/model';
import { assertBuilt, ndjson, repoRoot, sequor } from './support.js';

const ruleId = '3c1e2b7a-8d4f-4a6e-b5c2-9e0f1a2b3c4d';

/** The CAR remote-registry rule under a new id, with exceptions: a host list and a scanner subnet. */
async function exceptedRule(dir: string, list: string): Promise<void> {
  const builtin = await readFile(
    path.join(repoRoot, 'shared/rules/builtin/car-2014-11-005-remote-registry.yaml'),
    'utf8',
  );
  const text = builtin
    .replace(/^id: .*$/m, `id: ${ruleId}`)
    .replace(/^name: .*$/m, 'name: Remote registry write, with exceptions')
    .replace(
      /^tests:[\s\S]*$/m,
      [
        'exceptions:',
        `  - { field: host.id, operator: in_list, list: ${list} }`,
        '  - { field: source.ip, operator: cidr, values: ["10.99.0.0/16", "fd00::/8"] }',
        '',
      ].join('\n'),
    );
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'excepted.yaml'), text);
}

/** One WINREG value write on `host` from `ip` at 10:`minute`. */
const line = (id: string, minute: number, host: string, ip: string): string =>
  JSON.stringify({
    '@timestamp': `2024-03-04T10:${String(minute).padStart(2, '0')}:00.000Z`,
    event: { id, category: ['network'], kind: 'event' },
    host: { id: host },
    source: { ip, port: 50123 },
    destination: { ip: '10.0.0.20', port: 445 },
    dce_rpc: { named_pipe: '\\PIPE\\winreg', endpoint: 'winreg', operation: 'BaseRegSetValue' },
  });

describe('sequor detect and rules test with --lists', () => {
  beforeAll(() => assertBuilt());

  it('an event excepted by a value list or a CIDR raises no alert of that rule; the built-in still fires', async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'sequor-exceptions-'));
    await exceptedRule(path.join(tmp, 'rules'), 'lab-hosts');
    await mkdir(path.join(tmp, 'lists'));
    await writeFile(path.join(tmp, 'lists', 'lab-hosts.keyword'), '# hosts of the red-team lab\nLAB-01\n');
    const input = path.join(tmp, 'winreg.ndjson');
    const lines = [
      line('a1', 0, 'h1', '10.0.0.5'),
      line('b1', 1, 'lab-01', '10.0.0.5'),
      line('c1', 2, 'h3', '10.99.4.4'),
      line('d1', 3, 'h4', 'fd12::7'),
      line('e1', 4, 'h5', 'fe80::7'),
    ];
    await writeFile(input, lines.map((l) => `${l}\n`).join(''));
    const result = await sequor([
      'detect',
      '--rules',
      path.join(tmp, 'rules'),
      '--lists',
      path.join(tmp, 'lists'),
      input,
    ]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const alerts = ndjson<Alert>(result.stdout);
    const ids = (rule: string): string[] =>
      alerts
        .filter((a) => a.rule.id === rule)
        .map((a) => a.evidence[0]!.event_id)
        .sort();
    expect(ids(ruleId)).toEqual(['a1', 'e1']);
    // The built-in CAR rule has no exceptions: every write alerts.
    expect(ids('dc985e9a-0bd4-4c6c-8141-dcb771529846')).toEqual(['a1', 'b1', 'c1', 'd1', 'e1']);

    const tests = await sequor([
      'rules',
      'test',
      path.join(tmp, 'rules'),
      '--lists',
      path.join(tmp, 'lists'),
    ]);
    expect(tests.code).toBe(0);
  }, 60_000);

  it('a missing list is a file:line:column error naming the list and the folder', async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'sequor-exceptions-'));
    const rules = path.join(tmp, 'rules');
    await exceptedRule(rules, 'no-such-list');
    await mkdir(path.join(tmp, 'lists'));
    const input = path.join(tmp, 'winreg.ndjson');
    await writeFile(input, `${line('a1', 0, 'h1', '10.0.0.5')}\n`);
    const lists = path.join(tmp, 'lists');
    const detect = await sequor(['detect', '--rules', rules, '--lists', lists, input]);
    expect(detect.code).toBe(1);
    expect(detect.stderr).toContain(`excepted.yaml:`);
    expect(detect.stderr).toMatch(
      /excepted\.yaml:\d+:\d+: value list "no-such-list" is missing: no no-such-list\.keyword\|ip\|cidr\|wildcard in /,
    );
    const lint = await sequor(['rules', 'lint', rules]);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toMatch(/value list "no-such-list" is not loaded: no value lists folder is set/);
    const unreadable = await sequor(['detect', '--lists', path.join(tmp, 'nope'), input]);
    expect(unreadable.code).not.toBe(0);
    expect(unreadable.stderr).toMatch(/nope.*cannot read value lists/);
  }, 60_000);
});
