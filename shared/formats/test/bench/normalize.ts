/**
 * In-process benchmark: normalizing ~1 KB Winlogbeat events, flat-windows over a real dataset file,
 * and Avro single-object encode + decode of the resulting events. Prints events/s and per-event
 * latency percentiles (measured over batches of 1,000 so the timer's resolution does not dominate).
 * Run from the repo root: npx tsx --conditions=sequor-source shared/formats/test/bench/normalize.ts
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec } from '@sequor/model';
import { getFormat } from '../../src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const enc = new TextEncoder();
const BATCH = 1000;

function winlogbeatRecords(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const common = {
      '@timestamp': new Date(Date.UTC(2024, 0, 1) + i * 37).toISOString(),
      agent: {
        type: 'winlogbeat',
        version: '8.11.0',
        id: '0e5bd9b5-4a0e-4c1d-9a5f-2b0b2c0a5f11',
        name: `ws${i % 50}`,
      },
      ecs: { version: '8.0.0' },
      host: { name: `ws${i % 50}`, hostname: `ws${i % 50}`, os: { family: 'windows', version: '10.0' } },
      log: { level: 'information' },
    };
    const kind = i % 3;
    const doc =
      kind === 0
        ? {
            ...common,
            event: {
              code: '4624',
              kind: 'event',
              provider: 'Microsoft-Windows-Security-Auditing',
              created: '2024-01-01T00:00:00.100Z',
            },
            message: 'An account was successfully logged on.',
            winlog: {
              channel: 'Security',
              event_id: '4624',
              computer_name: `WS${i % 50}.corp.example.com`,
              record_id: 100000 + i,
              provider_name: 'Microsoft-Windows-Security-Auditing',
              api: 'wineventlog',
              event_data: {
                SubjectUserSid: 'S-1-0-0',
                SubjectUserName: '-',
                SubjectDomainName: '-',
                SubjectLogonId: '0x0',
                TargetUserSid: `S-1-5-21-4228717743-1032521047-1810997296-${1100 + (i % 20)}`,
                TargetUserName: `user${i % 20}`,
                TargetDomainName: 'CORP',
                TargetLogonId: '0x6d40a99',
                LogonType: '3',
                LogonProcessName: 'Kerberos',
                AuthenticationPackageName: 'Kerberos',
                WorkstationName: '-',
                LogonGuid: '{c07e3fac-5cc2-3cc2-396f-28d4b6531d46}',
                IpAddress: `10.0.${i % 5}.${i % 250}`,
                IpPort: String(50000 + (i % 10000)),
                ProcessId: '0x0',
                ProcessName: '-',
              },
            },
          }
        : kind === 1
          ? {
              ...common,
              event: { code: '13', kind: 'event', provider: 'Microsoft-Windows-Sysmon' },
              message: 'Registry value set',
              winlog: {
                channel: 'Microsoft-Windows-Sysmon/Operational',
                event_id: 13,
                computer_name: `WS${i % 50}.corp.example.com`,
                record_id: 200000 + i,
                provider_name: 'Microsoft-Windows-Sysmon',
                user: { identifier: 'S-1-5-18', name: 'SYSTEM', domain: 'NT AUTHORITY', type: 'User' },
                event_data: {
                  RuleName: '-',
                  EventType: 'SetValue',
                  UtcTime: '2024-01-01 00:00:00.000',
                  ProcessGuid: `{39e4a257-f131-5f8b-${(i % 9999).toString().padStart(4, '0')}-000000000700}`,
                  ProcessId: '716',
                  Image: 'C:\\Windows\\system32\\services.exe',
                  TargetObject: `HKLM\\System\\CurrentControlSet\\Services\\Svc${i % 100}\\ImagePath`,
                  Details: 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p',
                  User: 'NT AUTHORITY\\SYSTEM',
                },
              },
            }
          : {
              ...common,
              event: { code: '11', kind: 'event', provider: 'Microsoft-Windows-Sysmon' },
              message: 'File created',
              winlog: {
                channel: 'Microsoft-Windows-Sysmon/Operational',
                event_id: 11,
                computer_name: `WS${i % 50}.corp.example.com`,
                record_id: 300000 + i,
                provider_name: 'Microsoft-Windows-Sysmon',
                event_data: {
                  RuleName: '-',
                  UtcTime: '2024-01-01 00:00:00.000',
                  ProcessGuid: '{39e4a257-f131-5f8b-0b00-000000000700}',
                  ProcessId: '1020',
                  Image: 'C:\\Windows\\System32\\svchost.exe',
                  TargetFilename: `C:\\Windows\\ServiceState\\EventLog\\Data\\lastalive${i % 2}.dat`,
                  CreationUtcTime: '2024-01-01 00:00:00.000',
                  User: 'NT AUTHORITY\\LOCAL SERVICE',
                },
              },
            };
    out.push(enc.encode(JSON.stringify(doc)));
  }
  return out;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Runs `op` over `items` in batches; returns events/s and per-event µs percentiles over batches. */
