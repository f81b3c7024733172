/**
 * Engine path (issue 12, target 3): the four built-in rules, loaded from their rule files and compiled
 * by the real loader and compiler, over realistic events held in memory, pushed through the rule-set
 * pipeline the detector and `sequor detect` run (`createRuleSetPipeline`, and the `DetectionProcessor`
 * around it, which also builds the alerts). Floor: a bare RxJS Subject -> filter -> Map loop over the
 * same events in the same process.
 *
 * Also: the cost per event with 1,000,000 open keys against the cost with 100 (same measured events,
 * only the open state differs), and the one-rule pipeline (`createCorrelationPipeline`) against the
 * rule set it wraps.
 *
 * Figures are per CPU-second of this process (GC threads included): steadier than wall time on a shared
 * machine. Every timed pass gets a fresh pipeline; the median pass is reported.
 */
import { filter, Subject } from 'rxjs';
import { createCorrelationPipeline, createRuleSetPipeline, type EventTime } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import { compileRule, loadBuiltinRules, type CompiledRule } from '@sequor/rules';
import type { BenchContext, BenchRow } from '../harness.js';
import { runProcessor } from './_detector.js';
import { scenarioEvents } from './_events.js';

export const id = 'engine';

const TARGET_EVENTS_PER_S = 1_000_000;
const MAX_KEY_COST_RATIO = 1.5;

/** The four built-in rules, through the loader (parse, lint) and `compileRule`, as the detector does. */
export async function builtinRules(): Promise<CompiledRule[]> {
  const rules = await loadBuiltinRules();
  return rules.map((rule) => compileRule(rule));
}

export { scenarioEvents } from './_events.js';

export interface PassResult {
  /** Events per CPU-second of this process. */
  readonly perCpuSecond: number;
  /** Events per wall-clock second. */
  readonly perSecond: number;
  readonly outputs: number;
}

/** CPU and wall time of `body`, which pushes `count` events. */
export function timePass(count: number, body: () => number): PassResult {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const outputs = body();
  const wallNs = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  const cpuS = (used.user + used.system) / 1e6;
  return { perCpuSecond: count / cpuS, perSecond: count / (wallNs / 1e9), outputs };
}

