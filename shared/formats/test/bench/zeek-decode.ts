/**
 * Zeek decoder throughput: dce_rpc and conn records, TSV and JSON, pre-encoded as Kafka values.
 * Run from the repo root: `npx tsx --conditions=sequor-source shared/formats/test/bench/zeek-decode.ts [records]`.
 * Prints events/s (wall clock, and per CPU-second, steadier on a shared machine), per-record latency
 * percentiles (over batches of 1000) and heap growth.
 */
import { zeekFormats } from '../../src/index.js';

const records = Number(process.argv[2] ?? 200_000);
const encoder = new TextEncoder();
const T = '\t';
const ops = ['BaseRegCreateKey', 'BaseRegSetValue', 'BaseRegQueryValue', 'OpenLocalMachine'];

function header(path: string, fields: string[], types: string[]): string[] {
  return [
    '#separator \\x09',
    `#set_separator${T},`,
    `#empty_field${T}(empty)`,
    `#unset_field${T}-`,
    `#path${T}${path}`,
    `#open${T}2024-03-01-10-00-00`,
    `#fields${T}${fields.join(T)}`,
    `#types${T}${types.join(T)}`,
  ];
}

const id = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p'];
const idT = ['time', 'string', 'addr', 'port', 'addr', 'port'];

interface Case {
  format: string;
  header: string[];
  tsv: (i: number) => string;
  json: (i: number) => string;
}
const cases: Case[] = [
  {
    format: 'zeek-dce-rpc',
    header: header(
      'dce_rpc',
      [...id, 'rtt', 'named_pipe', 'endpoint', 'operation'],
      [...idT, 'interval', 'string', 'string', 'string'],
    ),
    tsv: (i) =>
      [
        `${1709287200 + i / 1000}`,
        `C${i.toString(36).padStart(17, 'x')}`,
        `10.0.${i % 250}.23`,
        `${49152 + (i % 16000)}`,
        `10.0.0.${i % 200}`,
        '445',
        '0.000412',
        '\\\\PIPE\\\\winreg',
        'winreg',
        ops[i % 4],
      ].join(T),
    json: (i) =>
      JSON.stringify({
        ts: 1709287200 + i / 1000,
        uid: `C${i.toString(36).padStart(17, 'x')}`,
        'id.orig_h': `10.0.${i % 250}.23`,
        'id.orig_p': 49152 + (i % 16000),
        'id.resp_h': `10.0.0.${i % 200}`,
        'id.resp_p': 445,
        rtt: 0.000412,
        named_pipe: '\\PIPE\\winreg',
        endpoint: 'winreg',
        operation: ops[i % 4],
      }),
  },
  {
    format: 'zeek-conn',
    header: header(
      'conn',
      [
        ...id,
        'proto',
        'service',
        'duration',
        'orig_bytes',
        'resp_bytes',
        'conn_state',
        'local_orig',
        'local_resp',
        'missed_bytes',
        'history',
        'orig_pkts',
        'orig_ip_bytes',
        'resp_pkts',
        'resp_ip_bytes',
        'tunnel_parents',
        'ip_proto',
      ],
      [
        ...idT,
        'enum',
        'string',
        'interval',
        'count',
        'count',
        'string',
        'bool',
        'bool',
        'count',
        'string',
        'count',
        'count',
        'count',
        'count',
        'set[string]',
        'count',
      ],
    ),
    tsv: (i) =>
      [
        `${1709287200 + i / 1000}`,
        `C${i.toString(36).padStart(17, 'x')}`,
        `10.0.${i % 250}.23`,
        `${49152 + (i % 16000)}`,
        `10.0.0.${i % 200}`,
        '445',
        'tcp',
        'smb,dce_rpc',
        '1.204511',
        `${i % 9000}`,
        '3718',
        'SF',
        'T',
        'T',
        '0',
        'ShADadFf',
        '24',
        '5834',
        '20',
        '4526',
        '-',
        '6',
      ].join(T),
    json: (i) =>
      JSON.stringify({
        ts: 1709287200 + i / 1000,
        uid: `C${i.toString(36).padStart(17, 'x')}`,
        'id.orig_h': `10.0.${i % 250}.23`,
        'id.orig_p': 49152 + (i % 16000),
        'id.resp_h': `10.0.0.${i % 200}`,
        'id.resp_p': 445,
        proto: 'tcp',
        service: 'smb,dce_rpc',
        duration: 1.204511,
        orig_bytes: i % 9000,
        resp_bytes: 3718,
        conn_state: 'SF',
        local_orig: true,
        local_resp: true,
        missed_bytes: 0,
        history: 'ShADadFf',
        orig_pkts: 24,
        orig_ip_bytes: 5834,
        resp_pkts: 20,
        resp_ip_bytes: 4526,
        ip_proto: 6,
      }),
  },
];

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function run(c: Case, encoding: 'tsv' | 'json'): void {
  const format = zeekFormats.find((f) => f.name === c.format);
  if (format === undefined) throw new Error(c.format);
  const values = Array.from({ length: records }, (_, i) =>
    encoder.encode(encoding === 'tsv' ? c.tsv(i) : c.json(i)),
  );
  const decoder = format.createDecoder();
  if (encoding === 'tsv')
    for (const h of c.header) decoder.decode(encoder.encode(h), { topic: 'bench', partition: 0, offset: 0 });
  // Warm up, then measure.
  for (let i = 0; i < Math.min(20_000, records); i++)
    decoder.decode(values[i] as Uint8Array, { topic: 'bench', partition: 0, offset: i });
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const batchMicros: number[] = [];
  let events = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let b = 0; b < records; b += 1000) {
    const t0 = process.hrtime.bigint();
    const end = Math.min(records, b + 1000);
    for (let i = b; i < end; i++)
      events += decoder.decode(values[i] as Uint8Array, { topic: 'bench', partition: 0, offset: i }).length;
    batchMicros.push(Number(process.hrtime.bigint() - t0) / 1000 / (end - b));
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const heapAfter = process.memoryUsage().heapUsed;
  batchMicros.sort((x, y) => x - y);
  console.log(
    `${c.format.padEnd(13)} ${encoding.padEnd(4)} ${records} records: ${Math.round(events / seconds).toLocaleString('en-US')} events/s wall, ${Math.round(events / cpuSeconds).toLocaleString('en-US')} per CPU-second; ` +
      `per record p50 ${percentile(batchMicros, 50).toFixed(2)} µs, p99 ${percentile(batchMicros, 99).toFixed(2)} µs; ` +
      `heap +${((heapAfter - heapBefore) / 1e6).toFixed(1)} MB (events discarded)`,
  );
}

for (const c of cases) {
  run(c, 'tsv');
  run(c, 'json');
}
