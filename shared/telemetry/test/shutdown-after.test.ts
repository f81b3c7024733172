import { describe, expect, it } from 'vitest';
import { startTestTelemetry, trace } from '../src/testing.js';

/** A span exporter whose collector is gone: every export fails, and so does its shutdown. */
class UnreachableExporter {
  export(_spans: readonly unknown[], done: (result: { code: number; error?: Error }) => void): void {
    done({ code: 1, error: new Error('connect ECONNREFUSED 127.0.0.1:4318') });
  }
  shutdown(): Promise<void> {
    return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
  }
  forceFlush(): Promise<void> {
    return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
  }
}

describe('Telemetry.shutdownAfter', () => {
  it('stops the service, then telemetry; a telemetry failure is reported, not the stop’s result', async () => {
    const { telemetry } = await startTestTelemetry('shutdown-after', {
      spanExporter: new UnreachableExporter() as never,
      spanExportMode: 'batch',
    });
    trace.getTracer('test').startSpan('last batch').end();
    const order: string[] = [];
    const errors: unknown[] = [];
    const stoppable = telemetry.shutdownAfter(
      {
        stop: async () => {
          order.push('service');
        },
      },
      (error) => {
        order.push('telemetry error');
        errors.push(error);
      },
    );
    await expect(stoppable.stop()).resolves.toBeUndefined();
    expect(order).toEqual(['service', 'telemetry error']);
    expect(String(errors[0])).toMatch(/ECONNREFUSED/);
  });

  it('still shuts telemetry down when the service’s stop fails, and gives the service’s error', async () => {
    const { telemetry } = await startTestTelemetry('shutdown-after-failing');
    const stoppable = telemetry.shutdownAfter(
      {
        stop: () => Promise.reject(new Error('last transaction aborted')),
      },
      () => undefined,
    );
    await expect(stoppable.stop()).rejects.toThrow('last transaction aborted');
    // Shut down: a second start in this process is allowed again.
    const again = await startTestTelemetry('shutdown-after-again');
    await again.telemetry.shutdown();
  });
});
