/**
 * The progress line (terminal only), `rules test|lint`, `query` and `generate`, as subprocesses.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cliMain, datasetsDir, ndjson, run, sequor, shellQuote } from './support.js';

let tmp = '';
const fax = path.join(datasetsDir, 'cmd_service_mod_fax.json');
const psexec = path.join(datasetsDir, 'empire_psexec_dcerpc_tcp_svcctl.json');

beforeAll(() => {
  assertBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), 'sequor-cli-commands-'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the progress line', () => {
  it('is drawn on stderr under a terminal (script(1) gives the command a pseudo-terminal)', async () => {
    const command = [process.execPath, cliMain, 'detect', psexec].map(shellQuote).join(' ');
    const result = await run('script', ['-qfec', command, '/dev/null']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // A redraw starts with a carriage return and an erase-line; a known size gives a bar and an ETA.
    const ERASE_LINE = '\r\u001b[2K';
    expect(result.stdout).toContain(ERASE_LINE);
    const drawn = result.stdout.split(ERASE_LINE).filter((part) => part.startsWith('['));
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn[0]).toMatch(
      /^\[[#.]{20}\] +\d+% +detect [\d,.]+M? events +[\d,.]+M?\/s +\d+ alerts? +ETA \d+:\d\d/,
    );
    expect(result.stdout).toContain('sequor detect: 4,348 events');
  }, 300_000);

  it('is not drawn when stderr is a pipe: stderr holds only the summary', async () => {
    const result = await sequor(['detect', psexec]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('\r');
    expect(result.stderr).not.toContain('ETA');
    expect(result.stderr.startsWith('sequor detect: 4,348 events from 1 input in ')).toBe(true);
  }, 300_000);
});

/** The README's worked example rule, with test cases; `expectation` replaces its expected evidence. */
function userRule(id: string, expectation: string): string {
  return `id: ${id}
name: Run key written by reg.exe
description: reg.exe starts, then a Run key is written on the same host within a minute.
version: 1
severity: medium
risk_score: 47
author: [Sequor]
license: Apache License 2.0
threat:
  - framework: MITRE ATT&CK
    tactic: { id: TA0003, name: Persistence, reference: "https://attack.mitre.org/tactics/TA0003/" }
    technique:
      - { id: T1547, name: Boot or Logon Autostart Execution, reference: "https://attack.mitre.org/techniques/T1547/" }
message: Run key $registry.path$ written on $host.name$
type: eql
query: |
  sequence by host.id with maxspan=1m
    [process where process.name : "reg.exe"]
    [registry where registry.path : "*\\\\CurrentVersion\\\\Run\\\\*"]
tests:
  - name: reg.exe then a Run key fires
    events:
      - { "@timestamp": "2024-01-01T00:00:00Z", event: { id: p1, category: [process] }, host: { id: h1 }, process: { name: reg.exe } }
      - { "@timestamp": "2024-01-01T00:00:10Z", event: { id: r1, category: [registry] }, host: { id: h1 },
          registry: { path: "HKLM\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run\\\\x" } }
    expect:
      - evidence: ${expectation}
`;
}

describe('sequor rules', () => {
  it('test: every built-in rule case passes, as a table (exit 0)', async () => {
    const result = await sequor(['rules', 'test']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^result +rule +test$/m);
    expect(result.stdout.match(/^PASS /gm)?.length).toBe(11);
    expect(result.stdout).not.toMatch(/^FAIL /m);
    expect(result.stdout).toMatch(/^11 passed, 0 failed \(4 rules\)$/m);
  }, 120_000);

  it('test: a user rule whose case fails is a FAIL row with what was missing and unexpected (exit 1)', async () => {
    const dir = path.join(tmp, 'failing-rules');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'run-key.yaml'),
      userRule('6f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a11', '[r1, p1]'),
    );
    const result = await sequor(['rules', 'test', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL +Run key written by reg\.exe +reg\.exe then a Run key fires$/m);
    expect(result.stdout).toContain('missing [r1, p1]; unexpected [p1, r1]');
    expect(result.stdout).toMatch(/^11 passed, 1 failed \(5 rules\)$/m);
  }, 120_000);

  it('lint: the built-ins are clean, a broken rule is reported at file:line:column with a caret (exit 1)', async () => {
    const clean = await sequor(['rules', 'lint']);
    expect(clean.code).toBe(0);
    expect(clean.stdout.trim()).toBe(
      '4 files checked: 0 errors, 0 warnings\nrules loaded: 4 (4 Sequor YAML, 0 Sigma, 0 Sigma correlations; 0 alert only through a correlation), 0 Sigma meta filters; refused: 0 files',
    );

    const dir = path.join(tmp, 'broken-rules');
    mkdirSync(dir);
    const file = path.join(dir, 'run-key.yaml');
    const text = userRule('7f1c2a54-3b7d-4c1e-9a0f-2d8e5b7c9a12', '[p1, r1]').replace(
      '[registry where registry.path',
      '[registry where registry.pth',
    );
    writeFileSync(file, text);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('registry.pth')) + 1;
    const column = (lines[line - 1] as string).indexOf('registry.pth') + 1;
    const result = await sequor(['rules', 'lint', dir]);
    expect(result.code).toBe(1);
    const out = result.stdout.split('\n');
    const at = out.findIndex((l) => l.startsWith(`${file}:${line}:${column}: unknown field registry.pth`));
    expect(at, result.stdout).toBeGreaterThanOrEqual(0);
    expect(out[at + 1]).toBe(lines[line - 1]);
    expect(out[at + 2]).toBe(`${' '.repeat(column - 1)}^${'~'.repeat('registry.pth'.length - 1)}`);
    expect(result.stdout).toMatch(/^5 files checked: 1 error, 0 warnings$/m);
    expect(result.stdout).toMatch(/^rules loaded: 4 .*; refused: 1 file \(by reason: eql-semantic 1\)$/m);
  }, 120_000);
});

