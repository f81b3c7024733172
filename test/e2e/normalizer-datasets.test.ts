// The normalizer service against the real broker, on every real dataset: each Security-Datasets file is
// replayed line by line into its own raw topic, plus a hand-written Zeek dce_rpc log (with its header
// lines) into a Zeek topic; one in-process normalizer reads them all. Asserted: input = output + dead
// letters (+ Zeek header lines) exactly, per topic and against the topics' end offsets; named events
// decoded from Avro; every event of a host in one partition, the one murmur2(key) % partitions gives;
// offsets committed up to the end once the normalizer stopped.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRecord } from '@sequor/kafka/testing';
import { headerString, KafkaTestKit, uniqueGroup, uniqueTopic } from '@sequor/kafka/testing';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec, partitionFor } from '@sequor/model';
import type { Normalizer } from '@sequor/normalizer';
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const securityDatasets = path.resolve(repoRoot, '../shared/datasets/security-datasets');
const zeekFixture = path.join(repoRoot, 'shared/formats/test/fixtures/zeek/dce_rpc.log');
const PARTITIONS = 6;
const MiB = 1 << 20;

// Per file: lines, and dead letters by reason (none: events of channels no mapping knows, TaskScheduler,
// WMI-Activity, Directory Service, pass with their own data; shared/formats README). Every line gives one event.
const expected: Readonly<Record<string, { lines: number; deadLetters: Readonly<Record<string, number>> }>> = {
  'cmd_service_mod_fax.json': { lines: 437, deadLetters: {} },
  'empire_psexec_dcerpc_tcp_svcctl.json': { lines: 4348, deadLetters: {} },
  'empire_shell_dcerpc_smb_service_dll_hijack.json': { lines: 6349, deadLetters: {} },
  'empire_shell_reg_dump_sam.json': { lines: 738, deadLetters: {} },
  'reg_disable_eventlog_service_startuptype_modification_via_registry.json': { lines: 3872, deadLetters: {} },
};

const datasetFiles = readdirSync(securityDatasets)
  .filter((f) => f.endsWith('.json'))
  .sort();
const lines = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
const codec = createEventCodec();

interface Decoded {
  readonly record: TestRecord;
  readonly key: string;
  readonly event: SequorEvent;
}

let kit: KafkaTestKit;
let normalizer: Normalizer | undefined;
const rawTopicOf = new Map<string, string>();
let zeekTopic: string;
let zeekLines: string[];
let normalizedTopic: string;
let deadLetterTopic: string;
let groupId: string;
let normalized: Decoded[] = [];
let deadLetters: TestRecord[] = [];
let expectedOutputs = 0;
let expectedDeadLetters = 0;

beforeAll(async () => {
  kit = await KafkaTestKit.connect();
  expect(datasetFiles).toEqual(Object.keys(expected).sort());
  const produced: Promise<void>[] = [];
  for (const file of datasetFiles) {
    // Raw lines reach ~40 KB; a produce batch of them must fit the topic's limit.
    const topic = await kit.createTopic('raw-windows', {
      partitions: 1,
      configs: { 'max.message.bytes': String(8 * MiB) },
    });
    rawTopicOf.set(file, topic);
    const want = expected[file]!;
    const dead = Object.values(want.deadLetters).reduce((a, b) => a + b, 0);
    expectedOutputs += want.lines - dead;
    expectedDeadLetters += dead;
    produced.push(
      kit.produceAll(
        topic,
        lines(path.join(securityDatasets, file)).map((l) => ({ key: null, value: Buffer.from(l) })),
      ),
    );
  }
  zeekTopic = await kit.createTopic('raw-zeek-dce-rpc', { partitions: 1 });
  zeekLines = lines(zeekFixture);
  const zeekData = zeekLines.filter((l) => !l.startsWith('#')).length;
  expectedOutputs += zeekData;
  produced.push(
    kit.produceAll(
      zeekTopic,
      zeekLines.map((l) => ({ key: null, value: Buffer.from(l) })),
    ),
  );
  await Promise.all(produced);

  normalizedTopic = uniqueTopic('normalized');
  deadLetterTopic = uniqueTopic('dead-letters');
  groupId = uniqueGroup('normalizer');
  const sources = [
    ...[...rawTopicOf.values()].map((t) => `flat-windows:${t}`),
    `zeek-dce-rpc:${zeekTopic}`,
  ].join(',');
  const config = normalizerConfigFromEnv({
    KAFKA_BROKERS: kit.config.brokers.join(','),
    NORMALIZER_SOURCES: sources,
    NORMALIZED_TOPIC: normalizedTopic,
    NORMALIZED_PARTITIONS: String(PARTITIONS),
    DEAD_LETTER_TOPIC: deadLetterTopic,
    NORMALIZER_GROUP_ID: groupId,
  });
  normalizer = createNormalizer(config, { client: kit.client, logger: kit.logger });
  await normalizer.start();
  const [out, dead] = await Promise.all([
    kit.consumeUntil(normalizedTopic, expectedOutputs, { timeoutMs: 240_000 }),
    kit.consumeUntil(deadLetterTopic, expectedDeadLetters, { timeoutMs: 240_000 }),
  ]);
  await normalizer.stop();
  await normalizer.done;
  normalized = out.map((record) => ({
    record,
    key: record.key?.toString('utf8') ?? '',
    event: codec.decode(record.value as Buffer),
  }));
  deadLetters = dead;
}, 300_000);

