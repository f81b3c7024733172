/**
 * A detection rule as data: what a rule file says, checked and typed. The engine compiles `ast`; the rest is
 * metadata carried into alerts (severity, ATT&CK, references) and the embedded tests a rule author runs.
 * Field names are the YAML keys in camelCase (`risk_score` is `riskScore`).
 */
import type { Query } from '@sequor/eql';
import type { SequorEvent } from '@sequor/model';
import type {
  CompiledSigmaCorrelation,
  CompiledSigmaRule,
  SigmaCorrelation,
  SigmaLevel,
  SigmaRule,
  SigmaRuleSet,
  SigmaStatus,
} from '@sequor/sigma';
import type { ExceptionItem } from './exceptions.js';
import type { RuleSourceMap } from './source-map.js';

export const ruleSeverities = ['low', 'medium', 'high', 'critical'] as const;
export type RuleSeverity = (typeof ruleSeverities)[number];

/** `eql`: an event query, sequence or join. `span_aggregation`: Splunk `tstats ... BY _time span=<span> <group_by>`. */
export const ruleTypes = ['eql', 'span_aggregation'] as const;
export type RuleType = (typeof ruleTypes)[number];

/** One ATT&CK object as Elastic's detection-rules write it: `{ id, name, reference }`. */
export interface AttackRef {
  readonly id: string;
  readonly name: string;
  readonly reference: string;
}

export interface AttackTechnique extends AttackRef {
  readonly subtechnique: readonly AttackRef[];
}

/** One `threat` entry: a tactic and the techniques of it the rule detects (Elastic's `rule.threat`). */
export interface ThreatMapping {
  readonly framework: string;
  readonly tactic: AttackRef;
  readonly technique: readonly AttackTechnique[];
}

/** Where the analytic is published (the rule we port), so an analyst can read the original. */
export interface RulePublication {
  readonly name: string;
  readonly url: string;
  /** The publisher's id for the analytic, when it has one (CAR-2014-11-005, a Splunk or Elastic UUID). */
  readonly id: string | null;
}

/** A span as written in the rule (`1h`) and in milliseconds. */
export interface RuleSpan {
  readonly text: string;
  readonly ms: number;
}

/** What an alert whose `suppress.by` field is missing does: join the group of missing values, or always alert. */
export const suppressMissingModes = ['suppress', 'alert'] as const;
export type SuppressMissing = (typeof suppressMissingModes)[number];

/**
 * `suppress: { by: [fields], window: 1h, missing: suppress }`: per group of `by` values, the first alert
 * opens a window in event time; later alerts of the group within it are counted, not published, and one
 * update record reports them when the window closes.
 */
export interface RuleSuppression {
  /** Fields read from the alert's evidence events, in order: the first non-null value of each. */
  readonly by: readonly string[];
  readonly window: RuleSpan;
  readonly missing: SuppressMissing;
}

/** One expected alert of a rule test: the `event.id`s of its evidence events, in event-time order. */
export interface ExpectedAlert {
  readonly evidence: readonly string[];
}

/**
 * One expected suppression update of a rule test (`expect_updates`, rules with `suppress`): the window
 * opened by the published alert with evidence `alert` counted `count` alerts, the last with `lastEvidence`.
 */
export interface ExpectedUpdate {
  readonly alert: readonly string[];
  readonly count: number;
  readonly lastEvidence: readonly string[];
}

/** An embedded test: ECS JSON events (through the `ecs` source format) and the alerts they must raise. */
export interface RuleTestCase {
  readonly name: string;
  readonly events: readonly Readonly<Record<string, unknown>>[];
  /** The published alerts (after the rule's `suppress`). Empty for a must-not-fire case. */
  readonly expect: readonly ExpectedAlert[];
  /** `expect_updates`: the suppression updates, checked when given (absent: not checked). */
  readonly expectUpdates?: readonly ExpectedUpdate[];
}

/** What every rule has, whatever language it is written in: the metadata alerts carry. */
export interface RuleCommon {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly version: number;
  readonly severity: RuleSeverity;
  readonly riskScore: number;
  readonly author: readonly string[];
  readonly license: string;
  readonly threat: readonly ThreatMapping[];
  readonly references: readonly string[];
  readonly falsePositives: readonly string[];
  readonly tags: readonly string[];
  readonly source: RulePublication | null;
  /** Alert message template with `$field$` placeholders. */
  readonly message: string;
  /** Alert suppression (`suppress`); absent or null: every alert is published. */
  readonly suppress?: RuleSuppression | null;
  /** Exception items (`exceptions`), OR-ed; an excepted event is never seen by the rule. Absent: none. */
  readonly exceptions?: readonly ExceptionItem[];
  readonly tests: readonly RuleTestCase[];
  /** Where the rule came from, to point later errors (duplicate id, partition key, engine) at file:line:col. */
  readonly location: RuleSourceMap;
}

/** A Sequor YAML rule: an EQL query (event query, sequence, join) or a span aggregation. */
export interface EqlRule extends RuleCommon {
  readonly type: RuleType;
  /** The EQL text as written. */
  readonly query: string;
  /** The parsed query: parsed once at load time, compiled by the engine. */
  readonly ast: Query;
  /** `span_aggregation` only (null otherwise). */
  readonly span: RuleSpan | null;
  /** `span_aggregation` only: the BY fields (empty otherwise). */
  readonly groupBy: readonly string[];
}

/**
 * The compiled form a Sigma rule shares with the rest of its rule set: compiled once with the other
 * Sigma rules of the set (matchers shared), and the `SigmaRuleSet` whose index dispatches events to them.
 */
export interface SigmaRuleBinding {
  readonly set: SigmaRuleSet;
  readonly compiled: CompiledSigmaRule;
}

/**
 * A Sigma detection rule (SigmaHQ's format, a `detection` + `logsource` document): an event filter. The
 * common metadata is derived from it (`title` → name, `level` → severity); `sigma` keeps the rule as
 * loaded, with the meta filters that apply to it already joined.
 */
export interface SigmaDetectionRule extends RuleCommon {
  readonly type: 'sigma';
  readonly sigma: SigmaRule;
  /** Sigma's own level (`informational` included) and status, as written; null when absent. */
  readonly level: SigmaLevel | null;
  readonly status: SigmaStatus | null;
  /** Set when the rule set is checked (`checkRuleSet`); a lone rule is compiled on its own. */
  readonly binding?: SigmaRuleBinding;
}

/**
 * A Sigma correlation (Sigma 2.1: `event_count`, `value_count`, `temporal`, ...) over the set's Sigma
 * rules, compiled to an engine spec when the set is checked (`compiled`): it needs the rules it names.
 */
export interface SigmaCorrelationRule extends RuleCommon {
  readonly type: 'sigma-correlation';
  readonly correlation: SigmaCorrelation;
  readonly level: SigmaLevel | null;
  readonly status: SigmaStatus | null;
  /** Set when the rule set is checked (`checkRuleSet`). */
  readonly compiled?: CompiledSigmaCorrelation<SequorEvent>;
  /**
   * Set with `compiled`: the event fields the exceptions of the rules it names, and of the correlations it
   * runs inside its chain, read (they keep excepted events out of it).
   */
  readonly namedExceptionFields?: readonly string[];
}

/**
 * A rule in either language; `type` tells which: `eql`, `span_aggregation` (Sequor YAML), `sigma`,
 * `sigma-correlation`.
 */
export type Rule = EqlRule | SigmaDetectionRule | SigmaCorrelationRule;
