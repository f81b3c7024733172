/**
 * Generation speed and memory: streams N events (lines consumed and dropped), then writes N events to a
 * temporary directory, printing events/s, MB/s and peak heap/RSS.
 *
 *   npx tsx --conditions=sequor-source test/bench/generate.ts [events=200000] [--write]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScenarioStream, writeScenario } from '@sequor/scenarios';

const events = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 200_000);
const write = process.argv.includes('--write');
const options = { events, seed: 42, outOfOrder: 2_000, late: 0.001, zeekJson: false };

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}

let peakHeap = 0;
let peakRss = 0;
const sample = (): void => {
  const m = process.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakRss = Math.max(peakRss, m.rss);
};

{
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const run = new ScenarioStream(options);
  const setupMs = performance.now() - t0;
  let lines = 0;
  let bytes = 0;
  for (const r of run.records()) {
    lines++;
    bytes += r.line.length + 1;
    if ((lines & 0x3fff) === 0) sample();
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const gt = run.groundTruth();
  console.log(
    `stream   ${gt.counts.events} events (${lines} lines, ${mb(bytes)} MB) in ${(ms / 1000).toFixed(2)} s (setup ${setupMs.toFixed(0)} ms)`,
  );
  console.log(
    `         ${Math.round((gt.counts.events / ms) * 1000)} events/s, ${mb((bytes / ms) * 1000)} MB/s; peak heap ${mb(peakHeap)} MB, peak RSS ${mb(peakRss)} MB`,
  );
  // On a shared machine wall time depends on the load; events per CPU-second does much less.
  console.log(
    `         CPU ${(cpuMs / 1000).toFixed(2)} s: ${Math.round((gt.counts.events / cpuMs) * 1000)} events per CPU-second`,
  );
  console.log(
    `         ${gt.counts.alerts} alerts, ${gt.counts.near_misses} near-misses, ${gt.counts.late} late events`,
  );
}

if (write) {
  const dir = await mkdtemp(join(tmpdir(), 'sequor-scenarios-bench-'));
  try {
    peakHeap = 0;
    peakRss = 0;
    const timer = setInterval(sample, 50);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const result = await writeScenario(dir, options);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(timer);
    const n = result.groundTruth.counts.events;
    console.log(
      `write    ${n} events to ${dir} in ${(ms / 1000).toFixed(2)} s: ${Math.round((n / ms) * 1000)} events/s, ${Math.round((n / (cpu.user + cpu.system)) * 1e6)} events per CPU-second`,
    );
    console.log(`         peak heap ${mb(peakHeap)} MB, peak RSS ${mb(peakRss)} MB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