export function median(passes: readonly PassResult[]): PassResult {
  const sorted = [...passes].sort((a, b) => a.perCpuSecond - b.perCpuSecond);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const BATCH = 1_000;

/** The floor: a bare Subject -> filter -> Map (latest event per host) over the same events. */
function floorPass(events: readonly SequorEvent[]): PassResult {
  return timePass(events.length, () => {
    const input = new Subject<SequorEvent>();
    const latest = new Map<string, SequorEvent>();
    input.pipe(filter((event) => event.host !== null)).subscribe((event) => {
      latest.set(event.host!.id ?? '', event);
    });
    for (let offset = 0; offset < events.length; offset += BATCH) {
      const end = Math.min(events.length, offset + BATCH);
      for (let index = offset; index < end; index++) input.next(events[index]!);
    }
    input.complete();
    return latest.size;
  });
}

/** The engine: the rule set over one stream (one reorder stage), matches counted. */
export function ruleSetPass(
  rules: readonly CompiledRule[],
  eventTime: EventTime<SequorEvent>,
  events: readonly SequorEvent[],
): PassResult {
  return timePass(events.length, () => {
    const input = new Subject<SequorEvent>();
    const pipeline = createRuleSetPipeline(
      rules.map((rule) => ({ rule, spec: rule.compiled.spec })),
      eventTime,
      { allowedLatenessMs: 5_000 },
    );
    let matches = 0;
    input.pipe(pipeline.operator).subscribe(() => matches++);
    for (let offset = 0; offset < events.length; offset += BATCH) {
      const end = Math.min(events.length, offset + BATCH);
      for (let index = offset; index < end; index++) input.next(events[index]!);
    }
    input.complete();
    return matches;
  });
}

/** The detector's per-partition processor: the same rule set plus alert building. */
export function processorPass(rules: readonly CompiledRule[], events: readonly SequorEvent[]): PassResult {
  return timePass(events.length, () => runProcessor(rules, events.length, (i) => events[i]!));
}

/** One rule through `createCorrelationPipeline` or through a one-rule `createRuleSetPipeline`. */
function singleRulePass(rule: CompiledRule, events: readonly SequorEvent[], wrapped: boolean): PassResult {
  return timePass(events.length, () => {
    const input = new Subject<SequorEvent>();
    let matches = 0;
    if (wrapped) {
      const pipeline = createCorrelationPipeline(rule.compiled.spec, rule.compiled.eventTime, {
        allowedLatenessMs: 5_000,
      });
      input.pipe(pipeline.operator).subscribe(() => matches++);
    } else {
      const pipeline = createRuleSetPipeline([{ rule, spec: rule.compiled.spec }], rule.compiled.eventTime, {
        allowedLatenessMs: 5_000,
      });
      input.pipe(pipeline.operator).subscribe(() => matches++);
    }
    for (const event of events) input.next(event);
    input.complete();
    return matches;
  });
}

// ---------------------------------------------------------------------------------------------------
// Synthetic events with a chosen number of open keys

const T0 = Date.UTC(2024, 2, 4, 8, 0, 0);

/** An event as the Winlogbeat decoder makes it, every field set (the shape the engine sees). */
function baseEvent(index: number, time: number, category: string, hostId: string): SequorEvent {
  return {
    timestamp: time,
    event: {
      id: `bench-${index.toString(16).padStart(12, '0')}`,
      kind: 'event',
      category: [category],
      type: null,
      action: null,
      outcome: null,
      code: null,
      provider: null,
      dataset: null,
      ingested: null,
      sequence: null,
      duration: null,
    },
    host: { id: hostId, name: hostId.slice(0, 8), ip: null },
    user: null,
    source: null,
    destination: null,
    network: null,
    process: null,
    registry: null,
    file: null,
    winlog: null,
    dce_rpc: null,
    origin: { format: 'winlogbeat', topic: 'bench', partition: 0, offset: index },
    smb: null,
    zeek: null,
  };
}

function hostOf(key: number): string {
  return `0000${(key >>> 12).toString(16)}-978c-4d98-a967-c90d866c7f20`.slice(-36);
}

function userOf(key: number): string {
  return `S-1-5-21-1051922019-2918344153-1160432113-${1000 + key}`;
}

/** A successful network logon of user `key` on its host: the first step of the remote-SAM sequence. */
export function logonEvent(index: number, time: number, key: number): SequorEvent {
  const event = baseEvent(index, time, 'authentication', hostOf(key));
  event.event.type = ['start'];
  event.event.action = 'Logon';
  event.event.outcome = 'success';
  event.event.code = '4624';
  event.event.provider = 'Microsoft-Windows-Security-Auditing';
  event.user = { id: userOf(key), name: `user${key}`, domain: 'ACME' };
  event.source = { ip: '10.10.16.215', port: 55_813, bytes: null };
  event.winlog = {
    event_id: '4624',
    channel: 'Security',
    logon: { type: 'Network' },
    computer_name: 'DC02.acme.corp',
    record_id: index,
    event_data: null,
    level_raw: null,
    keywords_raw: null,
    task_raw: null,
    opcode_raw: null,
  };
  return event;
}

/** A network event that no built-in rule reads past its first test: it only moves stream time. */
export function quietEvent(index: number, time: number): SequorEvent {
  const event = baseEvent(index, time, 'network', hostOf(0));
  event.destination = { ip: '10.0.0.1', port: 80, bytes: null };
  return event;
}

/** A file creation by svchost for user `key`: completes the sequence when `hive` (a SAM hive dump). */
function fileEvent(index: number, time: number, key: number, hive: boolean): SequorEvent {
  const event = baseEvent(index, time, 'file', hostOf(key));
  event.event.type = ['creation'];
  event.event.action = 'creation';
  event.user = { id: userOf(key), name: `user${key}`, domain: 'ACME' };
  event.process = {
    entity_id: `{proc-${key}}`,
    pid: 1_000,
    name: 'svchost.exe',
    executable: 'C:\\Windows\\System32\\svchost.exe',
    command_line: null,
    parent: null,
  };
  event.file = {
    path: 'C:\\Windows\\System32\\x.tmp',
    name: 'x.tmp',
    extension: 'tmp',
    size: hive ? 65_536 : 1_024,
    Ext: { header_bytes: hive ? '72656766e1000000' : '4d5a9000' },
  } as SequorEvent['file'];
  return event;
}

/** A process start for `key`'s process: the first item of the Remcos join. */
function processEvent(index: number, time: number, key: number): SequorEvent {
  const event = baseEvent(index, time, 'process', hostOf(key));
  event.event.type = ['start'];
  event.process = {
    entity_id: `{proc-${key}}`,
    pid: 1_000,
    name: 'cmd.exe',
    executable: 'C:\\Windows\\System32\\cmd.exe',
    command_line: 'cmd.exe /c whoami',
    parent: null,
  };
  return event;
}

/** A registry write; an ImagePath under Services now and then (span aggregation). */
function registryEvent(index: number, time: number, key: number, service: boolean): SequorEvent {
  const event = baseEvent(index, time, 'registry', hostOf(key));
  event.event.type = ['change'];
  const keyPath = service ? `System\\CurrentControlSet\\Services\\svc${key}` : 'Software\\Vendor\\App';
  const value = service ? 'ImagePath' : 'Setting';
  event.registry = {
    hive: 'HKLM',
    key: keyPath,
    path: `HKLM\\${keyPath}\\${value}`,
    value,
    data: { strings: ['C:\\bin\\x.exe'], type: 'SZ' },
  };
  event.process = {
    entity_id: `{proc-${key}}`,
    pid: 1_000,
    name: 'reg.exe',
    executable: null,
    command_line: null,
    parent: null,
  };
  return event;
}

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The measured stream of the open-keys runs: `count` events over keys [0, keys), 20 s of event time
 * starting 16 s after T0: logons (re-open a key's sequence), file events (a hive dump now and then
 * completes one), process starts, registry writes. The same seed gives the same mix at every key count.
 */
export function keyedEvents(count: number, keys: number, firstIndex: number): SequorEvent[] {
  const random = prng(7);
  const events: SequorEvent[] = [];
  for (let i = 0; i < count; i++) {
    const index = firstIndex + i;
    const time = T0 + 16_000 + Math.floor((i * 20_000) / count);
    const key = Math.floor(random() * keys);
    const roll = random();
    if (roll < 0.3) events.push(logonEvent(index, time, key));
    else if (roll < 0.6) events.push(fileEvent(index, time, key, random() < 0.01));
    else if (roll < 0.8) events.push(processEvent(index, time, key));
    else events.push(registryEvent(index, time, key, random() < 0.01));
  }
  return events;
}

/**
 * Nanoseconds per measured event with `keys` sequences open: first `keys` logons (one per key, within
 * T0 .. T0 + 10 s, made on the fly so the engine alone holds them) and an event at T0 + 16 s that moves
 * the watermark past them all (untimed: the reorder stage releases them here, not in the timed part),
 * then `measured` events on those keys, timed. Nothing is evicted: the rule's maxspan is 1 min.
 */
export function keyedCost(
  rules: readonly CompiledRule[],
  keys: number,
  measured: readonly SequorEvent[],
): { nsPerEvent: number; open: number } {
  const input = new Subject<SequorEvent>();
  const pipeline = createRuleSetPipeline(
    rules.map((rule) => ({ rule, spec: rule.compiled.spec })),
    rules[0]!.compiled.eventTime,
    { allowedLatenessMs: 5_000, maxOpenPartials: 2 * keys + 1_000, maxStateBytes: Number.POSITIVE_INFINITY },
  );
  input.pipe(pipeline.operator).subscribe();
  for (let key = 0; key < keys; key++)
    input.next(logonEvent(key, T0 + Math.floor((key * 10_000) / keys), key));
  input.next(quietEvent(keys, T0 + 16_000));
  const open = pipeline.ruleStats.reduce((sum, stats) => sum + stats.openPartials, 0);
  const pass = timePass(measured.length, () => {
    for (const event of measured) input.next(event);
    return 0;
  });
  input.complete();
  return { nsPerEvent: 1e9 / pass.perCpuSecond, open };
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rules = await builtinRules();
  const eventTime = rules[0]!.compiled.eventTime;
  const size = ctx.quick ? 20_000 : 200_000;
  const passes = ctx.quick ? 3 : 7;
  ctx.log(`generating and decoding a ${size.toLocaleString('en-US')}-event scenario`);
  const events = scenarioEvents(size);

  // Warm both loops up, then alternate them so machine noise hits both alike.
  floorPass(events);
  ruleSetPass(rules, eventTime, events);
  const floors: PassResult[] = [];
  const engines: PassResult[] = [];
  const processors: PassResult[] = [];
  for (let pass = 0; pass < passes; pass++) {
    floors.push(floorPass(events));
    engines.push(ruleSetPass(rules, eventTime, events));
    processors.push(processorPass(rules, events));
  }
  const floor = median(floors);
  const engine = median(engines);
  const processor = median(processors);
  ctx.log(
    `rule set ${Math.round(engine.perCpuSecond)} events/s per CPU-s (${engine.outputs} matches), floor ${Math.round(floor.perCpuSecond)}`,
  );

  const sequence = rules.find((rule) => rule.compiled.spec.kind === 'sequence')!;
  const wrappedPasses: PassResult[] = [];
  const directPasses: PassResult[] = [];
  for (let pass = 0; pass < passes; pass++) {
    wrappedPasses.push(singleRulePass(sequence, events, true));
    directPasses.push(singleRulePass(sequence, events, false));
  }
  const wrapped = median(wrappedPasses);
  const direct = median(directPasses);

  const measuredCount = ctx.quick ? 50_000 : 400_000;
  const manyKeys = ctx.quick ? 100_000 : 1_000_000;
  const fewKeys = 100;
  ctx.log(`open keys: ${fewKeys} vs ${manyKeys.toLocaleString('en-US')}`);
  const fewMeasured = keyedEvents(measuredCount, fewKeys, manyKeys);
  keyedCost(rules, fewKeys, fewMeasured); // warm-up
  const few = keyedCost(rules, fewKeys, fewMeasured);
  const manyMeasured = keyedEvents(measuredCount, manyKeys, manyKeys);
  const many = keyedCost(rules, manyKeys, manyMeasured);

  const judged = !ctx.quick;
  const keyRatio = many.nsPerEvent / few.nsPerEvent;
  return [
    {
      id: 'engine.builtin-rules',
      path: 'engine, 4 built-in rules compiled from rule files (createRuleSetPipeline)',
      figure: Math.round(engine.perCpuSecond),
      unit: 'events/s',
      floorName: 'bare RxJS Subject -> filter -> Map over the same events',
      floor: Math.round(floor.perCpuSecond),
      ratio: engine.perCpuSecond / floor.perCpuSecond,
      target: '>= 1,000,000 events/s per core',
      met: judged ? engine.perCpuSecond >= TARGET_EVENTS_PER_S : undefined,
      detail: {
        events: events.length,
        passes,
        matches: engine.outputs,
        wallEventsPerS: Math.round(engine.perSecond),
        floorWallEventsPerS: Math.round(floor.perSecond),
      },
    },
    {
      id: 'engine.detection-processor',
      path: 'detector per-partition processor: the same rule set plus alert building',
      figure: Math.round(processor.perCpuSecond),
      unit: 'events/s',
      floorName: 'bare RxJS Subject -> filter -> Map over the same events',
      floor: Math.round(floor.perCpuSecond),
      ratio: processor.perCpuSecond / floor.perCpuSecond,
      target: '>= 1,000,000 events/s per core',
      met: judged ? processor.perCpuSecond >= TARGET_EVENTS_PER_S : undefined,
      detail: { alerts: processor.outputs, wallEventsPerS: Math.round(processor.perSecond) },
    },
    {
      id: 'engine.open-keys',
      path: `engine, cost per event at ${manyKeys.toLocaleString('en-US')} open keys vs ${fewKeys}`,
      figure: Math.round(many.nsPerEvent),
      unit: 'ns/event',
      floorName: `the same events with ${fewKeys} open keys`,
      floor: Math.round(few.nsPerEvent),
      ratio: keyRatio,
      target: `<= ${MAX_KEY_COST_RATIO}x floor`,
      met: judged ? keyRatio <= MAX_KEY_COST_RATIO : undefined,
      detail: { openPartialsMany: many.open, openPartialsFew: few.open, measuredEvents: measuredCount },
    },
    {
      id: 'engine.single-rule',
      path: 'one rule (the remote-SAM sequence) through createCorrelationPipeline',
      figure: Math.round(wrapped.perCpuSecond),
      unit: 'events/s',
      floorName: 'the same rule through a one-rule createRuleSetPipeline',
      floor: Math.round(direct.perCpuSecond),
      ratio: wrapped.perCpuSecond / direct.perCpuSecond,
      target: '>= 95 % of floor (the wrapper adds nothing per event)',
      met: judged ? wrapped.perCpuSecond >= 0.95 * direct.perCpuSecond : undefined,
      detail: { matches: wrapped.outputs },
    },
  ];
}
