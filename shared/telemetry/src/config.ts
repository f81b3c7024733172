import type { Env } from '@sequor/model';
import { ConfigError, envBoolean, envInteger, envValue } from '@sequor/model';

export type { Env } from '@sequor/model';

/** The `OTEL_TRACES_SAMPLER` values of the OpenTelemetry specification (Jaeger/X-Ray remote samplers excluded). */
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

const SAMPLER_NAMES: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export interface SamplerConfig {
  readonly name: SamplerName;
  /** The trace id ratio for the `*traceidratio` samplers, in [0, 1]. */
  readonly ratio: number;
}

/** What Sequor reads from the environment itself; everything else (`OTEL_EXPORTER_OTLP_*`, `OTEL_BSP_*`, ...) the SDK reads. */
export interface TelemetryConfig {
  /** `OTEL_SDK_DISABLED=true`: no tracer, no meter; /healthz and /readyz are still served. */
  readonly sdkDisabled: boolean;
  /** `OTEL_TRACES_EXPORTER` contains only `none`: spans are not recorded at all. */
  readonly tracesDisabled: boolean;
  readonly sampler: SamplerConfig;
  /** `METRICS_PORT`: the /metrics, /healthz, /readyz server. 0 picks a free port. */
  readonly metricsPort: number;
  /** `METRICS_HOST`: the interface it listens on; undefined = all interfaces. */
  readonly metricsHost: string | undefined;
  /** `SEQUOR_TRACE_UNSAMPLED_EVIDENCE`: alert spans also link to evidence whose trace was not sampled. */
  readonly linkUnsampledEvidence: boolean;
}

export const TELEMETRY_DEFAULTS = {
  sampler: 'parentbased_traceidratio',
  /**
   * 1 % of raw batches (and everything derived from them) at 100,000 events/s is ~1,000 traces/s of a few
   * spans each: enough to see every path, cheap to export. Alerts are recorded regardless.
   */
  samplerRatio: 0.01,
  metricsPort: 9464,
} as const;

/** The OpenTelemetry spec's boolean parsing, for its own variables: only a case-insensitive `true` is true. */
function otelBoolean(env: Env, name: string): boolean {
  return envValue(env, name)?.toLowerCase() === 'true';
}

function parseSampler(env: Env): SamplerConfig {
  const rawName = envValue(env, 'OTEL_TRACES_SAMPLER');
  const name = (rawName ?? TELEMETRY_DEFAULTS.sampler).toLowerCase() as SamplerName;
  if (!SAMPLER_NAMES.includes(name)) {
    throw new ConfigError('OTEL_TRACES_SAMPLER', rawName, `one of ${SAMPLER_NAMES.join(', ')}`);
  }
  const rawArg = envValue(env, 'OTEL_TRACES_SAMPLER_ARG');
  let ratio: number = TELEMETRY_DEFAULTS.samplerRatio;
  if (rawArg !== undefined && name.endsWith('traceidratio')) {
    ratio = Number(rawArg);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
      throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', rawArg, 'a sampling ratio between 0 and 1');
    }
  }
  return { name, ratio };
}

/**
 * Reads the telemetry settings Sequor interprets itself. Throws `ConfigError` naming the variable for a
 * value that cannot be used (the SDK would only log a warning and fall back, hiding a typo).
 */
export function telemetryConfigFromEnv(env: Env): TelemetryConfig {
  const exporters = (envValue(env, 'OTEL_TRACES_EXPORTER') ?? 'otlp')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  return {
    sdkDisabled: otelBoolean(env, 'OTEL_SDK_DISABLED'),
    // The SDK's rule: `none` alone disables; `none` beside other exporters is ignored.
    tracesDisabled: exporters.length === 1 && exporters[0] === 'none',
    sampler: parseSampler(env),
    metricsPort: envInteger(
      env,
      'METRICS_PORT',
      TELEMETRY_DEFAULTS.metricsPort,
      0,
      65535,
      'a TCP port 0-65535 (0 = any free port)',
    ),
    metricsHost: envValue(env, 'METRICS_HOST'),
    linkUnsampledEvidence: envBoolean(env, 'SEQUOR_TRACE_UNSAMPLED_EVIDENCE', false),
  };
}
