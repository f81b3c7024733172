/**
 * A generated scenario (`@sequor/scenarios`, with its ground truth) normalized as the normalizer would:
 * every line through one `NormalizeProcessor`, in the order the generator writes them (event time,
 * across files), each event keyed by host onto `partitions` partitions with Kafka's murmur2. Used by
 * the unit tests (records fed to `PartitionTask`s) and the scaling test (records produced to Kafka).
 */
import { parseSourceBindings } from '@sequor/formats';
import { partitionFor } from '@sequor/kafka';
import type { RecordHeaders } from '@sequor/kafka';
import type { NormalizedRecord } from '@sequor/pipeline';
import { createNormalizeProcessor, singleObjectEventEncoder } from '@sequor/pipeline';
import type { GroundTruth, ScenarioOptions } from '@sequor/scenarios';
import { SCENARIO_FILES, ScenarioStream } from '@sequor/scenarios';

/** The format each generated file is written in (`@sequor/formats` names). */
export const SCENARIO_FORMATS: Readonly<Record<string, string>> = {
  [SCENARIO_FILES.winlogbeat]: 'winlogbeat',
  [SCENARIO_FILES.endpoint]: 'ecs',
  [SCENARIO_FILES.flatWindows]: 'flat-windows',
  [SCENARIO_FILES.zeek]: 'zeek-dce-rpc',
};

/** The raw topic a generated file stands for (`zeek/dce_rpc.log` -> `zeek.dce_rpc.log`). */
export function scenarioTopic(file: string): string {
  return file.replaceAll('/', '.');
}

export interface NormalizedScenario {
  /** Normalized records in generation order, each with the partition its key hashes to. */
  readonly records: readonly (NormalizedRecord & { readonly partition: number; readonly file: string; readonly line: number })[];
  readonly groundTruth: GroundTruth;
  readonly deadLetters: number;
}

export function normalizedScenario(options: ScenarioOptions, partitions: number): NormalizedScenario {
  const stream = new ScenarioStream(options);
  const bindings = parseSourceBindings(
    Object.entries(SCENARIO_FORMATS)
      .map(([file, format]) => `${format}:${scenarioTopic(file)}`)
      .join(','),
  );
  const normalize = createNormalizeProcessor({ bindings, encoder: singleObjectEventEncoder() });
  const records: (NormalizedRecord & { partition: number; file: string; line: number })[] = [];
  let deadLetters = 0;
  for (const { file, line, lineNumber } of stream.records()) {
    const result = normalize.process({ topic: scenarioTopic(file), partition: 0, offset: lineNumber - 1, value: Buffer.from(line) });
    if (result.deadLetter !== undefined) deadLetters++;
    for (const out of result.outputs) records.push({ ...out, partition: partitionFor(out.key, partitions), file, line: lineNumber });
  }
  return { records, groundTruth: stream.groundTruth(), deadLetters };
}

/** A consumed record as kafkajs hands it over (offset and timestamp as strings, header values as Buffers). */
export interface FakeConsumedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeaders;
  readonly offset: string;
  readonly timestamp: string;
}

/** The records of one partition as a consumer would read them, offsets from 0. */
export function asConsumed(records: readonly NormalizedRecord[], timestamp = 1_700_000_000_000): FakeConsumedRecord[] {
  return records.map((r, i) => ({
    key: Buffer.from(r.key),
    value: r.value,
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v])) as RecordHeaders,
    offset: String(i),
    timestamp: String(timestamp + i),
  }));
}
