/**
 * The detector service: config, wiring and lifecycle. It loads and checks the rules, builds the codecs,
 * creates the output topics, and runs `@sequor/streams`' `StreamTaskRunner` over the normalized event
 * topics with one `PartitionTask` per assigned partition (one `DetectionProcessor`: every rule, one
 * watermark). The runtime owns the rest: a transactional producer per partition, fencing the previous
 * owner, the replay from the committed restore point with output suppressed up to the committed offset,
 * and one transaction per batch (alerts, late events, dead letters, offsets and restore point). The
 * reasoning is in README.md.
 *
 * ```ts
 * const detector = createDetector(detectorConfigFromEnv(process.env), { logger });
 * await detector.start();
 * installShutdownHandlers(detector, logger);
 * await detector.done;
 * ```
 */
import type { KafkaAdmin, KafkaClient, Logger, RecordBatch, Stoppable } from '@sequor/kafka';
import {
  ConfluentSchemaRegistry,
  createKafkaClient,
  createLogger,
  ensureTopics,
  RECORD_TOO_LARGE,
  registerValueSchema,
} from '@sequor/kafka';
import type { AvroCodec, SchemaRegistry, SequorEvent } from '@sequor/model';
import {
  alertSchemaText,
  createAlertCodec,
  createAlertUpdateCodec,
  createEventCodec,
  createProjectedEventCodec,
  SequorError,
} from '@sequor/model';
import type { DetectionStats } from '@sequor/pipeline';
import type { CompiledRule, ValueListSet } from '@sequor/rules';
import { loadValueLists } from '@sequor/rules';
import { ServiceLifecycle } from '@sequor/service';
import type { BatchOutcome, RestorePlan, TaskBatch } from '@sequor/streams';
import { restoreHorizonMs, SchemaIdPreloader, StreamTaskRunner } from '@sequor/streams';
import type { DetectorConfig } from './config.js';
import { transactionalIdFor } from './config.js';
import type { AlertEncoder, AlertUpdateEncoder } from './outputs.js';
import {
  confluentAlertEncoder,
  confluentAlertUpdateEncoder,
  singleObjectAlertEncoder,
  singleObjectAlertUpdateEncoder,
} from './outputs.js';
import type { RestoreSummary, TaskOutput } from './partition-task.js';
import { PartitionTask } from './partition-task.js';
import type { DetectorRuleSet } from './rules.js';
import { loadDetectorRules, ruleSetHorizonMs } from './rules.js';
import { RulesTopic, topicRuleBudget } from './rules-topic.js';
import type { DetectorTelemetry } from './telemetry.js';

export interface DetectorDeps {
  /** Default: a client built from `config.kafka`. */
  readonly client?: KafkaClient;
  readonly logger?: Logger;
  /** Default: a Confluent REST client when `config.schemaRegistry` is set. */
  readonly schemaRegistry?: SchemaRegistry;
  readonly telemetry?: DetectorTelemetry;
  /** Alert detection time; default `Date.now`. */
  readonly clock?: () => number;
  /** How often counters are logged. Default 60 s. */
  readonly statsIntervalMs?: number;
}

export interface DetectorCounters {
  /** Live records processed, and replayed ones (state rebuild). */
  readonly records: number;
  readonly replayedRecords: number;
  readonly alerts: number;
  /** Alerts a replay raised again and did not produce (the first run committed them). */
  readonly suppressedAlerts: number;
  readonly lateEvents: number;
  readonly deadLetters: number;
  readonly transactions: number;
  readonly restores: number;
  /** Idle-partition advances committed, and refused because the restore metadata was full (README: Idle partitions). */
  readonly idleAdvances: number;
  readonly idleAdvancesRefused: number;
  /** Records without the `sequor.partition-key-fields` header (not written by the normalizer). */
  readonly withoutKeyHeader: number;
}

export interface Detector extends Stoppable {
  /** Loads and checks the rules, creates missing output topics, joins the group. */
  start(): Promise<void>;
  /** Finishes the batch in hand (its transaction commits), leaves the group, closes producers. Idempotent. */
  stop(): Promise<void>;
  /** Settles when the detector stopped: resolves after `stop()`, rejects if the consumer crashed. */
  readonly done: Promise<void>;
  counters(): DetectorCounters;
  /** Engine stats of the partitions owned now. */
  partitionStats(): DetectionStats[];
  /** The rules running (after start): with a rules topic, the newest rule set. */
  readonly rules: readonly CompiledRule[];
}

