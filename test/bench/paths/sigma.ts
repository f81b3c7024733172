/**
 * Sigma path (issue 13, item 6): every SigmaHQ rule of `../shared/sigma/rules` that loads, in one
 * `SigmaRuleSet`, over the same generated events as the `engine` path; floor: the engine's four built-in
 * rules over those events, measured in the same run, interleaved (target: >= 50 % of it).
 *
 * Rows:
 * - `sigma.same-events`: `SigmaRuleSet.match` over each decoded `SequorEvent` through the model's
 *   `SequorEventFields`: the generated scenario's Winlogbeat, ECS, flat Windows and Zeek events, most of
 *   them Sysmon and Security records with their event data.
 * - `sigma.detector`: the detector's per-partition processor with the built-ins and every Sigma rule as
 *   its RULES_DIR (loaded by `@sequor/rules`, Sigma rules reached through `sigmaFilterDispatch`, alerts
 *   built), against the same processor with the four built-ins only.
 * - `sigma.detector-records`: the same, one step earlier: Avro records decoded by the detector's projected
 *   codec (the fields its rules read; with Sigma rules that includes the events' own data) and processed,
 *   against the built-ins' projection and processor: the detector's per-record work without the broker.
 * - `sigma.regression-events`: the same rule set over SigmaHQ's regression events (real Sysmon, Security,
 *   PowerShell records, each written to trigger a rule: Sigma-dense, long command lines), read by the
 *   evtx-JSON adapter; judged against the same four-rule floor.
 * - `sigma.load`, `sigma.compile`: CPU time to read and parse the rule files, and to compile them into the
 *   rule set (dispatch index, gates, literal scanners); `sigma.memory`: heap after GC with the rule set
 *   held, less the heap before loading (RSS growth in the detail).
 *
 * Figures are events per CPU-second of this process (GC included), the best of interleaved passes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { eventFieldsRead } from '@sequor/detector';
import { createEventCodec, createProjectedEventCodec } from '@sequor/model';
import type { CompiledRule } from '@sequor/rules';
import type { FieldSource } from '@sequor/sigma';
import { defaultPipeline, loadSigmaPath, readEvtxJson, SequorEventFields, SigmaRuleSet } from '@sequor/sigma';
import type { BenchContext, BenchRow } from '../harness.js';
import { runProcessor, sigmaDetectorRules } from './_detector.js';
import { securityDatasetEvents, SIGMA_DIR } from './_events.js';
import { judge, round, timed } from './_measure.js';
import {
  builtinRules,
  processorPass,
  ruleSetPass,
  scenarioEvents,
  timePass,
  type PassResult,
} from './engine.js';

export const id = 'sigma';

const TARGET_SHARE = 0.5;

function regressionEvents(): FieldSource[] {
  const dir = path.join(SIGMA_DIR, 'regression_data');
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort()
    .flatMap((file) => readEvtxJson(readFileSync(file, 'utf8')));
}

interface Loaded {
  readonly set: SigmaRuleSet;
  readonly files: number;
  readonly loadCpuMs: number;
  readonly compileCpuMs: number;
  readonly heapBytes: number;
  readonly rssBytes: number;
}

async function loadSigmaRuleSet(): Promise<Loaded> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const settle = () => {
    gc();
    gc();
    return process.memoryUsage();
  };
  const before = settle();
  let loaded: Awaited<ReturnType<typeof loadSigmaPath>> | undefined;
  const load = await timed(async () => {
    loaded = await loadSigmaPath(path.join(SIGMA_DIR, 'rules'));
  });
  let set: SigmaRuleSet | undefined;
  const compile = await timed(() => {
    set = new SigmaRuleSet(loaded!.rules, defaultPipeline);
  });
  const files = loaded!.files.length;
  loaded = undefined; // the parsed rules stay reachable only through the rule set, as in the detector
  const after = settle();
  return {
    set: set!,
    files,
    loadCpuMs: load.cpuMs,
    compileCpuMs: compile.cpuMs,
    heapBytes: after.heapUsed - before.heapUsed,
    rssBytes: after.rss - before.rss,
  };
}

/**
 * The detector's rules with every Sigma rule of the folder as its RULES_DIR: loaded, checked and compiled
 * as `loadDetectorRules` does (the built-ins beside them; Sigma rules become event filters that the rule
 * set pipeline reaches through the Sigma index, `sigmaFilterDispatch`).
 */
