// Poison input through the normalizer on the real broker: each kind of bad record lands in the
// dead-letter topic with its reason header and origin, nothing crashes, the good records after it still
// flow, and the counts are exact. Also: POISON_POLICY=fail stops without committing the bad record.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRecord } from '@sequor/kafka/testing';
import { headerString, KafkaTestKit, uniqueGroup, uniqueTopic } from '@sequor/kafka/testing';
import { ConsumerCrashedError, createLogger } from '@sequor/kafka';
import { createEventCodec } from '@sequor/model';
import type { Normalizer } from '@sequor/normalizer';
import { createNormalizer, normalizerConfigFromEnv, TOO_LARGE_PREFIX_BYTES } from '@sequor/normalizer';
import type { Telemetry } from '@sequor/telemetry';
import { spanContextFromHeaders } from '@sequor/telemetry';
import { parsePrometheus, sampleValue, startTestTelemetry } from '@sequor/telemetry/testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const datasetLine = readFileSync(
  path.resolve(repoRoot, '../shared/datasets/security-datasets/cmd_service_mod_fax.json'),
  'utf8',
).split('\n')[0]!;
const zeekLog = readFileSync(path.join(repoRoot, 'shared/formats/test/fixtures/zeek/dce_rpc.log'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0);
const MiB = 1 << 20;
const codec = createEventCodec();

/** A valid flat-windows record, distinct per `n` (its own record id, hence its own event id). */
function good(n: number): string {
  const doc = JSON.parse(datasetLine) as Record<string, unknown>;
  doc['RecordNumber'] = 900_000 + n;
  return JSON.stringify(doc);
}
const ts = '"@timestamp":"2020-10-21T08:45:33.686Z"';

// Each bad record is followed by a good one: the partition must keep flowing past it.
const windowsInput: readonly {
  readonly name: string;
  readonly value: Buffer | null;
  readonly reason?: string;
}[] = [
  { name: 'good 0', value: Buffer.from(good(0)) },
  { name: 'truncated JSON', value: Buffer.from(datasetLine.slice(0, 300)), reason: 'malformed' },
  { name: 'good 1', value: Buffer.from(good(1)) },
  {
    name: 'binary garbage',
    value: Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x80, 0x01, 0xc3, 0x28]),
    reason: 'malformed',
  },
  { name: 'good 2', value: Buffer.from(good(2)) },
  {
    name: '10 MB record',
    value: Buffer.concat([
      Buffer.from('{"EventID":1,"Padding":"'),
      Buffer.alloc(10 * MiB, 0x61),
      Buffer.from('"}'),
    ]),
    reason: 'too-large',
  },
  { name: 'good 3', value: Buffer.from(good(3)) },
  {
    name: 'missing timestamp',
    value: Buffer.from('{"EventID":4624,"Channel":"Security","Hostname":"WS1"}'),
    reason: 'missing-field',
  },
  {
    name: 'wrong types',
    value: Buffer.from(`{"EventID":4624,"Channel":"Security","Hostname":["WS1"],${ts}}`),
    reason: 'wrong-type',
  },
  {
    name: 'unknown event code',
    value: Buffer.from(`{"EventID":99999,"Channel":"Security","Hostname":"WS1",${ts}}`),
    reason: 'wrong-type',
  },
  {
    // A channel no mapping knows passes (header and its own data); one of no name is refused.
    name: 'empty channel name',
    value: Buffer.from(`{"EventID":4624,"Channel":"","Hostname":"WS1",${ts}}`),
    reason: 'wrong-type',
  },
  { name: 'tombstone', value: null, reason: 'malformed' },
  { name: 'good 4', value: Buffer.from(good(4)) },
];

// A Zeek TSV stream: header lines (no events), a row with two columns missing, then good rows.
const zeekHeader = zeekLog.filter((l) => l.startsWith('#') && !l.startsWith('#close'));
const zeekRows = zeekLog.filter((l) => !l.startsWith('#'));
const zeekInput: readonly { readonly value: string; readonly reason?: string }[] = [
  ...zeekHeader.map((value) => ({ value })),
  { value: zeekRows[0]!.split('\t').slice(0, -2).join('\t'), reason: 'column-count' },
  ...zeekRows.slice(1, 4).map((value) => ({ value })),
];

let kit: KafkaTestKit;
let telemetry: Telemetry | undefined;
const normalizers: Normalizer[] = [];
const extraTopics: string[] = [];

beforeAll(async () => {
  kit = await KafkaTestKit.connect();
});
afterAll(async () => {
  for (const n of normalizers) await n.stop().catch(() => undefined);
  await telemetry?.shutdown();
  await kit?.deleteTopics(extraTopics).catch(() => undefined);
  await kit?.close();
});

