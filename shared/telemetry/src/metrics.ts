import type { Attributes, Histogram, Meter } from '@opentelemetry/api';

/**
 * A monotonic count the hot path increments with one property addition. The OpenTelemetry SDK reads it
 * when Prometheus scrapes (an observable counter), because a synchronous `counter.add(n, attributes)`
 * hashes its attributes on every call: about ten times the cost of this, per event.
 */
export class Count {
  value = 0;
  /** @internal */
  constructor(readonly attributes: Readonly<Attributes>) {}
  add(n = 1): void {
    this.value += n;
  }
}

/** Counts that differ by one attribute (topic, reason, rule), each handle made once and reused. */
class CountFamily {
  private readonly counts = new Map<string, Count>();

  constructor(
    meter: Meter,
    name: string,
    options: { readonly description: string; readonly unit: string },
    private readonly attribute: string,
  ) {
    meter.createObservableCounter(name, options).addCallback((result) => {
      for (const count of this.counts.values()) result.observe(count.value, count.attributes);
    });
  }

  get(value: string): Count {
    let count = this.counts.get(value);
    if (count === undefined) {
      count = new Count(Object.freeze({ [this.attribute]: value }));
      this.counts.set(value, count);
    }
    return count;
  }
}

/**
 * Engine counters read at each scrape (`@sequor/engine`'s `CorrelationStats` fits, and so do the
 * pipeline's per-partition and per-rule stats). Every field is optional: a source reports what it has
 * (a partition's late/buffered counts, a rule's open partials), and only reported fields are exported.
 */
export interface EngineStatsLike {
  readonly late?: number;
  readonly invalidTime?: number;
  readonly evictedByWindow?: number;
  readonly evictedByCap?: number;
  readonly evictedByBytes?: number;
  readonly forcedReleases?: number;
  readonly buffered?: number;
  readonly bufferedBytes?: number;
  readonly stateBytes?: number;
  readonly openPartials?: number;
  readonly keys?: number;
}

/**
 * One engine pipeline's stats, under the rule it runs (the `rule` label), or without a rule for
 * stats kept per partition. Entries with the same rule (or none) are added up.
 */
export interface EngineStatsEntry {
  readonly rule?: string;
  readonly stats: EngineStatsLike;
}

const ENGINE_FIELDS = [
  'late',
  'invalidTime',
  'evictedByWindow',
  'evictedByCap',
  'evictedByBytes',
  'forcedReleases',
  'buffered',
  'bufferedBytes',
  'stateBytes',
  'openPartials',
  'keys',
] as const;
type EngineTotals = { [K in (typeof ENGINE_FIELDS)[number]]?: number };

/** End-to-end latency buckets in seconds: sub-second for single-event rules, up to the 1 h span aggregations. */
export const ALERT_LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200,
];

/** Metric names, as the OpenTelemetry SDK knows them; Prometheus shows `.` as `_` and adds `_total` to counters. */
export const METRIC_NAMES = {
  recordsIn: 'sequor.records.in',
  recordsOut: 'sequor.records.out',
  deadLetters: 'sequor.dead_letters',
  alerts: 'sequor.alerts',
  alertLatency: 'sequor.alert.latency',
  consumerLag: 'sequor.consumer.lag',
  lateEvents: 'sequor.engine.late_events',
  evictions: 'sequor.engine.evictions',
  openPartials: 'sequor.engine.open_partials',
  stateKeys: 'sequor.engine.keys',
  buffered: 'sequor.engine.buffered',
  forcedReleases: 'sequor.engine.forced_releases',
  bufferedBytes: 'sequor.engine.buffered_bytes',
  stateBytes: 'sequor.engine.state_bytes',
  rulesRunning: 'sequor.rules.running',
  ruleChanges: 'sequor.rules.changes',
  ruleInfo: 'sequor.rule.info',
  ruleSetRevision: 'sequor.rules.revision',
} as const;

/** What a detector's rule catalog reports at each scrape (`addRuleCatalogSource`). */
export interface RuleCatalogMetrics {
  /** The rule-set revision running now (the rules topic position it started at). */
  readonly revision: number;
  /** Rule-catalog steps since start, by kind (loaded, changed, refused, removed, list-..., malformed). */
  readonly changes: Readonly<Record<string, number>>;
  /** The rules running now. `revision`: the rule's content revision, null for built-in / RULES_DIR rules. */
  readonly rules: readonly {
    readonly id: string;
    readonly name: string;
    readonly version: number;
    readonly revision: string | null;
  }[];
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

interface LagEntry {
  readonly attributes: Readonly<Attributes>;
  lag: number;
}

/**
 * Sequor's service metrics on an OpenTelemetry meter (exported on `/metrics`). Counters are handles
 * resolved once per topic/reason/rule and incremented on the hot path; gauges are read at scrape time.
 *
 * ```ts
 * const recordsIn = metrics.recordsIn('normalized');     // once
 * recordsIn.add(batch.records.length);                   // per batch (or per record)
 * metrics.setConsumerLag(batch.topic, batch.partition, lagOf(batch));
 * ```
 */
export class SequorMetrics {
  private readonly recordsInFamily: CountFamily;
  private readonly recordsOutFamily: CountFamily;
  private readonly deadLetterFamily: CountFamily;
  private readonly alertFamily: CountFamily;
  private readonly latency: Histogram;
  private readonly latencyAttributes = new Map<string, Readonly<Attributes>>();
  private readonly lag = new Map<string, LagEntry>();
  private readonly engineSources = new Set<() => Iterable<EngineStatsEntry>>();
  private ruleCatalog: (() => RuleCatalogMetrics) | null = null;