/** Input topics the config names do not exist: the detector does not create its inputs. */
export class InputTopicsMissingError extends SequorError {
  constructor(readonly topics: readonly string[]) {
    super(
      `input topics do not exist: ${topics.join(', ')} (start the normalizer first, or fix DETECTOR_INPUT_TOPICS)`,
    );
  }
}

class KafkaDetector implements Detector {
  readonly done: Promise<void>;
  /** `done` and an idempotent `stop()` (@sequor/service): `done` follows the consumer once it runs. */
  private readonly lifecycle = new ServiceLifecycle(() => this.shutDown());
  private readonly client: KafkaClient;
  private readonly logger: Logger;
  private readonly telemetry: DetectorTelemetry;
  private readonly clock: () => number;
  private ruleSet: DetectorRuleSet | undefined;
  private horizonMs = 0;
  private eventCodec: AvroCodec<SequorEvent> | undefined;
  private alertEncoder: AlertEncoder | undefined;
  private alertUpdateEncoder: AlertUpdateEncoder | undefined;
  private admin: KafkaAdmin | undefined;
  private runner: StreamTaskRunner<PartitionTask, RestoreSummary> | undefined;
  /** RULES_TOPIC: the rule catalog every partition takes its rules from. */
  private rulesTopic: RulesTopic | undefined;
  private readonly keyFieldsWarned = new Set<string>();
  private statsTimer: NodeJS.Timeout | undefined;
  private readonly totals = {
    records: 0,
    replayedRecords: 0,
    alerts: 0,
    /** Suppression update records committed. */
    alertUpdates: 0,
    suppressedAlerts: 0,
    lateEvents: 0,
    deadLetters: 0,
    restores: 0,
    idleAdvances: 0,
    withoutKeyHeader: 0,
  };

  constructor(
    private readonly config: DetectorConfig,
    private readonly deps: DetectorDeps,
  ) {
    this.logger = deps.logger ?? createLogger('detector', { level: config.logLevel });
    this.client = deps.client ?? createKafkaClient(config.kafka, { logger: this.logger });
    this.telemetry = deps.telemetry ?? {};
    this.clock = deps.clock ?? Date.now;
    this.done = this.lifecycle.done;
  }

  get rules(): readonly CompiledRule[] {
    return this.rulesTopic?.current().rules ?? this.ruleSet?.rules ?? [];
  }

  counters(): DetectorCounters {
    let refused = 0;
    for (const task of this.runner?.tasks() ?? []) refused += task.idleAdvancesRefused;
    return { ...this.totals, idleAdvancesRefused: refused, transactions: this.runner?.transactions ?? 0 };
  }

  partitionStats(): DetectionStats[] {
    return (this.runner?.tasks() ?? []).map((task) => task.stats());
  }

