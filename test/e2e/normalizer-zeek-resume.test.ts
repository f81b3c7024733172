// Zeek TSV over Kafka across a restart: a log's `#fields` header comes once, at the top of the file,
// and every row after it depends on it. A normalizer reads the header and the first rows and stops;
// more rows of the same log arrive; a new normalizer of the group resumes at the committed offset. It
// must read those rows with the header committed beside the offset, not dead-letter them as
// `bad-header` until the next log rotation.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import { createEventCodec } from '@sequor/model';
import type { Normalizer } from '@sequor/normalizer';
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';
import { waitForGroupAtEnd } from '../../services/detector/test/support/e2e.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = readFileSync(path.join(repoRoot, 'shared/formats/test/fixtures/zeek/dce_rpc.log'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0 && !l.startsWith('#close'));
const header = log.filter((l) => l.startsWith('#'));
const rows = log.filter((l) => !l.startsWith('#'));

let kit: KafkaTestKit;
const running: Normalizer[] = [];

beforeAll(async () => {
  kit = await KafkaTestKit.connect();
});
afterAll(async () => {
  for (const n of running) await n.stop().catch(() => undefined);
  await kit?.close();
});

describe('normalizer: a Zeek TSV log resumed by another member', () => {
  it('reads the rows after the committed offset with the header committed beside it', async () => {
    expect(rows.length).toBeGreaterThanOrEqual(6);
    const raw = await kit.createTopic('raw-zeek-resume', { partitions: 1 });
    const normalized = await kit.createTopic('zeek-resume-events', { partitions: 2 });
    const dead = await kit.createTopic('zeek-resume-dead');
    const groupId = uniqueGroup('zeek-resume');
    const config = normalizerConfigFromEnv({
      KAFKA_BROKERS: kit.config.brokers.join(','),
      NORMALIZER_SOURCES: `zeek-dce-rpc:${raw}`,
      NORMALIZED_TOPIC: normalized,
      NORMALIZED_PARTITIONS: '2',
      DEAD_LETTER_TOPIC: dead,
      NORMALIZER_GROUP_ID: groupId,
    });
    const produce = (lines: readonly string[]) =>
      kit.produceAll(
        raw,
        lines.map((l) => ({ key: null, value: Buffer.from(l) })),
      );

    // The first member: header and the first rows, committed, then it stops.
    const firstRows = rows.slice(0, 3);
    await produce([...header, ...firstRows]);
    const first = createNormalizer(config, { client: kit.client, logger: kit.logger });
    running.push(first);
    await first.start();
    await waitForGroupAtEnd(kit.admin, groupId, raw, 60_000);
    await first.stop();
    const [committed] = await kit.admin.fetchOffsets({ groupId, topics: [raw] });
    expect(committed!.partitions[0]!.metadata).toMatch(/^zeek-tsv-header:1:/);

    // More rows of the same log (no new header), then a new member of the group.
    const laterRows = rows.slice(3);
    await produce(laterRows);
    const second = createNormalizer(config, { client: kit.client, logger: kit.logger });
    running.push(second);
    await second.start();
    await waitForGroupAtEnd(kit.admin, groupId, raw, 60_000);
    await second.stop();

    expect(second.counters().total).toEqual({
      records: laterRows.length,
      events: laterRows.length,
      empty: 0,
      deadLetters: 0,
    });
    const events = (await kit.consumeUntil(normalized, rows.length, { timeoutMs: 30_000 })).map((r) =>
      createEventCodec().decode(r.value as Buffer),
    );
    expect(events.map((e) => e.origin.offset).sort((a, b) => (a as number) - (b as number))).toEqual(
      rows.map((_, i) => header.length + i),
    );
    expect((await kit.admin.fetchTopicOffsets(dead)).reduce((n, p) => n + Number(p.high), 0)).toBe(0);
  });
});
