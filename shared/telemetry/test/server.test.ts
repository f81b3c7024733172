import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineStatsEntry, Telemetry } from '../src/index.js';
import { consumerLagAfter, start } from '../src/index.js';
import { InMemorySpanExporter } from '../src/testing.js';
import { metricType, parsePrometheus, sampleValue } from './support.js';

let telemetry: Telemetry;

beforeAll(async () => {
  telemetry = await start({
    serviceName: 'telemetry-server-test',
    serviceVersion: '1.2.3',
    spanExporter: new InMemorySpanExporter(),
    metricsPort: 0,
    metricsHost: '127.0.0.1',
    env: {},
  });
});
afterAll(async () => {
  await telemetry.shutdown();
});

function get(path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${telemetry.port}${path}`);
}

describe('/healthz and /readyz', () => {
  it('is alive from the start', async () => {
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok\n');
  });

  it('answers 503 with the reason until the service reports ready, and again after it stops being ready', async () => {
    let response = await get('/readyz');
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('not ready: starting\n');

    telemetry.setReady(false, 'waiting for partition assignment');
    response = await get('/readyz');
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('waiting for partition assignment');

    telemetry.setReady(true, 'partitions normalized-0..5 assigned, state restored');
    response = await get('/readyz');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ready: partitions normalized-0..5 assigned, state restored\n');

    telemetry.setReady(false, 'rebalancing');
    expect((await get('/readyz')).status).toBe(503);
  });

  it('answers 404 elsewhere and 405 to writes', async () => {
    expect((await get('/')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${telemetry.port}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('/metrics', () => {
  it('serves what was recorded, in the Prometheus text format', async () => {
    const metrics = telemetry.metrics;
    metrics.recordsIn('normalized').add(500);
    metrics.recordsIn('normalized').add(12);
    metrics.recordsIn('raw-winlogbeat').add();
    metrics.recordsOut('alerts').add(3);
    metrics.deadLetters('NormalizeError').add(2);
    metrics.alerts('lsass-dump').add();
    metrics.alerts('lsass-dump').add();
    metrics.recordAlertLatency('lsass-dump', 1_000, 1_400); // 0.4 s
    metrics.recordAlertLatency('lsass-dump', 1_000, 31_000); // 30 s
    metrics.setConsumerLag('normalized', 0, 17);
    metrics.setConsumerLag('normalized', 1, 4);
    metrics.setConsumerLag('normalized', 1, 0);
    metrics.setConsumerLag('normalized', 2, 9);
    metrics.clearConsumerLag('normalized', 2);

    const ruleStats = (late: number, openPartials: number): EngineStatsEntry['stats'] => ({
      late,
      invalidTime: 1,
      evictedByWindow: 5,
      evictedByCap: 0,
      buffered: 2,
      openPartials,
      keys: openPartials + 1,
    });
    // Two partitions' pipelines of one rule add up; the removed source is no longer read.
    const stop = metrics.addEngineStatsSource(() => [
      { rule: 'lsass-dump', stats: ruleStats(3, 10) },
      { rule: 'lsass-dump', stats: ruleStats(4, 20) },
    ]);
    // A pipeline that keeps late/buffered per partition and partials per rule reports each where it has it.
    metrics.addEngineStatsSource(() => [
      { rule: 'encoded-powershell', stats: ruleStats(0, 7) },
      { stats: { late: 4, buffered: 9 } },
      { stats: { late: 1 } },
      { rule: 'rare-parent', stats: { openPartials: 3 } },
    ]);

    const response = await get('/metrics');
    expect(response.status).toBe(200);
    const text = await response.text();
    const samples = parsePrometheus(text);

    expect(metricType(text, 'sequor_records_in_total')).toBe('counter');
    expect(sampleValue(samples, 'sequor_records_in_total', { topic: 'normalized' })).toBe(512);
    expect(sampleValue(samples, 'sequor_records_in_total', { topic: 'raw-winlogbeat' })).toBe(1);
    expect(sampleValue(samples, 'sequor_records_out_total', { topic: 'alerts' })).toBe(3);
    expect(sampleValue(samples, 'sequor_dead_letters_total', { reason: 'NormalizeError' })).toBe(2);
    expect(sampleValue(samples, 'sequor_alerts_total', { rule: 'lsass-dump' })).toBe(2);

    expect(metricType(text, 'sequor_alert_latency')).toBe('histogram');
    expect(sampleValue(samples, 'sequor_alert_latency_count', { rule: 'lsass-dump' })).toBe(2);
    expect(sampleValue(samples, 'sequor_alert_latency_sum', { rule: 'lsass-dump' })).toBeCloseTo(30.4);
    expect(sampleValue(samples, 'sequor_alert_latency_bucket', { rule: 'lsass-dump', le: '0.5' })).toBe(1);
    expect(sampleValue(samples, 'sequor_alert_latency_bucket', { rule: 'lsass-dump', le: '30' })).toBe(2);

    expect(metricType(text, 'sequor_consumer_lag')).toBe('gauge');
    expect(sampleValue(samples, 'sequor_consumer_lag', { topic: 'normalized', partition: '0' })).toBe(17);
    expect(sampleValue(samples, 'sequor_consumer_lag', { topic: 'normalized', partition: '1' })).toBe(0);
    expect(samples.filter((s) => s.name === 'sequor_consumer_lag' && s.labels.partition === '2')).toEqual([]);

    expect(
      sampleValue(samples, 'sequor_engine_late_events_total', { rule: 'lsass-dump', reason: 'late' }),
    ).toBe(7);
    expect(
      sampleValue(samples, 'sequor_engine_late_events_total', { rule: 'lsass-dump', reason: 'invalid_time' }),
    ).toBe(2);
    expect(
      sampleValue(samples, 'sequor_engine_evictions_total', { rule: 'lsass-dump', cause: 'window' }),
    ).toBe(10);
    expect(sampleValue(samples, 'sequor_engine_open_partials', { rule: 'lsass-dump' })).toBe(30);
    expect(sampleValue(samples, 'sequor_engine_keys', { rule: 'lsass-dump' })).toBe(32);
    expect(sampleValue(samples, 'sequor_engine_buffered', { rule: 'encoded-powershell' })).toBe(2);
    const withoutRule = (name: string): number[] =>
      samples
        .filter((sample) => sample.name === name && sample.labels.rule === undefined)
        .map((sample) => sample.value);
    expect(withoutRule('sequor_engine_late_events_total')).toEqual([5]);
    expect(withoutRule('sequor_engine_buffered')).toEqual([9]);
    expect(withoutRule('sequor_engine_open_partials')).toEqual([]);
    expect(sampleValue(samples, 'sequor_engine_open_partials', { rule: 'rare-parent' })).toBe(3);
    expect(
      samples.filter((sample) => sample.labels.rule === 'rare-parent').map((sample) => sample.name),
    ).toEqual(['sequor_engine_open_partials']);

    expect(
      sampleValue(samples, 'target_info', {
        service_name: 'telemetry-server-test',
        service_version: '1.2.3',
      }),
    ).toBe(1);

    stop();
    const after = parsePrometheus(await (await get('/metrics')).text());
    expect(
      after.filter((s) => s.name === 'sequor_engine_open_partials' && s.labels.rule === 'lsass-dump'),
    ).toEqual([]);
    expect(sampleValue(after, 'sequor_engine_open_partials', { rule: 'encoded-powershell' })).toBe(7);
    expect(sampleValue(after, 'sequor_records_in_total', { topic: 'normalized' })).toBe(512);
  });
});

describe('consumerLagAfter', () => {
  it('is the high watermark minus the last offset minus one, never negative', () => {
    expect(consumerLagAfter({ highWatermark: '120', records: [{ offset: '100' }, { offset: '101' }] })).toBe(
      18,
    );
    expect(consumerLagAfter({ highWatermark: '102', records: [{ offset: '101' }] })).toBe(0);
    expect(consumerLagAfter({ highWatermark: '5', records: [] })).toBe(0);
  });
});
