/**
 * Normalizer benchmark (a script, not a test). Prints:
 * 1. in-process: NormalizeProcessor over ~1 KB Winlogbeat events (4624 logons, Sysmon 1 and 13) with
 *    Avro single-object output: events/s, per-record latency percentiles, heap;
 * 2. end to end through the broker: N raw records produced to a raw topic, the normalizer service
 *    started in-process, time until all N normalized records are consumed from the output topic.
 *
 *   npx tsx --conditions=sequor-source test/bench/normalizer.ts [--events 200000] [--e2e 100000] [--raw-partitions 6]
 *
 * Uses KAFKA_BROKERS when set; otherwise starts a private broker with deploy/kafka/kafka.sh and stops it.
 */
import { cpus, loadavg } from 'node:os';
import { parseSourceBindings } from '@sequor/formats';
import { createLogger } from '@sequor/kafka';
import { KafkaTestKit, uniqueGroup, uniqueTopic } from '@sequor/kafka/testing';
import { createNormalizer, normalizerConfigFromEnv } from '@sequor/normalizer';
import { createNormalizeProcessor, singleObjectEventEncoder } from '@sequor/pipeline';
import { benchBroker } from '../setup/deploy-script.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const IN_PROCESS_EVENTS = arg('events', 200_000);
const E2E_EVENTS = arg('e2e', 100_000);
const RAW_PARTITIONS = arg('raw-partitions', 6);
const HOSTS = 200;

/** ~1 KB Winlogbeat documents: a third each of 4624 network logons, Sysmon 1 and Sysmon 13. */
function winlogbeatRecord(i: number): Buffer {
  const host = `ws${(i * 7919) % HOSTS}`;
  const common = {
    '@timestamp': new Date(Date.UTC(2024, 0, 1) + i * 13).toISOString(),
    agent: { type: 'winlogbeat', version: '8.11.0', name: host },
    host: { name: host },
    ecs: { version: '8.0.0' },
  };
  const winlog = {
    computer_name: `${host.toUpperCase()}.corp.example.com`,
    record_id: 1_000_000 + i,
    api: 'wineventlog',
  };
  let doc: unknown;
  switch (i % 3) {
    case 0:
      doc = {
        ...common,
        event: { code: '4624', kind: 'event', provider: 'Microsoft-Windows-Security-Auditing' },
        winlog: {
          ...winlog,
          channel: 'Security',
          event_id: '4624',
          provider_name: 'Microsoft-Windows-Security-Auditing',
          event_data: {
            SubjectUserSid: 'S-1-0-0',
            SubjectUserName: '-',
            SubjectDomainName: '-',
            SubjectLogonId: '0x0',
            TargetUserSid: `S-1-5-21-4228717743-1032521047-1810997296-${1100 + (i % 40)}`,
            TargetUserName: `user${i % 40}`,
            TargetDomainName: 'CORP',
            TargetLogonId: `0x${(0x6d40a99 + i).toString(16)}`,
            LogonType: '3',
            LogonProcessName: 'Kerberos',
            AuthenticationPackageName: 'Kerberos',
            WorkstationName: '-',
            LogonGuid: '{c07e3fac-5cc2-3cc2-396f-28d4b6531d46}',
            IpAddress: `10.0.${i % 7}.${i % 250}`,
            IpPort: String(50_000 + (i % 10_000)),
            ProcessId: '0x0',
            ProcessName: '-',
            ImpersonationLevel: '%%1833',
          },
        },
      };
      break;
    case 1:
      doc = {
        ...common,
        event: { code: '1', kind: 'event', provider: 'Microsoft-Windows-Sysmon' },
        winlog: {
          ...winlog,
          channel: 'Microsoft-Windows-Sysmon/Operational',
          event_id: 1,
          provider_name: 'Microsoft-Windows-Sysmon',
          user: { identifier: 'S-1-5-18', name: 'SYSTEM', domain: 'NT AUTHORITY' },
          event_data: {
            RuleName: '-',
            UtcTime: '2024-01-01 00:00:00.000',
            ProcessGuid: `{39e4a257-d62d-5f90-${(i % 65_536).toString(16).padStart(4, '0')}-000000000700}`,
            ProcessId: String(1000 + (i % 60_000)),
            Image: 'C:\\Windows\\System32\\sc.exe',
            CommandLine: `sc.exe config Svc${i % 100} binPath= C:\\Windows\\Temp\\s${i}.exe`,
            CurrentDirectory: 'C:\\Windows\\system32\\',
            User: 'CORP\\admin',
            LogonId: '0xc61d9',
            IntegrityLevel: 'High',
            Hashes: 'SHA256=39C59C362649090B4D34E5C8221C6E86552C07FE2DF3478D591A68B70917BC0A',
            ParentProcessGuid: '{39e4a257-d603-5f90-8010-000000000700}',
            ParentProcessId: '8692',
            ParentImage: 'C:\\Windows\\System32\\cmd.exe',
            ParentCommandLine: '"C:\\Windows\\system32\\cmd.exe"',
          },
        },
      };
      break;
    default:
      doc = {
        ...common,
        event: { code: '13', kind: 'event', provider: 'Microsoft-Windows-Sysmon' },
        winlog: {
          ...winlog,
          channel: 'Microsoft-Windows-Sysmon/Operational',
          event_id: 13,
          provider_name: 'Microsoft-Windows-Sysmon',
          user: { identifier: 'S-1-5-18', name: 'SYSTEM', domain: 'NT AUTHORITY' },
          event_data: {
            RuleName: '-',
            EventType: 'SetValue',
            UtcTime: '2024-01-01 00:00:00.000',
            ProcessGuid: '{39e4a257-f131-5f8b-0b00-000000000700}',
            ProcessId: '716',
            Image: 'C:\\Windows\\system32\\services.exe',
            TargetObject: `HKLM\\System\\CurrentControlSet\\Services\\Svc${i % 100}\\ImagePath`,
            Details: `C:\\Windows\\Temp\\s${i}.exe -k netsvcs -p`,
            User: 'NT AUTHORITY\\SYSTEM',
          },
        },
      };
  }
  return Buffer.from(JSON.stringify(doc));
}