afterAll(async () => {
  await normalizer?.stop();
  await kit
    ?.deleteTopics([normalizedTopic, deadLetterTopic].filter((t) => t !== undefined))
    .catch(() => undefined);
  await kit?.close();
});

async function endOffsets(topic: string): Promise<number> {
  const offsets = await kit.admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

function find(predicate: (e: SequorEvent) => boolean): Decoded {
  const found = normalized.filter((d) => predicate(d.event));
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('normalizer over every Security-Datasets file and a Zeek log, through the broker', () => {
  it.each(datasetFiles)('%s: lines = normalized + dead letters, exactly', (file) => {
    const topic = rawTopicOf.get(file)!;
    const want = expected[file]!;
    const outputs = normalized.filter((d) => d.event.origin.topic === topic);
    const dead = deadLetters.filter((r) => headerString(r.headers, 'origin.topic') === topic);
    const reasons: Record<string, number> = {};
    for (const r of dead) {
      const reason = headerString(r.headers, 'error.reason')!;
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    expect(outputs.length + dead.length).toBe(want.lines);
    expect(reasons).toEqual(want.deadLetters);
    // Every raw offset accounted for once: either its event or its dead letter.
    const offsets = [
      ...outputs.map((d) => d.event.origin.offset),
      ...dead.map((r) => Number(headerString(r.headers, 'origin.offset'))),
    ].sort((a, b) => (a as number) - (b as number));
    expect(offsets).toEqual(Array.from({ length: want.lines }, (_, i) => i));
    // Dead letters carry the raw line itself, and what went wrong.
    const raw = lines(path.join(securityDatasets, file));
    for (const r of dead) {
      const offset = Number(headerString(r.headers, 'origin.offset'));
      expect(r.value?.toString('utf8')).toBe(raw[offset]);
      expect(headerString(r.headers, 'error.type')).toBe('NormalizeError');
      expect(headerString(r.headers, 'error.message')).toContain('channel');
      expect(headerString(r.headers, 'origin.partition')).toBe('0');
      expect(headerString(r.headers, 'sequor.format')).toBe('flat-windows');
    }
  });

  it('no record more than expected: the topics end where the counts say', async () => {
    expect(normalized).toHaveLength(expectedOutputs);
    expect(deadLetters).toHaveLength(expectedDeadLetters);
    expect(await endOffsets(normalizedTopic)).toBe(expectedOutputs);
    expect(await endOffsets(deadLetterTopic)).toBe(expectedDeadLetters);
    expect(new Set(normalized.map((d) => `${d.event.origin.topic}@${d.event.origin.offset}`)).size).toBe(
      expectedOutputs,
    );
  });

  it('offsets were committed up to the end of every raw topic', async () => {
    const topics = [...rawTopicOf.values(), zeekTopic];
    const committed = await kit.admin.fetchOffsets({ groupId, topics });
    const byTopic = Object.fromEntries(committed.map((t) => [t.topic, t.partitions.map((p) => p.offset)]));
    for (const [file, topic] of rawTopicOf) expect(byTopic[topic]).toEqual([String(expected[file]!.lines)]);
    expect(byTopic[zeekTopic]).toEqual([String(zeekLines.length)]);
  });

  it('every event of a host is in one partition, the one murmur2(key) % partitions gives', () => {
    const partitionsByHost = new Map<string, Set<number>>();
    let mismatches = 0;
    for (const d of normalized) {
      if (d.record.partition !== partitionFor(Buffer.from(d.key), PARTITIONS)) mismatches++;
      if (d.key !== d.event.host?.id) mismatches++;
      const host = d.event.host?.id ?? '';
      const set = partitionsByHost.get(host) ?? new Set<number>();
      set.add(d.record.partition);
      partitionsByHost.set(host, set);
    }
    expect(mismatches).toBe(0);
    for (const [host, partitions] of partitionsByHost) expect([host, partitions.size]).toEqual([host, 1]);
    // Several hosts, so the check means something: Windows hosts by name, the Zeek responders by address.
    expect([...partitionsByHost.keys()].filter((h) => h.startsWith('name:')).length).toBeGreaterThanOrEqual(
      4,
    );
    expect(partitionsByHost.has('ip:10.0.0.5')).toBe(true);
    const sample = normalized[0]!.record;
    expect(headerString(sample.headers, 'sequor.partition-key-fields')).toBe('host.id,host.name,user.id');
    expect(headerString(sample.headers, 'sequor.partition-key-field')).toBe('host.id');
  });

  it('a 4624 network logon of THESHIRE\\pgustavo from 172.18.39.5 onto WORKSTATION6', () => {
    const file = 'empire_shell_dcerpc_smb_service_dll_hijack.json';
    const raw = lines(path.join(securityDatasets, file));
    const offset = raw.findIndex(
      (l) =>
        l.includes('"EventID":4624') &&
        l.includes('"LogonType":"3"') &&
        l.includes('"TargetUserName":"pgustavo"') &&
        l.includes('WORKSTATION6'),
    );
    const { event, key, record } = find(
      (e) => e.origin.topic === rawTopicOf.get(file) && e.origin.offset === offset,
    );
    expect(key).toBe('name:workstation6');
    expect(headerString(record.headers, 'sequor.format')).toBe('flat-windows');
    expect(event.event.code).toBe('4624');
    expect(event.event.category).toEqual(['authentication']);
    expect(event.event.type).toEqual(['start']);
    expect(event.event.outcome).toBe('success');
    expect(event.winlog?.logon?.type).toBe('Network');
    expect(event.winlog?.channel).toBe('Security');
    expect(event.user?.id).toBe('S-1-5-21-4228717743-1032521047-1810997296-1104');
    expect(event.user?.name).toBe('pgustavo');
    expect(event.source?.ip).toBe('172.18.39.5');
    expect(event.host?.name?.toLowerCase()).toMatch(/^workstation6/);
    expect(event.origin).toEqual({
      format: 'flat-windows',
      topic: rawTopicOf.get(file),
      partition: 0,
      offset,
    });
  });

  it('the Sysmon 13 ImagePath write of the Updater service (remote service creation over svcctl)', () => {
    const file = 'empire_psexec_dcerpc_tcp_svcctl.json';
    const { event, key } = find(
      (e) =>
        e.origin.topic === rawTopicOf.get(file) &&
        e.event.code === '13' &&
        e.registry?.path === 'HKLM\\System\\CurrentControlSet\\Services\\Updater\\ImagePath',
    );
    expect(key).toBe('name:workstation6');
    expect(event.timestamp).toBe(Date.parse('2020-09-20T16:16:57.112Z'));
    expect(event.registry?.value).toBe('ImagePath');
    expect(event.registry?.key).toBe('System\\CurrentControlSet\\Services\\Updater');
    expect(event.registry?.data?.strings?.[0]).toMatch(
      /^%%COMSPEC%% \/C start \/b C:\\Windows\\System32\\WindowsPowershell\\v1\.0\\pow/,
    );
    expect(event.process?.entity_id).toBe('{d273d0f0-e865-5f64-0b00-000000000800}');
    expect(event.process?.name).toBe('services.exe');
    expect(event.host?.name).toBe('WORKSTATION6.theshire.local');
  });

  it('a Sysmon 1 process create with its GUID (sc config Fax binPath=)', () => {
    const file = 'cmd_service_mod_fax.json';
    const { event, key } = find(
      (e) =>
        e.origin.topic === rawTopicOf.get(file) &&
        e.process?.entity_id === '{39e4a257-d62d-5f90-8710-000000000700}' &&
        e.event.code === '1',
    );
    expect(key).toBe('name:workstation5');
    expect(event.timestamp).toBe(Date.parse('2020-10-21T08:45:33.686Z'));
    expect(event.event.category).toEqual(['process']);
    expect(event.process?.pid).toBe(3112);
    expect(event.process?.executable).toBe('C:\\Windows\\System32\\sc.exe');
    expect(event.process?.command_line).toContain('sc  config Fax binPath=');
    expect(event.process?.parent?.entity_id).toBe('{39e4a257-d603-5f90-8010-000000000700}');
    expect(event.user?.id).toBe('name:workstation5\\wardog');
  });

  it('a Zeek dce_rpc winreg BaseRegSetValue, keyed by the responder address', () => {
    const dataLines = zeekLines.filter((l) => !l.startsWith('#'));
    const zeek = normalized.filter((d) => d.event.origin.topic === zeekTopic);
    expect(zeek).toHaveLength(dataLines.length);
    expect(deadLetters.filter((r) => headerString(r.headers, 'origin.topic') === zeekTopic)).toHaveLength(0);
    const offset = zeekLines.findIndex((l) => l.includes('10.0.0.5') && l.endsWith('BaseRegSetValue'));
    const { event, key, record } = find((e) => e.origin.topic === zeekTopic && e.origin.offset === offset);
    expect(key).toBe('ip:10.0.0.5');
    expect(headerString(record.headers, 'sequor.format')).toBe('zeek-dce-rpc');
    expect(event.dce_rpc).toEqual({
      named_pipe: '\\PIPE\\winreg',
      endpoint: 'winreg',
      operation: 'BaseRegSetValue',
    });
    expect(event.event.action).toBe('BaseRegSetValue');
    expect(event.source).toEqual({ ip: '10.0.0.23', port: 49710, bytes: null });
    expect(event.destination?.ip).toBe('10.0.0.5');
    expect(event.destination?.port).toBe(445);
    expect(event.network?.connection_id).toBe('CjhGID4nQcgTWjvg4c');
    expect(event.timestamp).toBe(1709287200121);
    expect(event.host?.ip).toEqual(['10.0.0.5']);
  });
});
