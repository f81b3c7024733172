/**
 * Rule hot reload (issue 15 item 3): the detector's rules from a compacted Kafka topic (`RULES_TOPIC`)
 * beside the built-ins and `RULES_DIR`. Every instance reads the whole topic (`TopicFollower`: from the
 * beginning, read_committed, no group offsets), builds its `RuleCatalog` and keeps following it. A
 * record is validated before it runs (the loader's checks, the compiler, this detector's restore
 * horizon); what each record did is logged and counted. Partition tasks ask `at(revision)` for the
 * rules of a rule-set revision (a topic position) and `current()` for the newest; a topic rule with the
 * id of a built-in or `RULES_DIR` rule replaces it, a tombstone brings it back.
 *
 * Pure except for the follower: the validator and the rule-list cache are functions of the records.
 */
import type { ConsumedRecord, KafkaAdmin, KafkaClient, Logger } from '@sequor/kafka';
import { ensureCompactedTopic, TopicFollower } from '@sequor/kafka';
import { SequorError } from '@sequor/model';
import type {
  CatalogChange,
  CatalogValidator,
  CompiledRule,
  Rule,
  RuleSetRevision,
  ValidatedRule,
  ValueListSet,
} from '@sequor/rules';
import { checkRuleRecordText, compileRule, RuleCatalog } from '@sequor/rules';
import type { RuleSetSwitch } from '@sequor/streams';
import type { DetectorRuleSet } from './rules.js';
import { ruleWindowMs } from './rules.js';

/** How much restore horizon a topic rule may use: what the detector was started with (`topicRuleBudget`). */
export interface TopicRuleBudget {
  /** Longest window + suppression window of one rule, ms. */
  readonly windowMs: number;
  /** Longest join window, ms (a join counts twice in the horizon). */
  readonly joinWindowMs: number;
}

/**
 * The budget of topic rules: the base rule set's own (so the restore horizon does not grow), or
 * `maxWindowMs` (`RULES_TOPIC_MAX_WINDOW_MS`) when larger.
 */
export function topicRuleBudget(base: DetectorRuleSet, maxWindowMs: number): TopicRuleBudget {
  return {
    windowMs: Math.max(base.longestWindowMs + base.longestSuppressionWindowMs, maxWindowMs),
    joinWindowMs: Math.max(base.longestJoinWindowMs, maxWindowMs),
  };
}

/** The names of the value lists a rule's exceptions use. */
function listsUsedBy(rule: Rule): string[] {
  const names = new Set<string>();
  for (const item of rule.exceptions ?? [])
    for (const entry of item.entries) if (entry.list !== null) names.add(entry.list.name);
  return [...names].sort();
}

function durationText(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms}ms`;
}

/**
 * The validator of topic rules: the rule loader's text entry (Sequor YAML, or Sigma when sniffed as
 * Sigma) with the value lists in effect, the cross-file checks (co-partitioning, the compiler), then
 * this detector's own: a window bounds the rule's state, within the restore horizon's budget.
 */
export function topicRuleValidator(options: {
  readonly partitionKeyFields: readonly string[];
  readonly budget: TopicRuleBudget;
}): CatalogValidator<CompiledRule> {
  return (text, source, lists, revisionOf): ValidatedRule<CompiledRule> => {
    try {
      const record = checkRuleRecordText(text, source, {
        valueLists: lists,
        partitionKeyFields: options.partitionKeyFields,
      });
      if (!record.ok) return { ok: false, errors: record.errors };
      const { rule, results: checked } = record;
      // Every rule of the record: a correlation's named rules keep out what their lists except too.
      const listsUsed = [
        ...new Set(checked.flatMap((r) => (r.rule === null ? [] : listsUsedBy(r.rule)))),
      ].sort();
      const compiled = compileRule(rule, { revision: revisionOf(listsUsed) });
      const window = ruleWindowMs(compiled);
      if (window === null)
        return {
          ok: false,
          errors: [
            `${source}: no window bounds this rule's state (add maxspan): the detector restores state by a bounded replay`,
          ],
        };
      const total = window + (compiled.suppress?.windowMs ?? 0);
      if (total > options.budget.windowMs)
        return {
          ok: false,
          errors: [
            `${source}: its window, ${durationText(total)}${compiled.suppress === null ? '' : ` (${durationText(window)} and its ${durationText(compiled.suppress.windowMs)} suppression)`}${compiled.compiled.spec.kind === 'chain' ? ", its inner correlations' windows included" : ''}, is longer than this detector's restore horizon takes (${durationText(options.budget.windowMs)}); raise RULES_TOPIC_MAX_WINDOW_MS and restart the detectors first`,
          ],
        };
      if (compiled.compiled.spec.kind === 'join' && window > options.budget.joinWindowMs)
        return {
          ok: false,
          errors: [
            `${source}: its join window (${durationText(window)}) is longer than this detector's restore horizon takes for joins (${durationText(options.budget.joinWindowMs)}); raise RULES_TOPIC_MAX_WINDOW_MS and restart the detectors first`,
          ],
        };
      return { ok: true, id: rule.id, version: rule.version, listsUsed, compiled };
    } catch (error) {
      return {
        ok: false,
        errors: [`${source}: cannot check rule: ${error instanceof Error ? error.message : String(error)}`],
      };
    }
  };
}

