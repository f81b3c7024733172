// The evtx crate's JSON through the real broker: `sequor replay` (dist/main.js) writes every SigmaHQ
// regression file (pretty-printed documents, read in place) and a file of bad documents to one raw topic,
// one record per document; the normalizer service, bound `evtx-json:<topic>`, turns them into Avro events
// and dead letters. Asserted: documents = events + dead letters exactly, each record's offset accounted
// for once, dead letters carry the document and the reason, events keyed by host.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestRecord } from '@sequor/kafka/testing';
import { headerString, KafkaTestKit, uniqueGroup, uniqueTopic } from '@sequor/kafka/testing';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec } from '@sequor/model';
import type { Normalizer } from '@sequor/normalizer';
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mainJs = path.join(repoRoot, 'services/cli/dist/main.js');
const REGRESSION = path.resolve(repoRoot, '../shared/sigma/regression_data');
const codec = createEventCodec();

function sequor(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], {
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: inject('kafkaBrokers'),
        KAFKA_CLIENT_ID: 'sequor-evtx-test',
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

const regressionFiles = readdirSync(REGRESSION, { withFileTypes: true, recursive: true })
  .filter((e) => e.isFile() && e.name.endsWith('.json'))
  .map((e) => path.join(e.parentPath, e.name))
  .sort();
/** A pretty-printed file's documents: each starts with `{` in column 0. */
const documentsOf = (text: string): string[] => text.split(/\n(?=\{)/).map((d) => d.trimEnd());

let kit: KafkaTestKit;
let normalizer: Normalizer | undefined;
let dir = '';
let rawTopic: string;
let normalizedTopic: string;
let deadLetterTopic: string;
let raw: TestRecord[] = [];
let events: { record: TestRecord; event: SequorEvent }[] = [];
let deadLetters: TestRecord[] = [];
let goodDocuments = 0;
const badDocuments: string[] = [];

beforeAll(async () => {
  if (statSync(mainJs, { throwIfNoEntry: false }) === undefined)
    throw new Error(`${mainJs} is missing: run \`npm run build\` first`);
  kit = await KafkaTestKit.connect();
  dir = mkdtempSync(path.join(tmpdir(), 'sequor-evtx-'));
  expect(regressionFiles).toHaveLength(162);
  for (const f of regressionFiles) goodDocuments += documentsOf(readFileSync(f, 'utf8')).length;

  // Bad documents between good ones: truncated, not an object, not an evtx event, no time.
  const sample = documentsOf(readFileSync(regressionFiles[0] as string, 'utf8'))[0] as string;
  badDocuments.push(
    sample.split('\n').slice(0, 12).join('\n'),
    '[1, 2]',
    '{\n  "NotEvent": {}\n}',
    '{\n  "Event": {\n    "System": {\n      "EventID": 1,\n      "Channel": "Security"\n    }\n  }\n}',
  );
  const bad = path.join(dir, 'bad.json');
  writeFileSync(bad, `${[sample, ...badDocuments, sample].join('\n')}\n`);
  goodDocuments += 2;

  // Old event times: the raw topic keeps them (no retention), and has room for pretty-printed documents.
  rawTopic = await kit.createTopic('raw-evtx', { partitions: 2, configs: { 'retention.ms': '-1' } });
  const replayed = await sequor(['replay', ...regressionFiles, bad, '--topic', rawTopic]);
  expect(replayed.code, replayed.stderr).toBe(0);
  const records = goodDocuments + badDocuments.length;
  raw = await kit.consumeUntil(rawTopic, records, { timeoutMs: 120_000 });

  normalizedTopic = uniqueTopic('normalized');
  deadLetterTopic = uniqueTopic('dead-letters');
  normalizer = createNormalizer(
    normalizerConfigFromEnv({
      KAFKA_BROKERS: kit.config.brokers.join(','),
      NORMALIZER_SOURCES: `evtx-json:${rawTopic}`,
      NORMALIZED_TOPIC: normalizedTopic,
      NORMALIZED_PARTITIONS: '3',
      DEAD_LETTER_TOPIC: deadLetterTopic,
      NORMALIZER_GROUP_ID: uniqueGroup('normalizer-evtx'),
    }),
    { client: kit.client, logger: kit.logger },
  );
  await normalizer.start();
  const [out, dead] = await Promise.all([
    kit.consumeUntil(normalizedTopic, goodDocuments, { timeoutMs: 120_000 }),
    kit.consumeUntil(deadLetterTopic, badDocuments.length, { timeoutMs: 120_000 }),
  ]);
  await normalizer.stop();
  await normalizer.done;
  events = out.map((record) => ({ record, event: codec.decode(record.value as Buffer) }));
  deadLetters = dead;
}, 300_000);

afterAll(async () => {
  await normalizer?.stop();
  await kit
    ?.deleteTopics([normalizedTopic, deadLetterTopic].filter((t) => t !== undefined))
    .catch(() => undefined);
  await kit?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('evtx JSON: sequor replay, then the normalizer, through the broker', () => {
  it('replay sends one record per document', () => {
    expect(raw).toHaveLength(goodDocuments + badDocuments.length);
    for (const r of raw)
      expect(r.value?.toString('utf8').startsWith('{') || r.value?.toString() === '[1, 2]').toBe(true);
  });

  it('every document is an event or a dead letter, each raw record once', async () => {
    expect(events).toHaveLength(goodDocuments);
    expect(deadLetters).toHaveLength(badDocuments.length);
    const seen = [
      ...events.map((e) => `${e.event.origin.partition}@${e.event.origin.offset}`),
      ...deadLetters.map(
        (r) => `${headerString(r.headers, 'origin.partition')}@${headerString(r.headers, 'origin.offset')}`,
      ),
    ].sort();
    expect(seen).toEqual(raw.map((r) => `${r.partition}@${r.offset}`).sort());
    const ends = await kit.admin.fetchTopicOffsets(normalizedTopic);
    expect(ends.reduce((sum, p) => sum + Number(p.high), 0)).toBe(goodDocuments);
  });

  it('events carry the header and their own data, host-keyed; Sysmon, Security and other channels alike', () => {
    const channels = new Set<string>();
    for (const { record, event } of events) {
      expect(event.origin.format).toBe('evtx-json');
      expect(event.host?.name).toBeTruthy();
      expect(record.key?.toString('utf8')).toBe(event.host?.id);
      expect(event.winlog?.record_id).toBeGreaterThan(0);
      channels.add(event.winlog?.channel as string);
      // The event's own data travels whole (Sigma rules read names the model does not have).
      expect(Object.keys(event.winlog?.event_data ?? {}).length).toBeGreaterThan(0);
    }
    const task = events.find(
      (e) => e.event.winlog?.channel === 'Microsoft-Windows-TaskScheduler/Operational',
    );
    expect(task?.event.winlog?.event_data?.['TaskName']).toBeTruthy();
    expect([...channels].sort()).toEqual([
      'Microsoft-Windows-Sysmon/Operational',
      'Microsoft-Windows-TaskScheduler/Operational',
      'Microsoft-Windows-WMI-Activity/Operational',
      'Security',
    ]);
  });

  it('dead letters carry the document and why', () => {
    const byValue = new Map(
      deadLetters.map((r) => [r.value?.toString('utf8'), headerString(r.headers, 'error.reason')]),
    );
    expect([...byValue.keys()].sort()).toEqual([...badDocuments].sort());
    expect(badDocuments.map((d) => byValue.get(d))).toEqual([
      'malformed',
      'malformed',
      'missing-field',
      'missing-field',
    ]);
    for (const r of deadLetters) expect(headerString(r.headers, 'sequor.format')).toBe('evtx-json');
  });
});