  async start(): Promise<void> {
    if (this.ruleSet !== undefined) throw new SequorError('detector started twice');
    const config = this.config;
    const ruleSet = await loadDetectorRules({
      rulesDir: config.rulesDir,
      builtins: config.builtinRules,
      valueListsDir: config.valueListsDir,
      partitionKeyFields: config.partitionKeyFields.names,
      strict: config.strict,
      selection: config.ruleSelection,
      rulesFromTopic: config.rulesTopic !== undefined,
    });
    this.ruleSet = ruleSet;
    for (const e of ruleSet.errors)
      this.logger.error('rule refused', {
        file: e.file,
        line: e.line,
        column: e.column,
        code: e.code,
        error: e.format(),
      });
    for (const w of ruleSet.warnings)
      this.logger.warn('rule warning', {
        file: w.file,
        line: w.line,
        column: w.column,
        code: w.code,
        warning: w.format(),
      });
    this.horizonMs = ruleSetHorizonMs(config.allowedLatenessMs, ruleSet);
    const budget = topicRuleBudget(ruleSet, config.rulesTopicMaxWindowMs);
    // Rules from the topic may use the budget: the horizon covers it from the start.
    if (config.rulesTopic !== undefined)
      this.horizonMs = restoreHorizonMs(config.allowedLatenessMs, budget.windowMs, budget.joinWindowMs);
    await this.createCodecs();
    this.admin = this.client.admin();
    await this.admin.connect();
    await this.ensureTopics(this.admin);
    if (config.rulesTopic !== undefined) {
      let baseLists: ValueListSet | undefined;
      // Read once more here (loadDetectorRules read them for the base rules): topic rules use them too.
      if (config.valueListsDir !== undefined) baseLists = await loadValueLists(config.valueListsDir);
      this.rulesTopic = new RulesTopic(this.client, {
        topic: config.rulesTopic,
        base: ruleSet,
        baseLists,
        partitionKeyFields: config.partitionKeyFields.names,
        budget,
        groupId: config.groupId,
        logger: this.logger,
      });
      // A crashed follower would leave every partition on old rules, unseen: the detector stops instead
      // (its orchestrator restarts it, and the new process reads the topic again).
      const followed = this.rulesTopic.done;
      followed.catch((error: unknown) => {
        this.logger.error('rules topic follower crashed: the detector stops', { error });
        void this.stop();
      });
      await this.rulesTopic.start(this.admin);
    }
    const rulesTopic = this.rulesTopic;
    this.telemetry.ruleCatalog?.(() =>
      rulesTopic !== undefined
        ? rulesTopic.metrics()
        : {
            revision: 0,
            changes: {},
            rules: ruleSet.rules.map((r) => ({
              id: r.rule.id,
              name: r.rule.name,
              version: r.rule.version,
              revision: null,
            })),
          },
    );
    // Confluent-framed input names schema ids: fetch unknown ones before the task's synchronous decode.
    const schemaIds =
      config.schemaRegistry === undefined
        ? undefined
        : new SchemaIdPreloader(this.eventCodec as AvroCodec<SequorEvent>);
    this.runner = new StreamTaskRunner<PartitionTask, RestoreSummary>(this.client, {
      groupId: config.groupId,
      topics: config.inputTopics,
      admin: this.admin,
      transactionalId: (topic, partition) => transactionalIdFor(config.groupId, topic, partition),
      transactionTimeoutMs: config.transactionTimeoutMs,
      outputTopics: [config.alertsTopic, config.alertUpdatesTopic, config.lateEventsTopic],
      deadLetterTopic: config.deadLetterTopic,
      consumer: {
        fromBeginning: config.startFrom === 'earliest',
        partitionsConsumedConcurrently: config.partitionsConcurrently,
        maxRecordsPerCall: config.maxBatchRecords,
        sessionTimeoutMs: config.sessionTimeoutMs,
      },
      logger: this.logger,
      createTask: this.createTask,
      ...(this.rulesTopic === undefined ? {} : { beforeCreateTask: this.beforeCreateTask }),
      process: this.process,
      // A batch's transaction commits while the next fetch and batches run (each partition still one
      // transaction at a time): kafkajs fetches only once every batch in hand is handled.
      pipelined: true,
      ...(schemaIds === undefined
        ? {}
        : { beforeBatch: (batch: RecordBatch) => schemaIds.load(batch.records) }),
      onRestored: this.restored,
      onAssigned: (assignment) => this.telemetry.partitionsAssigned?.(assignment),
      onReadinessChanged: (state) => this.telemetry.readinessChanged?.(state),
      onClosed: (task) => this.telemetry.partitionClosed?.(task.stats()),
      ...(config.idlePartitionMs > 0
        ? { idle: { afterMs: config.idlePartitionMs, advance: this.advanceIdle } }
        : {}),
    });
    this.lifecycle.follow(this.runner.done);
    await this.runner.start();
    this.logger.info('detector started', {
      inputTopics: config.inputTopics,
      alertsTopic: config.alertsTopic,
      lateEventsTopic: config.lateEventsTopic,
      deadLetterTopic: config.deadLetterTopic,
      groupId: config.groupId,
      rules: this.rules.map((r) => `${r.rule.name} (${r.rule.id} v${r.rule.version})`),
      rulesTopic: config.rulesTopic ?? null,
      refusedRules: ruleSet.errors.length,
      partitionKeyFields: config.partitionKeyFields.header,
      allowedLatenessMs: config.allowedLatenessMs,
      idlePartitionMs: config.idlePartitionMs,
      restoreHorizonMs: this.horizonMs,
      framing: this.alertEncoder?.framing,
      partitionsConcurrently: config.partitionsConcurrently,
      maxBatchRecords: config.maxBatchRecords,
    });
    this.telemetry.watchEngine?.(() => this.partitionStats());
    const interval = this.deps.statsIntervalMs ?? 60_000;
    this.statsTimer = setInterval(this.reportStats, interval);
    this.statsTimer.unref();
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private async shutDown(): Promise<void> {
    clearInterval(this.statsTimer);
    try {
      // The batch in hand finishes and commits its transaction; then the member leaves the group.
      await this.runner?.stop();
      await this.rulesTopic?.stop();
    } finally {
      await this.admin
        ?.disconnect()
        .catch((error: unknown) => this.logger.warn('admin disconnect failed', { error }));
      if (this.ruleSet !== undefined) this.logger.info('detector stopped', { ...this.counters() });
    }
  }

  private async createCodecs(): Promise<void> {
    const settings = this.config.schemaRegistry;
    const registry =
      this.deps.schemaRegistry ??
      (settings === undefined ? undefined : new ConfluentSchemaRegistry(settings));
    // Only what the rules read is decoded; late events and dead letters forward the record's own bytes.
    // With a rules topic, a rule published later may read any field: every field is decoded, from the
    // start. Not a codec widened as rules arrive: the events the reorder stage holds at a switch were
    // decoded before it, so a new rule would see them without its fields in the first run and with them
    // in a replay (another alert). Decoding every field costs about twice the projected decode
    // (services/detector/test/bench/decode-projection.ts).
    const fields = eventFieldsRead((this.ruleSet as DetectorRuleSet).rules);
    const codecOptions = registry === undefined ? {} : { registry };
    this.eventCodec =
      this.config.rulesTopic === undefined
        ? createProjectedEventCodec(fields, codecOptions)
        : createEventCodec(codecOptions);
    const alertCodec = createAlertCodec();
    const updateCodec = createAlertUpdateCodec();
    if (registry === undefined) {
      this.alertEncoder = singleObjectAlertEncoder(alertCodec);
      this.alertUpdateEncoder = singleObjectAlertUpdateEncoder(updateCodec);
      return;
    }
    // `<alerts topic>-value` (TopicNameStrategy), registered as written so its defaults keep it evolvable.
    const id = await registerValueSchema(registry, this.config.alertsTopic, alertCodec, alertSchemaText());
    this.alertEncoder = confluentAlertEncoder(alertCodec, id);
    const updateId = await registerValueSchema(registry, this.config.alertUpdatesTopic, updateCodec);
    this.alertUpdateEncoder = confluentAlertUpdateEncoder(updateCodec, updateId);
  }

  private async ensureTopics(admin: KafkaAdmin): Promise<void> {
    const config = this.config;
    const existing = new Set(await admin.listTopics());
    const missing = config.inputTopics.filter((t) => !existing.has(t));
    if (missing.length > 0) throw new InputTopicsMissingError(missing);
    await ensureTopics(
      admin,
      [
        // ALERTS_PARTITIONS is what a missing topic is created with; an existing one keeps its count.
        {
          topic: config.alertsTopic,
          partitions: existing.has(config.alertsTopic) ? 1 : config.alertsPartitions,
        },
        // Keyed like the alerts: created with their partition count, so an update lands beside its alert.
        {
          topic: config.alertUpdatesTopic,
          partitions: existing.has(config.alertUpdatesTopic) ? 1 : config.alertsPartitions,
        },
        { topic: config.lateEventsTopic, partitions: 1 },
        { topic: config.deadLetterTopic, partitions: 1 },
      ],
      { logger: this.logger },
    );
  }

  private readonly reportStats = (): void => {
    const stats = this.partitionStats();
    if (this.logger.isEnabled('info')) {
      this.logger.info('detector counters', {
        ...this.counters(),
        partitions: stats.map((s) => ({
          partition: s.partition,
          openPartials: s.openPartials,
          buffered: s.buffered,
          watermark: s.watermark,
        })),
      });
    }
  };

  /** Waits until this process has read the rules topic as far as the partition's recorded switches go. */
  private readonly beforeCreateTask = async (
    topic: string,
    partition: number,
    plan: RestorePlan,
  ): Promise<void> => {
    const switches = plan.point?.ruleSets;
    if (this.rulesTopic === undefined || switches === undefined) return;
    if (!(await this.rulesTopic.waitFor(switches)))
      this.logger.warn('rules topic not read as far as the restore needs: replaying with the rules known', {
        topic,
        partition,
        needed: Math.max(...switches.map((s) => s.revision)),
        read: this.rulesTopic.catalog.position,
      });
  };

  private readonly createTask = (topic: string, partition: number, plan: RestorePlan): PartitionTask => {
    const task = this.newTask(topic, partition, plan);
    const inexact = task.inexactRuleSet;
    if (inexact !== null)
      this.logger.warn(
        'the rule set this partition ran is no longer known (dropped or compacted away): replaying with the oldest known; alerts of the replayed range may differ',
        { topic, partition, wantedRevision: inexact.wanted, usedRevision: inexact.used },
      );
    return task;
  };

  private newTask(topic: string, partition: number, plan: RestorePlan): PartitionTask {
    const config = this.config;
    const codec = this.eventCodec as AvroCodec<SequorEvent>;
    return new PartitionTask({
      topic,
      partition,
      rules: (this.ruleSet as DetectorRuleSet).rules,
      decode: (value) => codec.decode(value),
      alertEncoder: this.alertEncoder as AlertEncoder,
      alertsTopic: config.alertsTopic,
      alertUpdates: {
        topic: config.alertUpdatesTopic,
        encoder: this.alertUpdateEncoder as AlertUpdateEncoder,
      },
      lateEventsTopic: config.lateEventsTopic,
      deadLetterTopic: config.deadLetterTopic,
      allowedLatenessMs: config.allowedLatenessMs,
      maxOpenPartials: config.stateMaxPartials,
      ...config.engineLimits,
      clock: this.clock,
      horizonMs: this.horizonMs,
      startOffset: plan.startOffset,
      liveFrom: plan.liveFrom,
      advances: plan.point?.advances,
      partitionKeyFields: config.partitionKeyFields.header,
      ruleSets: this.rulesTopic,
      recordedRuleSets: plan.point?.ruleSets,
    });
  }

  private readonly restored = (
    task: PartitionTask,
    summary: RestoreSummary | null,
    durationMs: number,
  ): void => {
    const restored = summary ?? task.emptyRestore();
    this.totals.restores++;
    this.logger.info('partition restored: live', {
      ...restored,
      fromEventTime: restored.fromEventTime === null ? null : new Date(restored.fromEventTime).toISOString(),
      toEventTime: restored.toEventTime === null ? null : new Date(restored.toEventTime).toISOString(),
      durationMs,
    });
    this.telemetry.restored?.(restored, durationMs);
  };

  /** Runs the task over a batch, with the telemetry's observer; counts and reports once the transaction ends. */
  private readonly process = (task: PartitionTask, batch: RecordBatch): TaskBatch<RestoreSummary> => {
    const { topic, partition } = task;
    const before = task.withoutKeyHeader;
    const observer = this.telemetry.batchStarted?.(batch);
    let out;
    try {
      out = task.process(batch.records, observer);
    } catch (error) {
      observer?.end(error);
      throw error;
    }
    const withoutHeader = task.withoutKeyHeader - before;
    if (withoutHeader > 0) {
      this.totals.withoutKeyHeader += withoutHeader;
      const key = `${topic}\u0000${partition}`;
      if (!this.keyFieldsWarned.has(key)) {
        this.keyFieldsWarned.add(key);
        this.logger.warn(
          'records without the sequor.partition-key-fields header: co-partitioning is assumed, not checked',
          { topic, partition, offset: batch.records[0]?.offset },
        );
      }
    }
    this.totals.replayedRecords += out.replayed;
    this.totals.suppressedAlerts += out.suppressedAlerts;
    const settled = (outcome: BatchOutcome): void => {
      if (!outcome.committed || out.commitOffset === null) {
        observer?.end(outcome.error);
        return;
      }
      const { alertsTopic, lateEventsTopic } = this.config;
      const lateTooLarge = outcome.tooLarge.get(lateEventsTopic) ?? 0;
      const { deadLetters, reasons } = deadLettersOf(out, outcome);
      const switched = out.ruleSetSwitch;
      if (switched !== null)
        this.logger.info('rule set effective at offset', { topic, partition, ...switched });
      if (out.ruleSetSwitchRefused)
        this.logger.warn('newer rule set waits: the restore metadata is full; tried again next batch', {
          topic,
          partition,
          runningRevision: task.ruleSetRevision,
        });
      const t = this.totals;
      t.records += out.live;
      t.alerts += out.alerts - (outcome.tooLarge.get(alertsTopic) ?? 0);
      t.alertUpdates += out.alertUpdates;
      // The bound's policy: the oldest window closes early with the count it had; said, never silent.
      if (out.alertUpdatesAtBound > 0)
        this.logger.warn('suppression windows closed early: a rule reached its state bound', {
          topic,
          partition,
          windows: out.alertUpdatesAtBound,
          bounds: 'STATE_MAX_PARTIALS, STATE_MAX_BYTES',
        });
      t.lateEvents += out.late - lateTooLarge;
      this.countDeadLetters(topic, partition, deadLetters, reasons);
      observer?.end();
      this.telemetry.batchCommitted?.({
        topic,
        partition,
        records: out.live,
        alerts: out.raisedAlerts,
        lateEvents: out.late - lateTooLarge,
        deadLetters,
        deadLetterReasons: reasons,
        committedOffset: out.commitOffset,
        highWatermark: Number(batch.highWatermark),
        durationMs: outcome.durationMs,
      });
    };
    return { records: out.records, commitOffset: out.commitOffset, restored: out.restored, settled };
  };

  /** A committed batch's or advance's dead letters: in the totals, and said (never silent). */
  private countDeadLetters(
    topic: string,
    partition: number,
    deadLetters: number,
    reasons: Readonly<Record<string, number>> | null,
  ): void {
    this.totals.deadLetters += deadLetters;
    if (deadLetters > 0)
      this.logger.warn('records dead-lettered', {
        topic,
        partition,
        deadLetters,
        reasons,
        deadLetterTopic: this.config.deadLetterTopic,
      });
  }

  /** The idle-partition rule: the task advances its stream time; its alerts commit with the unchanged offset. */
  private readonly advanceIdle = (
    task: PartitionTask,
    idleForMs: number,
  ): TaskBatch<RestoreSummary> | null => {
    const out = task.advanceIdle(idleForMs);
    if (out === null) return null;
    const { topic, partition } = task;
    const settled = (outcome: BatchOutcome): void => {
      if (!outcome.committed || out.commitOffset === null) return;
      const alerts = out.alerts - (outcome.tooLarge.get(this.config.alertsTopic) ?? 0);
      // An advance's dead letters: rule errors on the events it released, and outputs too large.
      const { deadLetters, reasons } = deadLettersOf(out, outcome);
      this.totals.idleAdvances++;
      this.totals.alerts += alerts;
      this.countDeadLetters(topic, partition, deadLetters, reasons);
      this.logger.debug('idle partition: stream time advanced', {
        topic,
        partition,
        idleForMs: Math.round(idleForMs),
        streamTime: new Date(task.stats().streamTime).toISOString(),
        alerts,
      });
      this.telemetry.batchCommitted?.({
        topic,
        partition,
        records: 0,
        alerts: out.raisedAlerts,
        lateEvents: 0,
        deadLetters,
        deadLetterReasons: reasons,
        committedOffset: out.commitOffset,
        highWatermark: out.commitOffset, // quiet: nothing behind
        durationMs: outcome.durationMs,
      });
    };
    return { records: out.records, commitOffset: out.commitOffset, restored: null, settled };
  };
}

/** A task output's dead letters and their reasons, with the outputs the producer found too large. */
function deadLettersOf(
  out: Pick<TaskOutput, 'deadLetters' | 'deadLetterReasons'>,
  outcome: Pick<BatchOutcome, 'tooLargeTotal'>,
): { deadLetters: number; reasons: Readonly<Record<string, number>> | null } {
  const deadLetters = out.deadLetters + outcome.tooLargeTotal;
  const reasons =
    outcome.tooLargeTotal === 0
      ? out.deadLetterReasons
      : {
          ...out.deadLetterReasons,
          [RECORD_TOO_LARGE]: (out.deadLetterReasons?.[RECORD_TOO_LARGE] ?? 0) + outcome.tooLargeTotal,
        };
  return { deadLetters, reasons };
}

/** The fields an alert takes its entity from (`host`, `user`), in any evidence event, whatever the rule. */
const ALERT_ENTITY_FIELDS = ['host.id', 'host.name', 'user.id', 'user.name'] as const;

/**
 * Every event field the rules read (ECS names): their conditions and keys as compiled (`event.category`
 * of `process where` included), what their alerts carry (evidence fields, message placeholders, entity).
 * The detector decodes these and `EVENT_CORE_FIELDS` (time, id, origin), nothing else.
 */
export function eventFieldsRead(rules: readonly CompiledRule[]): string[] {
  const fields = new Set<string>(ALERT_ENTITY_FIELDS);
  for (const rule of rules)
    for (const name of [...rule.compiled.fieldsUsed, ...rule.keyFields, ...rule.evidenceFields])
      fields.add(name);
  return [...fields];
}

export function createDetector(config: DetectorConfig, deps: DetectorDeps = {}): Detector {
  return new KafkaDetector(config, deps);
}
