/**
 * The generator's pipeline, as a lazy stream of lines:
 *
 *   planned scenario events ─┐
 *                            ├─ merge by event time ─► write in the host's format ─► per-file arrival
 *   noise stories (lazy) ────┘   (record ids assigned     (winlogbeat, ecs,            jitter (bounded
 *                                 in event-time order)     flat-windows, zeek)          heap) ─► lines
 *
 * Memory stays bounded by the jitter window and the noise stories in flight, whatever the size. Line
 * numbers are counted as lines leave, which is where ground truth learns where its evidence landed.
 */
import { BinaryHeap, SequorError } from '@sequor/model';
import type { RawEvent } from './events.js';
import { endpointLine } from './formats/endpoint.js';
import { flatWindowsLine } from './formats/flat-windows.js';
import { winlogbeatLine } from './formats/winlogbeat.js';
import { zeekFooter, zeekHeader, zeekJsonLine, zeekTsvLine } from './formats/zeek.js';
import type {
  EvidenceRef,
  FileFormat,
  GroundTruth,
  GroundTruthAlert,
  GroundTruthFile,
  GroundTruthNearMiss,
} from './ground-truth.js';
import { GENERATOR_NAME, GENERATOR_VERSION } from './ground-truth.js';
import type { HeapItem } from './heap.js';
import { keyThenSeq } from './heap.js';
import { NoiseGenerator } from './noise.js';
import type { ResolvedScenarioOptions, ScenarioOptions } from './options.js';
import { resolveOptions } from './options.js';
import { Rng, seedToUint32 } from './random.js';
import type { RuleSlug } from './rules.js';
import { RULE_SLUGS } from './rules.js';
import type { Plan } from './scenarios/index.js';
import { planScenarios } from './scenarios/index.js';
import type { TimedEvent } from './timeline.js';
import { LogonReservations } from './timeline.js';
import type { Host, World } from './world.js';
import { buildWorld } from './world.js';

/** Relative paths of the generated files. */
export const SCENARIO_FILES = {
  winlogbeat: 'winlogbeat.ndjson',
  endpoint: 'endpoint.ndjson',
  flatWindows: 'flat-windows.ndjson',
  zeek: 'zeek/dce_rpc.log',
  zeekJson: 'zeek/dce_rpc.json',
  groundTruth: 'ground-truth.json',
} as const;

/** One line of one generated file (without its newline), in the order lines are written. */
export interface ScenarioRecord {
  readonly file: string;
  readonly line: string;
  /** 1-based position in `file`: what ground truth's evidence refers to. */
  readonly lineNumber: number;
}

/** Misuse of a ScenarioStream (ground truth asked for before the lines were all read, records read twice). */
export class ScenarioStreamError extends SequorError {}

type StreamName = 'winlogbeat' | 'endpoint' | 'flatWindows' | 'zeek';
const STREAM_ORDER: readonly StreamName[] = ['winlogbeat', 'endpoint', 'flatWindows', 'zeek'];

interface Pending extends HeapItem {
  readonly key: number;
  readonly seq: number;
  readonly ts: number;
  readonly line: string;
  /** The Zeek JSON rendering of the same row (when zeekJson). */
  readonly mirror: string | null;
  readonly tag: number;
  readonly late: boolean;
}

/**
 * Arrival order within one file: each line gets key = event time + uniform jitter in [0, maxJitter]
 * and leaves in key order once an event with a larger time has been written (every later line's key
 * is at least its time). A line thus arrives before any line more than maxJitter ms newer. A late
 * event takes its anchor's key and leaves right after it.
 */
class ArrivalShuffler {
  private readonly heap = new BinaryHeap<Pending>(keyThenSeq);
  private seq = 0;

  constructor(
    private readonly maxJitter: number,
    private readonly rng: Rng,
  ) {}

  push(ts: number, line: string, mirror: string | null, tag: number): number {
    const key = this.maxJitter === 0 ? ts : ts + this.rng.int(this.maxJitter + 1);
    this.heap.push({ key, seq: this.seq++, ts, line, mirror, tag, late: false });
    return key;
  }

