import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertUpdate } from '@sequor/model';
import { assertBuilt, ndjson, repoRoot, sequor } from './support.js';

/** The CAR remote-registry rule under a new id, with `suppress` per host for 10 minutes. */
async function suppressingRule(dir: string): Promise<void> {
  const builtin = await readFile(
    path.join(repoRoot, 'shared/rules/builtin/car-2014-11-005-remote-registry.yaml'),
    'utf8',
  );
  const text = builtin
    .replace(/^id: .*$/m, 'id: 0b9d6a2e-5c1f-4e8a-9d3b-7f2a1c4e6b80')
    .replace(/^name: .*$/m, 'name: Remote registry write, suppressed per host')
    .replace(/^tests:[\s\S]*$/m, 'suppress:\n  by: [host.id]\n  window: 10m\n');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'suppressed.yaml'), text);
}

/** One WINREG value write on `host` at 10:`minute`. */
const line = (id: string, minute: number, host: string): string =>
  JSON.stringify({
    '@timestamp': `2024-03-04T10:${String(minute).padStart(2, '0')}:00.000Z`,
    event: { id, category: ['network'], kind: 'event' },
    host: { id: host },
    source: { ip: '10.0.0.5', port: 50123 },
    destination: { ip: '10.0.0.20', port: 445 },
    dce_rpc: { named_pipe: '\\PIPE\\winreg', endpoint: 'winreg', operation: 'BaseRegSetValue' },
  });

describe('sequor detect with a suppressing rule', () => {
  beforeAll(() => assertBuilt());

  it('writes the first alert per host and window, and the counts to --updates', async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'sequor-suppress-'));
    await suppressingRule(path.join(tmp, 'rules'));
    const input = path.join(tmp, 'winreg.ndjson');
    await writeFile(
      input,
      [
        line('a1', 0, 'h1'),
        line('a2', 3, 'h1'),
        line('b1', 4, 'h2'),
        line('a3', 9, 'h1'),
        line('a4', 12, 'h1'),
      ]
        .map((l) => `${l}\n`)
        .join(''),
    );
    const updatesFile = path.join(tmp, 'updates.ndjson');
    const result = await sequor([
      'detect',
      '--rules',
      path.join(tmp, 'rules'),
      '--updates',
      updatesFile,
      input,
    ]);
    expect(result.stderr).toMatch(/suppressed: 2 alerts counted into 1 update records/);
    expect(result.code).toBe(0);
    const alerts = ndjson<Alert>(result.stdout).filter(
      (a) => a.rule.id === '0b9d6a2e-5c1f-4e8a-9d3b-7f2a1c4e6b80',
    );
    expect(alerts.map((a) => a.evidence[0]!.event_id)).toEqual(['a1', 'b1', 'a4']);
    const updates = ndjson<AlertUpdate>(await readFile(updatesFile, 'utf8'));
    expect(updates).toEqual([
      expect.objectContaining({
        alert: { id: alerts[0]!.alert.id },
        suppression: expect.objectContaining({
          by: [{ field: 'host.id', value: 'h1' }],
          count: 2,
          closed_by: 'watermark',
          window_start: Date.parse('2024-03-04T10:00:00Z'),
          window_end: Date.parse('2024-03-04T10:10:00Z'),
        }),
        last_evidence: ['a3'],
      }),
    ]);
  }, 60_000);
});

describe('sequor rules test with a suppressing rule', () => {
  beforeAll(() => assertBuilt());

  /** The suppressing rule with one test case; `expectations` is the case's `expect` and `expect_updates`. */
  async function ruleWithCase(dir: string, expectations: string): Promise<void> {
    await suppressingRule(dir);
    const file = path.join(dir, 'suppressed.yaml');
    const events = [line('a1', 0, 'h1'), line('a2', 3, 'h1'), line('a3', 9, 'h1'), line('a4', 12, 'h1')];
    await writeFile(
      file,
      `${await readFile(file, 'utf8')}tests:\n  - name: one alert per window\n    events:\n` +
        events.map((e) => `      - ${e}\n`).join('') +
        expectations,
    );
  }

  it('expects the published alerts and, when listed, the updates; a wrong count fails with the diff', async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'sequor-rules-test-suppress-'));
    const expectations =
      '    expect:\n      - evidence: [a1]\n      - evidence: [a4]\n' +
      '    expect_updates:\n      - { alert: [a1], count: COUNT, last_evidence: [a3] }\n';
    await ruleWithCase(path.join(tmp, 'good'), expectations.replace('COUNT', '2'));
    const good = await sequor(['rules', 'test', path.join(tmp, 'good')]);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^PASS +Remote registry write, suppressed per host +one alert per window$/m);
    await ruleWithCase(path.join(tmp, 'bad'), expectations.replace('COUNT', '3'));
    const bad = await sequor(['rules', 'test', path.join(tmp, 'bad')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('updates missing [a1] +3 last [a3]; unexpected [a1] +2 last [a3]');
  }, 60_000);
});