/** A rule set a partition runs: its revision (a rules-topic position) and its rules in order. */
export interface RunningRuleSet {
  readonly revision: number;
  readonly rules: readonly CompiledRule[];
}

/** What partition tasks ask of the rules topic (a fake in tests). */
export interface RuleSetHistory {
  /** The rules of the revision in effect at `revision`; `exact` false when that one is no longer known. */
  at(revision: number): RunningRuleSet & { readonly exact: boolean };
  current(): RunningRuleSet;
}

/** A catalog change as a log line: message, level and fields. */
export function describeChange(change: CatalogChange): {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
} {
  switch (change.kind) {
    case 'loaded':
    case 'changed':
      return {
        level: 'info',
        message:
          change.kind === 'loaded' ? 'rule loaded from the rules topic' : 'rule changed on the rules topic',
        fields: { ...change },
      };
    case 'refused':
      return {
        level: 'error',
        message:
          change.keeps === null
            ? 'rule refused: not running'
            : 'rule refused: its previous version keeps running',
        fields: {
          id: change.id,
          offset: change.offset,
          keeps: change.keeps,
          becauseOfList: change.becauseOfList,
          errors: change.errors,
        },
      };
    case 'removed':
      return { level: 'info', message: 'rule removed (tombstone on the rules topic)', fields: { ...change } };
    case 'unchanged':
      return { level: 'info', message: 'rule record unchanged: nothing to do', fields: { ...change } };
    case 'list-loaded':
    case 'list-changed':
    case 'list-removed':
      return {
        level: 'info',
        message: `value list ${change.kind.slice(5)} on the rules topic`,
        fields: { ...change },
      };
    case 'list-refused':
      return {
        level: 'error',
        message: 'value list refused: the rules keep the version they run',
        fields: { ...change },
      };
    case 'malformed':
      return { level: 'error', message: 'rules topic record ignored: malformed', fields: { ...change } };
    default: {
      const unknown: never = change;
      throw new SequorError(`unknown catalog change ${(unknown as { kind: string }).kind}`);
    }
  }
}

export interface RulesTopicOptions {
  readonly topic: string;
  readonly base: DetectorRuleSet;
  readonly baseLists: ValueListSet | undefined;
  readonly partitionKeyFields: readonly string[];
  readonly budget: TopicRuleBudget;
  readonly groupId: string;
  readonly logger: Logger;
  /** Revisions kept for replays. */
  readonly maxRevisions?: number;
  /** Called after each record that changed the running rules (metrics). */
  readonly onChange?: (change: CatalogChange) => void;
}

/** The rules topic of one detector process; see the module comment. */
export class RulesTopic implements RuleSetHistory {
  readonly catalog: RuleCatalog<CompiledRule>;
  private readonly follower: TopicFollower;
  private readonly lists = new WeakMap<RuleSetRevision<CompiledRule>, readonly CompiledRule[]>();
  /** Catalog steps since start, by kind (metrics). */
  readonly changes: Record<string, number> = {};
  private readonly waiters = new Set<{ position: number; resolve: () => void }>();

  constructor(
    private readonly client: KafkaClient,
    private readonly options: RulesTopicOptions,
  ) {
    this.catalog = new RuleCatalog<CompiledRule>({
      validate: topicRuleValidator({
        partitionKeyFields: options.partitionKeyFields,
        budget: options.budget,
      }),
      topic: options.topic,
      ...(options.baseLists === undefined ? {} : { baseLists: options.baseLists }),
      ...(options.maxRevisions === undefined ? {} : { maxRevisions: options.maxRevisions }),
    });
    this.follower = new TopicFollower(client, {
      topic: options.topic,
      groupIdPrefix: `${options.groupId}.rules`,
      onRecords: (partition, records) => this.apply(partition, records),
      logger: options.logger,
    });
  }