  pushAfter(key: number, ts: number, line: string, mirror: string | null): void {
    this.heap.push({ key, seq: this.seq++, ts, line, mirror, tag: -1, late: true });
  }

  releaseBefore(ts: number, out: Pending[]): void {
    for (let top = this.heap.peek(); top !== undefined && top.key < ts; top = this.heap.peek())
      out.push(this.heap.pop() as Pending);
  }

  drain(out: Pending[]): void {
    for (let p = this.heap.pop(); p !== undefined; p = this.heap.pop()) out.push(p);
  }
}

interface FileState {
  readonly path: string;
  readonly format: FileFormat;
  readonly encoding: GroundTruthFile['encoding'];
  lines: number;
  events: number;
  late: number;
}

/**
 * A generation run: construct it, read `records()` to the end (once), then ask for `groundTruth()`.
 * `generateScenario` and `writeScenario` are built on it; use it directly to feed lines elsewhere
 * (a Kafka producer) without files.
 */
export class ScenarioStream {
  readonly options: ResolvedScenarioOptions;
  readonly world: World;
  private readonly plan: Plan;
  private readonly rootRng: Rng;
  private readonly reservations = new LogonReservations();
  private readonly files: Record<StreamName | 'zeekJson', FileState>;
  private readonly tagRefs: (EvidenceRef | undefined)[];
  private started = false;
  private finished = false;
  private noiseEvents = 0;
  private lateEvents = 0;

  constructor(options: ScenarioOptions = {}) {
    this.options = resolveOptions(options);
    this.rootRng = new Rng(seedToUint32(this.options.seed));
    this.world = buildWorld(
      this.rootRng.fork('world'),
      this.options.hosts,
      this.options.users,
      this.options.startMs,
    );
    this.plan = planScenarios(this.world, this.options, this.rootRng.fork('scenarios'), this.reservations);
    this.tagRefs = new Array<EvidenceRef | undefined>(this.plan.events.length);
    const file = (path: string, format: FileFormat, encoding: GroundTruthFile['encoding']): FileState => ({
      path,
      format,
      encoding,
      lines: 0,
      events: 0,
      late: 0,
    });
    this.files = {
      winlogbeat: file(SCENARIO_FILES.winlogbeat, 'winlogbeat', 'ndjson'),
      endpoint: file(SCENARIO_FILES.endpoint, 'ecs', 'ndjson'),
      flatWindows: file(SCENARIO_FILES.flatWindows, 'flat-windows', 'ndjson'),
      zeek: file(SCENARIO_FILES.zeek, 'zeek-dce-rpc', 'zeek-tsv'),
      zeekJson: file(SCENARIO_FILES.zeekJson, 'zeek-dce-rpc', 'zeek-json'),
    };
  }

  /** Paths of the data files this run writes (ground-truth.json not included). */
  get paths(): readonly string[] {
    const out: string[] = [
      SCENARIO_FILES.winlogbeat,
      SCENARIO_FILES.endpoint,
      SCENARIO_FILES.flatWindows,
      SCENARIO_FILES.zeek,
    ];
    if (this.options.zeekJson) out.push(SCENARIO_FILES.zeekJson);
    return out;
  }

