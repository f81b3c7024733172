// Spans leave over OTLP/HTTP protobuf, configured only by OTEL_* variables, and arrive in a real
// OpenTelemetry Collector (deploy/otel: OTLP receiver -> file exporter). At the default-style ratio of 0
// the sampler drops root spans, follows a sampled upstream producer, and still exports the alert span
// with its links: what arrives is read back from the collector's file.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Telemetry } from '@sequor/telemetry';
import { start } from '@sequor/telemetry';
import { runDeployScript } from '../setup/deploy-script.js';

const COLLECTOR_SCRIPT = 'deploy/otel/collector.sh';
const collectorBinary = path.join(
  process.env.SEQUOR_CACHE ?? path.join(homedir(), '.cache/sequor'),
  'otelcol/sequor-otelcol',
);

// OTLP JSON as the collector's file exporter writes it (one ExportTraceServiceRequest per line).
interface OtlpAttribute {
  readonly key: string;
  readonly value: { readonly stringValue?: string; readonly boolValue?: boolean; readonly intValue?: string };
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes?: readonly OtlpAttribute[];
  readonly links?: readonly {
    readonly traceId: string;
    readonly spanId: string;
    readonly attributes?: readonly OtlpAttribute[];
  }[];
}
interface OtlpRequest {
  readonly resourceSpans: readonly {
    readonly resource: { readonly attributes: readonly OtlpAttribute[] };
    readonly scopeSpans: readonly { readonly spans: readonly OtlpSpan[] }[];
  }[];
}
interface ReceivedSpan extends OtlpSpan {
  readonly serviceName: string | undefined;
}

function attribute(
  attributes: readonly OtlpAttribute[] | undefined,
  key: string,
): OtlpAttribute['value'] | undefined {
  return attributes?.find((a) => a.key === key)?.value;
}

