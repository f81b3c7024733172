/**
 * Hostile and broken files through the built `sequor` (issue 17, items 3-6 and 8): every fixture is
 * generated here into a temporary directory from the Security-Datasets file (read-only), never stored.
 * Each case asserts one line naming the path, the exit code, and that whatever was readable still counts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@sequor/rules';
import { assertBuilt, cliMain, datasetsDir, ndjson, run, sequor, shellQuote } from './support.js';

let tmp = '';
const fax = path.join(datasetsDir, 'cmd_service_mod_fax.json');
const psexec = path.join(datasetsDir, 'empire_psexec_dcerpc_tcp_svcctl.json');
/** The fax file's two service-creation alerts (PROVENANCE.md), psexec's one. */
const FAX_ALERTS = 2;

beforeAll(() => {
  assertBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), 'sequor-cli-hostile-'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const full = path.join(tmp, name);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
  return full;
}

/** stderr lines that start with the command's label: the one-line errors, not the summary table. */
const errorLines = (stderr: string, label = 'sequor detect'): string[] =>
  stderr.split('\n').filter((l) => l.startsWith(`${label}: `) && !/: \d[\d,]* events from /.test(l));

/** Runs `sequor ...args` through bash, with `redirect` appended (`| head -0`, `>&-`); gives the CLI's exit code. */
async function throughShell(
  args: readonly string[],
  redirect: string,
): Promise<{ code: number; stderr: string }> {
  const command = `${[process.execPath, cliMain, ...args].map(shellQuote).join(' ')} ${redirect}; echo "exit=\${PIPESTATUS[0]}" >&2`;
  const result = await run('bash', ['-c', command]);
  const code = Number(/exit=(\d+)/.exec(result.stderr)?.[1]);
  return { code, stderr: result.stderr.replace(/exit=\d+\n/, '') };
}

describe('format detection never drops a whole file (item 3)', () => {
  it('looks past 40 blank lines, dead-letters a bad first line at file:1 and reads the rest (exit 0)', async () => {
    const text = readFileSync(fax, 'utf8');
    const blank = file('detect/blank-first.json', `${'\n'.repeat(40)}${text}`);
    const bad = file('detect/bad-first.json', `this is not an event\n${text}`);
    for (const input of [blank, bad]) {
      const result = await sequor(['detect', input]);
      expect(result.code, result.stderr).toBe(0);
      expect(ndjson<Alert>(result.stdout)).toHaveLength(FAX_ALERTS);
    }
    const result = await sequor(['detect', bad]);
    expect(result.stderr).toContain(`${bad}:1: malformed: `);
  }, 120_000);

  it('inside a directory reads a file with a bad first line, and names a file it cannot read with the reason', async () => {
    const dir = path.join(tmp, 'detect-dir');
    file('detect-dir/a-bad-first.json', `garbage\n${readFileSync(fax, 'utf8')}`);
    file('detect-dir/notes.txt', 'dear diary\nday two\n');
    const result = await sequor(['detect', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson<Alert>(result.stdout)).toHaveLength(FAX_ALERTS);
    expect(result.stderr).toContain(
      `skipped ${path.join(dir, 'notes.txt')}: cannot tell the source format: no format reads any of its first 2 data lines (first: "dear diary")`,
    );
  }, 120_000);

  it('reads an ECS document with a winlog object but no winlog.channel as ECS', async () => {
    const doc = {
      '@timestamp': '2024-01-01T00:00:00Z',
      event: { id: 'e1', category: ['process'] },
      host: { id: 'h1' },
      process: { name: 'a.exe' },
      winlog: { event_id: '1' },
    };
    const input = file('ecs-winlog.json', `${JSON.stringify(doc)}\n`);
    const result = await sequor(['query', 'process where process.name == "a.exe"', input]);
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson<{ origin: { format: string } }>(result.stdout).map((e) => e.origin.format)).toEqual([
      'ecs',
    ]);
  }, 120_000);
});

describe('a truncated gzip (item 4)', () => {
  it('names the file and the line it stopped after, keeps every alert read, other files too, and exits 1', async () => {
    const gzip = gzipSync(readFileSync(fax));
    // Without its 8-byte trailer every line is there but the stream is incomplete.
    const trailerless = file('gz/fax-no-trailer.json.gz', gzip.subarray(0, gzip.length - 8));
    const result = await sequor(['detect', trailerless, psexec]);
    expect(result.code, result.stderr).toBe(1);
    expect(ndjson<Alert>(result.stdout)).toHaveLength(FAX_ALERTS + 1);
    expect(errorLines(result.stderr)).toEqual([
      `sequor detect: ${trailerless}: cannot read past line 437: not valid gzip (unexpected end of file) (the lines before it were read)`,
    ]);

    const half = file('gz/fax-half.json.gz', gzip.subarray(0, gzip.length >> 1));
    const cut = await sequor(['detect', half, psexec]);
    expect(cut.code, cut.stderr).toBe(1);
    expect(ndjson<Alert>(cut.stdout).length).toBeGreaterThanOrEqual(1);
    expect(errorLines(cut.stderr)).toHaveLength(1);
    expect(errorLines(cut.stderr)[0]).toMatch(
      new RegExp(
        `^sequor detect: ${half.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read past line \\d+: not valid gzip`,
      ),
    );
  }, 120_000);
});

