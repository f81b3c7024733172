/**
 * `sequor detect` over a file whose first event is dated in the year 9999 (a broken or hostile host
 * clock): without the skew guard it became stream time and every later event was dropped as late (0 of
 * 2 alerts, exit 0). Now it is dead-lettered as `future-timestamp` and both alerts are raised. The
 * events are hand-written from the built-in Elastic rule's own test case (no third-party data).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@sequor/rules';
import type { DetectionSummary } from '../src/embedded.js';
import { assertBuilt, ndjson, sequor } from './support.js';

const host = { id: 'name:dc01', name: 'DC01' };
const user = { id: 'S-1-5-21-1111111111-2222222222-3333333333-1104', name: 'pgustavo', domain: 'THESHIRE' };

/** A network logon, then svchost writing a SAM hive 30 s later: one alert of the Elastic rule. */
function attack(at: string, n: number): object[] {
  const start = Date.parse(at);
  return [
    {
      '@timestamp': new Date(start).toISOString(),
      event: {
        id: `logon-${n}`,
        category: ['authentication'],
        type: ['start'],
        outcome: 'success',
        code: '4624',
      },
      host,
      user,
      source: { ip: '172.18.39.5' },
      winlog: { logon: { type: 'Network' } },
    },
    {
      '@timestamp': new Date(start + 30_000).toISOString(),
      event: { id: `hive-${n}`, category: ['file'], type: ['creation'], action: 'creation' },
      host,
      user,
      process: { name: 'svchost.exe', entity_id: `{aaaaaaaa-0000-0000-0000-00000000000${n}}` },
      file: {
        path: `C:\\Windows\\System32\\wn5q${n}.tmp`,
        name: `wn5q${n}.tmp`,
        size: 65536,
        Ext: { header_bytes: '72656766e1000000e1000000' },
      },
    },
  ];
}

let tmp = '';
let file = '';

beforeAll(() => {
  assertBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), 'sequor-future-'));
  file = path.join(tmp, 'events.ndjson');
  const bogus = {
    '@timestamp': '9999-12-31T23:59:59.000Z',
    event: { id: 'year-9999', category: ['process'], type: ['start'] },
    host,
    process: { name: 'cmd.exe' },
  };
  const lines = [bogus, ...attack('2024-05-06T12:00:00Z', 1), ...attack('2024-05-06T14:00:00Z', 2)];
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
});

afterAll(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

describe('sequor detect: a year-9999 event early in a file', () => {
  it('is dead-lettered as future-timestamp and both alerts are still raised', async () => {
    const summaryFile = path.join(tmp, 'summary.json');
    const result = await sequor(['detect', '--format', 'ecs', '--summary-json', summaryFile, file]);
    expect(result.code, result.stderr).toBe(0);
    const alerts = ndjson<Alert>(result.stdout);
    expect(alerts.map((a) => a.evidence.map((e) => e.event_id))).toEqual([
      ['logon-1', 'hive-1'],
      ['logon-2', 'hive-2'],
    ]);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as DetectionSummary;
    expect(summary.deadLettersByReason).toMatchObject({ 'future-timestamp': 1 });
    expect(summary).toMatchObject({ deadLetters: 1, futureTime: 1, late: 0 });
    expect(result.stderr).toContain('future-timestamp 1');
    expect(result.stderr).toMatch(/events\.ndjson:1: future-timestamp: event time 9999-12-31T23:59:59\.000Z/);
  });

  it('with the guard widened past the year 9999, the event blinds the file as before (the test has teeth)', async () => {
    const result = await sequor([
      'detect',
      '--format',
      'ecs',
      '--max-future-skew',
      `${24 * 365 * 10_000}h`,
      file,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson<Alert>(result.stdout)).toEqual([]);
  });
});

describe('sequor query: a year-9999 event early in a file', () => {
  const sequence =
    'sequence by host.id with maxspan=1m [authentication where event.outcome == "success"] [file where file.name : "wn5q*"]';

  it('is not matched and does not end the query: both sequences are found, the event counted on stderr', async () => {
    const result = await sequor(['query', '--format', 'ecs', sequence, file]);
    expect(result.code, result.stderr).toBe(0);
    const matches = ndjson<{ events: { event: { id: string } }[] }>(result.stdout);
    expect(matches.map((m) => m.events.map((e) => e.event.id))).toEqual([
      ['logon-1', 'hive-1'],
      ['logon-2', 'hive-2'],
    ]);
    expect(result.stderr).toContain(
      "1 event(s) dated more than 60000 ms after the run's start were not matched",
    );
  });

  it('with the guard widened past the year 9999, the event blinds the query (the test has teeth)', async () => {
    const result = await sequor([
      'query',
      '--format',
      'ecs',
      '--max-future-skew',
      `${24 * 365 * 10_000}h`,
      sequence,
      file,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
  });
});
