// SCHEMA_REGISTRY_URL set: the normalizer registers the event schema under `<topic>-value` at start and
// frames every record in the Confluent wire format with that id. An in-memory registry stands in for
// the REST one (whose client is tested in @sequor/kafka); the broker is real.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTestKit, uniqueGroup, uniqueTopic } from '@sequor/kafka/testing';
import { createEventCodec } from '@sequor/model';
import { InMemorySchemaRegistry } from '@sequor/model/testing';
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lines = readFileSync(
  path.resolve(repoRoot, '../shared/datasets/security-datasets/empire_shell_reg_dump_sam.json'),
  'utf8',
)
  .split('\n')
  .filter((l) => l.length > 0)
  .slice(0, 50);

let kit: KafkaTestKit;
const topics: string[] = [];
beforeAll(async () => {
  kit = await KafkaTestKit.connect();
});
afterAll(async () => {
  await kit?.deleteTopics(topics).catch(() => undefined);
  await kit?.close();
});

describe('normalizer with a schema registry', () => {
  it('registers <topic>-value once and frames every record as Confluent 00 + id', async () => {
    const rawTopic = await kit.createTopic('raw-registry', { partitions: 1 });
    await kit.produceAll(
      rawTopic,
      lines.map((l) => ({ key: null, value: Buffer.from(l) })),
    );
    const normalizedTopic = uniqueTopic('normalized');
    const deadLetterTopic = uniqueTopic('dead-letters');
    topics.push(normalizedTopic, deadLetterTopic);
    const registry = new InMemorySchemaRegistry();
    const config = normalizerConfigFromEnv({
      KAFKA_BROKERS: kit.config.brokers.join(','),
      NORMALIZER_SOURCES: `flat-windows:${rawTopic}`,
      NORMALIZED_TOPIC: normalizedTopic,
      DEAD_LETTER_TOPIC: deadLetterTopic,
      NORMALIZER_GROUP_ID: uniqueGroup('normalizer-registry'),
      SCHEMA_REGISTRY_URL: 'http://registry.invalid:8081',
    });
    expect(config.schemaRegistry?.url).toBe('http://registry.invalid:8081');
    const normalizer = createNormalizer(config, {
      client: kit.client,
      logger: kit.logger,
      schemaRegistry: registry,
    });
    try {
      await normalizer.start();
      const out = await kit.consumeUntil(normalizedTopic, lines.length, { timeoutMs: 60_000 });
      const reader = createEventCodec({ registry });
      const id = await registry.register(`${normalizedTopic}-value`, reader.canonicalForm);
      for (const record of out) {
        expect(record.value?.[0]).toBe(0);
        expect(record.value?.readUInt32BE(1)).toBe(id);
        const event = await reader.decodeAsync(record.value as Buffer);
        expect(event.origin.topic).toBe(rawTopic);
        expect(record.key?.toString()).toBe(event.host?.id);
      }
      expect(out.map((r) => r.key?.toString())).toContain('name:workstation5');
    } finally {
      await normalizer.stop();
    }
  });
});