/** User + system CPU time of this process since `since`, in ms: a rate that a loaded machine distorts less. */
function cpuMillis(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const rate = (n: number, ms: number): string =>
  `${Math.round((n / ms) * 1000).toLocaleString('en-US')} events/s`;

function inProcess(): void {
  const records = Array.from({ length: 10_000 }, (_, i) => winlogbeatRecord(i));
  const avgBytes = records.reduce((s, r) => s + r.length, 0) / records.length;
  const processor = createNormalizeProcessor({
    bindings: parseSourceBindings('winlogbeat:winlogbeat'),
    encoder: singleObjectEventEncoder(),
  });
  const run = (n: number, latencies?: Float64Array): { ms: number; outBytes: number } => {
    let outBytes = 0;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const t0 = latencies === undefined ? 0 : performance.now();
      const result = processor.process({
        topic: 'winlogbeat',
        partition: 0,
        offset: i,
        value: records[i % records.length]!,
      });
      if (result.deadLetter !== undefined)
        throw new Error(`benchmark record ${i} was dead-lettered: ${result.deadLetter.message}`);
      outBytes += result.outputs[0]!.value.length;
      if (latencies !== undefined) latencies[i] = performance.now() - t0;
    }
    return { ms: performance.now() - start, outBytes };
  };
  run(20_000); // warm-up: JIT, codec buffers
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const { ms, outBytes } = run(IN_PROCESS_EVENTS);
  const cpuMs = cpuMillis(cpuBefore);
  const latencies = new Float64Array(Math.min(IN_PROCESS_EVENTS, 100_000));
  run(latencies.length, latencies);
  latencies.sort();
  const mem = process.memoryUsage();
  console.log(
    `in-process NormalizeProcessor (winlogbeat -> Avro single-object), ${IN_PROCESS_EVENTS.toLocaleString('en-US')} events`,
  );
  console.log(
    `  input ${avgBytes.toFixed(0)} B/event avg, output ${(outBytes / IN_PROCESS_EVENTS).toFixed(0)} B/event avg`,
  );
  console.log(
    `  throughput ${rate(IN_PROCESS_EVENTS, ms)} wall (${(ms / 1000).toFixed(2)} s); ${rate(IN_PROCESS_EVENTS, cpuMs)} per CPU-second`,
  );
  console.log(
    `  latency per record: p50 ${(percentile(latencies, 50) * 1000).toFixed(1)} µs, p99 ${(percentile(latencies, 99) * 1000).toFixed(1)} µs, ` +
      `p99.9 ${(percentile(latencies, 99.9) * 1000).toFixed(1)} µs, max ${(latencies[latencies.length - 1]! * 1000).toFixed(0)} µs`,
  );
  console.log(
    `  memory: heap ${mib(mem.heapUsed)} (was ${mib(heapBefore)} before the run), rss ${mib(mem.rss)}`,
  );
}