  /** Every line of every file, lazily; each file's lines in that file's order. Can be read once. */
  *records(): Generator<ScenarioRecord, void, undefined> {
    if (this.started) throw new ScenarioStreamError('records() can be read only once per ScenarioStream');
    this.started = true;
    const opts = this.options;
    const scenarioEvents = this.plan.inTimeOrder();
    const noise = new NoiseGenerator(
      this.world,
      opts,
      this.rootRng.fork('noise'),
      this.rootRng.fork('late'),
      this.reservations,
      Math.max(0, opts.events - scenarioEvents.length),
    );
    const writeRng = this.rootRng.fork('write');
    const arrivalRng = this.rootRng.fork('arrival');
    const shufflers: Record<StreamName, ArrivalShuffler> = {
      winlogbeat: new ArrivalShuffler(opts.outOfOrder, arrivalRng.fork('winlogbeat')),
      endpoint: new ArrivalShuffler(opts.outOfOrder, arrivalRng.fork('endpoint')),
      flatWindows: new ArrivalShuffler(opts.outOfOrder, arrivalRng.fork('flat-windows')),
      zeek: new ArrivalShuffler(opts.outOfOrder, arrivalRng.fork('zeek')),
    };
    const zeekJson = opts.zeekJson;

    for (const line of zeekHeader(opts.startMs)) yield this.out('zeek', line, -1, false, false);
    let lastTs = opts.startMs;
    const ready: Pending[] = [];
    const out: ScenarioRecord[] = [];
    let i = 0;
    for (;;) {
      const planned = scenarioEvents[i];
      const noiseTs = noise.peekTs();
      let item: TimedEvent;
      if (planned !== undefined && (noiseTs === undefined || planned.key <= noiseTs)) {
        item = planned;
        i++;
      } else if (noiseTs !== undefined) {
        item = noise.pop() as TimedEvent;
      } else {
        break;
      }
      if (item.key > lastTs) lastTs = item.key;
      const stream = streamOf(item.host, item.ev);
      const shuffler = shufflers[stream];
      shuffler.releaseBefore(item.key, ready);
      if (ready.length > 0) {
        for (const p of ready) this.emit(stream, p, out);
        ready.length = 0;
        for (const r of out) yield r;
        out.length = 0;
      }
      const key = shuffler.push(
        item.key,
        this.write(item.host, item.key, item.ev, writeRng),
        zeekJson && item.ev.kind === 'zeek' ? zeekJsonLine(item.key, item.ev) : null,
        item.tag,
      );
      const f = item.follower;
      if (f !== null) {
        if (streamOf(f.host, f.ev) !== stream)
          throw new ScenarioStreamError('a late event must go to the same file as its anchor');
        shuffler.pushAfter(
          key,
          f.key,
          this.write(f.host, f.key, f.ev, writeRng),
          zeekJson && f.ev.kind === 'zeek' ? zeekJsonLine(f.key, f.ev) : null,
        );
      }
    }
    for (const name of STREAM_ORDER) {
      shufflers[name].drain(ready);
      for (const p of ready) this.emit(name, p, out);
      ready.length = 0;
      for (const r of out) yield r;
      out.length = 0;
    }
    yield this.out('zeek', zeekFooter(lastTs), -1, false, false);
    this.noiseEvents = noise.emitted;
    this.lateEvents = noise.lateEmitted;
    this.finished = true;
  }

  private emit(stream: StreamName, p: Pending, out: ScenarioRecord[]): void {
    out.push(this.out(stream, p.line, p.tag, p.late, true));
    if (p.mirror !== null) {
      const j = this.files.zeekJson;
      j.lines++;
      j.events++;
      if (p.late) j.late++;
      out.push({ file: j.path, line: p.mirror, lineNumber: j.lines });
    }
  }

  private out(
    stream: StreamName,
    line: string,
    tag: number,
    late: boolean,
    isEvent: boolean,
  ): ScenarioRecord {
    const f = this.files[stream];
    f.lines++;
    if (isEvent) f.events++;
    if (late) f.late++;
    if (tag >= 0) this.tagRefs[tag] = { file: f.path, line: f.lines };
    return { file: f.path, line, lineNumber: f.lines };
  }

  private write(host: Host | null, ts: number, ev: RawEvent, rng: Rng): string {
    switch (ev.kind) {
      case 'zeek':
        return zeekTsvLine(ts, ev);
      case 'file':
        return endpointLine(host as Host, ts, ev, rng);
      case 'win':
        return (host as Host).flat
          ? flatWindowsLine(host as Host, ts, ev)
          : winlogbeatLine(host as Host, ts, ev, rng);
      default: {
        const never: never = ev;
        throw new ScenarioStreamError(`unknown event kind ${JSON.stringify(never)}`);
      }
    }
  }

