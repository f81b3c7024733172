/**
 * Tracing overhead on the per-record path, in process (no broker): for each consumed record, a process
 * span from the record's headers, the decoded event remembered in the span registry, a send span
 * injected into the outgoing headers, both ended; a receive span per batch of 500.
 *
 *   npx tsx --conditions=sequor-source test/bench/tracing.ts [events=1000000] [rounds=3]
 *
 * Scenarios (the input records carry an upstream traceparent, sampled at the scenario's ratio, as a
 * normalizer's output does; `raw` records carry none, so the batch span decides):
 *   baseline           the same loop without any tracing call (the floor)
 *   disabled           OTEL_SDK_DISABLED=true: every helper returns the shared no-op span
 *   ratio 0.01         the default sampler, parentbased_traceidratio 0.01
 *   ... remember all   the same, with the span registry keeping unsampled events too (a WeakMap entry each)
 *   ratio 0.01 raw     the same, records without trace context (raw topic)
 *   ratio 1            everything sampled and exported (to a discarding exporter, batch processor)
 *   link, ratio 0.01   the alternative design: process span parented on the batch span with a link to the
 *                      producer context instead of being its child
 * Prints events/s (wall and per CPU-second), ns per event above the baseline, spans exported, heap.
 */
import os from 'node:os';
import type { Link, SpanContext } from '@opentelemetry/api';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { RecordHeaders } from '@sequor/kafka';
import type { SamplerConfig, Telemetry } from '@sequor/telemetry';
import { SpanContextRegistry, extractContext, start } from '@sequor/telemetry';
import { DiscardingSpanExporter } from '@sequor/telemetry/testing';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const BATCH = 500;

interface BenchRecord {
  readonly key: Buffer;
  readonly offset: string;
  readonly headers: RecordHeaders;
  readonly value: { readonly id: number; readonly host: string };
}

/**
 * Input as a consumer gets it: Buffer headers carrying a traceparent sampled at `ratio` (none when raw).
 * Records and their decoded events are made per batch and dropped after it, as in a service (the span
 * registry's entries then die young, as they do there); the headers come from a pool.
 */
class RecordSource {
  private readonly pool: (RecordHeaders | undefined)[] = [];
  private readonly keys: Buffer[] = [];

  constructor(ratio: number | 'raw') {
    let state = 0x9e3779b9;
    const random = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 0x1_0000_0000;
    };
    const hex = (digits: number): string => {
      let s = '';
      while (s.length < digits)
        s += Math.floor(random() * 0x1_0000_0000)
          .toString(16)
          .padStart(8, '0');
      return s.slice(0, digits);
    };
    for (let i = 0; i < 8192; i++) {
      this.pool.push(
        ratio === 'raw'
          ? undefined
          : {
              traceparent: Buffer.from(
                `00-${hex(32)}-${hex(16)}-${random() < ratio ? '01' : '00'}`,
                'latin1',
              ),
            },
      );
    }
    for (let i = 0; i < 1000; i++) this.keys.push(Buffer.from(`host-${i}`));
  }

  batch(first: number, count: number): BenchRecord[] {
    const records = new Array<BenchRecord>(count);
    for (let i = 0; i < count; i++) {
      const n = first + i;
      records[i] = {
        key: this.keys[n % 1000]!,
        offset: String(n),
        headers: this.pool[n % 8192] ?? {},
        value: { id: n, host: 'host' },
      };
    }
    return records;
  }
}

let sink = 0;

/** Between batches the event loop runs, as it does while a service awaits the broker: the batch span processor exports then. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function runBaseline(source: RecordSource): Promise<void> {
  for (let first = 0; first < EVENTS; first += BATCH) {
    await nextTurn();
    const batch = source.batch(first, BATCH);
    for (const record of batch) {
      const headers: RecordHeaders = {};
      sink += record.value.id + Object.keys(headers).length;
    }
  }
}

async function runHelpers(
  telemetry: Telemetry,
  source: RecordSource,
  spans: SpanContextRegistry,
): Promise<void> {
  const { tracing } = telemetry;
  let partition = 0;
  for (let first = 0; first < EVENTS; first += BATCH) {
    await nextTurn();
    const records = source.batch(first, BATCH);
    const batchTrace = tracing.startReceive(
      { topic: 'normalized', partition: partition++ % 12, records },
      'detector',
    );
    for (const record of records) {
      const span = batchTrace.startProcess(record);
      spans.remember(record.value, span);
      const headers: RecordHeaders = {};
      tracing.startSend('alerts-or-derived', record.key, headers, span).end();
      span.end();
      sink += record.value.id + Object.keys(headers).length;
    }
    batchTrace.end();
  }
}

/** The link design: parent = batch span, link = producer context (what the conventions allow instead). */
async function runLinks(telemetry: Telemetry, source: RecordSource): Promise<void> {
  const { tracing, spans } = telemetry;
  const tracer = trace.getTracer('@sequor/bench-links');
  for (let first = 0; first < EVENTS; first += BATCH) {
    await nextTurn();
    const records = source.batch(first, BATCH);
    const batchTrace = tracing.startReceive({ topic: 'normalized', partition: 0, records }, 'detector');
    const batchContext = trace.setSpan(ROOT_CONTEXT, batchTrace.span);
    for (const record of records) {
      const producer: SpanContext | undefined = trace.getSpanContext(extractContext(record.headers));
      const links: Link[] = producer === undefined ? [] : [{ context: producer }];
      const span = tracer.startSpan('process normalized', { kind: SpanKind.CONSUMER, links }, batchContext);
      spans.remember(record.value, span);
      const headers: RecordHeaders = {};
      tracing.startSend('alerts-or-derived', record.key, headers, span).end();
      span.end();
      sink += record.value.id + Object.keys(headers).length;
    }
    batchTrace.end();
  }
}

