// The built service as operators run it: `node services/normalizer/dist/main.js --source ...` with its
// config in the environment, stopped with SIGTERM. It must normalize everything, then on the signal
// finish its batch, commit, leave the group and exit 0.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTestKit, uniqueGroup, uniqueTopic } from '@sequor/kafka/testing';
import { createEventCodec, partitionFor } from '@sequor/model';
import { parsePrometheus, sampleValue } from '@sequor/telemetry/testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mainJs = path.join(repoRoot, 'services/normalizer/dist/main.js');
const datasetFile = path.resolve(repoRoot, '../shared/datasets/security-datasets/cmd_service_mod_fax.json');

/** Newest modification time of the .ts files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts'))
      newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

let kit: KafkaTestKit;
const topics: string[] = [];

beforeAll(async () => {
  // The subprocess runs the build output: a stale one would test old code.
  const built = (() => {
    try {
      return statSync(mainJs).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const sources = Math.max(
    ...['services/normalizer/src', 'shared/pipeline/src'].map((d) => newestSource(path.join(repoRoot, d))),
  );
  if (built < sources) {
    throw new Error(
      `${mainJs} is missing or older than its sources: run \`npm run build\` first (\`npm run test:integration\` does)`,
    );
  }
  kit = await KafkaTestKit.connect();
});
afterAll(async () => {
  await kit?.deleteTopics(topics).catch(() => undefined);
  await kit?.close();
});

describe('normalizer as a process (dist/main.js)', () => {
  it('normalizes a dataset, then on SIGTERM commits, leaves the group and exits 0', async () => {
    const lines = readFileSync(datasetFile, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    const rawTopic = await kit.createTopic('raw-process', { partitions: 2 });
    await kit.produceAll(
      rawTopic,
      lines.map((l) => ({ key: null, value: Buffer.from(l) })),
    );
    const normalizedTopic = uniqueTopic('normalized');
    const deadLetterTopic = uniqueTopic('dead-letters');
    const groupId = uniqueGroup('normalizer-process');
    topics.push(normalizedTopic, deadLetterTopic);

    const child = spawn(process.execPath, [mainJs, '--source', `flat-windows:${rawTopic}`], {
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: kit.config.brokers.join(','),
        NORMALIZED_TOPIC: normalizedTopic,
        NORMALIZED_PARTITIONS: '4',
        DEAD_LETTER_TOPIC: deadLetterTopic,
        NORMALIZER_GROUP_ID: groupId,
        LOG_LEVEL: 'info',
        METRICS_PORT: '0',
        METRICS_HOST: '127.0.0.1',
        OTEL_TRACES_EXPORTER: 'none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let onLog: (() => void) | undefined;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      onLog?.();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // The output topics exist once the service says it started; consuming before would find no topic.
      await new Promise<void>((resolve, reject) => {
        onLog = () => {
          if (stderr.includes('"msg":"normalizer started"')) resolve();
        };
        onLog();
        void exited.then((code) =>
          reject(new Error(`normalizer exited with ${code} before starting:\n${stderr}`)),
        );
      });
      const out = await kit.consumeUntil(normalizedTopic, lines.length, { timeoutMs: 90_000 });
      expect(out).toHaveLength(lines.length);
      // Its /metrics and /readyz, on the port it logged.
      const started = stderr.split('\n').find((l) => l.includes('"msg":"telemetry started"'));
      const port = (JSON.parse(started!) as { metricsPort: number }).metricsPort;
      expect(port).toBeGreaterThan(0);
      const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect([readyz.status, (await readyz.text()).trim()]).toEqual([200, 'ready: 2 partitions assigned']);
      let samples = parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      for (
        let i = 0;
        i < 50 && samples.find((x) => x.name === 'sequor_records_in_total')?.value !== lines.length;
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        samples = parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      }
      expect(sampleValue(samples, 'sequor_records_in_total', { topic: rawTopic })).toBe(lines.length);
      expect(sampleValue(samples, 'sequor_records_out_total', { topic: normalizedTopic })).toBe(lines.length);
      expect(sampleValue(samples, 'target_info', { service_name: 'sequor-normalizer' })).toBe(1);
      const codec = createEventCodec();
      for (const record of out) {
        const event = codec.decode(record.value as Buffer);
        expect(record.key?.toString()).toBe(event.host?.id);
        expect(record.partition).toBe(partitionFor(record.key as Buffer, 4));
      }
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }

    const logs = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; level: string; signal?: string });
    const messages = logs.map((l) => l.msg);
    expect(messages).toContain('normalizer started');
    expect(messages.filter((m) => m === 'partitions assigned').length).toBeGreaterThanOrEqual(1);
    expect(logs.find((l) => l.msg === 'shutting down')?.signal).toBe('SIGTERM');
    expect(messages.indexOf('consumer stopped')).toBeLessThan(messages.indexOf('normalizer stopped'));
    expect(messages).toContain('shut down cleanly');
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);

    // Everything committed, and the member left (no session timeout to wait for).
    const committed = await kit.admin.fetchOffsets({ groupId, topics: [rawTopic] });
    expect(committed[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0)).toBe(lines.length);
    const { groups } = await kit.admin.describeGroups([groupId]);
    expect(groups[0]?.state).toBe('Empty');
    expect(groups[0]?.members).toEqual([]);
  });
});