describe('output errors are one line naming the path, with exit 1 (item 5)', () => {
  it('--out and --summary-json into a missing folder, for NDJSON and Avro', async () => {
    for (const out of ['missing/alerts.ndjson', 'missing/alerts.avro']) {
      const target = path.join(tmp, out);
      const result = await sequor(['detect', fax, '--out', target]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toBe(`sequor detect: ${target}: cannot write: no such file or directory\n`);
    }
    const summary = path.join(tmp, 'missing/summary.json');
    const result = await sequor(['detect', fax, '--summary-json', summary]);
    expect(result.code).toBe(1);
    expect(errorLines(result.stderr)).toEqual([
      `sequor detect: ${summary}: cannot write: no such file or directory`,
    ]);
  }, 120_000);

  it('a stdout the reader closed (| head -0) or that was closed at start (>&-) fails every command that prints results', async () => {
    const cases: [readonly string[], string][] = [
      [['detect', fax], 'sequor detect'],
      [['query', 'process where true', fax], 'sequor query'],
      [['rules', 'lint'], 'sequor rules lint'],
      [['rules', 'test'], 'sequor rules test'],
    ];
    for (const [args, label] of cases) {
      for (const redirect of ['| head -c 0', '>&-']) {
        const result = await throughShell(args, redirect);
        expect(result.code, `${args.join(' ')} ${redirect}: ${result.stderr}`).toBe(1);
        expect(errorLines(result.stderr, label), `${args.join(' ')} ${redirect}`).toHaveLength(1);
        expect(errorLines(result.stderr, label)[0]).toMatch(
          /: stdout: (cannot write: the reader closed it \(EPIPE\)|closed, so the .* would be lost)/,
        );
      }
    }
    // Discarding on purpose is not a failure.
    expect((await throughShell(['detect', fax], '>/dev/null')).code).toBe(0);
  }, 120_000);

  it('missing paths name themselves: inputs, rule folders, generate --out under a file', async () => {
    const notDir = file('plain-file', 'x');
    const cases: [readonly string[], RegExp][] = [
      [
        ['query', 'process where true', path.join(tmp, 'nope.json')],
        /^sequor query: .*nope\.json: cannot read: no such file or directory$/,
      ],
      [
        ['detect', '--rules', path.join(tmp, 'no-rules'), fax],
        /^sequor detect: .*no-rules: cannot read rules: no such file or directory$/,
      ],
      [
        ['generate', '--out', path.join(notDir, 'scenario')],
        /^sequor generate: .*plain-file\/scenario: not a directory$/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await sequor(args);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr.trimEnd()).toMatch(message);
    }
  }, 120_000);
});

describe('symbolic links in input folders (item 6)', () => {
  it('follows links to files and folders, reads each real file once, stops at loops, names a dangling link (exit 1)', async () => {
    const real = path.join(tmp, 'pods');
    file('pods/fax.json', readFileSync(fax));
    const logs = path.join(tmp, 'containers');
    mkdirSync(path.join(logs, 'nested'), { recursive: true });
    symlinkSync(path.join(real, 'fax.json'), path.join(logs, 'fax.log'));
    symlinkSync(path.join(real, 'deleted.json'), path.join(logs, 'gone.log'));
    symlinkSync(real, path.join(logs, 'pods'));
    symlinkSync(logs, path.join(logs, 'nested', 'up'));
    const result = await sequor(['detect', logs, '--summary-json', path.join(tmp, 'links-summary.json')]);
    expect(result.code, result.stderr).toBe(1);
    expect(ndjson<Alert>(result.stdout)).toHaveLength(FAX_ALERTS);
    const summary = JSON.parse(readFileSync(path.join(tmp, 'links-summary.json'), 'utf8')) as {
      inputs: { name: string }[];
    };
    expect(summary.inputs.map((i) => i.name)).toEqual([path.join(logs, 'fax.log')]);
    expect(errorLines(result.stderr)).toEqual([
      `sequor detect: ${path.join(logs, 'gone.log')}: cannot read: dangling symbolic link`,
    ]);
  }, 120_000);
});

describe('an alias bomb in a rule file (item 8)', () => {
  it('is a rule error at file:line:col, and the other files are still checked and reported', async () => {
    const lines = [
      'id: 00000000-0000-4000-8000-000000000000',
      'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
    ];
    for (let i = 1; i < 10; i++)
      lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
    const dir = path.join(tmp, 'bomb-rules');
    const bomb = file('bomb-rules/bomb.yaml', `${lines.join('\n')}\n`);
    const broken = file('bomb-rules/broken.yaml', 'id: 1\nname: [\n');
    const lint = await sequor(['rules', 'lint', dir]);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain(`${bomb}:3:10: YAML: aliases expand to too many nodes`);
    expect(lint.stdout).toContain(`${broken}:3:1: YAML: `);
    expect(lint.stdout).toContain('2 errors');
    for (const args of [
      ['rules', 'test', dir],
      ['detect', '--rules', dir, fax],
    ]) {
      const result = await sequor(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(`${bomb}:3:10: YAML: aliases expand to too many nodes`);
      expect(result.stderr, args.join(' ')).toContain(`${broken}:3:1: YAML: `);
      expect(result.stderr).not.toContain('unexpected error');
    }
  }, 120_000);
});
