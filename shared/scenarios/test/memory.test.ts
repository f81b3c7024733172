/**
 * Streaming generation holds a bounded window, not the output: 200,000 events (about 400 MB of lines)
 * must not grow the heap by more than a small fraction of that. Prints what it measured; time is not
 * asserted (benchmarks measure speed).
 */
import { describe, expect, it } from 'vitest';
import { ScenarioStream } from '@sequor/scenarios';

const HEAP_GROWTH_BOUND = 96 * 1024 * 1024;

describe('memory', () => {
  it('generates 200,000 events with bounded heap', { timeout: 600_000 }, () => {
    const run = new ScenarioStream({ events: 200_000, seed: 12, outOfOrder: 3_000, late: 0.005 });
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    let lines = 0;
    let bytes = 0;
    for (const r of run.records()) {
      lines++;
      bytes += r.line.length + 1;
      if ((lines & 0x1fff) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    const gt = run.groundTruth();
    const growth = peak - base;
    console.log(
      `scenarios memory: ${gt.counts.events} events, ${(bytes / 1e6).toFixed(0)} MB of lines; heap ${(base / 1e6).toFixed(1)} MB -> peak ${(peak / 1e6).toFixed(1)} MB (+${(growth / 1e6).toFixed(1)} MB, bound ${(HEAP_GROWTH_BOUND / 1e6).toFixed(0)} MB)`,
    );
    expect(gt.counts.events).toBe(200_000);
    expect(bytes).toBeGreaterThan(200_000_000);
    expect(growth).toBeLessThan(HEAP_GROWTH_BOUND);
  });
});