  /** Ground truth for the lines read; available once `records()` has been read to the end. */
  groundTruth(): GroundTruth {
    if (!this.finished)
      throw new ScenarioStreamError('groundTruth() is known only after records() has been read to the end');
    const ref = (tag: number): EvidenceRef => {
      const r = this.tagRefs[tag];
      if (r === undefined) throw new ScenarioStreamError(`planned event ${tag} was never written`);
      return r;
    };
    const iso = (ms: number): string => new Date(ms).toISOString();
    const alerts: GroundTruthAlert[] = this.plan.alerts.map((a) => {
      const times = a.tags.map((t) => this.plan.ts(t));
      return {
        rule: a.rule,
        scenario: a.scenario,
        benign: a.benign,
        entity: a.entity,
        evidence: a.tags.map(ref),
        first_time: iso(Math.min(...times)),
        last_time: iso(Math.max(...times)),
      };
    });
    alerts.sort(
      (x, y) =>
        cmp(x.rule, y.rule) || cmp(x.first_time, y.first_time) || cmpRef(x.evidence[0], y.evidence[0]),
    );
    const nearMisses: GroundTruthNearMiss[] = this.plan.nearMisses.map((n) => ({
      rule: n.rule,
      kind: n.kind,
      description: n.description,
      evidence: n.tags.map(ref),
    }));
    nearMisses.sort(
      (x, y) => cmp(x.rule, y.rule) || cmpRef(x.evidence[0], y.evidence[0]) || cmp(x.kind, y.kind),
    );

    const byRule = (items: readonly { rule: RuleSlug }[]): Record<RuleSlug, number> => {
      const out = {} as Record<RuleSlug, number>;
      for (const slug of RULE_SLUGS) out[slug] = items.filter((x) => x.rule === slug).length;
      return out;
    };
    const files: GroundTruthFile[] = [];
    for (const name of [...STREAM_ORDER, 'zeekJson'] as const) {
      if (name === 'zeekJson' && !this.options.zeekJson) continue;
      const f = this.files[name];
      files.push({
        path: f.path,
        format: f.format,
        encoding: f.encoding,
        lines: f.lines,
        events: f.events,
        late: f.late,
        ...(name === 'zeekJson'
          ? { mirrors: { path: SCENARIO_FILES.zeek, lineOffset: -zeekHeader(0).length } }
          : {}),
      });
    }
    const { startMs: _startMs, ...options } = this.options;
    const events = STREAM_ORDER.reduce((n, s) => n + this.files[s].events, 0);
    return {
      generator: { name: GENERATOR_NAME, version: GENERATOR_VERSION, seed: this.options.seed, options },
      files,
      alerts,
      near_misses: nearMisses,
      counts: {
        events,
        noise_events: this.noiseEvents,
        scenario_events: this.plan.events.length,
        late: this.lateEvents,
        late_by_ms: this.options.lateByMs,
        out_of_order_ms: this.options.outOfOrder,
        alerts: alerts.length,
        benign_alerts: alerts.filter((a) => a.benign).length,
        alerts_by_rule: byRule(alerts),
        near_misses: nearMisses.length,
        near_misses_by_rule: byRule(nearMisses),
        hosts: {
          total: this.world.hosts.length,
          agent: this.world.agentHosts.length,
          flat: this.world.flatHosts.length,
        },
        users: this.world.users.length,
      },
    };
  }
}

function streamOf(host: Host | null, ev: RawEvent): StreamName {
  if (ev.kind === 'zeek') return 'zeek';
  if (ev.kind === 'file') {
    if (host === null || host.flat)
      throw new ScenarioStreamError('an Endpoint file event needs a host with an Elastic agent');
    return 'endpoint';
  }
  if (host === null) throw new ScenarioStreamError('a Windows event needs a host');
  return host.flat ? 'flatWindows' : 'winlogbeat';
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpRef(a: EvidenceRef | undefined, b: EvidenceRef | undefined): number {
  if (a === undefined || b === undefined) return 0;
  return cmp(a.file, b.file) || a.line - b.line;
}
