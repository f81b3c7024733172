/**
 * Sigma path (issue 13, item 6): every SigmaHQ rule of `../shared/sigma/rules` that loads, in one
 * `SigmaRuleSet`, over the same generated events as the `engine` path; floor: the engine's four built-in
 * rules over those events, measured in the same run, interleaved (target: >= 50 % of it).
 *
 * Rows:
 * - `sigma.same-events`: `SigmaRuleSet.match` over each decoded `SequorEvent` through a `FieldSource`
 *   (the rows's `path` says which adapter): the generated scenario's Winlogbeat, ECS, flat Windows and
 *   Zeek events, most of them Sysmon and Security records.
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
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { SequorEvent } from '@sequor/model';
import type { FieldSource, FieldValue } from '@sequor/sigma';
import { defaultPipeline, loadSigmaPath, readEvtxJson, SigmaRuleSet } from '@sequor/sigma';
import type { BenchContext, BenchRow } from '../harness.js';
import { judge, round, timed } from './_measure.js';
import { builtinRules, ruleSetPass, scenarioEvents, timePass, type PassResult } from './engine.js';

export const id = 'sigma';

const TARGET_SHARE = 0.5;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SIGMA_DIR = process.env['SEQUOR_SIGMA_DIR'] ?? path.resolve(repoRoot, '../shared/sigma');

/**
 * Interim: a `SequorEvent` as Sigma's Windows field names, for the fields the model carries today
 * (replaced by the model's own adapter when it lands).
 */
function sequorFieldSource(e: SequorEvent): FieldSource {
  const get = (field: string): FieldValue => {
    switch (field) {
      case 'Channel':
        return e.winlog?.channel ?? undefined;
      case 'EventID':
        return e.winlog?.event_id ?? undefined;
      case 'Computer':
        return e.winlog?.computer_name ?? undefined;
      case 'Image':
      case 'NewProcessName':
        return e.process?.executable ?? undefined;
      case 'CommandLine':
        return e.process?.command_line ?? undefined;
      case 'ParentImage':
      case 'ParentProcessName':
        return e.process?.parent?.executable ?? undefined;
      case 'ParentCommandLine':
        return e.process?.parent?.command_line ?? undefined;
      case 'ProcessId':
        return e.process?.pid ?? undefined;
      case 'TargetObject':
        return e.registry?.path ?? undefined;
      case 'Details':
        return e.registry?.data?.strings?.[0] ?? undefined;
      case 'TargetFilename':
        return e.file?.path ?? undefined;
      case 'User':
      case 'TargetUserName':
        return e.user?.name ?? undefined;
      case 'SourceIp':
      case 'IpAddress':
        return e.source?.ip ?? undefined;
      case 'DestinationIp':
        return e.destination?.ip ?? undefined;
      case 'DestinationPort':
        return e.destination?.port ?? undefined;
      case 'LogonType':
        return e.winlog?.logon?.type ?? undefined;
      default:
        return undefined;
    }
  };
  const fields = [
    'Channel',
    'EventID',
    'Computer',
    'Image',
    'CommandLine',
    'ParentImage',
    'ParentCommandLine',
    'TargetObject',
    'Details',
    'TargetFilename',
    'User',
    'SourceIp',
    'DestinationIp',
  ];
  return { get, values: () => fields.map(get) };
}

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

async function loadRuleSet(): Promise<Loaded> {
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

const best = (a: PassResult | undefined, b: PassResult): PassResult =>
  a === undefined || b.perCpuSecond > a.perCpuSecond ? b : a;

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  ctx.log(`loading the Sigma rules of ${SIGMA_DIR}`);
  const { set, files, loadCpuMs, compileCpuMs, heapBytes, rssBytes } = await loadRuleSet();
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
  const sources = events.map(sequorFieldSource);
  const regression = regressionEvents();
  // As many regression events per pass as fit the same CPU budget, roughly: the set is small (189).
  const regressionRepeat = ctx.quick ? 5 : 50;

  const samePass = () => {
    let n = 0;
    for (let i = 0; i < sources.length; i++) n += set.match(sources[i]!).length;
    return n;
  };
  const regressionPass = () => {
    let n = 0;
    for (let k = 0; k < regressionRepeat; k++)
      for (let i = 0; i < regression.length; i++) n += set.match(regression[i]!).length;
    return n / regressionRepeat;
  };
  // Warm-up (JIT, the matchers' lazy DFA states), then floor and figures interleaved, best pass of each.
  ruleSetPass(rules, eventTime, events);
  samePass();
  regressionPass();
  let floor: PassResult | undefined;
  let same: PassResult | undefined;
  let dense: PassResult | undefined;
  for (let r = 0; r < rounds; r++) {
    floor = best(floor, ruleSetPass(rules, eventTime, events));
    same = best(same, timePass(events.length, samePass));
    dense = best(dense, timePass(regression.length * regressionRepeat, regressionPass));
  }
  const floorRate = floor!.perCpuSecond;
  const sameRate = same!.perCpuSecond;
  const denseRate = dense!.perCpuSecond;
  ctx.log(
    `floor ${round(floorRate)} events/CPU-s; all Sigma rules: same events ${round(sameRate)}, regression events ${round(denseRate)}`,
  );
  const floorName = "the engine's 4 built-in rules over the same generated events (createRuleSetPipeline)";
  const target = `>= ${TARGET_SHARE * 100} % of floor`;
  const ruleCounts = {
    files,
    rules: stats.rules,
    refused: set.refused.length,
    variants: stats.variants,
    gatedVariants: stats.gatedVariants,
  };
  return [
    {
      id: 'sigma.same-events',
      path: `all SigmaHQ Windows+Zeek rules (${stats.rules}), SigmaRuleSet.match over the engine path's SequorEvents (interim field source in the bench)`,
      figure: round(sameRate),
      unit: 'events/s',
      floorName,
      floor: round(floorRate),
      ratio: sameRate / floorRate,
      target,
      met: judge(ctx.quick, sameRate >= TARGET_SHARE * floorRate),
      detail: { events: events.length, rounds, matches: same!.outputs, ...ruleCounts },
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
      detail: { events: regression.length, repeat: regressionRepeat, matchesPerPass: dense!.outputs },
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
