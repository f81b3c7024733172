/**
 * A/B of two `@sequor/sigma` sources in one process, interleaved (the machine's load hits both alike):
 * every SigmaHQ rule in one `SigmaRuleSet` of each, over the `engine` bench path's generated events
 * (through `SequorEventFields`), over SigmaHQ's regression events and over the OTRF Security-Datasets events
 * (`securityDatasetEvents`). Prints events per CPU-second, best
 * of the rounds, the B/A ratio, and whether both found the same matches (rule ids per event).
 *
 *   mkdir -p shared/sigma/.tmp/a && git archive <commit> shared/sigma/src | tar -x --strip-components=2 -C shared/sigma/.tmp/a
 *   npx tsx --conditions=sequor-source shared/sigma/bench/ab.ts shared/sigma/.tmp/a/src [events=50000] [rounds=5]
 *
 * A is the given source folder (inside the repo, so its packages resolve), B this tree's `src`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SequorEvent } from '@sequor/model';
import { scenarioEvents, timePass, type PassResult } from '../../../test/bench/paths/engine.js';
import { securityDatasetEvents } from '../../../test/bench/paths/_events.js';
import * as B from '../src/index.js';

const SIGMA =
  process.env['SEQUOR_SIGMA_DIR'] ?? path.resolve(import.meta.dirname, '../../../../shared/sigma');
const A = (await import(
  pathToFileURL(path.resolve(process.argv[2] ?? 'shared/sigma/.tmp/a/src', 'index.ts')).href
)) as typeof B;
const size = Number(process.argv[3] ?? 50_000);
const rounds = Number(process.argv[4] ?? 5);

// Each side parses the rules itself: a parsed rule's wildcards are its own module's symbols.
const loadedA = await A.loadSigmaPath(path.join(SIGMA, 'rules'));
const loadedB = await B.loadSigmaPath(path.join(SIGMA, 'rules'));
const compile = (lib: typeof B): { set: B.SigmaRuleSet; cpuMs: number } => {
  const c = process.cpuUsage();
  const set = new lib.SigmaRuleSet((lib === B ? loadedB : loadedA).rules, lib.defaultPipeline);
  const used = process.cpuUsage(c);
  return { set, cpuMs: (used.user + used.system) / 1000 };
};
const a = compile(A);
const b = compile(B);
const a2 = compile(A);
const b2 = compile(B);
console.log(
  `compile CPU ms: A ${Math.min(a.cpuMs, a2.cpuMs).toFixed(0)}, B ${Math.min(b.cpuMs, b2.cpuMs).toFixed(0)}`,
);

const events: SequorEvent[] = scenarioEvents(size);
const regression: B.FieldSource[] = readdirSync(path.join(SIGMA, 'regression_data'), {
  withFileTypes: true,
  recursive: true,
})
  .filter((e) => e.isFile() && e.name.endsWith('.json'))
  .map((e) => path.join(e.parentPath, e.name))
  .sort()
  .flatMap((file) => B.readEvtxJson(readFileSync(file, 'utf8')));

// The OTRF Security-Datasets files as the normalizer makes them: real telemetry's own repetition.
const real: SequorEvent[] = securityDatasetEvents();
const fields = new B.SequorEventFields();
// Sorted: sides from before matches came in the set's order gave them in the order their index found them.
const ids = (found: readonly B.CompiledSigmaRule[]): string =>
  found
    .map((r) => r.rule.id)
    .sort()
    .join(',');
let differ = 0;
for (const e of events) if (ids(a.set.match(fields.bind(e))) !== ids(b.set.match(fields.bind(e)))) differ++;
for (const e of regression) if (ids(a.set.match(e)) !== ids(b.set.match(e))) differ++;
for (const e of real) if (ids(a.set.match(fields.bind(e))) !== ids(b.set.match(fields.bind(e)))) differ++;
console.log(`events whose matches differ between A and B: ${differ}`);

const repeat = Math.max(1, Math.round(size / regression.length / 4));
/** A side's value memo emptied (sides from before the memo have none): every pass starts cold. */
const cold = (set: B.SigmaRuleSet): void => (set as { forgetValues?: () => void }).forgetValues?.();
const same = (set: B.SigmaRuleSet) => () => {
  let n = 0;
  cold(set);
  for (let i = 0; i < events.length; i++) n += set.match(fields.bind(events[i]!)).length;
  return n;
};
const realPass = (set: B.SigmaRuleSet) => () => {
  let n = 0;
  cold(set);
  for (let i = 0; i < real.length; i++) n += set.match(fields.bind(real[i]!)).length;
  return n;
};
const dense = (set: B.SigmaRuleSet) => () => {
  let n = 0;
  for (let k = 0; k < repeat; k++) {
    cold(set);
    for (let i = 0; i < regression.length; i++) n += set.match(regression[i]!).length;
  }
  return n;
};
const best = (x: PassResult | undefined, y: PassResult): PassResult =>
  x === undefined || y.perCpuSecond > x.perCpuSecond ? y : x;
const result: Record<string, PassResult | undefined> = {};
for (let r = 0; r <= rounds; r++) {
  for (const [name, set] of [
    ['A', a.set],
    ['B', b.set],
  ] as const) {
    const s = timePass(events.length, same(set));
    const d = timePass(regression.length * repeat, dense(set));
    const t = timePass(real.length, realPass(set));
    if (r === 0) continue; // warm-up
    result[`${name} same`] = best(result[`${name} same`], s);
    result[`${name} dense`] = best(result[`${name} dense`], d);
    result[`${name} real`] = best(result[`${name} real`], t);
  }
}
const rate = (k: string): number => result[k]!.perCpuSecond;
for (const row of ['same', 'dense', 'real'])
  console.log(
    `${row.padEnd(6)} A ${rate(`A ${row}`).toFixed(0).padStart(8)}  B ${rate(`B ${row}`).toFixed(0).padStart(8)}  B/A ${(rate(`B ${row}`) / rate(`A ${row}`)).toFixed(2)}`,
  );
