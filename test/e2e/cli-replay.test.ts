// `sequor replay` against the real broker: generated raw files go into raw topics, every line exactly
// once, each record timestamped with its line's event time, each file in one partition in file order
// (Zeek TSV headers before their rows), header lines carrying their file's next event time.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestRecord } from '@sequor/kafka/testing';
import { KafkaTestKit, uniqueTopic } from '@sequor/kafka/testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mainJs = path.join(repoRoot, 'services/cli/dist/main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts'))
      newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function sequor(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], {
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: inject('kafkaBrokers'),
        KAFKA_CLIENT_ID: 'sequor-cli-replay-test',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let kit: KafkaTestKit;
let dir = '';
const topics: string[] = [];

beforeAll(async () => {
  const built = (() => {
    try {
      return statSync(mainJs).mtimeMs;
    } catch {
      return 0;
    }
  })();
  if (built < newestSource(path.join(repoRoot, 'services/cli/src'))) {
    throw new Error(
      `${mainJs} is missing or older than its sources: run \`npm run build\` first (\`npm run test:integration\` does)`,
    );
  }
  kit = await KafkaTestKit.connect();
  dir = mkdtempSync(path.join(tmpdir(), 'sequor-cli-replay-'));
  const generated = await sequor([
    'generate',
    '--out',
    dir,
    '--seed',
    '5',
    '--events',
    '3000',
    '--scenarios',
    '1',
    '--out-of-order',
    '10s',
  ]);
  if (generated.code !== 0) throw new Error(`sequor generate failed: ${generated.stderr}`);
});

afterAll(async () => {
  await kit?.deleteTopics(topics).catch(() => undefined);
  await kit?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const byOffset = (a: TestRecord, b: TestRecord): number =>
  a.partition - b.partition || Number(a.offset) - Number(b.offset);

describe('sequor replay (dist/main.js) into a real broker', () => {
  it('produces every line once, keyed by file, with event-time record timestamps', async () => {
    const windowsTopic = uniqueTopic('raw-winlogbeat');
    const zeekTopic = uniqueTopic('raw-zeek');
    topics.push(windowsTopic, zeekTopic);
    const winlogbeat = path.join(dir, 'winlogbeat.ndjson');
    const zeek = path.join(dir, 'zeek/dce_rpc.log');
    const result = await sequor([
      'replay',
      winlogbeat,
      zeek,
      '--topic-map',
      `winlogbeat.ndjson=${windowsTopic},dce_rpc.log=${zeekTopic}`,
      '--partitions',
      '3',
      '--rate',
      '5000',
    ]);
    expect(result.code, result.stderr).toBe(0);

    const windowsLines = readFileSync(winlogbeat, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const zeekLines = readFileSync(zeek, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(result.stderr).toContain(
      `sequor replay: ${(windowsLines.length + zeekLines.length).toLocaleString('en-US')} records`,
    );

    const windows = (await kit.consumeUntil(windowsTopic, windowsLines.length)).sort(byOffset);
    const rows = (await kit.consumeUntil(zeekTopic, zeekLines.length)).sort(byOffset);
    expect(windows).toHaveLength(windowsLines.length);
    expect(rows).toHaveLength(zeekLines.length);

    // A file is one stream: one key, one partition, file order (the generator jittered the lines by up to 10 s).
    for (const [records, lines, key] of [
      [windows, windowsLines, 'winlogbeat.ndjson'],
      [rows, zeekLines, 'dce_rpc.log'],
    ] as const) {
      expect(new Set(records.map((r) => r.partition)).size).toBe(1);
      expect(new Set(records.map((r) => r.key?.toString()))).toEqual(new Set([key]));
      expect(records.map((r) => r.value?.toString())).toEqual(lines);
    }

    // Record timestamps are event times: Winlogbeat's @timestamp, Zeek's ts (ms), headers take the next row's.
    for (const r of windows) {
      expect(Number(r.timestamp)).toBe(
        Date.parse((JSON.parse(r.value?.toString() ?? '{}') as { '@timestamp': string })['@timestamp']),
      );
    }
    const firstRow = rows.findIndex((r) => !r.value?.toString().startsWith('#'));
    // Zeek ts is seconds with microseconds: integer arithmetic, as a float multiply can land a hair below.
    const rowTime = (r: TestRecord): number => {
      const [seconds, fraction = ''] = (r.value?.toString().split('\t')[0] ?? '').split('.');
      return Number(seconds) * 1000 + Number(fraction.padEnd(3, '0').slice(0, 3));
    };
    expect(firstRow).toBeGreaterThan(0);
    for (const header of rows.slice(0, firstRow))
      expect(Number(header.timestamp)).toBe(rowTime(rows[firstRow] as TestRecord));
    for (const r of rows.slice(firstRow)) {
      if (!r.value?.toString().startsWith('#')) expect(Number(r.timestamp)).toBe(rowTime(r));
    }
    expect(Number(windows[0]?.timestamp)).toBeLessThan(Date.parse('2025-01-01T00:00:00Z'));
  });
});

describe('sequor replay and max.message.bytes', () => {
  const datasets = path.resolve(repoRoot, '../shared/datasets/security-datasets');

  it('replays a 12 MB real file of ~3 KB lines whole (its batches used to pass 1 MiB and be refused)', async () => {
    const topic = uniqueTopic('raw-psexec');
    topics.push(topic);
    const file = path.join(datasets, 'empire_psexec_dcerpc_tcp_svcctl.json');
    const result = await sequor(['replay', file, '--topic', topic, '--format', 'flat-windows']);
    expect(result.code, result.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(await kit.consumeUntil(topic, lines.length)).toHaveLength(lines.length);
  });

  it('names a line too large for the topic, sends every other line, and exits 1', async () => {
    const topic = await kit.createTopic('raw-small', { configs: { 'max.message.bytes': String(32 * 1024) } });
    topics.push(topic);
    const file = path.join(dir, 'one-huge-line.ndjson');
    const event = (i: number, padding: string) =>
      JSON.stringify({
        EventID: 4688,
        Channel: 'Security',
        Hostname: 'HOST1',
        '@timestamp': `2024-01-01T00:00:0${i}.000Z`,
        CommandLine: padding,
      });
    writeFileSync(
      file,
      [event(1, 'small'), event(2, 'x'.repeat(40_000)), event(3, 'small')].join('\n') + '\n',
    );
    const result = await sequor(['replay', file, '--topic', topic, '--format', 'flat-windows']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /one-huge-line\.ndjson: a line of \d+ bytes does not fit raw-small-\S+'s max\.message\.bytes: not sent/,
    );
    expect(result.stderr).toContain('1 line not sent');
    const records = await kit.consumeUntil(topic, 2);
    expect(records.map((r) => JSON.parse(r.value!.toString()).CommandLine)).toEqual(['small', 'small']);
  });

  it('sends a year-9999 event stamped with the send time: the broker refuses CreateTime over 1 h ahead', async () => {
    const topic = uniqueTopic('raw-future');
    topics.push(topic);
    const file = path.join(dir, 'future.ndjson');
    const event = (time: string) =>
      JSON.stringify({
        EventID: 4688,
        Channel: 'Security',
        Hostname: 'HOST1',
        '@timestamp': time,
        CommandLine: 'x',
      });
    writeFileSync(
      file,
      [
        event('2024-01-01T00:00:01.000Z'),
        event('9999-12-31T23:59:59.000Z'),
        event('2024-01-01T00:00:02.000Z'),
      ].join('\n') + '\n',
    );
    const before = Date.now();
    const result = await sequor(['replay', file, '--topic', topic, '--format', 'flat-windows']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('1 record stamped with the send time');
    const records = await kit.consumeUntil(topic, 3);
    const future = records.find((r) => r.value!.toString().includes('9999'))!;
    expect(Number(future.timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(future.timestamp)).toBeLessThanOrEqual(Date.now());
    expect(records.filter((r) => r !== future).map((r) => Number(r.timestamp))).toEqual([
      Date.parse('2024-01-01T00:00:01.000Z'),
      Date.parse('2024-01-01T00:00:02.000Z'),
    ]);
  });
});
