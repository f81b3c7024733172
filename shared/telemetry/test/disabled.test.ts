import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordHeaders } from '@sequor/model';
import { afterEach, describe, expect, it } from 'vitest';
import type { Telemetry } from '../src/index.js';
import { NOOP_SPAN, SpanContextRegistry, TelemetryServerError, start } from '../src/index.js';
import { InMemorySpanExporter, startTestTelemetry } from '../src/testing.js';

let telemetry: Telemetry | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

function exercise(t: Telemetry): RecordHeaders {
  const batch = { topic: 'raw', partition: 0, records: [{ key: null, offset: '0', headers: {} }] };
  const batchTrace = t.tracing.startReceive(batch, 'g');
  const process = batchTrace.startProcess(batch.records[0]!);
  const headers: RecordHeaders = {};
  const send = t.tracing.startSend('normalized', 'h', headers, process);
  const alert = t.tracing.startAlertSpan({ alert: { id: 'a' }, rule: { id: 'r', name: 'r' } }, [
    process.spanContext(),
  ]);
  for (const span of [send, process, alert]) {
    expect(span).toBe(NOOP_SPAN);
    span.end();
  }
  batchTrace.end();
  return headers;
}

describe('OTEL_SDK_DISABLED=true', () => {
  it('records and injects nothing, and still serves health, readiness and an empty /metrics', async () => {
    telemetry = await start({
      serviceName: 'disabled',
      env: { OTEL_SDK_DISABLED: 'true', METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' },
    });
    expect(telemetry.tracing.enabled).toBe(false);
    expect(exercise(telemetry)).toEqual({});
    const registry = new SpanContextRegistry();
    const event = {};
    registry.remember(event, NOOP_SPAN);
    expect(registry.get(event)).toBeUndefined();

    telemetry.metrics.recordsIn('raw').add(5);
    const base = `http://127.0.0.1:${telemetry.port}`;
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).not.toContain('sequor_records_in');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    telemetry.setReady(true, 'assigned');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});

describe('SEQUOR_TRACE_UNSAMPLED_EVIDENCE', () => {
  it('makes telemetry.spans remember unsampled spans too, so alerts can link them', async () => {
    const unsampled: RecordHeaders = {
      traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'),
    };
    const process = (t: Telemetry) =>
      t.tracing
        .startReceive({ topic: 't', partition: 0, records: { length: 1 } }, 'g')
        .startProcess({ key: null, offset: '0', headers: unsampled });
    for (const [value, linked] of [
      ['false', false],
      ['true', true],
    ] as const) {
      telemetry = await start({
        serviceName: 'evidence',
        env: { SEQUOR_TRACE_UNSAMPLED_EVIDENCE: value, METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' },
      });
      const event = {};
      telemetry.spans.remember(event, process(telemetry));
      expect(telemetry.spans.get(event)?.traceId).toBe(
        linked ? '0af7651916cd43dd8448eb211c80319c' : undefined,
      );
      await telemetry.shutdown();
      telemetry = undefined;
    }
  });
});

describe('OTEL_TRACES_EXPORTER=none', () => {
  it('turns spans off but keeps the metrics', async () => {
    telemetry = await start({
      serviceName: 'no-traces',
      env: { OTEL_TRACES_EXPORTER: 'none', METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' },
    });
    expect(telemetry.tracing.enabled).toBe(false);
    expect(exercise(telemetry)).toEqual({});
    telemetry.metrics.recordsIn('raw').add(5);
    const text = await (await fetch(`http://127.0.0.1:${telemetry.port}/metrics`)).text();
    expect(text).toContain('sequor_records_in_total{topic="raw"');
  });
});

describe('start', () => {
  it('refuses a second start in the same process until the first is shut down', async () => {
    telemetry = await start({
      serviceName: 'one',
      spanExporter: new InMemorySpanExporter(),
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      env: {},
    });
    await expect(
      start({ serviceName: 'two', spanExporter: new InMemorySpanExporter(), metricsPort: 0, env: {} }),
    ).rejects.toThrow(/already started/);
    await telemetry.shutdown();
    telemetry = await start({
      serviceName: 'three',
      spanExporter: new InMemorySpanExporter(),
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      env: {},
    });
    expect(telemetry.tracing.enabled).toBe(true);
  });

  it('reports a taken port as a TelemetryServerError and leaves nothing registered', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const failed = start({
        serviceName: 'a',
        spanExporter: new InMemorySpanExporter(),
        metricsPort: taken,
        metricsHost: '127.0.0.1',
        env: {},
      });
      await expect(failed).rejects.toBeInstanceOf(TelemetryServerError);
      await expect(failed).rejects.toThrow(`127.0.0.1:${taken}`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    // The failed start unregistered its SDK: a new one starts and records.
    const started = await startTestTelemetry('b', { sampler: { name: 'always_on', ratio: 1 } });
    telemetry = started.telemetry;
    const exporter = started.exporter;
    telemetry.tracing.startSend('t', null, {}).end();
    await telemetry.flush();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['send t']);
  });
});
