// Helpers shared by the telemetry tests.
export { parsePrometheus, sampleValue } from '../src/testing.js';
export type { PromSample } from '../src/testing.js';

/** The `# TYPE` of a metric family in the exposition. */
export function metricType(text: string, name: string): string | undefined {
  return new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(text)?.[1];
}
