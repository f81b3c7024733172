// Throughput of the keyed producer and the consumer runner against a real broker.
//   KAFKA_BROKERS=127.0.0.1:9092 npx tsx --conditions=sequor-source shared/kafka/test/bench/produce-consume.ts [records] [valueBytes]
// Without KAFKA_BROKERS it starts a private broker with deploy/kafka/kafka.sh and stops it afterwards.
// Prints records/s, MB/s, per-batch acknowledgement latency percentiles and heap use.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConsumerRunner, createKeyedProducer, createLogger } from '@sequor/kafka';
import { KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';

const records = Number(process.argv[2] ?? 200_000);
const valueBytes = Number(process.argv[3] ?? 300);
const partitions = 6;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const logger = createLogger('bench', { level: 'error' });

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

let stateDir: string | undefined;
if (!process.env.KAFKA_BROKERS) {
  stateDir = mkdtempSync(path.join(tmpdir(), 'sequor-kafka-bench-'));
  const out = execFileSync('bash', [path.join(repoRoot, 'deploy/kafka/kafka.sh'), 'start'], {
    env: { ...process.env, SEQUOR_KAFKA_STATE: stateDir },
    encoding: 'utf8',
  });
  process.env.KAFKA_BROKERS = out.trim().split('\n').pop();
}

try {
  const kit = await KafkaTestKit.connect({ logger });
  const topic = await kit.createTopic('bench', { partitions });
  const value = Buffer.alloc(valueBytes, 'x');
  const keys = Array.from({ length: 1000 }, (_, i) => `host-${i}`);

  const producer = await createKeyedProducer(kit.client, { logger, batchSize: 2000, lingerMs: 5 });
  const ackLatencies: number[] = [];
  const t0 = performance.now();
  let pending: Promise<void> = Promise.resolve();
  for (let i = 0; i < records; i++) {
    const sentAt = performance.now();
    const ack = producer.send({ topic, key: keys[i % keys.length]!, value });
    if (ack !== pending) {
      pending = ack;
      void ack.then(() => ackLatencies.push(performance.now() - sentAt));
    }
    // Bound what is buffered, as a processBatch awaiting its output would.
    if (i % 20_000 === 19_999) await ack;
  }
  await producer.flush();
  const produceMs = performance.now() - t0;
  await producer.disconnect();

  let consumed = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const runner = createConsumerRunner(kit.client, {
    groupId: uniqueGroup('bench'),
    topics: [topic],
    fromBeginning: true,
    partitionsConsumedConcurrently: 3,
    logger,
    processBatch: async (batch) => {
      consumed += batch.records.length;
      if (consumed >= records) resolveAll();
    },
  });
  const t1 = performance.now();
  await runner.start();
  await all;
  const consumeMs = performance.now() - t1;
  await runner.stop();
  await kit.close();

  const mb = (records * valueBytes) / 1e6;
  ackLatencies.sort((a, b) => a - b);
  console.log(
    `records ${records}, value ${valueBytes} B, ${partitions} partitions, broker ${process.env.KAFKA_BROKERS}`,
  );
  console.log(
    `produce  ${(records / (produceMs / 1000)).toFixed(0)} records/s, ${(mb / (produceMs / 1000)).toFixed(1)} MB/s (${produceMs.toFixed(0)} ms)`,
  );
  console.log(
    `ack latency per batch (ms): p50 ${percentile(ackLatencies, 50).toFixed(1)}, p99 ${percentile(ackLatencies, 99).toFixed(1)}, max ${percentile(ackLatencies, 100).toFixed(1)} over ${ackLatencies.length} batches`,
  );
  console.log(
    `consume  ${(records / (consumeMs / 1000)).toFixed(0)} records/s incl. group join (${consumeMs.toFixed(0)} ms), consumed ${consumed}`,
  );
  console.log(
    `heap used ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
  );
} finally {
  if (stateDir !== undefined) {
    execFileSync('bash', [path.join(repoRoot, 'deploy/kafka/kafka.sh'), 'stop'], {
      env: { ...process.env, SEQUOR_KAFKA_STATE: stateDir },
      stdio: 'ignore',
    });
    rmSync(stateDir, { recursive: true, force: true });
  }
}
