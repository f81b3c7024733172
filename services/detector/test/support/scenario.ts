/**
 * A generated scenario (`@sequor/scenarios`, with its ground truth) normalized as the normalizer would
 * and interleaved as `sequor detect` interleaves the files, each event keyed by host onto `partitions`
 * partitions with Kafka's murmur2. Used by the unit tests (records fed to `PartitionTask`s), the
 * scaling test and the benchmark (records produced straight to the normalized topic).
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

/** A normalized record as produced (the event itself dropped: 200,000 of them would fill the heap). */
export interface ScenarioRecord {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: RecordHeaders;
  /** The partition its key hashes to. */
  readonly partition: number;
  readonly eventId: string;
  readonly eventTime: number;
  /** The generated file and 1-based line it came from (what ground truth names). */
  readonly file: string;
  readonly line: number;
}

export interface NormalizedScenario {
  /** Normalized records in generation order. */
  readonly records: readonly ScenarioRecord[];
  readonly groundTruth: GroundTruth;
  readonly deadLetters: number;
}

export function normalizedScenario(options: ScenarioOptions, partitions: number): NormalizedScenario {
  const stream = new ScenarioStream(options);
  const byFile = new Map<string, { line: string; lineNumber: number }[]>();
  for (const { file, line, lineNumber } of stream.records()) {
    let lines = byFile.get(file);
    if (lines === undefined) byFile.set(file, (lines = []));
    lines.push({ line, lineNumber });
  }
  // As `sequor detect <dir>` reads a scenario: files in path order, each normalized with its own
  // decoder, then a k-way merge on each file's next event time (ties to the earlier file).
  const files = [...byFile.keys()].sort();
  const bindings = parseSourceBindings(
    files.map((f) => `${SCENARIO_FORMATS[f] ?? 'unknown'}:${scenarioTopic(f)}`).join(','),
  );
  const normalize = createNormalizeProcessor({ bindings, encoder: singleObjectEventEncoder() });
  let deadLetters = 0;
  const perFile = files.map((file) => {
    const out: ScenarioRecord[][] = [];
    for (const { line, lineNumber } of byFile.get(file) ?? []) {
      const result = normalize.process({
        topic: scenarioTopic(file),
        partition: 0,
        offset: lineNumber - 1,
        value: Buffer.from(line),
      });
      if (result.deadLetter !== undefined) deadLetters++;
      if (result.outputs.length === 0) continue;
      out.push(
        result.outputs.map((o) => ({
          key: o.key,
          value: o.value,
          headers: o.headers,
          partition: partitionFor(o.key, partitions),
          eventId: o.event.event.id,
          eventTime: o.event.timestamp,
          file,
          line: lineNumber,
        })),
      );
    }
    return out;
  });
  const records: ScenarioRecord[] = [];
  const next = perFile.map(() => 0);
  for (;;) {
    let best = -1;
    let bestTime = Number.POSITIVE_INFINITY;
    for (let f = 0; f < perFile.length; f++) {
      const head = perFile[f]![next[f]!];
      if (head !== undefined && head[0]!.eventTime < bestTime) {
        bestTime = head[0]!.eventTime;
        best = f;
      }
    }
    if (best < 0) break;
    records.push(...perFile[best]![next[best]!++]!);
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
export function asConsumed(
  records: readonly Pick<NormalizedRecord, 'key' | 'value' | 'headers'>[],
  timestamp = 1_700_000_000_000,
): FakeConsumedRecord[] {
  return records.map((r, i) => ({
    key: Buffer.from(r.key),
    value: r.value,
    headers: Object.fromEntries(
      Object.entries(r.headers).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v]),
    ) as RecordHeaders,
    offset: String(i),
    timestamp: String(timestamp + i),
  }));
}
