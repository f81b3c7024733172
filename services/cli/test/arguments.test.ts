/**
 * Bad arguments and unusable input: one line on stderr that says what is wrong, and a non-zero exit
 * (2 for usage, 1 for input). Bad records inside a good file are counted and reported, not fatal.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@sequor/rules';
import { assertBuilt, datasetsDir, ndjson, sequor } from './support.js';

let tmp = '';
const fax = path.join(datasetsDir, 'cmd_service_mod_fax.json');

beforeAll(() => {
  assertBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), 'sequor-cli-args-'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Asserts the exit code and that stderr is one line matching `message`. */
async function failsWith(
  args: readonly string[],
  code: number,
  message: RegExp,
  env: Record<string, string> = {},
): Promise<void> {
  const result = await sequor(args, { env });
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
}

describe('sequor: bad arguments (exit 2, one line)', () => {
  it('names an unknown command and an unknown option', async () => {
    await Promise.all([
      failsWith(
        ['frobnicate'],
        2,
        /^sequor: unknown command "frobnicate" \(commands: detect, query, generate, replay, rules/,
      ),
      failsWith(
        ['detect', '--bogus', fax],
        2,
        /^sequor detect: unknown option '--bogus' \(see sequor detect --help\)$/,
      ),
      failsWith(
        ['rules', 'check'],
        2,
        /^sequor rules: unknown rules command "check": use test or lint \(see sequor rules --help\)$/,
      ),
      // A value option twice would keep only its last value, silently.
      failsWith(
        ['detect', '--tags', 'attack.t1033', '--tags', 'attack.x', fax],
        2,
        /^sequor detect: --tags is given more than once: give it once, with a comma-separated list/,
      ),
      failsWith(
        ['detect', '--min-level', 'low', '--min-level=high', fax],
        2,
        /--min-level is given more than once/,
      ),
    ]);
  }, 120_000);

  it('checks numbers, durations and names', async () => {
    await Promise.all([
      failsWith(
        ['detect', '--partitions', '0', fax],
        2,
        /--partitions must be an integer from 1 to 1024, got "0"/,
      ),
      failsWith(
        ['detect', '--lateness', 'soon', fax],
        2,
        /--lateness must be a duration such as 5000, 30s, 2m or 1h, got "soon"/,
      ),
      failsWith(
        ['detect', '--format', 'syslog', fax],
        2,
        /--format "syslog" is not a format; known: winlogbeat, /,
      ),
      failsWith(['detect'], 2, /^sequor detect: no input: give files, directories or - for stdin/),
      failsWith(['generate', '--events', '100'], 2, /^sequor generate: --out DIR is required/),
      failsWith(
        ['generate', '--out', path.join(tmp, 'g'), '--out-of-order', '2m'],
        2,
        /^sequor generate: --out-of-order "120000": expected an integer from 0 to 60000/,
      ),
      failsWith(['query', 'process where true'], 2, /^sequor query: no input/),
      failsWith(
        ['replay', fax, '--topic', 'raw'],
        2,
        /^sequor replay: Kafka settings: KAFKA_BROKERS="": expected a comma-separated list of host:port/,
        { KAFKA_BROKERS: '' },
      ),
    ]);
  }, 120_000);
});

describe('sequor: unusable input (exit 1, one line)', () => {
  it('says which file cannot be read and why', async () => {
    const notLogs = path.join(tmp, 'notes.txt');
    writeFileSync(notLogs, 'dear diary\n');
    const badGzip = path.join(tmp, 'broken.json.gz');
    writeFileSync(badGzip, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03]));
    await Promise.all([
      failsWith(
        ['detect', path.join(tmp, 'missing.json')],
        1,
        /missing\.json: cannot read: no such file or directory$/,
      ),
      failsWith(
        ['detect', notLogs],
        1,
        /notes\.txt: cannot tell the source format: no format reads any of its first 1 data line \(first: "dear diary"\); pass --format \(winlogbeat, /,
      ),
      failsWith(['detect', badGzip], 1, /broken\.json\.gz: cannot read: /),
      failsWith(
        ['rules', 'test', path.join(tmp, 'no-rules-here')],
        1,
        /no-rules-here: cannot read rules: no such file or directory/,
      ),
    ]);
  }, 120_000);

  it('counts bad records with file:line and reason, and still detects on the rest (exit 0)', async () => {
    const lines = readFileSync(fax, 'utf8').split('\n');
    lines.splice(
      3,
      0,
      '{"EventID": 4624, "Channel": "Security", "@timestamp": "not a time"}',
      'not json at all',
    );
    const damaged = path.join(tmp, 'damaged.json');
    writeFileSync(damaged, lines.join('\n'));
    const result = await sequor(['detect', damaged]);
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson<Alert>(result.stdout)).toHaveLength(2);
    expect(result.stderr).toMatch(/dead letters: 2 \(/);
    expect(result.stderr).toContain(`${damaged}:4: wrong-type: `);
    expect(result.stderr).toContain(`${damaged}:5: malformed: `);
  }, 120_000);
});
