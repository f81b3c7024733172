/**
 * Sigma rule-set throughput on SigmaHQ's regression events (real Sysmon, Security, … records), each figure
 * beside its floor measured in the same process, runs interleaved so machine drift hits both alike:
 *
 *   npx tsx --conditions=sequor-source shared/sigma/bench/rule-set.ts [rounds=7] [repeat=20]
 *
 * - all:   every SigmaHQ rule that compiles, dispatched by logsource (SigmaRuleSet.match)
 * - naive: the same compiled rules, every rule on every event (one shared EventView), no index
 * - floor: a rule set of one process_creation rule: reading the event, the index lookup, one rule
 * Prints events per CPU-second for each (median of the rounds) and the ratios all/floor and all/naive, plus load and
 * compile time. Reads /work/shared/sigma (SEQUOR_SIGMA_DIR) in place.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FieldSource } from '../src/index.js';
import { defaultPipeline, EventView, loadSigmaPath, readEvtxJson, SigmaRuleSet } from '../src/index.js';

const SIGMA =
  process.env['SEQUOR_SIGMA_DIR'] ?? path.resolve(import.meta.dirname, '../../../../shared/sigma');
const rounds = Number(process.argv[2] ?? 7);
const repeat = Number(process.argv[3] ?? 20);

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const t0 = performance.now();
const c0 = process.cpuUsage();
const loaded = await loadSigmaPath(path.join(SIGMA, 'rules'));
const loadMs = performance.now() - t0;
const loadCpuMs = cpuMs(c0);
const t1 = performance.now();
const c1 = process.cpuUsage();
const all = new SigmaRuleSet(loaded.rules, defaultPipeline);
const compileMs = performance.now() - t1;
const compileCpuMs = cpuMs(c1);
const one = new SigmaRuleSet(
  loaded.rules.filter((r) => r.logsource.category === 'process_creation').slice(0, 1),
  defaultPipeline,
);
const events: FieldSource[] = jsonFiles(path.join(SIGMA, 'regression_data')).flatMap((f) =>
  readEvtxJson(readFileSync(f, 'utf8')),
);

let sink = 0;
/** Events per second of this process's CPU time (user + system): steadier than wall time on a shared machine. */
function timed(run: () => void): number {
  const started = process.cpuUsage();
  for (let k = 0; k < repeat; k++) run();
  const used = process.cpuUsage(started);
  return (events.length * repeat) / ((used.user + used.system) / 1e6);
}
const runs = {
  all: () => {
    for (const e of events) sink += all.match(e).length;
  },
  naive: () => {
    for (const e of events) {
      const view = new EventView(e);
      for (const r of all.rules) if (r.matches(view)) sink += 1;
    }
  },
  floor: () => {
    for (const e of events) sink += one.match(e).length;
  },
};
for (const run of Object.values(runs)) run(); // warm-up: JIT, lazy DFA states
const samples: Record<keyof typeof runs, number[]> = { all: [], naive: [], floor: [] };
for (let r = 0; r < rounds; r++) {
  for (const name of Object.keys(runs) as (keyof typeof runs)[]) samples[name].push(timed(runs[name]));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const m = { all: median(samples.all), naive: median(samples.naive), floor: median(samples.floor) };
const stats = all.stats();
console.log(
  [
    `sigma rule set over ${events.length} regression events × ${repeat}, ${rounds} interleaved rounds (median)`,
    `  rules: ${loaded.files.length} files, ${stats.rules} compiled (${stats.variants} variants, ${stats.gatedVariants} gated, ${stats.items} detection items, ${stats.matchers} matchers, ${stats.sharedMatchers} reused); load ${loadMs.toFixed(0)} ms (${loadCpuMs.toFixed(0)} ms CPU), compile ${compileMs.toFixed(0)} ms (${compileCpuMs.toFixed(0)} ms CPU)`,
    `  all rules, dispatched   ${m.all.toFixed(0).padStart(9)} events/cpu-s`,
    `  all rules, no index     ${m.naive.toFixed(0).padStart(9)} events/cpu-s   dispatch gain ${(m.all / m.naive).toFixed(2)}×`,
    `  floor (one rule)        ${m.floor.toFixed(0).padStart(9)} events/cpu-s   all/floor ${(m.all / m.floor).toFixed(3)}`,
  ].join('\n'),
);
if (sink < 0) console.log(sink);
