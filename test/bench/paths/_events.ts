/**
 * Events the bench paths, the benchmark scripts beside the packages and their differential tests share:
 * the generated scenario and the OTRF Security-Datasets, as the normalizer's decoders make them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFormat, NormalizeError, type RecordDecoder } from '@sequor/formats';
import type { SequorEvent } from '@sequor/model';
import { SCENARIO_FILES, ScenarioStream, type ScenarioOptions } from '@sequor/scenarios';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** `../shared/sigma` beside the repository (or `SEQUOR_SIGMA_DIR`). */
export const SIGMA_DIR = process.env['SEQUOR_SIGMA_DIR'] ?? path.resolve(repoRoot, '../shared/sigma');
const DATASETS_DIR = path.resolve(SIGMA_DIR, '../datasets/security-datasets');

const SCENARIO_FORMATS: Readonly<Record<string, string>> = {
  [SCENARIO_FILES.winlogbeat]: 'winlogbeat',
  [SCENARIO_FILES.endpoint]: 'ecs',
  [SCENARIO_FILES.flatWindows]: 'flat-windows',
  [SCENARIO_FILES.zeek]: 'zeek-dce-rpc',
};

/**
 * A generated scenario (noise, attacks and near-misses for all four rules, 2 s of arrival jitter),
 * decoded by the real format decoders into `SequorEvent`s, in arrival order. `shape` changes the
 * scenario's population (the bench's: 500 hosts, 2,000 users).
 */
export function scenarioEvents(
  count: number,
  shape: Pick<ScenarioOptions, 'hosts' | 'users' | 'outOfOrder'> = {},
): SequorEvent[] {
  const stream = new ScenarioStream({
    seed: 12,
    events: count,
    hosts: 500,
    users: 2_000,
    outOfOrder: 2_000,
    ...shape,
  });
  const decoders = new Map<string, RecordDecoder>();
  const encoder = new TextEncoder();
  const events: SequorEvent[] = [];
  for (const record of stream.records()) {
    let decoder = decoders.get(record.file);
    if (decoder === undefined) {
      decoder = getFormat(SCENARIO_FORMATS[record.file]!).createDecoder();
      decoders.set(record.file, decoder);
    }
    const origin = { topic: record.file, partition: 0, offset: record.lineNumber };
    for (const event of decoder.decode(encoder.encode(record.line), origin)) events.push(event);
  }
  return events;
}

/**
 * The OTRF Security-Datasets files (real Sysmon, Security, PowerShell, System records of four attacks and
 * their hosts' background) as the normalizer makes them. Records the format refuses are left out.
 */
export function securityDatasetEvents(): SequorEvent[] {
  const encoder = new TextEncoder();
  const events: SequorEvent[] = [];
  for (const file of readdirSync(DATASETS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const decoder = getFormat('flat-windows').createDecoder();
    readFileSync(path.join(DATASETS_DIR, file), 'utf8')
      .split('\n')
      .forEach((line, offset) => {
        if (line.trim() === '') return;
        try {
          for (const e of decoder.decode(encoder.encode(line), { topic: file, partition: 0, offset }))
            events.push(e);
        } catch (error) {
          if (!(error instanceof NormalizeError)) throw error;
        }
      });
  }
  return events;
}
