/**
 * Benchmarks for @sequor/rules: rule loading (parse + lint of the built-in files), compile time, alert
 * building, and a whole rule pipeline (engine correlation + alert mapping) over synthetic events.
 * Run: npx tsx --conditions=sequor-source shared/rules/test/bench/rules.ts [events]
 */
import { from, map } from 'rxjs';
import type { SequorEvent } from '@sequor/model';
import { createRuleSetPipeline, runCorrelation } from '@sequor/engine';
import { compileRule, loadBuiltinRuleSet } from '../../src/index.js';

const n = Number(process.argv[2] ?? 1_000_000);

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const v = fn();
  return [v, performance.now() - t0];
}

let t0 = performance.now();
await loadBuiltinRuleSet();
console.log(`load + lint 4 built-in rules, first (cold modules): ${(performance.now() - t0).toFixed(1)} ms`);
t0 = performance.now();
const loaded = await loadBuiltinRuleSet();
console.log(
  `load + lint 4 built-in rules, warm: ${(performance.now() - t0).toFixed(1)} ms (${loaded.errors.length} errors)`,
);
const [compiled, compileMs] = time(() => loaded.rules.map((r) => compileRule(r)));
console.log(`compile 4 rules: ${compileMs.toFixed(2)} ms`);

const svc = compiled.find((c) => c.rule.type === 'span_aggregation');
if (svc === undefined) throw new Error('no span_aggregation rule');

/** Registry writes on 1,000 hosts, one event per 10 ms; 1 in 100 is a Services ImagePath write. */
function registryEvent(i: number): SequorEvent {
  const host = `name:ws${i % 1000}`;
  const imagePath = i % 100 === 0;
  const key = imagePath
    ? `System\\CurrentControlSet\\Services\\svc${i % 5000}`
    : `Software\\Vendor\\App${i % 50}`;
  const value = imagePath ? 'ImagePath' : 'Setting';
  return {
    timestamp: Date.UTC(2024, 0, 1) + i * 10,
    event: {
      id: `e${i}`,
      kind: 'event',
      category: ['registry'],
      type: ['change'],
      action: null,
      outcome: null,
      code: '13',
      provider: null,
      dataset: null,
      ingested: null,
      sequence: null,
    },
    host: { id: host, name: host.slice(5), ip: null },
    user: null,
    source: null,
    destination: null,
    network: null,
    process: {
      entity_id: `{guid-${i % 2000}}`,
      pid: 4,
      name: 'services.exe',
      executable: null,
      command_line: null,
      parent: null,
    },
    registry: {
      hive: 'HKLM',
      key,
      path: `HKLM\\${key}\\${value}`,
      value,
      data: { strings: [`C:\\bin\\${i % 5000}.exe`], type: 'SZ' },
    },
    file: null,
    winlog: null,
    dce_rpc: null,
    origin: { format: 'bench', topic: 'bench', partition: 0, offset: i },
  } as SequorEvent;
}

const [events, genMs] = time(() => Array.from({ length: n }, (_, i) => registryEvent(i)));
console.log(`generated ${n} events in ${genMs.toFixed(0)} ms`);

const heap0 = process.memoryUsage().heapUsed;
const [matches, corrMs] = time(() =>
  runCorrelation(svc.compiled.spec, svc.compiled.eventTime, { allowedLatenessMs: 5_000 }, events),
);
console.log(
  `span_aggregation correlation only: ${((n / corrMs) * 1000).toFixed(0)} events/s, ${matches.length} matches`,
);

const rounds = Math.max(1, Math.ceil(100_000 / Math.max(1, matches.length)));
for (const m of matches) svc.toAlert(m, { detectedAt: 0 }); // warm up
const [built, alertMs] = time(() => {
  let k = 0;
  for (let r = 0; r < rounds; r++)
    for (const m of matches) k += svc.toAlert(m, { detectedAt: r }).evidence.length;
  return k;
});
console.log(
  `buildAlert: ${((built / alertMs) * 1000).toFixed(0)} alerts/s (${((alertMs * 1000) / built).toFixed(2)} us/alert, ${built} alerts)`,
);

let count = 0;
const pipelineStart = performance.now();
const detection = createRuleSetPipeline([{ rule: svc, spec: svc.compiled.spec }], svc.compiled.eventTime, {
  allowedLatenessMs: 5_000,
});
from(events)
  .pipe(
    detection.operator,
    map(({ rule, match }) => rule.toAlert(match, { detectedAt: 0 })),
  )
  .subscribe(() => count++);
const pipelineMs = performance.now() - pipelineStart;
const heap1 = process.memoryUsage().heapUsed;
console.log(
  `full rule pipeline (reorder + span aggregate + alerts): ${((n / pipelineMs) * 1000).toFixed(0)} events/s, ${count} alerts`,
);
console.log(`heap delta: ${((heap1 - heap0) / 1024 / 1024).toFixed(1)} MiB`);
