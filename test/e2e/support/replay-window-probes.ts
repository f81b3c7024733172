// Hand-placed events that make the Sigma scaling test (../scaling-detector-sigma.test.ts) fail when a
// sliding correlation's replay window is shorter than the engine's two windows (`replayWindowMs`).
//
// Why two windows: a sliding correlation alerts when its condition starts to hold, i.e. on a group's event
// whose window holds it while the window of the group's previous event did not. That previous window
// ends up to one window before the event and starts up to two windows before it. The generated stream
// never has such a group across a partition move, so probes are added, on every partition and spaced
// finer than any gap that matters, so that whatever offset the SIGKILL or the join moves a partition at,
// some probes straddle it:
//
// - temporal (Remcos, 1h): registry write B1 at s, process creation A at s + 0.9 W (alert: A and B1 in
//   one window), second write B2 at s + 1.8 W (no alert: A's window held). A replay that starts after B1
//   but at or before A rebuilds "A's window did not hold", so B2 alerts (an extra alert) or, when A is
//   live, A does not alert and B2 does (a missing and an extra one). With a restore point R (the
//   watermark) a replay of F windows fails for s in (R - 1.8 W, R - F W): empty from F = 1.8 on, 0.8 W
//   wide at F = 1, and (R - 1.4 W, R - 0.5 W) at F = 0.5.
// - event_count (service ImagePath writes, `gte: 1`, 1h): two writes of one group 0.8 W apart (one alert,
//   on the first). A replay that misses the first while the second is live alerts on the second: F <
//   0.8 fails (one window is enough for `gte: 1`: the window of the previous event always holds it).
//
// Probes start every PROBE_SPACING_MS (0.2 W) of event time per partition: at least three temporal ones
// and one event_count one fall in any failing interval above, for any restore point from 1.8 W after the
// stream's first event on (the kill at 40 % of 5.6 h and the join at 70 % are). The undisturbed reference sees the same
// records, so its alerts are the expected ones; nothing here predicts alert counts.
import { createEventCodec } from '@sequor/model';
import type { SequorEvent } from '@sequor/model';
import type { NormalizedScenario, ScenarioRecord } from '../../../services/detector/test/support/scenario.js';

/** Both probed correlations' timespan (shared/rules/sigma-seeds: Remcos temporal, service event_count). */
export const PROBED_WINDOW_MS = 3_600_000;
/** Event time between two probes' starts on one partition. */
export const PROBE_SPACING_MS = PROBED_WINDOW_MS / 5;
/** Where the probe events of one temporal probe lie, in windows after its start. */
const TEMPORAL_STEPS = { firstWrite: 0, processCreate: 0.9, secondWrite: 1.8 } as const;
/** The event_count probe's two writes, in windows after its start (0.8 W apart). */
const COUNT_STEPS = { firstWrite: 0.05, secondWrite: 0.85 } as const;

interface Templates {
  /** Per partition: a Sysmon 1 event of a host on it (its host becomes the probes' host). */
  readonly processCreate: Map<number, { record: ScenarioRecord; event: SequorEvent }>;
  readonly remcosWrite: SequorEvent;
  readonly imagePathWrite: SequorEvent;
}

function eventData(event: SequorEvent): Record<string, string> | undefined {
  return (event.winlog?.event_data ?? undefined) as Record<string, string> | undefined;
}

function findTemplates(stream: NormalizedScenario, partitions: number): Templates {
  const codec = createEventCodec();
  const processCreate = new Map<number, { record: ScenarioRecord; event: SequorEvent }>();
  let remcosWrite: SequorEvent | undefined;
  let imagePathWrite: SequorEvent | undefined;
  for (const record of stream.records) {
    if (processCreate.size === partitions && remcosWrite !== undefined && imagePathWrite !== undefined) break;
    const event = codec.decode(record.value);
    const data = eventData(event);
    if (data === undefined || event.event.provider !== 'Microsoft-Windows-Sysmon') continue;
    const code = event.winlog?.event_id;
    if (code === '1' && data.ProcessGuid !== undefined && !processCreate.has(record.partition))
      processCreate.set(record.partition, { record, event });
    const target = data.TargetObject ?? '';
    if (code === '13' && remcosWrite === undefined && target.includes('\\Software\\Remcos'))
      remcosWrite = event;
    if (code === '13' && imagePathWrite === undefined && /\\Services\\[^\\]+\\ImagePath$/i.test(target))
      imagePathWrite = event;
  }
  if (processCreate.size < partitions || remcosWrite === undefined || imagePathWrite === undefined)
    throw new Error(
      `replay-window probes: no template for ${[
        ...(processCreate.size < partitions
          ? [`a process creation on each of ${partitions} partitions`]
          : []),
        ...(remcosWrite === undefined ? ['a Remcos registry write'] : []),
        ...(imagePathWrite === undefined ? ['a service ImagePath write'] : []),
      ].join(', ')} in the stream`,
    );
  return { processCreate, remcosWrite, imagePathWrite };
}

