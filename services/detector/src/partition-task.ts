/**
 * One input partition's detection, as one Kafka Streams task: decode each record, push its event into
 * the partition's `DetectionProcessor` (all rules, one watermark), and turn what comes out into records
 * to produce. Pure and synchronous; the detector service runs one per assigned partition and commits
 * each call's output together with the offsets in one transaction.
 *
 * A task starts at a restore point below the committed offset (`liveFrom`): records below `liveFrom` are
 * replayed to rebuild the rule state, and what they raise (alerts, late events, dead letters) is
 * suppressed, because the first run committed it. The engine raises everything synchronously inside
 * `push`, so each output is attributed to the record being pushed.
 *
 * Each event is pushed with its record's Kafka timestamp: an event more than `maxFutureSkewMs` ahead of
 * it is dead-lettered as `future-timestamp` and moves neither the watermark nor the restore tracker.
 * The record timestamp is stored with the record, so a replay refuses exactly the same events.
 *
 * A rule that throws on a record's event (a bug in one rule) counts as not matched there; the other rules
 * still see the event, and the record is dead-lettered once as `rule-error` naming the rules that threw.
 * A replay throws the same way, so it rebuilds the same state.
 *
 * Idle partitions (`advanceIdle`, called by the runner's idle rule on the wall clock): once the
 * partition has had no records for a while, stream time advances to the stream time it had when the
 * quiet began plus the wall-clock time elapsed since its last record arrived, and only when that
 * releases buffered events (otherwise nothing changes and nothing is committed). It never passes what a
 * record arriving now could carry under the skew rule: stream time is at most the largest record
 * timestamp + `maxFutureSkewMs` (the guard refuses anything further), and the record clock and the
 * advance both move on by the elapsed time. The alerts the release completes, the advance in the
 * restore point's metadata and the unchanged offset commit in one transaction. A replay applies each
 * recorded advance (`advances`, from the committed metadata) before the record at its offset, with its
 * output suppressed like a replayed record's: the same watermarks, so the same events are late and the
 * same alerts recognised.
 *
 * ```ts
 * const task = new PartitionTask({ topic, partition, rules, decode, ..., startOffset: 900, liveFrom: 1000 });
 * const out = task.process(batch.records);     // 900..999 replayed silently, 1000.. live
 * await tx.send(out.records); await tx.sendOffsets(group, [{ topic, partition, offset: String(out.commitOffset), metadata }]);
 * ```
 */
import type { ConsumedRecord, ProducerRecord, RecordHeaders } from '@sequor/kafka';
import type { LateEvent } from '@sequor/engine';
import type { AlertUpdate, SequorEvent } from '@sequor/model';
import { PoisonRecordHandler } from '@sequor/kafka';
import { CodecError, SequorError } from '@sequor/model';
import type { DetectionProcessor, DetectionStats, RulesReplaced } from '@sequor/pipeline';
import { createDetectionProcessor, NORMALIZED_HEADERS } from '@sequor/pipeline';
import type { Alert, CompiledRule } from '@sequor/rules';
import type { AlertEncoder, AlertUpdateEncoder, RecordPosition } from './outputs.js';
import {
  ALERT_HEADERS,
  alertRecord,
  alertUpdateRecord,
  detectorDeadLetter,
  FutureTimestampError,
  lateEventRecord,
  RuleEvaluationError,
  type RuleFailure,
} from './outputs.js';
import type { RestorePoint, RuleSetSwitch, StreamTask, StreamTimeAdvance } from '@sequor/streams';
import type { RuleSetHistory } from './rules-topic.js';
import { RestorePointTracker } from '@sequor/streams';