  constructor(meter: Meter) {
    this.recordsInFamily = new CountFamily(
      meter,
      METRIC_NAMES.recordsIn,
      { description: 'Records consumed, by topic.', unit: '{record}' },
      'topic',
    );
    this.recordsOutFamily = new CountFamily(
      meter,
      METRIC_NAMES.recordsOut,
      { description: 'Records produced (acknowledged), by topic.', unit: '{record}' },
      'topic',
    );
    this.deadLetterFamily = new CountFamily(
      meter,
      METRIC_NAMES.deadLetters,
      { description: 'Records sent to the dead-letter topic, by reason.', unit: '{record}' },
      'reason',
    );
    this.alertFamily = new CountFamily(
      meter,
      METRIC_NAMES.alerts,
      { description: 'Alerts raised, by rule.', unit: '{alert}' },
      'rule',
    );
    this.latency = meter.createHistogram(METRIC_NAMES.alertLatency, {
      description:
        'End-to-end latency: from the event time of the alert\u2019s last evidence event to the alert.',
      unit: 's',
      advice: { explicitBucketBoundaries: [...ALERT_LATENCY_BUCKETS_SECONDS] },
    });
    meter
      .createObservableGauge(METRIC_NAMES.consumerLag, {
        description:
          'Records between the last processed offset and the high watermark, by topic and partition.',
        unit: '{record}',
      })
      .addCallback((result) => {
        for (const entry of this.lag.values()) result.observe(entry.lag, entry.attributes);
      });
    this.observeEngine(meter);
    this.observeRuleCatalog(meter);
  }

  /** Reads the rule catalog at each scrape (one source: the detector's); replaces an earlier one. */
  setRuleCatalogSource(read: () => RuleCatalogMetrics): void {
    this.ruleCatalog = read;
  }

  private observeRuleCatalog(meter: Meter): void {
    const running = meter.createObservableGauge(METRIC_NAMES.rulesRunning, {
      description: 'Rules running now.',
      unit: '{rule}',
    });
    const changes = meter.createObservableCounter(METRIC_NAMES.ruleChanges, {
      description:
        'Rule catalog steps from the rules topic, by kind: loaded, changed, refused, removed, unchanged, list-loaded, list-changed, list-removed, list-refused, malformed.',
      unit: '{change}',
    });
    const info = meter.createObservableGauge(METRIC_NAMES.ruleInfo, {
      description: 'One series per running rule (value 1): its id, name, version and content revision.',
    });
    const revision = meter.createObservableGauge(METRIC_NAMES.ruleSetRevision, {
      description: 'The rule-set revision running now: the rules topic position it started at.',
    });
    meter.addBatchObservableCallback(
      (result) => {
        const read = this.ruleCatalog;
        if (read === null) return;
        const catalog = read();
        result.observe(running, catalog.rules.length);
        result.observe(revision, catalog.revision);
        for (const kind in catalog.changes) result.observe(changes, catalog.changes[kind] ?? 0, { kind });
        for (const rule of catalog.rules)
          result.observe(info, 1, {
            rule_id: rule.id,
            rule: rule.name,
            version: rule.version,
            revision: rule.revision ?? '',
          });
      },
      [running, changes, info, revision],
    );
  }

  /** Records consumed from `topic`. */
  recordsIn(topic: string): Count {
    return this.recordsInFamily.get(topic);
  }

  /** Records produced to `topic` (count them when acknowledged). */
  recordsOut(topic: string): Count {
    return this.recordsOutFamily.get(topic);
  }

  /** Records dead-lettered for `reason` (an error class name or policy reason: a small, fixed set). */
  deadLetters(reason: string): Count {
    return this.deadLetterFamily.get(reason);
  }

  /** Alerts raised by `rule` (the rule name). */
  alerts(rule: string): Count {
    return this.alertFamily.get(rule);
  }

  /** One alert's end-to-end latency: `nowMs` minus the event time of its last evidence event. */
  recordAlertLatency(rule: string, eventTimeMs: number, nowMs: number): void {
    let attributes = this.latencyAttributes.get(rule);
    if (attributes === undefined) {
      attributes = Object.freeze({ rule });
      this.latencyAttributes.set(rule, attributes);
    }
    this.latency.record(Math.max(0, nowMs - eventTimeMs) / 1000, attributes);
  }