interface Scenario {
  readonly name: string;
  readonly records: number | 'raw';
  readonly telemetry?: { readonly disabled?: boolean; readonly sampler?: SamplerConfig };
  readonly run: 'baseline' | 'helpers' | 'links';
  /** The span registry remembers unsampled events too (`linkUnsampledEvidence`). */
  readonly rememberAll?: boolean;
}

const scenarios: readonly Scenario[] = [
  { name: 'baseline (no tracing calls)', records: 0.01, run: 'baseline' },
  { name: 'disabled (OTEL_SDK_DISABLED)', records: 0.01, telemetry: { disabled: true }, run: 'helpers' },
  {
    name: 'ratio 0.01 (default)',
    records: 0.01,
    telemetry: { sampler: { name: 'parentbased_traceidratio', ratio: 0.01 } },
    run: 'helpers',
  },
  {
    name: 'ratio 0.01, remember all',
    records: 0.01,
    telemetry: { sampler: { name: 'parentbased_traceidratio', ratio: 0.01 } },
    run: 'helpers',
    rememberAll: true,
  },
  {
    name: 'ratio 0.01, raw records',
    records: 'raw',
    telemetry: { sampler: { name: 'parentbased_traceidratio', ratio: 0.01 } },
    run: 'helpers',
  },
  {
    name: 'ratio 1 (all sampled)',
    records: 1,
    telemetry: { sampler: { name: 'parentbased_traceidratio', ratio: 1 } },
    run: 'helpers',
  },
  {
    name: 'link design, ratio 0.01',
    records: 0.01,
    telemetry: { sampler: { name: 'parentbased_traceidratio', ratio: 0.01 } },
    run: 'links',
  },
];

interface Result {
  readonly name: string;
  readonly wallRate: number;
  readonly cpuRate: number;
  readonly nsPerEvent: number;
  readonly spansExported: number;
  readonly heapMiB: number;
}

async function measure(scenario: Scenario): Promise<Result> {
  const batches = new RecordSource(scenario.records);
  let telemetry: Telemetry | undefined;
  const exporter = new DiscardingSpanExporter();
  if (scenario.telemetry !== undefined) {
    telemetry = await start({
      serviceName: 'bench',
      env: scenario.telemetry.disabled ? { OTEL_SDK_DISABLED: 'true' } : {},
      ...(scenario.telemetry.disabled
        ? {}
        : {
            spanExporter: exporter as never,
            spanExportMode: 'batch' as const,
            sampler: scenario.telemetry.sampler!,
          }),
      metricsPort: 0,
      metricsHost: '127.0.0.1',
    });
  }
  const run = (): Promise<void> =>
    scenario.run === 'baseline'
      ? runBaseline(batches)
      : scenario.run === 'helpers'
        ? runHelpers(
            telemetry!,
            batches,
            scenario.rememberAll ? new SpanContextRegistry({ includeUnsampled: true }) : telemetry!.spans,
          )
        : runLinks(telemetry!, batches);
  await run(); // warm-up round (JIT), not measured
  let bestWall = Infinity;
  let bestCpu = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await run();
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpuUsed = process.cpuUsage(cpu0);
    bestWall = Math.min(bestWall, wall);
    bestCpu = Math.min(bestCpu, (cpuUsed.user + cpuUsed.system) / 1e6);
  }
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
  await telemetry?.shutdown(); // exports what is still queued
  return {
    name: scenario.name,
    wallRate: EVENTS / bestWall,
    cpuRate: EVENTS / bestCpu,
    nsPerEvent: (bestCpu / EVENTS) * 1e9,
    spansExported: exporter.exported,
    heapMiB,
  };
}

async function main(): Promise<void> {
  console.log(
    `tracing bench: ${EVENTS.toLocaleString('en')} events, batches of ${BATCH}, best of ${ROUNDS} rounds; ` +
      `node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  const results: Result[] = [];
  for (const scenario of scenarios) results.push(await measure(scenario));
  const baseline = results[0]!;
  console.log('');
  console.log(
    'scenario                          events/s (wall)  events/CPU-s   ns/event  +ns vs baseline  spans exported  heap MiB',
  );
  for (const r of results) {
    console.log(
      `${r.name.padEnd(32)} ${Math.round(r.wallRate).toLocaleString('en').padStart(16)} ` +
        `${Math.round(r.cpuRate).toLocaleString('en').padStart(13)} ${r.nsPerEvent.toFixed(0).padStart(10)} ` +
        `${(r.nsPerEvent - baseline.nsPerEvent).toFixed(0).padStart(16)} ${r.spansExported.toLocaleString('en').padStart(15)} ` +
        `${r.heapMiB.toFixed(0).padStart(9)}`,
    );
  }
  console.log('');
  console.log(
    'At 100,000 events/s a core has 10,000 ns per event; "+ns vs baseline" is the share tracing takes of it. ' +
      `(spans exported counts every round incl. warm-up; sink ${sink % 10})`,
  );
}

await main();