export interface PartitionTaskOptions {
  readonly topic: string;
  readonly partition: number;
  /** Compiled once, shared by every task. */
  readonly rules: readonly CompiledRule[];
  /** Value bytes to event; throws CodecError for a record that does not decode. Synchronous. */
  readonly decode: (value: Buffer) => SequorEvent;
  readonly alertEncoder: AlertEncoder;
  readonly alertsTopic: string;
  /**
   * Where the update records of rules with `suppress` go, and how they are encoded; both or neither.
   * Without them updates are dropped (a task whose rules have no `suppress` raises none).
   */
  readonly alertUpdates?: { readonly topic: string; readonly encoder: AlertUpdateEncoder } | undefined;
  readonly lateEventsTopic: string;
  readonly deadLetterTopic: string;
  readonly allowedLatenessMs: number;
  readonly maxOpenPartials?: number | undefined;
  /** Engine bounds (config: MAX_FUTURE_SKEW_MS, REORDER_MAX_BYTES, STATE_MAX_BYTES); engine defaults when absent. */
  readonly maxFutureSkewMs?: number | undefined;
  readonly maxBufferedBytes?: number | undefined;
  readonly maxStateBytes?: number | undefined;
  /** Alert detection time. */
  readonly clock: () => number;
  /** `restoreHorizonMs(...)` of the rule set. */
  readonly horizonMs: number;
  /** The first offset this task processes (the restore point, or `liveFrom` without one). */
  readonly startOffset: number;
  /** The committed offset: output of records below it is suppressed. */
  readonly liveFrom: number;
  /**
   * Stream-time advances the previous owner committed (`RestorePoint.advances` of the committed
   * metadata), in order: each is applied before the record at its offset, its output suppressed.
   */
  readonly advances?: readonly StreamTimeAdvance[] | undefined;
  /** The `sequor.partition-key-fields` value records must carry (when they carry the header at all). */
  readonly partitionKeyFields: string;
  /**
   * Rule hot reload (`RULES_TOPIC`): the rules of each rule-set revision and the newest. With it, `rules`
   * is not used: the task starts with the revision the committed metadata records (`recordedRuleSets`)
   * or, without one, the newest; replays each recorded switch at its offset; and switches to the newest
   * at the first live record of a batch, recording the switch in the restore metadata it commits.
   */
  readonly ruleSets?: RuleSetHistory | undefined;
  /** `RestorePoint.ruleSets` of the committed metadata, in order. */
  readonly recordedRuleSets?: readonly RuleSetSwitch[] | undefined;
  /**
   * What becomes of a live record that does not decode. Default: `continue`, dead-lettered with the
   * codec's reason (`detectorDeadLetter`) in the batch's transaction.
   */
  readonly poison?: PoisonRecordHandler;
}

/** The detection span of an alert: its trace id goes into `Alert.trace_id`, its context into the record's headers. */
export interface AlertTrace {
  readonly traceId: string;
  readonly headers: RecordHeaders;
}

/**
 * Follows one `process` call record by record; where tracing hooks in. For each record, in order:
 * `recordStarted`, `eventDecoded` (unless it does not decode), `alertRaised` for each live alert its event
 * completes, `recordFinished`. Called synchronously on the hot path: cheap, and never throwing.
 */
export interface RecordObserver {
  /** `live`: false while replaying records below `liveFrom` to rebuild state (their output is suppressed). */
  recordStarted(record: ConsumedRecord, live: boolean): void;
  eventDecoded(event: SequorEvent): void;
  /** `evidence`: the decoded event objects, in `alert.evidence` order. Returns the alert's trace, if any. */
  alertRaised(alert: Alert, evidence: readonly SequorEvent[]): AlertTrace | undefined;
  /** `error`: the record was dead-lettered because of it. */
  recordFinished(error?: unknown): void;
}

