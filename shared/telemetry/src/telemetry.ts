import type { PrometheusExporter as PrometheusExporterType } from '@opentelemetry/exporter-prometheus';
import type { NodeSDK as NodeSdkType } from '@opentelemetry/sdk-node';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Stoppable } from '@sequor/service';
import { SequorError } from '@sequor/model';
import type { Env, SamplerConfig, TelemetryConfig } from './config.js';
import { telemetryConfigFromEnv } from './config.js';

import { KafkaTracing } from './kafka-tracing.js';
import {
  BatchSpanProcessor,
  NodeSDK,
  SimpleSpanProcessor,
  context,
  defaultResource,
  metrics,
  propagation,
  resourceFromAttributes,
  trace,
} from './otel.js';
import { SequorMetrics } from './metrics.js';
import { createPrometheusReader } from './prometheus.js';
import { createSampler } from './sampler.js';
import { Readiness, TelemetryServer } from './server.js';
import { SpanContextRegistry } from './span-registry.js';
import { W3C_FIELDS } from './unsampled-span.js';

// Stable resource attribute names (semantic conventions), spelled out rather than importing the package for two strings.
const ATTR_SERVICE_NAME = 'service.name';
const ATTR_SERVICE_VERSION = 'service.version';

export interface StartOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` names one, e.g. `sequor-detector`. */
  readonly serviceName: string;
  /** `service.version`, unless the environment sets one. */
  readonly serviceVersion?: string;
  /** Default `process.env`. The SDK's own settings (`OTEL_EXPORTER_OTLP_*`, ...) are always read from `process.env`. */
  readonly env?: Env;
  /**
   * Tests: export spans here, synchronously (`SimpleSpanProcessor`), instead of what
   * `OTEL_TRACES_EXPORTER` names. `@sequor/telemetry/testing` has an in-memory exporter.
   */
  readonly spanExporter?: SpanExporter;
  /** How `spanExporter` gets the spans: `simple` (default; each span as it ends) or `batch` (as in production). */
  readonly spanExportMode?: 'simple' | 'batch';
  /** Tests: overrides `OTEL_TRACES_SAMPLER`/`_ARG`. */
  readonly sampler?: SamplerConfig;
  /** Overrides `SEQUOR_TRACE_UNSAMPLED_EVIDENCE`: `telemetry.spans` also remembers unsampled spans, so alerts link to them too (see `SpanContextRegistryOptions`). */
  readonly linkUnsampledEvidence?: boolean;
  /** Overrides `METRICS_PORT` (0 = a free port, read it back from `telemetry.port`). */
  readonly metricsPort?: number;
  /** Overrides `METRICS_HOST`. */
  readonly metricsHost?: string;
}

/**
 * A started telemetry: tracing helpers, metrics, readiness and the HTTP server. One per process.
 * `shutdown()` stops the server, flushes spans and metrics and unregisters the SDK.
 */
export class Telemetry implements Stoppable {
  private shuttingDown: Promise<void> | undefined;

  /** @internal Built by `start()`. */
  constructor(
    readonly config: TelemetryConfig,
    /** Span helpers for the Kafka hops and alerts. */
    readonly tracing: KafkaTracing,
    readonly metrics: SequorMetrics,
    /** Decoded event object → the span that processed it; the detector links alerts through it. */
    readonly spans: SpanContextRegistry,
    readonly readiness: Readiness,
    private readonly server: TelemetryServer,
    private readonly sdk: NodeSdkType | undefined,
  ) {}

  /** The port /metrics, /healthz and /readyz listen on. */
  get port(): number {
    return this.server.port;
  }

  /** What a service logs at start: where its endpoints are and what it traces. */
  describe(): Record<string, unknown> {
    const c = this.config;
    return {
      metricsPort: this.port,
      metricsHost: c.metricsHost ?? 'all interfaces',
      tracing: c.sdkDisabled
        ? 'off (OTEL_SDK_DISABLED)'
        : c.tracesDisabled
          ? 'off (OTEL_TRACES_EXPORTER=none)'
          : 'on',
      sampler: c.sampler.name.endsWith('traceidratio')
        ? `${c.sampler.name} ${c.sampler.ratio}`
        : c.sampler.name,
    };
  }

  /**
   * Reports readiness for /readyz: ready once the consumer joined its group, got partitions and restored
   * its state; not ready (with what is missing) on a rebalance or while stopping.
   */
  setReady(ready: boolean, reason: string): void {
    this.readiness.set(ready, reason);
  }

  /** Exports the spans ended so far now (tests; the batch processor otherwise exports on its schedule). */
  async flush(): Promise<void> {
    const provider = trace.getTracerProvider() as {
      getDelegate?: () => { forceFlush?: () => Promise<void> };
    };
    await provider.getDelegate?.().forceFlush?.();
  }

  /**
   * Stops the HTTP server, then flushes pending spans (the last batch's) and shuts the SDK down. Call it
   * after the service stopped consuming. Idempotent.
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.readiness.set(false, 'shutting down');
      try {
        await this.server.close();
      } finally {
        try {
          await this.sdk?.shutdown();
        } finally {
          unregisterGlobals();
          if (running === this) running = undefined;
        }
      }
    })();
    return this.shuttingDown;
  }

  /** Same as `shutdown()`: lets `installShutdownHandlers` take the telemetry directly. */
  stop(): Promise<void> {
    return this.shutdown();
  }

  /**
   * A `Stoppable` for `installShutdownHandlers` that stops `service` first (its last batch finishes and
   * its spans end), then shuts telemetry down, so nothing the service did on its way out is lost. A
   * telemetry shutdown that fails (the collector unreachable: the last spans cannot be exported) goes to
   * `onTelemetryError`, not to the stop's result: the service stopped cleanly, and its exit code says so.
   *
   * ```ts
   * installShutdownHandlers(telemetry.shutdownAfter(detector, (error) => logger.warn('…', { error })), logger);
   * ```
   */
  shutdownAfter(service: Stoppable, onTelemetryError: (error: unknown) => void): Stoppable {
    return {
      stop: async () => {
        this.readiness.set(false, 'stopping');
        try {
          await service.stop();
        } finally {
          await this.shutdown().catch(onTelemetryError);
        }
      },
    };
  }
}

let running: Telemetry | undefined;

/** Unregisters the SDK's globals so that a later start() in the same process (tests) registers anew. */
function unregisterGlobals(): void {
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
}

/**
 * Starts OpenTelemetry for a service, configured by the standard `OTEL_*` variables (see README):
 * traces through `@opentelemetry/sdk-node` (exporter from `OTEL_TRACES_EXPORTER`/`OTEL_EXPORTER_OTLP_*`,
 * sampler from `OTEL_TRACES_SAMPLER`/`_ARG`, default `parentbased_traceidratio` at 0.01, alert spans
 * always sampled), metrics through the metrics SDK on a Prometheus endpoint, and the HTTP server with
 * /metrics, /healthz and /readyz on `METRICS_PORT` (default 9464). With `OTEL_SDK_DISABLED=true` nothing
 * is recorded and the helpers cost next to nothing; the health endpoints are served all the same.
 *
 * ```ts
 * const telemetry = await start({ serviceName: 'sequor-detector' });
 * // ... wire telemetry.tracing / telemetry.metrics / telemetry.setReady into the service ...
 * installShutdownHandlers(telemetry.shutdownAfter(detector, onTelemetryError), logger);
 * ```
 */
export async function start(options: StartOptions): Promise<Telemetry> {
  if (running !== undefined) {
    throw new SequorError('telemetry already started in this process: shut the running one down first');
  }
  const env = options.env ?? process.env;
  const parsed = telemetryConfigFromEnv(env);
  const config: TelemetryConfig = {
    ...parsed,
    ...(options.sampler === undefined ? {} : { sampler: options.sampler }),
    ...(options.metricsPort === undefined ? {} : { metricsPort: options.metricsPort }),
    ...(options.metricsHost === undefined ? {} : { metricsHost: options.metricsHost }),
  };
  const readiness = new Readiness();

  let sdk: NodeSdkType | undefined;
  let prometheus: PrometheusExporterType | undefined;
  if (!config.sdkDisabled) {
    prometheus = createPrometheusReader();
    sdk = new NodeSDK({
      // The service's defaults; the env detector (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) merges over them.
      resource: defaultResource().merge(
        resourceFromAttributes({
          [ATTR_SERVICE_NAME]: options.serviceName,
          ...(options.serviceVersion === undefined ? {} : { [ATTR_SERVICE_VERSION]: options.serviceVersion }),
        }),
      ),
      sampler: createSampler(config.sampler),
      ...(options.spanExporter === undefined
        ? {}
        : {
            spanProcessors: [
              options.spanExportMode === 'batch'
                ? new BatchSpanProcessor({ exporter: options.spanExporter })
                : new SimpleSpanProcessor({ exporter: options.spanExporter }),
            ],
          }),
      metricReaders: [prometheus],
      // Sequor logs through its own logger; no OTel log pipeline (the SDK would default to OTLP logs).
      logRecordProcessors: [],
      instrumentations: [],
    });
    sdk.start();
  }

  const tracingOn = !config.sdkDisabled && (options.spanExporter !== undefined || !config.tracesDisabled);
  const tracing = tracingOn
    ? new KafkaTracing(trace.getTracer('@sequor/telemetry'), {
        enabled: true,
        followsParent: config.sampler.name.startsWith('parentbased_'),
        // Only W3C propagators configured (OTEL_PROPAGATORS unset, or tracecontext/baggage).
        w3cPropagation: propagation.fields().every((field) => W3C_FIELDS.includes(field)),
      })
    : KafkaTracing.disabled();
  const meter = metrics.getMeter('@sequor/telemetry');
  const sequorMetrics = new SequorMetrics(meter);

  let server: TelemetryServer;
  try {
    server = await TelemetryServer.listen({
      port: config.metricsPort,
      host: config.metricsHost,
      readiness,
      metrics:
        prometheus === undefined
          ? undefined
          : (request, response) => prometheus.getMetricsRequestHandler(request, response),
    });
  } catch (error) {
    await sdk?.shutdown();
    unregisterGlobals();
    throw error;
  }
  const telemetry = new Telemetry(
    config,
    tracing,
    sequorMetrics,
    new SpanContextRegistry({
      includeUnsampled: options.linkUnsampledEvidence ?? config.linkUnsampledEvidence,
    }),
    readiness,
    server,
    sdk,
  );
  running = telemetry;
  return telemetry;
}
