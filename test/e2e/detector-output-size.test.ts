// Issue 17, item 0: real Security-Datasets files replayed one after the other into one raw topic (not
// merged by event time, as a shipper catching up on several hosts would), through the real normalizer and
// detector. A host's older events then arrive after newer ones and go to the late-events topic by the
// thousand. The detector used to put a whole batch's late events into one record batch per partition,
// which the broker refused (MESSAGE_TOO_LARGE): the detector exited, and a restarted one met the same
// batch again. Here the late-events topic is limited to 64 KiB, both file orders run, and one crafted
// late event is larger than that limit alone: the detector must stay up, split its output, and
// dead-letter that one record with its reason.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detector } from '@sequor/detector';
import type { TestRecord } from '@sequor/kafka/testing';
import { headerString, KafkaTestKit } from '@sequor/kafka/testing';
import {
  laterEventOnEveryPartition,
  readLines,
  securityDatasetsDir,
} from '../../services/detector/test/support/e2e.js';
import { runRawLinesThroughServices } from './support/services.js';

const PARTITIONS = 6;
const LATE_TOPIC_LIMIT = 64 * 1024;
const FILES = [
  'cmd_service_mod_fax.json',
  'empire_psexec_dcerpc_tcp_svcctl.json',
  'empire_shell_dcerpc_smb_service_dll_hijack.json',
];

/** A Sysmon process creation on WORKSTATION5, dated before every file, with a 100 KB command line: late, and too large for the late topic alone. */
function hugeOldEvent(): string {
  return JSON.stringify({
    EventID: 1,
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    Hostname: 'WORKSTATION5.theshire.local',
    '@timestamp': '2020-01-01T00:00:00.000Z',
    Image: 'C:\\Windows\\System32\\cmd.exe',
    CommandLine: `cmd.exe /c ${'A'.repeat(100_000)}`,
    ProcessGuid: '{39e4a257-0000-0000-0000-000000000001}',
  });
}

interface Run {
  readonly detector: Detector;
  readonly late: TestRecord[];
  readonly dead: TestRecord[];
  readonly alerts: TestRecord[];
  readonly crashed: unknown;
}

async function runOrder(kit: KafkaTestKit, files: readonly string[]): Promise<Run> {
  const lines = files.flatMap((f) => readLines(path.join(securityDatasetsDir, f)));
  const clock = laterEventOnEveryPartition(PARTITIONS, new Date('2021-01-01T00:00:00Z'));
  // After every file, WORKSTATION5's stream time (cmd_service_mod_fax.json) is past the huge event.
  const run = await runRawLinesThroughServices(kit, [...lines, hugeOldEvent(), ...clock], {
    partitions: PARTITIONS,
    lateTopicConfigs: { 'max.message.bytes': String(LATE_TOPIC_LIMIT) },
  });
  await run.stop();
  const { detector, topics } = run;
  const counters = detector.counters();
  const late = counters.lateEvents > 0 ? await kit.consumeUntil(topics.late, counters.lateEvents) : [];
  const dead = await kit.consumeUntil(
    topics.dead,
    (records) =>
      records.filter((r) => headerString(r.headers, 'origin.topic') === topics.normalized).length >=
      counters.deadLetters,
  );
  const alerts = counters.alerts > 0 ? await kit.consumeUntil(topics.alerts, counters.alerts) : [];
  return { detector, late, dead, alerts, crashed: run.crashed() };
}

describe.each([
  ['in file order', FILES],
  ['in reverse order', [...FILES].reverse()],
])('three real files replayed one after another (%s), late topic limited to 64 KiB', (_name, files) => {
  let kit: KafkaTestKit;
  let run: Run;

  beforeAll(async () => {
    kit = await KafkaTestKit.connect();
    run = await runOrder(kit, files);
  }, 300_000);

  afterAll(async () => {
    await kit?.close();
  });

  it('keeps the detector running through the late-event flood', () => {
    expect(run.crashed).toBeUndefined();
    const counters = run.detector.counters();
    // Hundreds of late events: far more than one 64 KiB record batch holds.
    expect(counters.lateEvents).toBeGreaterThan(100);
    expect(run.late.reduce((bytes, r) => bytes + (r.value?.length ?? 0), 0)).toBeGreaterThan(
      4 * LATE_TOPIC_LIMIT,
    );
  });

  it('delivers every late event that fits, each under the topic limit', () => {
    expect(run.late).toHaveLength(run.detector.counters().lateEvents);
    for (const record of run.late) expect(record.value!.length).toBeLessThan(LATE_TOPIC_LIMIT);
    expect(new Set(run.late.map((r) => headerString(r.headers, 'origin.offset'))).size).toBe(run.late.length);
  });

  it('dead-letters the one late event too large for the late topic, with its reason, origin and intended topic', () => {
    const tooLarge = run.dead.filter((r) => headerString(r.headers, 'error.reason') === 'record-too-large');
    expect(tooLarge).toHaveLength(1);
    const letter = tooLarge[0]!;
    expect(headerString(letter.headers, 'error.output-topic')).toMatch(/^late/);
    expect(headerString(letter.headers, 'sequor.late.reason')).toBe('late');
    expect(headerString(letter.headers, 'origin.offset')).toMatch(/^\d+$/);
    expect(headerString(letter.headers, 'error.value-truncated')).toBeUndefined();
    expect(run.detector.counters().deadLetters).toBe(1);
  });

  it('publishes the alerts it counted', () => {
    expect(run.alerts).toHaveLength(run.detector.counters().alerts);
  });
});