export interface TaskOutput {
  /** Alerts, late events and dead letters raised by live records, in the order they were raised. */
  readonly records: ProducerRecord[];
  readonly alerts: number;
  /** The live alerts, as produced (metrics: alerts by rule, detection latency). */
  readonly raisedAlerts: readonly Alert[];
  /** Suppression update records produced (live). */
  readonly alertUpdates: number;
  /** Of those, windows closed early because a rule's suppression state was at its bound (logged). */
  readonly alertUpdatesAtBound: number;
  readonly late: number;
  readonly deadLetters: number;
  /** Dead letters by reason (`CodecError.reason`), null when there are none. */
  readonly deadLetterReasons: Readonly<Record<string, number>> | null;
  /** Records of this call below `liveFrom` (replayed), and their alerts not produced again. */
  readonly replayed: number;
  readonly suppressedAlerts: number;
  /** Records at or past `liveFrom` processed in this call. */
  readonly live: number;
  /** Records skipped because this task had processed them already (a redelivery). */
  readonly skipped: number;
  /** The offset to commit (last processed + 1) when live records were processed, else null. */
  readonly commitOffset: number | null;
  /** Set when this call finished the replay. */
  readonly restored: RestoreSummary | null;
  /** Set when this call switched the partition to a newer rule set (live; logged once committed). */
  readonly ruleSetSwitch: RuleSetSwitched | null;
  /** True when a newer rule set was waiting but its switch did not fit the restore metadata (tried again). */
  readonly ruleSetSwitchRefused: boolean;
}

/** A partition moved to another rule-set revision before the record at `offset`. */
export interface RuleSetSwitched {
  readonly offset: number;
  readonly revision: number;
  readonly previousRevision: number;
  /** Rules that kept their state, started fresh, were dropped. */
  readonly kept: number;
  readonly started: number;
  readonly dropped: number;
}

export interface RestoreSummary {
  readonly topic: string;
  readonly partition: number;
  readonly fromOffset: number;
  readonly toOffset: number;
  readonly replayedRecords: number;
  readonly suppressedAlerts: number;
  /** Event-time range of the replayed events, epoch ms (null when none). */
  readonly fromEventTime: number | null;
  readonly toEventTime: number | null;
  /** Open partial matches and buffered events after the replay: the rebuilt state. */
  readonly openPartials: number;
  readonly bufferedEvents: number;
}

/** Records of the events topic were keyed by other fields than this detector was told: its rules' co-partitioning checks do not hold. */
export class PartitionKeyMismatchError extends SequorError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${topic}[${partition}]@${offset}: the record says the topic is keyed by ${JSON.stringify(actual)} (header ${NORMALIZED_HEADERS.partitionKeyFields}), ` +
        `but PARTITION_KEY_FIELDS is ${JSON.stringify(expected)}: the rules were checked for co-partitioning against the wrong key. ` +
        `Set PARTITION_KEY_FIELDS to the normalizer's value, or re-key the topic.`,
    );
  }
}

function headerText(headers: RecordHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : first;
}

/** The record's Kafka timestamp, epoch ms; NaN when it has none (-1 from old message formats, or unset). */
function recordTimestamp(record: ConsumedRecord): number {
  const ms = Number(record.timestamp);
  return ms > 0 ? ms : Number.NaN;
}