function env(
  sources: string,
  extra: Record<string, string> = {},
): {
  config: ReturnType<typeof normalizerConfigFromEnv>;
  normalizedTopic: string;
  deadLetterTopic: string;
  groupId: string;
} {
  const normalizedTopic = uniqueTopic('normalized');
  const deadLetterTopic = uniqueTopic('dead-letters');
  const groupId = uniqueGroup('normalizer');
  extraTopics.push(normalizedTopic, deadLetterTopic);
  const config = normalizerConfigFromEnv({
    KAFKA_BROKERS: kit.config.brokers.join(','),
    NORMALIZER_SOURCES: sources,
    NORMALIZED_TOPIC: normalizedTopic,
    NORMALIZED_PARTITIONS: '3',
    DEAD_LETTER_TOPIC: deadLetterTopic,
    NORMALIZER_GROUP_ID: groupId,
    ...extra,
  });
  return { config, normalizedTopic, deadLetterTopic, groupId };
}

describe('normalizer: malformed input goes to the dead-letter topic', () => {
  it('every bad record dead-lettered with its reason and origin; good records after it flow; counts exact', async () => {
    // The raw topic takes a 10 MB record; the normalizer must read it (to refuse it) without stalling.
    const windowsTopic = await kit.createTopic('raw-windows', {
      partitions: 1,
      configs: { 'max.message.bytes': String(16 * MiB) },
    });
    const zeekTopic = await kit.createTopic('raw-zeek', { partitions: 1 });
    await kit.produceAll(
      windowsTopic,
      windowsInput.map((r) => ({ key: null, value: r.value, headers: { 'test.name': r.name } })),
    );
    await kit.produceAll(
      zeekTopic,
      zeekInput.map((r) => ({ key: null, value: Buffer.from(r.value) })),
    );

    const { config, normalizedTopic, deadLetterTopic, groupId } = env(
      `flat-windows:${windowsTopic},zeek-dce-rpc:${zeekTopic}`,
    );
    const started = await startTestTelemetry('normalizer-malformed');
    telemetry = started.telemetry;
    const exporter = started.exporter;
    const normalizer = createNormalizer(config, { client: kit.client, logger: kit.logger, telemetry });
    normalizers.push(normalizer);
    await normalizer.start();

    const windowsBad = windowsInput.filter((r) => r.reason !== undefined).length;
    const zeekBad = zeekInput.filter((r) => r.reason !== undefined).length;
    const windowsGood = windowsInput.length - windowsBad;
    const zeekGood = zeekRows.slice(1, 4).length;
    const [out, dead] = await Promise.all([
      kit.consumeUntil(normalizedTopic, windowsGood + zeekGood, { timeoutMs: 90_000 }),
      kit.consumeUntil(deadLetterTopic, windowsBad + zeekBad, { timeoutMs: 90_000 }),
    ]);
    await normalizer.stop();
    await normalizer.done;

    // Exact: nothing beyond what was awaited, and all offsets committed.
    const ends = async (t: string) =>
      (await kit.admin.fetchTopicOffsets(t)).reduce((s, p) => s + Number(p.high), 0);
    expect(await ends(normalizedTopic)).toBe(windowsGood + zeekGood);
    expect(await ends(deadLetterTopic)).toBe(windowsBad + zeekBad);
    const committed = await kit.admin.fetchOffsets({ groupId, topics: [windowsTopic, zeekTopic] });
    expect(Object.fromEntries(committed.map((t) => [t.topic, t.partitions[0]?.offset]))).toEqual({
      [windowsTopic]: String(windowsInput.length),
      [zeekTopic]: String(zeekInput.length),
    });

    // Good Windows records: all of them, in order, decoded from Avro.
    const goodEvents = out
      .filter((r) => headerString(r.headers, 'sequor.format') === 'flat-windows')
      .map((r) => codec.decode(r.value as Buffer));
    expect(goodEvents.map((e) => e.origin.offset).sort((a, b) => (a as number) - (b as number))).toEqual(
      windowsInput.flatMap((r, i) => (r.reason === undefined ? [i] : [])),
    );
    expect(out.filter((r) => headerString(r.headers, 'sequor.format') === 'zeek-dce-rpc')).toHaveLength(
      zeekGood,
    );

    // Each dead letter: the reason expected for the record at its origin offset, and the original bytes.
    const byOrigin = new Map<string, TestRecord>(
      dead.map((r) => [
        `${headerString(r.headers, 'origin.topic')}@${headerString(r.headers, 'origin.offset')}`,
        r,
      ]),
    );
    windowsInput.forEach((input, offset) => {
      const letter = byOrigin.get(`${windowsTopic}@${offset}`);
      if (input.reason === undefined) {
        expect(letter, input.name).toBeUndefined();
        return;
      }
      expect(letter, input.name).toBeDefined();
      expect([input.name, headerString(letter!.headers, 'error.reason')]).toEqual([input.name, input.reason]);
      expect(headerString(letter!.headers, 'error.type')).toBe('NormalizeError');
      expect(headerString(letter!.headers, 'error.message')).toContain(`${windowsTopic}[0]@${offset}`);
      expect(headerString(letter!.headers, 'origin.partition')).toBe('0');
      expect(headerString(letter!.headers, 'sequor.format')).toBe('flat-windows');
      expect(headerString(letter!.headers, 'test.name')).toBe(input.name);
      if (input.reason === 'too-large') {
        expect(headerString(letter!.headers, 'error.value-truncated')).toBe('true');
        expect(headerString(letter!.headers, 'error.value-bytes')).toBe(String(input.value!.length));
        expect(letter!.value).toEqual(input.value!.subarray(0, TOO_LARGE_PREFIX_BYTES));
      } else if (input.value === null) {
        expect(letter!.value).toBeNull();
      } else {
        expect(letter!.value).toEqual(input.value);
      }
    });
    const zeekOffset = zeekInput.findIndex((r) => r.reason !== undefined);
    const zeekLetter = byOrigin.get(`${zeekTopic}@${zeekOffset}`);
    expect(headerString(zeekLetter?.headers, 'error.reason')).toBe('column-count');
    expect(zeekLetter?.value?.toString('utf8')).toBe(zeekInput[zeekOffset]!.value);

    const counters = normalizer.counters();
    expect(counters.total).toEqual({
      records: windowsInput.length + zeekInput.length,
      events: windowsGood + zeekGood,
      empty: zeekHeader.length,
      deadLetters: windowsBad + zeekBad,
    });
    expect(counters.deadLettersByReason).toEqual({
      malformed: 3,
      'too-large': 1,
      'missing-field': 1,
      'wrong-type': 3,
      'column-count': 1,
    });

    // /metrics says the same, and each dead letter's trace context leads to the failed span of its raw record.
    const samples = parsePrometheus(await (await fetch(`http://127.0.0.1:${telemetry.port}/metrics`)).text());
    for (const [reason, n] of Object.entries(counters.deadLettersByReason))
      expect(sampleValue(samples, 'sequor_dead_letters_total', { reason })).toBe(n);
    expect(sampleValue(samples, 'sequor_records_in_total', { topic: windowsTopic })).toBe(
      windowsInput.length,
    );
    expect(sampleValue(samples, 'sequor_records_in_total', { topic: zeekTopic })).toBe(zeekInput.length);
    expect(sampleValue(samples, 'sequor_records_out_total', { topic: normalizedTopic })).toBe(
      windowsGood + zeekGood,
    );
    expect(sampleValue(samples, 'sequor_records_out_total', { topic: deadLetterTopic })).toBe(
      windowsBad + zeekBad,
    );
    await telemetry.flush();
    const spans = new Map(exporter.getFinishedSpans().map((span) => [span.spanContext().spanId, span]));
    for (const letter of dead) {
      const send = spans.get(spanContextFromHeaders(letter.headers)?.spanId ?? '')!;
      expect(send.name).toBe(`send ${deadLetterTopic}`);
      const process = spans.get(send.parentSpanContext?.spanId ?? '')!;
      expect(process.name).toBe(`process ${headerString(letter.headers, 'origin.topic')}`);
      expect(process.attributes['messaging.kafka.offset']).toBe(
        Number(headerString(letter.headers, 'origin.offset')),
      );
      expect(process.status.code).toBe(2); // ERROR
      expect(process.events.map((e) => e.name)).toContain('exception');
    }
    // After the lookups: shutting down unregisters the propagator spanContextFromHeaders uses.
    await telemetry.shutdown();
    telemetry = undefined;
  });

  it('POISON_POLICY=fail: stops at the bad record, commits nothing past it, writes no dead letter', async () => {
    const rawTopic = await kit.createTopic('raw-poison', { partitions: 1 });
    await kit.produceAll(
      rawTopic,
      [good(10), '{"EventID":', good(11)].map((v) => ({ key: null, value: Buffer.from(v) })),
    );
    const { config, normalizedTopic, deadLetterTopic, groupId } = env(`flat-windows:${rawTopic}`, {
      POISON_POLICY: 'fail',
    });
    // The crash is the expected outcome here: keep its error logs out of the test output.
    const errorLogs: string[] = [];
    const logger = createLogger('normalizer', { level: 'error', write: (line) => void errorLogs.push(line) });
    const normalizer = createNormalizer(config, { client: kit.client, logger });
    normalizers.push(normalizer);
    await normalizer.start();
    const failure = await normalizer.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ConsumerCrashedError);
    expect(String((failure as Error).message)).toContain(`poison record at ${rawTopic}[0]@1`);
    expect(errorLogs.some((l) => l.includes('poison record: stopping (POISON_POLICY=fail)'))).toBe(true);
    const committed = await kit.admin.fetchOffsets({ groupId, topics: [rawTopic] });
    // The batch holding the bad record is not committed at all: a restart reads from before it again.
    expect(Number(committed[0]?.partitions[0]?.offset)).toBeLessThanOrEqual(1);
    const ends = async (t: string) =>
      (await kit.admin.fetchTopicOffsets(t)).reduce((s, p) => s + Number(p.high), 0);
    expect(await ends(deadLetterTopic)).toBe(0);
    // Only what came before the bad record was written (once the batch was cut there).
    expect(await ends(normalizedTopic)).toBeLessThanOrEqual(1);
  });
});