  get done(): Promise<void> {
    return this.follower.done;
  }

  /** Creates the topic if missing (compacted, one partition), reads it whole, keeps following. */
  async start(admin: KafkaAdmin): Promise<void> {
    const { created } = await ensureCompactedTopic(
      admin,
      {
        topic: this.options.topic,
        partitions: 1,
        // Older versions stay readable for a day: a replay within that finds the rules it ran with.
        configs: { 'min.compaction.lag.ms': String(86_400_000) },
      },
      { logger: this.options.logger },
    );
    await this.follower.start(admin);
    const current = this.current();
    this.options.logger.info('rules topic read: rule set ready', {
      topic: this.options.topic,
      created,
      revision: current.revision,
      topicRules: this.catalog.current().rules.size,
      rules: current.rules.length,
    });
  }

  stop(): Promise<void> {
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters.clear();
    return this.follower.stop();
  }

  private apply(partition: number, records: readonly ConsumedRecord[]): void {
    const logger = this.options.logger;
    for (const record of records) {
      const offset = Number(record.offset);
      const value = record.value;
      // The topic's max.message.bytes bounds a record; the catalog bounds a list by its own limits.
      const text = value === null ? null : value.toString('utf8');
      const changes = this.catalog.apply({ offset, key: record.key?.toString('utf8') ?? null, value: text });
      for (const change of changes) {
        this.changes[change.kind] = (this.changes[change.kind] ?? 0) + 1;
        const { level, message, fields } = describeChange(change);
        logger[level](message, { topic: this.options.topic, partition, ...fields });
        this.options.onChange?.(change);
      }
    }
    const position = this.catalog.position;
    for (const waiter of this.waiters)
      if (waiter.position <= position) {
        waiter.resolve();
        this.waiters.delete(waiter);
      }
  }

  /** The rule list of a catalog revision: the base rules (replaced by topic rules of the same id), then topic rules by id. */
  private rulesOf(revision: RuleSetRevision<CompiledRule>): readonly CompiledRule[] {
    const cached = this.lists.get(revision);
    if (cached !== undefined) return cached;
    const topicRules = revision.rules;
    const rules: CompiledRule[] = [];
    for (const rule of this.options.base.rules) if (!topicRules.has(rule.rule.id)) rules.push(rule);
    for (const id of [...topicRules.keys()].sort())
      rules.push((topicRules.get(id) as { compiled: CompiledRule }).compiled);
    this.lists.set(revision, rules);
    return rules;
  }

  at(revision: number): RunningRuleSet & { readonly exact: boolean } {
    const found = this.catalog.revisionAt(revision);
    // A revision past what this process has read is not known yet (`waitFor` first).
    const exact = found.exact && revision <= this.catalog.position;
    return { revision: found.revision.position, rules: this.rulesOf(found.revision), exact };
  }

  current(): RunningRuleSet {
    const revision = this.catalog.current();
    return { revision: revision.position, rules: this.rulesOf(revision) };
  }

  /**
   * Resolves once this process has read the rules topic up to the switches a partition's restore needs
   * (another instance may have read further), or after `timeoutMs` (the replay then uses what is known
   * and says so).
   */
  async waitFor(switches: readonly RuleSetSwitch[] | undefined, timeoutMs = 30_000): Promise<boolean> {
    const needed = Math.max(0, ...(switches ?? []).map((s) => s.revision));
    if (needed <= this.catalog.position) return true;
    let timer: NodeJS.Timeout | undefined;
    const reached = await new Promise<boolean>((resolve) => {
      const waiter = { position: needed, resolve: () => resolve(true) };
      this.waiters.add(waiter);
      timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
    });
    clearTimeout(timer);
    return reached;
  }

  /** For `/metrics`. */
  metrics(): {
    revision: number;
    changes: Readonly<Record<string, number>>;
    rules: { id: string; name: string; version: number; revision: string | null }[];
  } {
    const current = this.current();
    return {
      revision: current.revision,
      changes: this.changes,
      rules: current.rules.map((r) => ({
        id: r.rule.id,
        name: r.rule.name,
        version: r.rule.version,
        revision: this.catalog.current().rules.get(r.rule.id)?.revision ?? null,
      })),
    };
  }
}