export class PartitionTask implements StreamTask {
  readonly topic: string;
  readonly partition: number;
  readonly liveFrom: number;
  readonly startOffset: number;
  private readonly processor: DetectionProcessor;
  private readonly tracker: RestorePointTracker;
  private readonly position: RecordPosition;
  private readonly expectedKeyFields: Buffer;
  private readonly poison: PoisonRecordHandler;
  private next: number;
  /** The record being pushed: the engine raises alerts and late events synchronously inside push. */
  private current: ConsumedRecord | null = null;
  private currentLive = false;
  private out: ProducerRecord[] = [];
  private raised: Alert[] = [];
  private updates = 0;
  private updatesAtBound = 0;
  private observer: RecordObserver | undefined;
  private late = 0;
  private deadLetters = 0;
  private deadLetterReasons: Record<string, number> | null = null;
  /** Set by onLate when the engine refused the event being pushed as `future-timestamp`. */
  private refusedAsFuture = false;
  /** The rules that threw during the current push or advance (`onRuleError`): rare, so emptied by replacing it. */
  private ruleErrors: RuleFailure[] = [];
  /** The event being pushed (an error on any other was on an event the push released). */
  private pushed: SequorEvent | null = null;
  private suppressed = 0;
  private totalReplayed = 0;
  private totalSuppressed = 0;
  private firstReplayTime: number | null = null;
  private lastReplayTime: number | null = null;
  private restoreDone: boolean;
  /** Records that carried no key-fields header (written by something other than the normalizer). */
  withoutKeyHeader = 0;
  /** Recorded advances still to apply (replay), from `replayAdvanceIndex` on. */
  private readonly replayAdvances: readonly StreamTimeAdvance[];
  private replayAdvanceIndex = 0;
  /** The last record processed: the trigger an idle advance's alerts name. */
  private lastRecord: ConsumedRecord | null = null;
  /** Stream time when the current quiet began (set by the first idle call after records); null while records come. */
  private idleBase: number | null = null;
  /** Idle advances applied live, and refused because the restore metadata was full. */
  idleAdvances = 0;
  idleAdvancesRefused = 0;
  /** The rule-set revision running now (-1 without a rules topic). */
  ruleSetRevision = -1;
  /**
   * Set at creation when the revision the metadata records is not known here (dropped by the bound, or
   * compacted away): the replay runs with `used` instead, and its alerts may differ from the first run's.
   */
  readonly inexactRuleSet: { readonly wanted: number; readonly used: number } | null = null;
  /** Recorded switches still to apply (replay), from `replaySwitchIndex` on. */
  private readonly replaySwitches: readonly RuleSetSwitch[] = [];
  private replaySwitchIndex = 0;

  constructor(private readonly options: PartitionTaskOptions) {
    this.topic = options.topic;
    this.partition = options.partition;
    this.liveFrom = options.liveFrom;
    this.startOffset = Math.min(options.startOffset, options.liveFrom);
    this.next = this.startOffset;
    this.restoreDone = this.startOffset >= this.liveFrom;
    this.position = { topic: options.topic, partition: options.partition };
    this.expectedKeyFields = Buffer.from(options.partitionKeyFields, 'utf8');
    this.tracker = new RestorePointTracker(options.horizonMs);
    this.poison =
      options.poison ??
      new PoisonRecordHandler({
        policy: 'continue',
        deadLetter: ({ record, origin, error }) =>
          detectorDeadLetter(options.deadLetterTopic, record, origin, error),
      });
    const history = options.ruleSets;
    let rules = options.rules;
    if (history !== undefined) {
      const recorded = options.recordedRuleSets ?? [];
      const first = recorded[0];
      const start = first === undefined ? history.current() : history.at(first.revision);
      if (first !== undefined && !(start as { exact?: boolean }).exact)
        this.inexactRuleSet = { wanted: first.revision, used: start.revision };
      rules = start.rules;
      this.ruleSetRevision = first?.revision ?? start.revision;
      this.replaySwitches = recorded.slice(1);
    }
    this.processor = createDetectionProcessor({
      rules,
      replaceable: history !== undefined,
      partition: options.partition,
      allowedLatenessMs: options.allowedLatenessMs,
      maxOpenPartials: options.maxOpenPartials,
      maxFutureSkewMs: options.maxFutureSkewMs,
      maxBufferedBytes: options.maxBufferedBytes,
      maxStateBytes: options.maxStateBytes,
      clock: options.clock,
      onAlert: this.onAlert,
      onAlertUpdate: this.onAlertUpdate,
      onLate: this.onLate,
      onRuleError: this.onRuleError,
    });
    this.replayAdvances = options.advances ?? [];
    // Advances at or before the first offset (at it, or below a log start that retention moved) come first.
    this.applyRecordedAdvances(this.startOffset);
    // The rule set in effect from the first offset on travels with every commit.
    if (history !== undefined) this.tracker.switchRuleSet(this.startOffset, this.ruleSetRevision, false);
    this.applyRecordedSwitches(this.startOffset);
  }