function measure<T>(
  label: string,
  items: readonly T[],
  rounds: number,
  op: (item: T, i: number) => void,
): void {
  // Warm-up: let the JIT settle.
  for (let i = 0; i < Math.min(items.length, 20_000); i++) op(items[i % items.length] as T, i);
  const perEventMicros: number[] = [];
  let total = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (let start = 0; start < items.length; start += BATCH) {
      const b0 = process.hrtime.bigint();
      const end = Math.min(items.length, start + BATCH);
      for (let i = start; i < end; i++) op(items[i] as T, i);
      perEventMicros.push(Number(process.hrtime.bigint() - b0) / 1000 / (end - start));
      total += end - start;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  perEventMicros.sort((a, b) => a - b);
  // CPU time too: on a shared machine wall-clock rates mostly measure the neighbours.
  console.log(
    `${label.padEnd(52)} ${Math.round(total / seconds)
      .toLocaleString('en-US')
      .padStart(9)} events/s wall, ` +
      `${Math.round(total / ((cpu.user + cpu.system) / 1e6))
        .toLocaleString('en-US')
        .padStart(9)} per CPU-s;  ` +
      `µs/event (wall, per batch of ${BATCH}) p50 ${percentile(perEventMicros, 50).toFixed(1)} p99 ${percentile(perEventMicros, 99).toFixed(1)}`,
  );
}

const records = winlogbeatRecords(30_000);
const avgBytes = records.reduce((s, r) => s + r.length, 0) / records.length;
console.log(
  `node ${process.version}; ${records.length} Winlogbeat records, mean ${avgBytes.toFixed(0)} bytes`,
);

// Baseline: the floor any JSON format pays (UTF-8 decode + JSON.parse), to read the numbers below against.
const utf8 = new TextDecoder('utf-8', { fatal: true });
measure('baseline: TextDecoder + JSON.parse only', records, 5, (r) => {
  JSON.parse(utf8.decode(r));
});

const winlogbeat = getFormat('winlogbeat').createDecoder();
const events: SequorEvent[] = [];
measure('winlogbeat decode (bytes -> SequorEvent)', records, 5, (r, i) => {
  const evs = winlogbeat.decode(r, { topic: 'winlogbeat', partition: 0, offset: i });
  if (events.length < records.length) events.push(evs[0] as SequorEvent);
});

const datasetFile = path.resolve(
  repoRoot,
  '../shared/datasets/security-datasets/empire_shell_dcerpc_smb_service_dll_hijack.json',
);
const flatLines = readFileSync(datasetFile, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => enc.encode(l));
const flatBytes = flatLines.reduce((s, r) => s + r.length, 0) / flatLines.length;
const flat = getFormat('flat-windows').createDecoder();
measure(`flat-windows, real file (mean ${flatBytes.toFixed(0)} B, errors incl.)`, flatLines, 3, (r, i) => {
  try {
    flat.decode(r, { topic: 'f', partition: 0, offset: i });
  } catch {
    // The 7 unsupported-channel lines of this file: counted in the unit test.
  }
});

const codec = createEventCodec();
const encoded = events.map((e) => codec.encodeSingleObject(e));
const avroBytes = encoded.reduce((s, b) => s + b.length, 0) / encoded.length;
console.log(`Avro single-object size: mean ${avroBytes.toFixed(0)} bytes per event`);
measure('Avro single-object encode', events, 10, (e) => {
  codec.encodeSingleObject(e);
});
measure('Avro single-object decode', encoded, 10, (b) => {
  codec.decode(b);
});
measure('Avro single-object encode + decode', events, 10, (e) => {
  codec.decode(codec.encodeSingleObject(e));
});
const mem = process.memoryUsage();
console.log(
  `memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`,
);