async function detectorRules(): Promise<{ rules: CompiledRule[]; errors: number; cpuMs: number }> {
  let loaded: Awaited<ReturnType<typeof sigmaDetectorRules>> = { rules: [], errors: 0 };
  const pass = await timed(async () => {
    loaded = await sigmaDetectorRules();
  });
  return { ...loaded, cpuMs: pass.cpuMs };
}

/**
 * The detector's per-record work without the broker: each Avro record decoded by the codec projected to
 * the fields its rules read (`eventFieldsRead`, as the detector does without a rules topic), then pushed
 * into the per-partition processor. With Sigma rules the projection holds the events' own data (the
 * `winlog.event_data` and `zeek.fields` maps), so the decode costs more too: what a user sees.
 */
function recordPass(rules: readonly CompiledRule[], records: readonly Buffer[]): PassResult {
  const codec = createProjectedEventCodec(eventFieldsRead(rules));
  return timePass(records.length, () =>
    runProcessor(rules, records.length, (i) => codec.decode(records[i]!)),
  );
}

const best = (a: PassResult | undefined, b: PassResult): PassResult =>
  a === undefined || b.perCpuSecond > a.perCpuSecond ? b : a;

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  ctx.log(`loading the Sigma rules of ${SIGMA_DIR}`);
  const { set, files, loadCpuMs, compileCpuMs, heapBytes, rssBytes } = await loadSigmaRuleSet();
  const stats = set.stats();
  ctx.log(
    `${files} files, ${stats.rules} rules compiled, ${set.refused.length} refused; load ${round(loadCpuMs)} ms CPU, compile ${round(compileCpuMs)} ms CPU, heap +${round(heapBytes / 2 ** 20, 1)} MiB`,
  );

  const rules = await builtinRules();
  const eventTime = rules[0]!.compiled.eventTime;
  const size = ctx.quick ? 20_000 : 200_000;
  const rounds = ctx.quick ? 2 : 5;
  ctx.log(`generating and decoding a ${size.toLocaleString('en-US')}-event scenario`);
  const events = scenarioEvents(size);
  const fields = new SequorEventFields();
  const regression = regressionEvents();
  const real = securityDatasetEvents();
  // As many regression events per pass as fit the same CPU budget, roughly: the set is small (189).
  const regressionRepeat = ctx.quick ? 5 : 50;
  // The same rules without the value memo: every text worked out on every event (no text ever repeats).
  const noMemo = new SigmaRuleSet(
    set.rules.map((r) => r.rule),
    defaultPipeline,
    [],
    { valueMemo: false },
  );

  // Each pass starts with an empty value memo (`ValueMemo`: what a field's recent texts give), so a pass is
  // never answered from an earlier pass over the same events; the regression events start cold on every
  // repetition (189 events written to trigger rules, few texts repeat among them).
  const samePass = () => {
    set.forgetValues();
    let n = 0;
    for (let i = 0; i < events.length; i++) n += set.match(fields.bind(events[i]!)).length;
    return n;
  };
  const noMemoPass = () => {
    let n = 0;
    for (let i = 0; i < events.length; i++) n += noMemo.match(fields.bind(events[i]!)).length;
    return n;
  };
  const regressionPass = () => {
    let n = 0;
    for (let k = 0; k < regressionRepeat; k++) {
      set.forgetValues();
      for (let i = 0; i < regression.length; i++) n += set.match(regression[i]!).length;
    }
    return n / regressionRepeat;
  };
  const realPass = () => {
    set.forgetValues();
    let n = 0;
    for (let i = 0; i < real.length; i++) n += set.match(fields.bind(real[i]!)).length;
    return n;
  };
  const memoShare = (pass: () => number): number => {
    const before = set.valueMemoCounts();
    pass();
    const after = set.valueMemoCounts();
    return (after.hits - before.hits) / Math.max(1, after.lookups - before.lookups);
  };
  const detector = await detectorRules();
  ctx.log(
    `detector rule set: ${detector.rules.length} rules (${detector.errors} refused), loaded and compiled in ${round(detector.cpuMs)} ms CPU`,
  );
  // The same events as Avro records (what the normalizer writes to the events topic), fewer of them: a
  // pass decodes every record.
  const writer = createEventCodec();
  const records = events.slice(0, ctx.quick ? 10_000 : 50_000).map((e) => writer.encodeSingleObject(e));
  // Warm-up (JIT, the matchers' lazy DFA states), then floors and figures interleaved, best pass of each.
  ruleSetPass(rules, eventTime, events);
  samePass();
  noMemoPass();
  regressionPass();
  const sameHitShare = memoShare(samePass);
  const denseHitShare = memoShare(regressionPass);
  const realHitShare = memoShare(realPass);
  ruleSetPass(rules, eventTime, real);
  processorPass(rules, events);
  processorPass(detector.rules, events);
  recordPass(rules, records);
  recordPass(detector.rules, records);
  let floor: PassResult | undefined;
  let same: PassResult | undefined;
  let unmemoized: PassResult | undefined;
  let dense: PassResult | undefined;
  let realFloor: PassResult | undefined;
  let realSigma: PassResult | undefined;
  let processorFloor: PassResult | undefined;
  let processor: PassResult | undefined;
  let recordsFloor: PassResult | undefined;
  let recordsSigma: PassResult | undefined;
  for (let r = 0; r < rounds; r++) {
    floor = best(floor, ruleSetPass(rules, eventTime, events));
    same = best(same, timePass(events.length, samePass));
    unmemoized = best(unmemoized, timePass(events.length, noMemoPass));
    dense = best(dense, timePass(regression.length * regressionRepeat, regressionPass));
    realFloor = best(realFloor, ruleSetPass(rules, eventTime, real));
    realSigma = best(realSigma, timePass(real.length, realPass));
    processorFloor = best(processorFloor, processorPass(rules, events));
    processor = best(processor, processorPass(detector.rules, events));
    recordsFloor = best(recordsFloor, recordPass(rules, records));
    recordsSigma = best(recordsSigma, recordPass(detector.rules, records));
  }
  const floorRate = floor!.perCpuSecond;
  const sameRate = same!.perCpuSecond;
  const noMemoRate = unmemoized!.perCpuSecond;
  const denseRate = dense!.perCpuSecond;
  const realFloorRate = realFloor!.perCpuSecond;
  const realRate = realSigma!.perCpuSecond;
  const processorFloorRate = processorFloor!.perCpuSecond;
  const processorRate = processor!.perCpuSecond;
  const recordsFloorRate = recordsFloor!.perCpuSecond;
  const recordsRate = recordsSigma!.perCpuSecond;
  ctx.log(
    `floor ${round(floorRate)} events/CPU-s; all Sigma rules: same events ${round(sameRate)} (value memo off ${round(noMemoRate)}), regression events ${round(denseRate)}; real events ${round(realRate)} (floor ${round(realFloorRate)}, memo hits ${round(realHitShare * 100)} %); detector processor ${round(processorRate)} (floor ${round(processorFloorRate)}); records decoded and processed ${round(recordsRate)} (floor ${round(recordsFloorRate)}); ${set.stats().gatesLearned} gates learned from the stream`,
  );
  const floorName = "the engine's 4 built-in rules over the same generated events (createRuleSetPipeline)";
  const target = `>= ${TARGET_SHARE * 100} % of floor`;
  const ruleCounts = {
    files,
    rules: stats.rules,
    refused: set.refused.length,
    variants: stats.variants,
    gatedVariants: stats.gatedVariants,
    // Gates chosen again from the first events' measured shares (the warm-up pass: `gateLearningEvents`).
    gatesLearned: set.stats().gatesLearned,
  };
  return [
    {
      id: 'sigma.same-events',
      path: `all SigmaHQ Windows+Zeek rules (${stats.rules}), SigmaRuleSet.match over the engine path's SequorEvents (SequorEventFields)`,
      figure: round(sameRate),
      unit: 'events/s',
      floorName,
      floor: round(floorRate),
      ratio: sameRate / floorRate,
      target,
      met: judge(ctx.quick, sameRate >= TARGET_SHARE * floorRate),
      detail: {
        events: events.length,
        rounds,
        matches: same!.outputs,
        valueMemoHitShare: round(sameHitShare, 3),
        ...ruleCounts,
      },
    },
    {
      id: 'sigma.same-events-no-memo',
      path: `the same rule set and events with the value memo off (every text worked out on every event: the cost when no text repeats)`,
      figure: round(noMemoRate),
      unit: 'events/s',
      floorName,
      floor: round(floorRate),
      ratio: noMemoRate / floorRate,
      target: 'reported',
      detail: { events: events.length, matches: unmemoized!.outputs },
    },
    {
      id: 'sigma.detector',
      path: `detector per-partition processor, the 4 built-in rules + ${detector.rules.length - rules.length} Sigma rules (RULES_DIR; sigmaFilterDispatch), alerts built`,
      figure: round(processorRate),
      unit: 'events/s',
      floorName: 'the same processor with the 4 built-in rules only, same events',
      floor: round(processorFloorRate),
      ratio: processorRate / processorFloorRate,
      target,
      met: judge(ctx.quick, processorRate >= TARGET_SHARE * processorFloorRate),
      detail: {
        events: events.length,
        alerts: processor!.outputs,
        floorAlerts: processorFloor!.outputs,
        loadAndCompileCpuMs: round(detector.cpuMs),
        refused: detector.errors,
      },
    },
    {
      id: 'sigma.detector-records',
      path: `the detector's per-record work: ${records.length.toLocaleString('en-US')} Avro records decoded (projected to the fields the rules read: with Sigma rules, the events' own data) and processed, the 4 built-in rules + ${detector.rules.length - rules.length} Sigma rules`,
      figure: round(recordsRate),
      unit: 'events/s',
      floorName: "the same records decoded (the built-ins' projection) and processed by the 4 built-in rules",
      floor: round(recordsFloorRate),
      ratio: recordsRate / recordsFloorRate,
      target,
      met: judge(ctx.quick, recordsRate >= TARGET_SHARE * recordsFloorRate),
      detail: { records: records.length, alerts: recordsSigma!.outputs, floorAlerts: recordsFloor!.outputs },
    },
    {
      id: 'sigma.regression-events',
      path: `the same rule set over SigmaHQ's ${regression.length} regression events (evtx JSON; Sigma-dense)`,
      figure: round(denseRate),
      unit: 'events/s',
      floorName,
      floor: round(floorRate),
      ratio: denseRate / floorRate,
      target,
      met: judge(ctx.quick, denseRate >= TARGET_SHARE * floorRate),
      detail: {
        events: regression.length,
        repeat: regressionRepeat,
        matchesPerPass: dense!.outputs,
        valueMemoHitShare: round(denseHitShare, 3),
      },
    },
    {
      id: 'sigma.real-events',
      path: `the same rule set over the ${real.length.toLocaleString('en-US')} events of the OTRF Security-Datasets files (real telemetry, flat-windows)`,
      figure: round(realRate),
      unit: 'events/s',
      floorName: "the engine's 4 built-in rules over the same real events (createRuleSetPipeline)",
      floor: round(realFloorRate),
      ratio: realRate / realFloorRate,
      // Reported, not judged: the built-ins' logsource filters drop most of these events (process access,
      // image loads, PowerShell) before any work, so their floor swings with the JIT (1-3 M/s).
      target: 'reported',
      detail: { events: real.length, matches: realSigma!.outputs, valueMemoHitShare: round(realHitShare, 3) },
    },
    {
      id: 'sigma.load',
      path: `read and parse ${files} Sigma rule files (loadSigmaPath)`,
      figure: round(loadCpuMs),
      unit: 'ms CPU',
      target: 'reported',
      detail: ruleCounts,
    },
    {
      id: 'sigma.compile',
      path: `compile ${stats.rules} rules into one SigmaRuleSet (index, gates, literal scanners)`,
      figure: round(compileCpuMs),
      unit: 'ms CPU',
      target: 'reported',
      detail: { matchers: stats.matchers, items: stats.items, sharedMatchers: stats.sharedMatchers },
    },
    {
      id: 'sigma.memory',
      path: `heap held by the loaded rule set (${stats.rules} rules), after GC`,
      figure: round(heapBytes / 2 ** 20, 1),
      unit: 'MiB',
      target: 'reported',
      detail: { rssGrowthMiB: round(rssBytes / 2 ** 20, 1) },
    },
  ];
}