interface EcsEvent {
  readonly '@timestamp': string;
  readonly event: { readonly id: string };
  readonly registry?: { readonly path?: string; readonly value?: string };
}

describe('sequor query', () => {
  // What the query below must find, read from the raw file independently of the normalizer.
  const rawImagePathWrites = readFileSync(fax, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e['EventID'] === 13 && String(e['TargetObject']).endsWith('\\ImagePath'))
    .map((e) => e['@timestamp'] as string);

  it('an event query prints each matching event in ECS shape; head and tail pick from the matches', async () => {
    const query = 'registry where registry.value : "imagepath"';
    const [all, head, tail] = await Promise.all([
      sequor(['query', query, fax]),
      sequor(['query', `${query} | head 1`, fax]),
      sequor(['query', `${query} | tail 1`, fax]),
    ]);
    expect(all.code, all.stderr).toBe(0);
    const events = ndjson<EcsEvent>(all.stdout);
    expect(rawImagePathWrites).toHaveLength(2);
    expect(events.map((e) => e['@timestamp'])).toEqual(rawImagePathWrites);
    expect(
      events.every((e) => e.registry?.path === 'HKLM\\System\\CurrentControlSet\\Services\\Fax\\ImagePath'),
    ).toBe(true);
    expect(JSON.stringify(events)).not.toContain('null');
    expect(ndjson<EcsEvent>(head.stdout).map((e) => e['@timestamp'])).toEqual(rawImagePathWrites.slice(0, 1));
    expect(ndjson<EcsEvent>(tail.stdout).map((e) => e['@timestamp'])).toEqual(rawImagePathWrites.slice(-1));
  }, 120_000);

  it('its output reads back as ECS JSON (--format ecs from stdin) and matches again', async () => {
    const first = await sequor(['query', 'registry where registry.value : "imagepath"', fax]);
    const again = await sequor(
      ['query', '--format', 'ecs', 'registry where registry.path : "*\\\\Fax\\\\*"', '-'],
      { input: first.stdout },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(ndjson<EcsEvent>(again.stdout).map((e) => e.event.id)).toEqual(
      ndjson<EcsEvent>(first.stdout).map((e) => e.event.id),
    );
  }, 120_000);

  it('a sequence prints {keys, events}, the events in order within the maxspan', async () => {
    const result = await sequor([
      'query',
      'sequence by host.id with maxspan=1m [process where process.name : "sc.exe"] [registry where registry.value : "ImagePath"]',
      fax,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const matches = ndjson<{ keys: unknown[]; events: EcsEvent[] }>(result.stdout);
    expect(matches.length).toBeGreaterThan(0);
    for (const m of matches) {
      expect(m.keys).toEqual(['name:workstation5']);
      expect(m.events).toHaveLength(2);
      const [a, b] = m.events.map((e) => Date.parse(e['@timestamp'])) as [number, number];
      expect(b - a).toBeGreaterThanOrEqual(0);
      expect(b - a).toBeLessThanOrEqual(60_000);
      expect(rawImagePathWrites).toContain(m.events[1]?.['@timestamp']);
    }
  }, 120_000);

  it('a query error is printed with its line, column and a caret (exit 2)', async () => {
    const [syntax, field] = await Promise.all([
      sequor(['query', 'process where process.name == ', fax]),
      sequor(['query', 'process where proces.name == "x"', fax]),
    ]);
    expect(syntax.code).toBe(2);
    expect(syntax.stdout).toBe('');
    expect(syntax.stderr.split('\n').slice(0, 3)).toEqual([
      'query:1:30: expected a field, literal or function call but found end of input',
      'process where process.name == ',
      `${' '.repeat(29)}^`,
    ]);
    expect(field.code).toBe(2);
    expect(field.stderr.split('\n')[0]).toMatch(
      /^query:1:15: unknown field proces\.name \(did you mean process\.name\?\)/,
    );
    expect(field.stderr.split('\n')[2]).toBe(`${' '.repeat(14)}^${'~'.repeat('proces.name'.length - 1)}`);
  }, 120_000);
});

describe('sequor generate', () => {
  it('gives the same bytes for the same options', async () => {
    const a = path.join(tmp, 'gen-a');
    const b = path.join(tmp, 'gen-b');
    const options = ['--seed', 'demo', '--events', '3000', '--zeek-json'];
    const results = await Promise.all([
      sequor(['generate', '--out', a, ...options]),
      sequor(['generate', '--out', b, ...options]),
    ]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(a, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(a, path.join(e.parentPath, e.name)));
    expect(files.sort()).toEqual([
      'endpoint.ndjson',
      'flat-windows.ndjson',
      'ground-truth.json',
      'winlogbeat.ndjson',
      'zeek/dce_rpc.json',
      'zeek/dce_rpc.log',
    ]);
    for (const f of files)
      expect(readFileSync(path.join(b, f)).equals(readFileSync(path.join(a, f))), f).toBe(true);
  }, 120_000);
});
