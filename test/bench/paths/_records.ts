/**
 * Input records shared by the path modules (a `_` file: not a path itself), all from the project's own
 * generator (`@sequor/scenarios`), so every path reads the kind of data Sequor is built for.
 */
import { SCENARIO_FILES, ScenarioStream } from '@sequor/scenarios';

/**
 * Raw Winlogbeat records (ECS JSON, one event each, as a shipper puts them on a raw topic): the first
 * `count` Winlogbeat lines of a seeded scenario (about 58 % of its lines are Winlogbeat).
 */
export function winlogbeatRecords(count: number, seed = 12): Buffer[] {
  const stream = new ScenarioStream({
    seed,
    events: Math.ceil(count / 0.55) + 100,
    hosts: 200,
    users: 1_000,
  });
  const out: Buffer[] = [];
  for (const record of stream.records()) {
    if (record.file !== SCENARIO_FILES.winlogbeat) continue;
    out.push(Buffer.from(record.line));
    if (out.length === count) break;
  }
  return out;
}

export const averageBytes = (records: readonly Uint8Array[]): number =>
  records.length === 0 ? 0 : records.reduce((sum, r) => sum + r.length, 0) / records.length;
