/**
 * Helpers the detector's end-to-end and scaling tests share (test/e2e/detector*.test.ts,
 * test/e2e/scaling*.test.ts): dataset lines in event-time order, a later event on every partition, the
 * wait for a consumer group to reach the end of a topic, alert decoding.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KafkaAdmin, KafkaClient, RecordHeaders } from '@sequor/kafka';
import { partitionFor } from '@sequor/kafka';
import { parseSourceBindings } from '@sequor/formats';
import { createNormalizeProcessor, singleObjectEventEncoder } from '@sequor/pipeline';
import type { Alert } from '@sequor/model';
import { createAlertCodec } from '@sequor/model';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const securityDatasetsDir = path.resolve(repoRoot, '../shared/datasets/security-datasets');

export const SECURITY_DATASET_FILES = [
  'cmd_service_mod_fax.json',
  'empire_psexec_dcerpc_tcp_svcctl.json',
  'empire_shell_dcerpc_smb_service_dll_hijack.json',
  'empire_shell_reg_dump_sam.json',
  'reg_disable_eventlog_service_startuptype_modification_via_registry.json',
] as const;

export interface SourceLine {
  /** Index of the file in the input list. */
  readonly file: number;
  readonly line: string;
}

/** Non-blank lines of a file. */
export function readLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/**
 * A k-way merge of JSON-lines files on each file's next `@timestamp` (ties to the earlier file), each
 * file's own order kept: how `sequor detect` interleaves its inputs, so one raw partition in this order
 * gives every normalized partition the same event order as the embedded run.
 */
export function mergeByEventTime(files: readonly (readonly string[])[]): SourceLine[] {
  const next = files.map(() => 0);
  const times = files.map((lines) =>
    lines.map((l) => Date.parse((JSON.parse(l) as { '@timestamp': string })['@timestamp'])),
  );
  const out: SourceLine[] = [];
  for (;;) {
    let best = -1;
    let bestTime = Number.POSITIVE_INFINITY;
    for (let f = 0; f < files.length; f++) {
      const t = times[f]![next[f]!];
      if (t !== undefined && t < bestTime) {
        bestTime = t;
        best = f;
      }
    }
    if (best < 0) return out;
    out.push({ file: best, line: files[best]![next[best]!++]! });
  }
}

/**
 * Flat Windows logoff events (4634, matched by no rule) at `at`, one on each of `partitions` partitions
 * of the normalized topic. A live host keeps logging, so its partition's stream time moves on and the
 * engine releases what waits out the allowed lateness; a finite test input must say so explicitly, as
 * Kafka Streams tests send a later record to advance stream time.
 */
export function laterEventOnEveryPartition(partitions: number, at: Date): string[] {
  return laterNormalizedEventOnEveryPartition(partitions, at).map((c) => c.line);
}

/** As `laterEventOnEveryPartition`, normalized: for tests that produce straight to the normalized topic. */
export function laterNormalizedEventOnEveryPartition(
  partitions: number,
  at: Date,
): { line: string; key: string; value: Buffer; headers: RecordHeaders }[] {
  const normalize = createNormalizeProcessor({
    bindings: parseSourceBindings('flat-windows:tail'),
    encoder: singleObjectEventEncoder(),
  });
  const lines: { line: string; key: string; value: Buffer; headers: RecordHeaders }[] = [];
  const covered = new Set<number>();
  for (let k = 0; covered.size < partitions; k++) {
    if (k > 10_000) throw new Error('no host names cover every partition');
    const line = JSON.stringify({
      EventID: 4634,
      Channel: 'Security',
      Hostname: `SEQUOR-CLOCK-${k}`,
      '@timestamp': at.toISOString(),
      TargetUserName: 'clock',
      TargetDomainName: 'SEQUOR',
      TargetUserSid: 'S-1-5-18',
      LogonType: '3',
    });
    const result = normalize.process({ topic: 'tail', partition: 0, offset: k, value: Buffer.from(line) });
    const out = result.outputs[0];
    if (out === undefined)
      throw new Error(`the clock event was not normalized: ${result.deadLetter?.message ?? 'no output'}`);
    const p = partitionFor(out.key, partitions);
    if (covered.has(p)) continue;
    covered.add(p);
    lines.push({ line, key: out.key, value: out.value, headers: out.headers });
  }
  return lines;
}

/**
 * Resolves once `groupId` has committed, for every partition of `topic`, the topic's end offset (the
 * group has processed everything written so far). Polls the committed offsets: right after a
 * transactional commit they can read as the previous value until the markers are written.
 */
export async function waitForGroupAtEnd(
  admin: KafkaAdmin,
  groupId: string,
  topic: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastLag: Record<number, number> = {};
  for (;;) {
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const byPartition = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
    lastLag = {};
    for (const end of ends) {
      const high = Number(end.high);
      const at = byPartition.get(end.partition) ?? -1;
      // A partition nothing was written to has no committed offset.
      if (high > 0 && at < high) lastLag[end.partition] = high - Math.max(at, 0);
    }
    if (Object.keys(lastLag).length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `group ${groupId} did not reach the end of ${topic} in ${timeoutMs} ms; lag by partition ${JSON.stringify(lastLag)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const alertCodec = createAlertCodec();

/** Decodes an alert record value against schemas/alert.avsc (throws if it does not decode). */
export function decodeAlert(value: Buffer | null): Alert {
  if (value === null) throw new Error('alert record without a value');
  return alertCodec.decode(value);
}

export interface CommittedRecord {
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeaders;
  readonly timestamp: string;
}

/**
 * Every committed record of `topic` (read_committed, no dedup), read to the end offsets the topic has
 * when called: call it once the writers are done. Done when each partition's consumed position (control
 * records and aborted transactions included, which a read_committed consumer skips) reaches its end.
 */
export async function consumeAllCommitted(
  client: KafkaClient,
  admin: KafkaAdmin,
  topic: string,
  timeoutMs: number,
): Promise<CommittedRecord[]> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  const position = new Map<number, number>();
  const records: CommittedRecord[] = [];
  const done = () => [...ends].every(([p, high]) => high === 0 || (position.get(p) ?? 0) >= high);
  if (done()) return records;
  const consumer = client.consumer({
    groupId: `read-all-${topic}-${Date.now()}`,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 250,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `reading ${topic}: not at its end after ${timeoutMs} ms (${records.length} records; positions ${JSON.stringify([...position])}, ends ${JSON.stringify([...ends])})`,
            ),
          ),
        timeoutMs,
      );
      // Emitted for every batch, also one that held only control records or aborted ones.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        position.set(
          payload.partition,
          Math.max(position.get(payload.partition) ?? 0, Number(payload.lastOffset) + 1),
        );
        if (done()) resolve();
      });
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages)
              records.push({
                partition: batch.partition,
                offset: m.offset,
                key: m.key,
                value: m.value,
                headers: (m.headers ?? {}) as RecordHeaders,
                timestamp: m.timestamp,
              });
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return records;
}
