import { ConfigError } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import { TELEMETRY_DEFAULTS, telemetryConfigFromEnv } from '../src/index.js';

describe('telemetryConfigFromEnv', () => {
  it('defaults to parent-based 1 % sampling, traces on, port 9464 on all interfaces', () => {
    const config = telemetryConfigFromEnv({});
    expect(config).toEqual({
      sdkDisabled: false,
      tracesDisabled: false,
      sampler: { name: 'parentbased_traceidratio', ratio: 0.01 },
      metricsPort: 9464,
      metricsHost: undefined,
      linkUnsampledEvidence: false,
    });
    expect(TELEMETRY_DEFAULTS.samplerRatio).toBe(0.01);
  });

  it('reads SEQUOR_TRACE_UNSAMPLED_EVIDENCE as true or false only', () => {
    expect(telemetryConfigFromEnv({ SEQUOR_TRACE_UNSAMPLED_EVIDENCE: 'TRUE' }).linkUnsampledEvidence).toBe(
      true,
    );
    expect(telemetryConfigFromEnv({ SEQUOR_TRACE_UNSAMPLED_EVIDENCE: 'false' }).linkUnsampledEvidence).toBe(
      false,
    );
    expect(() => telemetryConfigFromEnv({ SEQUOR_TRACE_UNSAMPLED_EVIDENCE: 'yes' })).toThrow(
      /SEQUOR_TRACE_UNSAMPLED_EVIDENCE=/,
    );
  });

  it('reads the sampler and its ratio, case-insensitively', () => {
    expect(
      telemetryConfigFromEnv({ OTEL_TRACES_SAMPLER: 'TraceIdRatio', OTEL_TRACES_SAMPLER_ARG: '0.25' })
        .sampler,
    ).toEqual({ name: 'traceidratio', ratio: 0.25 });
    expect(telemetryConfigFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' }).sampler.name).toBe(
      'parentbased_always_on',
    );
  });

  it('ignores the ratio argument for samplers that take none', () => {
    expect(
      telemetryConfigFromEnv({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: 'x' }).sampler,
    ).toEqual({
      name: 'always_on',
      ratio: 0.01,
    });
  });

  it('refuses an unknown sampler and a ratio outside [0, 1], naming the variable', () => {
    expect(() => telemetryConfigFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(ConfigError);
    expect(() => telemetryConfigFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(
      /OTEL_TRACES_SAMPLER=/,
    );
    for (const arg of ['1.5', '-0.1', 'half', 'NaN']) {
      expect(() => telemetryConfigFromEnv({ OTEL_TRACES_SAMPLER_ARG: arg })).toThrow(
        /OTEL_TRACES_SAMPLER_ARG=/,
      );
    }
  });

  it('reads OTEL_SDK_DISABLED as the spec does: only "true" disables', () => {
    expect(telemetryConfigFromEnv({ OTEL_SDK_DISABLED: 'TRUE' }).sdkDisabled).toBe(true);
    expect(telemetryConfigFromEnv({ OTEL_SDK_DISABLED: '1' }).sdkDisabled).toBe(false);
    expect(telemetryConfigFromEnv({ OTEL_SDK_DISABLED: 'false' }).sdkDisabled).toBe(false);
  });

  it('treats OTEL_TRACES_EXPORTER=none alone as traces off, as the SDK does', () => {
    expect(telemetryConfigFromEnv({ OTEL_TRACES_EXPORTER: 'none' }).tracesDisabled).toBe(true);
    expect(telemetryConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).tracesDisabled).toBe(false);
    expect(telemetryConfigFromEnv({ OTEL_TRACES_EXPORTER: 'none,otlp' }).tracesDisabled).toBe(false);
  });

  it('reads METRICS_PORT (0 = any free port) and METRICS_HOST', () => {
    expect(telemetryConfigFromEnv({ METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' })).toMatchObject({
      metricsPort: 0,
      metricsHost: '127.0.0.1',
    });
    expect(() => telemetryConfigFromEnv({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT=/);
    expect(() => telemetryConfigFromEnv({ METRICS_PORT: 'http' })).toThrow(ConfigError);
  });
});