  /** The next offset this task expects. */
  get nextOffset(): number {
    return this.next;
  }

  /** True once the replay is done: every record from here on is live. */
  get isLive(): boolean {
    return this.restoreDone;
  }

  /** Where a restore would start if the partition moved now (the metadata of the next commit). */
  restorePoint(): RestorePoint | null {
    return this.tracker.restorePoint();
  }

  stats(): DetectionStats {
    return this.processor.stats();
  }

  /** Drops the state without emitting anything (revocation, shutdown). */
  close(): void {
    this.processor.close();
  }

  /**
   * Processes consecutive records of the partition (offset order), telling `observer` about each.
   * Throws PartitionKeyMismatchError.
   */
  process(records: readonly ConsumedRecord[], observer?: RecordObserver): TaskOutput {
    this.out = [];
    this.raised = [];
    this.updates = 0;
    this.updatesAtBound = 0;
    this.observer = observer;
    this.late = 0;
    this.suppressed = 0;
    this.deadLetters = 0;
    this.deadLetterReasons = null;
    let replayed = 0;
    let live = 0;
    let skipped = 0;
    let commitOffset: number | null = null;
    let restored: RestoreSummary | null = null;
    const { decode, liveFrom } = this.options;
    const replayAdvances = this.replayAdvances;
    const replaySwitches = this.replaySwitches;
    if (records.length > 0) this.idleBase = null;
    // A newer rule set takes effect at the first live record of this batch.
    const history = this.options.ruleSets;
    let pending = history === undefined ? null : history.current();
    if (pending !== null && pending.revision === this.ruleSetRevision) pending = null;
    let switched: RuleSetSwitched | null = null;
    let switchRefused = false;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as ConsumedRecord;
      const offset = Number(record.offset);
      if (offset < this.next) {
        skipped++;
        continue;
      }
      if (this.replayAdvanceIndex < replayAdvances.length) this.applyRecordedAdvances(offset);
      if (this.replaySwitchIndex < replaySwitches.length) this.applyRecordedSwitches(offset);
      if (pending !== null && offset >= liveFrom) {
        // The replay in this batch may have reached that revision already (a recorded switch).
        if (pending.revision !== this.ruleSetRevision) {
          if (this.tracker.switchRuleSet(offset, pending.revision)) {
            const replaced = this.replaceRules(pending.rules, record, true);
            switched = {
              offset,
              revision: pending.revision,
              previousRevision: this.ruleSetRevision,
              ...replaced,
            };
            this.ruleSetRevision = pending.revision;
          } else {
            switchRefused = true;
          }
        }
        pending = null;
      }
      this.next = offset + 1;
      this.lastRecord = record;
      const isLive = offset >= liveFrom;
      if (isLive) {
        live++;
        commitOffset = offset + 1;
      } else {
        replayed++;
        this.totalReplayed++;
      }
      this.checkKeyFields(record);
      observer?.recordStarted(record, isLive);
      let event: SequorEvent;
      try {
        if (record.value === null)
          throw new CodecError('truncated', 'a tombstone (null value) carries no event');
        event = decode(record.value);
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        // Replayed records were dead-lettered by the first run: the policy is applied to live ones only.
        if (isLive)
          this.countDeadLetter(
            this.poison.respond({ record, origin: this.position, error, reason: error.reason }),
            error.reason,
          );
        observer?.recordFinished(error);
        continue;
      }
      observer?.eventDecoded(event);
      const time = event.timestamp;
      this.current = record;
      this.currentLive = isLive;
      this.refusedAsFuture = false;
      this.pushed = event;
      this.processor.push(event, recordTimestamp(record), record.value.length);
      this.pushed = null;
      this.current = null;
      let ruleError: RuleEvaluationError | undefined;
      if (this.ruleErrors.length > 0) {
        // One dead letter however many rules threw; a replayed record's went out with the first run.
        ruleError = new RuleEvaluationError(this.ruleErrors);
        this.ruleErrors = [];
        if (isLive)
          this.countDeadLetter(
            detectorDeadLetter(this.options.deadLetterTopic, record, this.position, ruleError),
            ruleError.reason,
          );
      }
      // A refused event never moved the engine's stream time: the restore tracker must not see it either.
      if (!this.refusedAsFuture) {
        this.tracker.observe(offset, time);
        if (!isLive && Number.isFinite(time)) {
          if (this.firstReplayTime === null || time < this.firstReplayTime) this.firstReplayTime = time;
          if (this.lastReplayTime === null || time > this.lastReplayTime) this.lastReplayTime = time;
        }
      }
      observer?.recordFinished(ruleError);
      if (!this.restoreDone && this.next >= liveFrom) {
        // An advance committed at the committed offset itself belongs to the replay too.
        this.applyRecordedAdvances(this.next);
        restored = this.finishRestore();
      }
    }
    if (this.replayAdvanceIndex < replayAdvances.length) this.applyRecordedAdvances(this.next);
    this.observer = undefined;
    return {
      records: this.out,
      alerts: this.raised.length,
      raisedAlerts: this.raised,
      alertUpdates: this.updates,
      alertUpdatesAtBound: this.updatesAtBound,
      late: this.late,
      deadLetters: this.deadLetters,
      deadLetterReasons: this.deadLetterReasons,
      replayed,
      suppressedAlerts: this.suppressed,
      live,
      skipped,
      commitOffset,
      restored,
      ruleSetSwitch: switched,
      ruleSetSwitchRefused: switchRefused,
    };
  }

  /**
   * Ends a replay that cannot complete because the records it needs are gone (the range is empty):
   * from now on everything is live. Returns the summary to log.
   */
  abandonRestore(): RestoreSummary | null {
    if (this.restoreDone) return null;
    this.next = Math.max(this.next, this.liveFrom);
    this.applyRecordedAdvances(this.next);
    return this.finishRestore();
  }

  /**
   * The idle-partition rule (README "Idle partitions"): `idleForMs` of wall-clock time since the
   * partition's last record arrived. Advances stream time when that releases buffered events and
   * returns what the release raised, to commit with the unchanged offset (`commitOffset` = next
   * offset) and the restore point, which now records the advance. Null when there is nothing to do:
   * replaying, no record yet, nothing the advance would release, or the restore metadata is full
   * (`idleAdvancesRefused`: the partition then waits for its next record).
   */
  advanceIdle(idleForMs: number): TaskOutput | null {
    if (!this.restoreDone || this.lastRecord === null || !(idleForMs >= 0)) return null;
    const processor = this.processor;
    this.idleBase ??= processor.streamTime;
    const base = this.idleBase;
    if (!Number.isFinite(base)) return null;
    // An integer, so the restore metadata's deltas round-trip exactly.
    const target = Math.floor(base + idleForMs);
    const watermark = target - this.options.allowedLatenessMs;
    // Released once the watermark is past it: only then does the advance change any output.
    if (!(watermark > processor.earliestBuffered) || !(target > processor.streamTime)) return null;
    if (!this.tracker.advance(this.next, target)) {
      this.idleAdvancesRefused++;
      return null;
    }
    this.idleAdvances++;
    this.out = [];
    this.raised = [];
    this.updates = 0;
    this.updatesAtBound = 0;
    this.suppressed = 0;
    this.current = this.lastRecord;
    this.currentLive = true;
    this.idleAdvanceTo = target;
    let deadLetters = 0;
    let deadLetterReasons: Record<string, number> | null = null;
    try {
      processor.advanceStreamTime(target);
      if (this.ruleErrors.length > 0) {
        // Released by the advance: dead-lettered as its trigger, the last record (as its alerts name it).
        const ruleError = new RuleEvaluationError(this.ruleErrors);
        this.ruleErrors = [];
        this.out.push(
          detectorDeadLetter(this.options.deadLetterTopic, this.lastRecord, this.position, ruleError),
        );
        deadLetters = 1;
        deadLetterReasons = { [ruleError.reason]: 1 };
      }
    } finally {
      this.current = null;
      this.idleAdvanceTo = null;
    }
    return {
      records: this.out,
      alerts: this.raised.length,
      raisedAlerts: this.raised,
      alertUpdates: this.updates,
      alertUpdatesAtBound: this.updatesAtBound,
      late: 0,
      deadLetters,
      deadLetterReasons,
      replayed: 0,
      suppressedAlerts: 0,
      live: 0,
      skipped: 0,
      commitOffset: this.next,
      restored: null,
      ruleSetSwitch: null,
      ruleSetSwitchRefused: false,
    };
  }

  /** Set while an idle advance releases: its alerts say so in a header. */
  private idleAdvanceTo: number | null = null;

  /** Applies the previous owner's recorded advances at or before `offset`, output suppressed. */
  private applyRecordedAdvances(offset: number): void {
    const advances = this.replayAdvances;
    while (this.replayAdvanceIndex < advances.length) {
      const advance = advances[this.replayAdvanceIndex] as StreamTimeAdvance;
      if (advance.offset > offset) return;
      this.replayAdvanceIndex++;
      // Committed once, so it fits the metadata again (see RestorePointTracker.advance).
      this.tracker.advance(advance.offset, advance.streamTime, false);
      this.current = null;
      this.currentLive = false;
      this.processor.advanceStreamTime(advance.streamTime);
      // Replayed: the first run dead-lettered what its rules threw on.
      this.ruleErrors = [];
    }
  }

  /** Applies the previous owner's recorded rule-set switches at or before `offset` (replay). */
  private applyRecordedSwitches(offset: number): void {
    const history = this.options.ruleSets;
    const switches = this.replaySwitches;
    if (history === undefined) return;
    while (this.replaySwitchIndex < switches.length) {
      const recorded = switches[this.replaySwitchIndex] as RuleSetSwitch;
      if (recorded.offset > offset) return;
      this.replaySwitchIndex++;
      // Committed once, so it fits the metadata again (as a replayed advance does).
      this.tracker.switchRuleSet(recorded.offset, recorded.revision, false);
      this.replaceRules(history.at(recorded.revision).rules, null, false);
      this.ruleSetRevision = recorded.revision;
    }
  }

  /**
   * Switches the processor's rules before `record`. A changed or removed rule's open suppression windows
   * close at the switch: live, their updates go out in this batch's transaction with the switch's record
   * (`trigger`); replayed, the first run committed them, so they are dropped like a replayed alert.
   */
  private replaceRules(
    rules: readonly CompiledRule[],
    trigger: ConsumedRecord | null,
    live: boolean,
  ): RulesReplaced {
    this.current = trigger;
    this.currentLive = live;
    try {
      return this.processor.replaceRules(rules);
    } finally {
      this.current = null;
    }
  }

  /** The summary of a task that had nothing to replay (it started live). */
  emptyRestore(): RestoreSummary {
    return {
      topic: this.topic,
      partition: this.partition,
      fromOffset: this.startOffset,
      toOffset: this.liveFrom,
      replayedRecords: 0,
      suppressedAlerts: 0,
      fromEventTime: null,
      toEventTime: null,
      openPartials: 0,
      bufferedEvents: 0,
    };
  }

  private finishRestore(): RestoreSummary {
    this.restoreDone = true;
    const stats = this.processor.stats();
    return {
      topic: this.topic,
      partition: this.partition,
      fromOffset: this.startOffset,
      toOffset: this.liveFrom,
      replayedRecords: this.totalReplayed,
      suppressedAlerts: this.totalSuppressed,
      fromEventTime: this.firstReplayTime,
      toEventTime: this.lastReplayTime,
      openPartials: stats.openPartials,
      bufferedEvents: stats.buffered,
    };
  }

  private checkKeyFields(record: ConsumedRecord): void {
    const raw = record.headers?.[NORMALIZED_HEADERS.partitionKeyFields];
    if (raw === undefined) {
      this.withoutKeyHeader++;
      return;
    }
    const value = Array.isArray(raw) ? raw[0] : raw;
    const same = Buffer.isBuffer(value)
      ? value.equals(this.expectedKeyFields)
      : value === this.options.partitionKeyFields;
    if (!same) {
      throw new PartitionKeyMismatchError(
        this.topic,
        this.partition,
        record.offset,
        this.options.partitionKeyFields,
        headerText(record.headers, NORMALIZED_HEADERS.partitionKeyFields) ?? '',
      );
    }
  }

  private readonly onAlert = (alert: Alert, _rule: CompiledRule, evidence: readonly SequorEvent[]): void => {
    // Replayed records and replayed advances (current null) raise what the first run committed.
    if (!this.currentLive) {
      this.suppressed++;
      this.totalSuppressed++;
      return;
    }
    const trigger = this.current;
    if (trigger === null) throw new SequorError(`${this.topic}[${this.partition}]: an alert outside push`);
    const trace = this.observer?.alertRaised(alert, evidence);
    const raised = trace === undefined ? alert : { ...alert, trace_id: trace.traceId };
    this.raised.push(raised);
    const idleAt = this.idleAdvanceTo;
    this.out.push(
      alertRecord(
        this.options.alertsTopic,
        raised,
        this.options.alertEncoder,
        trigger,
        this.position,
        idleAt === null
          ? trace?.headers
          : { ...trace?.headers, [ALERT_HEADERS.idleStreamTime]: String(idleAt) },
      ),
    );
  };

  /**
   * A closed suppression window. Like an alert, one raised by a replayed record (or a replayed advance)
   * was committed by the first run: dropped. The replay rebuilt the window's count from the same alerts,
   * so an update raised live carries the full count, once.
   */
  private readonly onAlertUpdate = (update: AlertUpdate, _rule: CompiledRule, opening: Alert): void => {
    const target = this.options.alertUpdates;
    if (!this.currentLive || target === undefined) return;
    const trigger = this.current;
    if (trigger === null)
      throw new SequorError(`${this.topic}[${this.partition}]: an alert update outside push`);
    this.updates++;
    if (update.suppression.closed_by === 'bound') this.updatesAtBound++;
    this.out.push(alertUpdateRecord(target.topic, update, opening, target.encoder, trigger, this.position));
  };

  private countDeadLetter(deadLetter: ProducerRecord, reason: string): void {
    this.out.push(deadLetter);
    this.deadLetters++;
    this.deadLetterReasons ??= {};
    this.deadLetterReasons[reason] = (this.deadLetterReasons[reason] ?? 0) + 1;
  }

  /**
   * Rules that threw during a push (on the pushed event, or on an earlier one the push released to a
   * stateful rule) or an idle advance: collected, dead-lettered once after it, as its trigger record.
   */
  private readonly onRuleError = (rule: CompiledRule, event: SequorEvent, error: unknown): void => {
    this.ruleErrors.push(
      event === this.pushed
        ? { ruleId: rule.rule.id, error }
        : { ruleId: rule.rule.id, error, releasedEvent: event },
    );
  };

  private readonly onLate = (late: LateEvent<SequorEvent>): void => {
    const record = this.current;
    if (late.reason === 'future-timestamp') this.refusedAsFuture = true;
    if (record === null || !this.currentLive) return;
    if (late.reason === 'future-timestamp') {
      const skew = this.options.maxFutureSkewMs ?? Number.POSITIVE_INFINITY;
      const error = new FutureTimestampError(late.timestamp, recordTimestamp(record), skew);
      this.countDeadLetter(
        detectorDeadLetter(this.options.deadLetterTopic, record, this.position, error),
        error.reason,
      );
      return;
    }
    this.late++;
    this.out.push(lateEventRecord(this.options.lateEventsTopic, record, this.position, late));
  };
}