/**
 * `stream` with the probes merged in by event time, on every one of `partitions` partitions, from the
 * stream's first event time to where a probe's last event still fits before its last.
 */
export function withReplayWindowProbes(
  stream: NormalizedScenario,
  partitions: number,
): { stream: NormalizedScenario; probes: number } {
  const templates = findTemplates(stream, partitions);
  const codec = createEventCodec();
  const first = stream.records[0]!.eventTime;
  const last = stream.records.at(-1)!.eventTime;
  const probes: ScenarioRecord[] = [];
  let serial = 0;
  const make = (
    host: { record: ScenarioRecord; event: SequorEvent },
    template: SequorEvent,
    time: number,
    guid: string,
    registry?: { path: string; details: string },
  ): void => {
    const event = structuredClone(template);
    const id = (++serial).toString(16).padStart(8, '0');
    event.timestamp = time;
    event.event = { ...event.event, id: `e2e0f00d${'0'.repeat(16)}${id}` };
    event.host = host.event.host;
    event.winlog = { ...event.winlog!, computer_name: host.event.winlog!.computer_name };
    event.process = { ...event.process!, entity_id: guid };
    const data: Record<string, string> = {
      ...eventData(event),
      ProcessGuid: guid,
      UtcTime: new Date(time).toISOString().replace('T', ' ').replace('Z', ''),
    };
    if (registry !== undefined) {
      data.TargetObject = registry.path;
      data.Details = registry.details;
      event.registry = { ...event.registry!, path: registry.path };
    }
    event.winlog.event_data = data;
    probes.push({
      key: host.record.key,
      value: codec.encodeSingleObject(event),
      headers: host.record.headers,
      partition: host.record.partition,
      eventId: event.event.id,
      eventTime: time,
      file: 'replay-window-probe',
      line: serial,
    });
  };
  const remcosKey = eventData(templates.remcosWrite)!.TargetObject!.replace(/\\[^\\]*$/, '');
  const serviceKey = eventData(templates.imagePathWrite)!.TargetObject!.replace(/\\[^\\]*\\ImagePath$/i, '');
  const span = TEMPORAL_STEPS.secondWrite * PROBED_WINDOW_MS;
  let n = 0;
  for (let start = first; start + span <= last; start += PROBE_SPACING_MS, n++) {
    for (const [partition, host] of [...templates.processCreate].sort(([a], [b]) => a - b)) {
      const at = (step: number) => start + Math.round(step * PROBED_WINDOW_MS) + partition;
      const tag = `${partition}${String(n).padStart(3, '0')}`;
      const remcos = { path: `${remcosKey}${tag}\\licence`, details: `PROBE${tag}` };
      const guid = `{e2e0f00d-0000-0000-0001-00000000${tag.padStart(4, '0')}}`;
      make(host, templates.remcosWrite, at(TEMPORAL_STEPS.firstWrite), guid, remcos);
      make(host, templates.processCreate.get(partition)!.event, at(TEMPORAL_STEPS.processCreate), guid);
      make(host, templates.remcosWrite, at(TEMPORAL_STEPS.secondWrite), guid, remcos);
      const service = { path: `${serviceKey}\\Probe${tag}\\ImagePath`, details: `C:\\Probe\\${tag}.exe` };
      const writer = `{e2e0f00d-0000-0000-0002-00000000${tag.padStart(4, '0')}}`;
      make(host, templates.imagePathWrite, at(COUNT_STEPS.firstWrite), writer, service);
      make(host, templates.imagePathWrite, at(COUNT_STEPS.secondWrite), writer, service);
    }
  }
  probes.sort((a, b) => a.eventTime - b.eventTime);
  // Merge by event time (a probe after the stream's records of the same time), keeping the stream's order.
  const records: ScenarioRecord[] = [];
  let p = 0;
  for (const record of stream.records) {
    while (p < probes.length && probes[p]!.eventTime < record.eventTime) records.push(probes[p++]!);
    records.push(record);
  }
  records.push(...probes.slice(p));
  return { stream: { ...stream, records }, probes: probes.length };
}