async function readReceived(tracesFile: string): Promise<ReceivedSpan[]> {
  if (!existsSync(tracesFile)) return [];
  const spans: ReceivedSpan[] = [];
  for (const line of (await readFile(tracesFile, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    const request = JSON.parse(line) as OtlpRequest;
    for (const resourceSpans of request.resourceSpans) {
      const serviceName = attribute(resourceSpans.resource.attributes, 'service.name')?.stringValue;
      for (const scopeSpans of resourceSpans.scopeSpans) {
        for (const span of scopeSpans.spans) spans.push({ ...span, serviceName });
      }
    }
  }
  return spans;
}

/** Polls the collector's output file until `done` holds (the file exporter flushes every 100 ms). */
async function receivedUntil(
  tracesFile: string,
  done: (spans: readonly ReceivedSpan[]) => boolean,
  timeoutMs = 30_000,
): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = await readReceived(tracesFile);
    if (done(spans)) return spans;
    if (Date.now() > deadline) {
      throw new Error(
        `collector output did not satisfy the condition in ${timeoutMs} ms: ${JSON.stringify(spans.map((s) => s.name))}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let stateDir: string;
let collectorEnv: NodeJS.ProcessEnv;
let endpoint: string;
const savedEnv: Record<string, string | undefined> = {};
const OTEL_ENV = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_TRACES_EXPORTER',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_BSP_SCHEDULE_DELAY',
];

beforeAll(async () => {
  if (!existsSync(collectorBinary)) {
    throw new Error(
      `no OpenTelemetry Collector at ${collectorBinary}: run \`bash deploy/otel/install-collector.sh\` first (CI does)`,
    );
  }
  stateDir = await mkdtemp(path.join(tmpdir(), 'sequor-otelcol-vitest-'));
  collectorEnv = {
    ...process.env,
    SEQUOR_OTELCOL_STATE: stateDir,
    SEQUOR_OTELCOL_OWNER_PID: String(process.pid),
  };
  const started = await runDeployScript(COLLECTOR_SCRIPT, 'start', collectorEnv);
  endpoint = started.stdout.trim().split('\n').pop() ?? '';
  if (started.code !== 0 || !/^http:\/\/127\.0\.0\.1:\d+$/.test(endpoint)) {
    throw new Error(
      `deploy/otel/collector.sh start failed (exit ${started.code}):\n${started.stderr}${started.stdout}`,
    );
  }
  for (const name of OTEL_ENV) savedEnv[name] = process.env[name];
});
afterAll(async () => {
  for (const name of OTEL_ENV) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
  if (collectorEnv !== undefined) await runDeployScript(COLLECTOR_SCRIPT, 'stop', collectorEnv);
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

describe('OTLP export to a real OpenTelemetry Collector', () => {
  it('delivers the sampled spans and the always-sampled alert span with its links', async () => {
    // The SDK reads its exporter settings from process.env, as a deployed service would get them.
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_SERVICE_NAME: 'sequor-detector-e2e',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci,service.namespace=sequor',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    let telemetry: Telemetry | undefined = await start({
      serviceName: 'overridden-by-OTEL_SERVICE_NAME',
      env: {
        ...process.env,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
        METRICS_PORT: '0',
        METRICS_HOST: '127.0.0.1',
      },
    });
    try {
      const tracing = telemetry.tracing;
      // Upstream producers: one sampled its trace, one did not.
      const sampledUpstream = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
      const unsampledUpstream = { traceId: '5cf92f3577b34da6a3ce929d0e0e4737', spanId: '11f067aa0ba902b8' };
      const batch = {
        topic: 'normalized',
        partition: 4,
        records: [
          {
            key: Buffer.from('ws-01'),
            offset: '100',
            headers: {
              traceparent: Buffer.from(`00-${sampledUpstream.traceId}-${sampledUpstream.spanId}-01`),
            },
          },
          {
            key: Buffer.from('ws-01'),
            offset: '101',
            headers: {
              traceparent: Buffer.from(`00-${unsampledUpstream.traceId}-${unsampledUpstream.spanId}-00`),
            },
          },
        ],
      };
      const batchTrace = tracing.startReceive(batch, 'sequor-detector');
      const processSpans = batch.records.map((record) => {
        const span = batchTrace.startProcess(record);
        span.end();
        return span;
      });
      batchTrace.end();
      const alert = {
        alert: { id: 'a-1' },
        rule: { id: 'rule-1', name: 'lsass dump', version: 3, severity: 'high' },
        entity: { host: { name: 'ws-01' } },
        evidence: [{ event_id: 'ev-1' }, { event_id: 'ev-2' }],
      };
      const alertSpan = tracing.startAlertSpan(
        alert,
        processSpans.map((span) => span.spanContext()),
      );
      const headers = {};
      tracing.startSend('alerts', 'a-1', headers, alertSpan).end();
      alertSpan.end();
      await telemetry.shutdown(); // flushes the batch span processor over OTLP/HTTP
      telemetry = undefined;

      const received = await receivedUntil(stateDir + '/traces.jsonl', (spans) =>
        spans.some((s) => s.name === 'send alerts'),
      );
      const names = received.map((span) => span.name).sort();
      // Ratio 0: the batch span (a root) and the process span under the unsampled producer are dropped.
      expect(names).toEqual(['alert lsass dump', 'process normalized', 'send alerts']);
      for (const span of received) expect(span.serviceName).toBe('sequor-detector-e2e');

      const processReceived = received.find((span) => span.name === 'process normalized')!;
      expect(processReceived.traceId).toBe(sampledUpstream.traceId);
      expect(processReceived.parentSpanId).toBe(sampledUpstream.spanId);
      expect(attribute(processReceived.attributes, 'messaging.system')?.stringValue).toBe('kafka');
      expect(attribute(processReceived.attributes, 'messaging.destination.partition.id')?.stringValue).toBe(
        '4',
      );
      expect(attribute(processReceived.attributes, 'messaging.kafka.offset')?.intValue).toBe('100');

      const alertReceived = received.find((span) => span.name === 'alert lsass dump')!;
      expect(attribute(alertReceived.attributes, 'sequor.alert')?.boolValue).toBe(true);
      expect(attribute(alertReceived.attributes, 'sequor.rule.id')?.stringValue).toBe('rule-1');
      // Both evidence spans are linked, the dropped one too: its ids still name the upstream trace.
      expect(alertReceived.links?.map((link) => [link.traceId, link.spanId])).toEqual(
        processSpans.map((span) => [span.spanContext().traceId, span.spanContext().spanId]),
      );
      expect(alertReceived.links?.[1]?.traceId).toBe(unsampledUpstream.traceId);
      expect(
        alertReceived.links?.map(
          (link) => attribute(link.attributes, 'sequor.evidence.event_id')?.stringValue,
        ),
      ).toEqual(['ev-1', 'ev-2']);
      expect(received.find((span) => span.name === 'send alerts')!.parentSpanId).toBe(alertReceived.spanId);

      // The resource came from OTEL_RESOURCE_ATTRIBUTES as well.
      const lines = (await readFile(stateDir + '/traces.jsonl', 'utf8')).split('\n').filter((l) => l !== '');
      const resource = (JSON.parse(lines[0]!) as OtlpRequest).resourceSpans[0]!.resource.attributes;
      expect(attribute(resource, 'deployment.environment.name')?.stringValue).toBe('ci');
      expect(attribute(resource, 'service.namespace')?.stringValue).toBe('sequor');
    } finally {
      await telemetry?.shutdown();
    }
  });
});
