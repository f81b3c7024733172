import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Telemetry } from '../src/index.js';
import { start } from '../src/index.js';
import { InMemorySpanExporter } from '../src/testing.js';
import { metricType, parsePrometheus, sampleValue } from './support.js';

let telemetry: Telemetry;

beforeAll(async () => {
  telemetry = await start({
    serviceName: 'rule-catalog-metrics-test',
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

describe('/metrics: the rule catalog', () => {
  it('shows the running rules with version and revision, the steps by kind and the rule-set revision', async () => {
    telemetry.metrics.setRuleCatalogSource(() => ({
      revision: 7,
      changes: { loaded: 3, refused: 1, changed: 2 },
      rules: [
        { id: 'r-1', name: 'One', version: 2, revision: 'abc' },
        { id: 'builtin', name: 'Built in', version: 1, revision: null },
      ],
    }));
    const text = await (await fetch(`http://127.0.0.1:${telemetry.port}/metrics`)).text();
    const samples = parsePrometheus(text);
    expect(metricType(text, 'sequor_rules_changes_total')).toBe('counter');
    expect(sampleValue(samples, 'sequor_rules_changes_total', { kind: 'refused' })).toBe(1);
    expect(sampleValue(samples, 'sequor_rules_changes_total', { kind: 'changed' })).toBe(2);
    expect(sampleValue(samples, 'sequor_rules_running')).toBe(2);
    expect(sampleValue(samples, 'sequor_rules_revision')).toBe(7);
    expect(
      sampleValue(samples, 'sequor_rule_info', {
        rule_id: 'r-1',
        rule: 'One',
        version: '2',
        revision: 'abc',
      }),
    ).toBe(1);
    expect(sampleValue(samples, 'sequor_rule_info', { rule_id: 'builtin', revision: '' })).toBe(1);
  });
});