async function endToEnd(brokers: string): Promise<void> {
  const quiet = createLogger('bench', { level: 'warn' });
  const kit = await KafkaTestKit.connect({ brokers: brokers.split(','), logger: quiet });
  const normalizedTopic = uniqueTopic('bench-normalized');
  const deadLetterTopic = uniqueTopic('bench-dead-letters');
  try {
    const rawTopic = await kit.createTopic('bench-raw', { partitions: RAW_PARTITIONS });
    const produceStart = performance.now();
    const CHUNK = 20_000;
    for (let from = 0; from < E2E_EVENTS; from += CHUNK) {
      const chunk = Array.from({ length: Math.min(CHUNK, E2E_EVENTS - from) }, (_, j) => ({
        key: null,
        value: winlogbeatRecord(from + j),
      }));
      await kit.produceAll(rawTopic, chunk);
    }
    const produceMs = performance.now() - produceStart;

    const config = normalizerConfigFromEnv({
      KAFKA_BROKERS: brokers,
      NORMALIZER_SOURCES: `winlogbeat:${rawTopic}`,
      NORMALIZED_TOPIC: normalizedTopic,
      DEAD_LETTER_TOPIC: deadLetterTopic,
      NORMALIZER_GROUP_ID: uniqueGroup('bench-normalizer'),
      LOG_LEVEL: 'warn',
      // Tuning knobs pass through, so the script can compare settings.
      ...(process.env.NORMALIZER_PARTITIONS_CONCURRENTLY === undefined
        ? {}
        : { NORMALIZER_PARTITIONS_CONCURRENTLY: process.env.NORMALIZER_PARTITIONS_CONCURRENTLY }),
    });
    const normalizer = createNormalizer(config, { logger: quiet });
    const start = performance.now();
    const cpuBefore = process.cpuUsage();
    await normalizer.start();
    // Count only (values are not kept) so the consumer's memory does not skew the run.
    let firstAt = 0;
    await kit.consumeUntil(
      normalizedTopic,
      (records) => {
        if (firstAt === 0 && records.length > 0) firstAt = performance.now();
        return records.length >= E2E_EVENTS;
      },
      { timeoutMs: 900_000 },
    );
    const end = performance.now();
    const ms = end - start;
    const cpuMs = cpuMillis(cpuBefore);
    const counters = normalizer.counters();
    await normalizer.stop();
    console.log(
      `end to end through the broker (${brokers}), ${E2E_EVENTS.toLocaleString('en-US')} raw records on ${RAW_PARTITIONS} partitions -> ` +
        `${config.normalizedPartitions} partitions, ${config.partitionsConcurrently} partitions processed concurrently`,
    );
    console.log(`  produce raw (test kit, acks=all): ${rate(E2E_EVENTS, produceMs)}`);
    console.log(
      `  normalizer start -> last normalized record consumed: ${rate(E2E_EVENTS, ms)} (${(ms / 1000).toFixed(1)} s, first record after ${((firstAt - start) / 1000).toFixed(1)} s)`,
    );
    console.log(`  steady state (first -> last record): ${rate(E2E_EVENTS, end - firstAt)}`);
    console.log(
      `  CPU of this process (normalizer + the counting consumer; the broker not included): ${(cpuMs / 1000).toFixed(1)} s, ` +
        `${rate(E2E_EVENTS, cpuMs)} per CPU-second`,
    );
    console.log(`  counters: ${JSON.stringify(counters.total)}`);
  } finally {
    await kit.deleteTopics([normalizedTopic, deadLetterTopic]).catch(() => undefined);
    await kit.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  inProcess();
  if (E2E_EVENTS <= 0) return;
  const broker = await benchBroker();
  try {
    await endToEnd(broker.brokers);
  } finally {
    await broker.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
