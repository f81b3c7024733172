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

/**
 * NDJSON of ECS events (about 360 B each) for the seed sequence (Elastic's "Potential Remote Credential
 * Access via Registry": a successful network logon, then svchost.exe writing a registry hive, by host.id
 * and user.id within 1 minute) with `openKeys` keys left open: first one logon per key, then noise that
 * no step takes (process starts, file writes by other processes) and, every 1,000th event, a hive write
 * that completes one key's sequence. Timestamps 0.5 ms apart: every logon stays within the span for up to
 * 120,000 events.
 */
export function seedSequenceLines(events: number, openKeys: number): string[] {
  const start = Date.UTC(2024, 4, 6, 12, 0, 0);
  const lines: string[] = [];
  for (let i = 0; i < events; i++) {
    const at = new Date(start + Math.floor(i / 2)).toISOString();
    const opening = i < openKeys;
    const completing = !opening && i % 1_000 === 0;
    const k = opening ? i : completing ? ((i / 1_000) * 37) % openKeys : (i * 7_919) % openKeys;
    const host = { id: `host-${k % 500}`, name: `HOST${k % 500}` };
    const user = { id: `S-1-5-21-1111111111-2222222222-3333333333-${10_000 + k}`, name: `user${k}` };
    let event: object;
    if (opening) {
      event = {
        event: {
          id: `e${i}`,
          category: ['authentication'],
          type: ['start'],
          outcome: 'success',
          code: '4624',
        },
        user: { ...user, domain: 'CORP' },
        source: { ip: `10.${k % 250}.${i % 250}.5` },
        winlog: { logon: { type: 'Network' } },
      };
    } else if (completing || i % 4 === 0) {
      event = {
        event: { id: `e${i}`, category: ['file'], type: ['creation'], action: 'creation' },
        user,
        process: { name: completing ? 'svchost.exe' : 'backup.exe' },
        file: {
          path: `C:\\Windows\\System32\\t${i}.tmp`,
          size: 65_536,
          Ext: { header_bytes: '72656766e1000000e1000000' },
        },
      };
    } else {
      event = {
        event: { id: `e${i}`, category: ['process'], type: ['start'], action: 'start' },
        user,
        process: { name: 'cmd.exe', pid: 1_000 + (i % 60_000), command_line: `cmd.exe /c echo ${i}` },
      };
    }
    lines.push(JSON.stringify({ '@timestamp': at, host, ...event }));
  }
  return lines;
}
