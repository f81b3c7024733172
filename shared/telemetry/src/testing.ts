// @sequor/telemetry/testing: what tests need to look at spans, without importing the OpenTelemetry SDK
// themselves (only this package does).
import { InMemorySpanExporter as InMemorySpanExporterClass } from './otel.js';
import type { StartOptions, Telemetry } from './telemetry.js';
import { start } from './telemetry.js';

/** Keeps finished spans in memory: pass it as `start({ spanExporter })`, read `getFinishedSpans()`. */
export const InMemorySpanExporter = InMemorySpanExporterClass;
export type InMemorySpanExporter = InstanceType<typeof InMemorySpanExporterClass>;
export type { ReadableSpan } from '@opentelemetry/sdk-trace';
export { ROOT_CONTEXT, SamplingDecision, SpanKind, TraceFlags, trace } from './otel.js';

// Reading /metrics in tests (services' too): the Prometheus text format, samples only.

/** One sample of the Prometheus text exposition format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the samples of a Prometheus text exposition (comments and TYPE/HELP lines skipped). */
export function parsePrometheus(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL))
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name whose labels include `labels`; throws unless exactly one. */
export function sampleValue(
  samples: readonly PromSample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  if (found.length !== 1) {
    throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}: ${JSON.stringify(found)}`);
  }
  return found[0]!.value;
}

/**
 * A telemetry for tests: every span sampled (parent-based, so upstream decisions still count) into an
 * in-memory exporter, `/metrics` on a free 127.0.0.1 port, nothing read from `process.env`. Shut it
 * down at the end: one telemetry runs per process.
 */
export async function startTestTelemetry(
  serviceName: string,
  options: Partial<StartOptions> = {},
): Promise<{ readonly telemetry: Telemetry; readonly exporter: InMemorySpanExporter }> {
  const exporter = new InMemorySpanExporterClass();
  const telemetry = await start({
    serviceName,
    spanExporter: exporter,
    sampler: { name: 'parentbased_always_on', ratio: 1 },
    metricsPort: 0,
    metricsHost: '127.0.0.1',
    env: {},
    ...options,
  });
  return { telemetry, exporter };
}

/** Counts and drops what a span processor hands over: the cost of exporting without the I/O (benchmarks). */
export class DiscardingSpanExporter {
  exported = 0;
  export(spans: readonly unknown[], done: (result: { code: number }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}