  /** The partition's current lag; see `consumerLag`. */
  setConsumerLag(topic: string, partition: number, lag: number): void {
    const key = partitionKey(topic, partition);
    const entry = this.lag.get(key);
    if (entry !== undefined) entry.lag = lag;
    else this.lag.set(key, { attributes: Object.freeze({ topic, partition }), lag });
  }

  /** Stops reporting a partition's lag (it was revoked); without arguments, every partition's. */
  clearConsumerLag(topic?: string, partition?: number): void {
    if (topic === undefined || partition === undefined) this.lag.clear();
    else this.lag.delete(partitionKey(topic, partition));
  }

  /**
   * Reads engine stats at each scrape: late events and evictions as counters, open partials, keys and
   * buffered events as gauges, by rule where the entry names one. Returns a function that stops reading
   * this source. A service that gets stats pushed on an interval keeps the last ones and returns them.
   */
  addEngineStatsSource(read: () => Iterable<EngineStatsEntry>): () => void {
    this.engineSources.add(read);
    return () => {
      this.engineSources.delete(read);
    };
  }

  private observeEngine(meter: Meter): void {
    const late = meter.createObservableCounter(METRIC_NAMES.lateEvents, {
      description:
        'Events behind the watermark on arrival (reason=late) or without a usable time (reason=invalid_time), by rule.',
      unit: '{event}',
    });
    const evictions = meter.createObservableCounter(METRIC_NAMES.evictions, {
      description:
        'Partial matches dropped: window passed by the watermark (cause=window), state cap reached (cause=cap) or state byte bound reached (cause=bytes), by rule.',
      unit: '{partial}',
    });
    const openPartials = meter.createObservableGauge(METRIC_NAMES.openPartials, {
      description: 'Open partial sequences, partial joins and open aggregation buckets, by rule.',
      unit: '{partial}',
    });
    const keys = meter.createObservableGauge(METRIC_NAMES.stateKeys, {
      description: 'Entries in the engine\u2019s keyed state maps, by rule.',
      unit: '{key}',
    });
    const buffered = meter.createObservableGauge(METRIC_NAMES.buffered, {
      description: 'Events held by the reorder buffer until the watermark passes them, by rule.',
      unit: '{event}',
    });
    const forced = meter.createObservableCounter(METRIC_NAMES.forcedReleases, {
      description:
        'Events the reorder buffer released before the watermark passed them because it reached its byte bound.',
      unit: '{event}',
    });
    const bufferedBytes = meter.createObservableGauge(METRIC_NAMES.bufferedBytes, {
      description: 'Estimated bytes of the events held by the reorder buffer.',
      unit: 'By',
    });
    const stateBytes = meter.createObservableGauge(METRIC_NAMES.stateBytes, {
      description: 'Estimated bytes of partial-match state (retained events included), by rule.',
      unit: 'By',
    });
    meter.addBatchObservableCallback(
      (result) => {
        // Keyed by rule; undefined = stats not kept per rule.
        const totals = new Map<string | undefined, EngineTotals>();
        for (const read of this.engineSources) {
          for (const { rule, stats } of read()) {
            let total = totals.get(rule);
            if (total === undefined) {
              total = {};
              totals.set(rule, total);
            }
            for (const field of ENGINE_FIELDS) {
              const value = stats[field];
              if (value !== undefined) total[field] = (total[field] ?? 0) + value;
            }
          }
        }
        for (const [rule, total] of totals) {
          const by = (extra: Attributes): Attributes => (rule === undefined ? extra : { rule, ...extra });
          if (total.late !== undefined) result.observe(late, total.late, by({ reason: 'late' }));
          if (total.invalidTime !== undefined)
            result.observe(late, total.invalidTime, by({ reason: 'invalid_time' }));
          if (total.evictedByWindow !== undefined) {
            result.observe(evictions, total.evictedByWindow, by({ cause: 'window' }));
          }
          if (total.evictedByCap !== undefined)
            result.observe(evictions, total.evictedByCap, by({ cause: 'cap' }));
          if (total.evictedByBytes !== undefined)
            result.observe(evictions, total.evictedByBytes, by({ cause: 'bytes' }));
          if (total.forcedReleases !== undefined) result.observe(forced, total.forcedReleases, by({}));
          if (total.bufferedBytes !== undefined) result.observe(bufferedBytes, total.bufferedBytes, by({}));
          if (total.stateBytes !== undefined) result.observe(stateBytes, total.stateBytes, by({}));
          if (total.openPartials !== undefined) result.observe(openPartials, total.openPartials, by({}));
          if (total.keys !== undefined) result.observe(keys, total.keys, by({}));
          if (total.buffered !== undefined) result.observe(buffered, total.buffered, by({}));
        }
      },
      [late, evictions, openPartials, keys, buffered, forced, bufferedBytes, stateBytes],
    );
  }
}

/** A consumed batch's lag after its last record: high watermark minus last offset minus one. */
export function consumerLagAfter(batch: {
  readonly highWatermark: string;
  readonly records: readonly { readonly offset: string }[];
}): number {
  const last = batch.records[batch.records.length - 1];
  if (last === undefined) return 0;
  return Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1);
}
