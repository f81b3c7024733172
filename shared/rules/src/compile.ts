/**
 * A rule compiled for the engine, and alerts built from its matches. Compiling happens once per rule at
 * start-up; everything per-alert (field accessors, the message template, the ATT&CK rows, the rule
 * summary) is prepared here too, so building an alert is a few property reads and no parsing.
 */
import type { FieldExpr } from '@sequor/eql';
import type { CompiledQuery, Match } from '@sequor/engine';
import {
  AlertIdPrefix,
  alertIdOf,
  compileAccessor,
  compileEventTime,
  compileQuery,
  compileSpanAggregate,
  CompileError,
  QueryCompileError,
} from '@sequor/engine';
import type { FieldCatalog, FieldInfo, SequorEvent } from '@sequor/model';
import { eventFieldCatalog } from '@sequor/model';
import type { Alert, AlertEvidenceField, AlertRule, AlertThreat } from '@sequor/model';
import type { CompiledSigmaRule } from '@sequor/sigma';
import { EventView, SEQUOR_EVENT_SIGMA_FIELDS, SequorEventFields, sigmaRuleEventFields } from '@sequor/sigma';
import { RuleFileError, RuleSetError } from './errors.js';
import { bindSigmaRule } from './sigma.js';
import { sigmaEvidenceReader } from './sigma-evidence.js';
import { sigmaSetMatches } from './sigma-matches.js';
import { queryFieldNames, ruleKeyFields } from './query-fields.js';
import { MessageTemplate, renderValue } from './message.js';
import { compileExceptions, exceptionFields, withExceptions } from './exceptions.js';
import { compileSuppression, type CompiledSuppression } from './suppress.js';
import type { EqlRule, Rule, SigmaCorrelationRule, SigmaDetectionRule } from './types.js';

export interface CompileRuleOptions {
  /** The event model's fields; default `eventFieldCatalog`. */
  readonly catalog?: FieldCatalog;
  /**
   * The rule's content revision (the detector's rules topic: a hash of its text and the value lists it
   * uses), carried by its alerts as `rule.revision` and part of their ids, so an edit without a version
   * bump still makes different alerts. Default none: ids from the rule id and version alone.
   */
  readonly revision?: string;
}

export interface AlertContext {
  /** When the detector raised the alert, epoch ms. */
  readonly detectedAt: number;
  /** W3C trace id of the detection span, when tracing is on. */
  readonly traceId?: string | null;
}

export interface CompiledRule {
  readonly rule: Rule;
  readonly compiled: CompiledQuery<SequorEvent>;
  /** The fields alerts carry as `keys`, in the order of `Match.keyValues`. */
  readonly keyFields: readonly string[];
  /** The fields each evidence entry carries (query, keys, message placeholders). */
  readonly evidenceFields: readonly string[];
  /** The rule's `suppress`, compiled (`createRuleSetPipeline` takes it per rule); null without one. */
  readonly suppress: CompiledSuppression | null;
  /**
   * The alert for one match of this rule. The rule itself runs in a rule set (`createRuleSetPipeline`
   * with `compiled.spec`, as the detector, `sequor detect` and `sequor rules test` do); the detection
   * time and trace id come from the caller's clock and span.
   */
  toAlert(match: Match<SequorEvent>, context: AlertContext): Alert;
}

/** Engine compile errors, re-pointed at the rule file (they are positioned in the query text). */
function compileErrors(rule: EqlRule, error: unknown): RuleFileError[] {
  const errors =
    error instanceof QueryCompileError ? error.errors : error instanceof CompileError ? [error] : null;
  if (errors === null) {
    const detail = error instanceof Error ? error.message : String(error);
    return [
      rule.location.issueAt(['query'], 'compile', `the engine cannot compile this rule: ${detail}`, {
        cause: error,
      }),
    ];
  }
  return errors.map((e) =>
    rule.location.issue(rule.location.positionInScalar(['query'], e.offset), 'compile', e.detail, {
      length: e.length,
      cause: e,
    }),
  );
}

/** `group_by` names as the FieldExprs the engine's span compiler takes. */
function groupByFields(rule: EqlRule): FieldExpr[] {
  const at = rule.ast.body.span;
  return rule.groupBy.map((name) => ({ kind: 'field', path: name.split('.'), optional: false, span: at }));
}

/**
 * Compiles the rule's query (or span aggregation) with the engine. Throws `RuleSetError` carrying
 * `RuleFileError`s at file:line:col when the engine refuses it.
 */
export function compileRule(rule: Rule, options: CompileRuleOptions = {}): CompiledRule {
  const catalog = options.catalog ?? eventFieldCatalog;
  let compiled: CompiledQuery<SequorEvent>;
  switch (rule.type) {
    case 'sigma':
      compiled = compileSigmaQuery(rule, catalog);
      break;
    case 'sigma-correlation':
      compiled = compileSigmaCorrelationQuery(rule, catalog);
      break;
    case 'eql':
    case 'span_aggregation':
      compiled = compileEqlQuery(rule, catalog);
      break;
  }

  // Exceptions guard every predicate of the spec: an excepted event never reaches the rule's state.
  const excepted = compileExceptions(rule.exceptions ?? [], catalog);
  if (excepted !== null) compiled = { ...compiled, spec: withExceptions(compiled.spec, excepted) };
  // What tuning reads is read too: a projected decoder (the detector's) must keep the fields exceptions
  // test and suppression groups by, or an exception never holds and every alert falls in one group.
  const tuning = [...exceptionFields(rule.exceptions ?? []), ...(rule.suppress?.by ?? [])];
  if (tuning.length > 0)
    compiled = { ...compiled, fieldsUsed: [...new Set([...compiled.fieldsUsed, ...tuning])] };

  const plain = alertShape(rule, catalog);
  const revision = options.revision;
  const shape: AlertShape =
    revision === undefined
      ? plain
      : {
          ...plain,
          ruleSummary: Object.freeze({ ...plain.ruleSummary, revision }),
          idPrefix: new AlertIdPrefix(rule.id, `${rule.version}:${revision}`),
        };
  return {
    rule,
    compiled,
    suppress: compileSuppression(rule, catalog),
    keyFields: shape.keyFields,
    evidenceFields: shape.evidenceFields.map((f) => f.name),
    toAlert: (match, context) => buildAlertWith(shape, match, context),
  };
}

/**
 * A Sigma rule as an event filter over `SequorEvent`: its compiled predicate (shared with its set's
 * dispatch index, `binding`) read through a field source rebound per event.
 */
function compileSigmaQuery(rule: SigmaDetectionRule, catalog: FieldCatalog): CompiledQuery<SequorEvent> {
  const bound = bindSigmaRule(rule);
  if (bound instanceof RuleFileError) throw new RuleSetError([bound]);
  const { set, compiled: matches } = bound.binding!;
  // The event the set's dispatch just matched is decided already; any other (and one this rule or the
  // set threw on) is matched through one view, rebound per event. A throw there is the rule's own: it
  // goes to the engine, which reports it with the event (`onFilterError`, or `onStatefulError` on the
  // reordered path of a suppressed rule) and goes on, or stops without those callbacks, as for any rule.
  const decided = sigmaSetMatches(set);
  const position = decided.positionOf(matches);
  const source = new SequorEventFields();
  const view = new EventView(source);
  const noKey: readonly unknown[] = Object.freeze([]);
  return {
    spec: {
      kind: 'filter',
      predicate: (event) => {
        const known = decided.decided(event, position);
        if (known !== undefined) return known;
        return matches.matches(view.reset(source.bind(event)));
      },
      keyValues: () => noKey,
    },
    eventTime: compileEventTime<SequorEvent>(catalog),
    windowMs: 0,
    keyFields: [],
    // Not filtered through the catalog: `winlog.event_data` and `zeek.fields` are maps, no catalog leaf,
    // and a projection keeps a map only when asked for it (names the model lacks are skipped there).
    fieldsUsed: [...new Set([...SEQUOR_EVENT_SIGMA_FIELDS, ...sigmaRuleEventFields(rule.sigma)])],
    pipes: [],
  };
}

/**
 * A Sigma correlation as the engine spec its set compiled (`checkRuleSet`: it reads the set's rules);
 * refused when it did not go through a set.
 */
function compileSigmaCorrelationQuery(
  rule: SigmaCorrelationRule,
  catalog: FieldCatalog,
): CompiledQuery<SequorEvent> {
  const compiled = rule.compiled;
  if (compiled === undefined) {
    throw new RuleSetError([
      rule.location.issue(
        rule.location.positionOf([]),
        'compile',
        'a Sigma correlation compiles with the rule set that holds the rules it names',
      ),
    ]);
  }
  const readByRules = compiled.rules.flatMap((r) => sigmaRuleEventFields(r.rule));
  // The exceptions of the rules it names (and of the correlations it runs inside its chain) test events here.
  const readByTuning = rule.namedExceptionFields ?? [];
  return {
    spec: compiled.spec,
    eventTime: compileEventTime<SequorEvent>(catalog),
    windowMs: rule.correlation.timespanMs,
    keyFields: rule.correlation.groupBy.map((g) => g.name),
    fieldsUsed: [
      ...new Set([...SEQUOR_EVENT_SIGMA_FIELDS, ...compiled.groupByFields, ...readByRules, ...readByTuning]),
    ],
    pipes: [],
  };
}

/** A Sequor YAML rule's EQL query (or span aggregation), compiled by the engine. */
function compileEqlQuery(rule: EqlRule, catalog: FieldCatalog): CompiledQuery<SequorEvent> {
  let compiled: CompiledQuery<SequorEvent>;
  try {
    if (rule.type === 'span_aggregation') {
      const body = rule.ast.body;
      if (body.kind !== 'event' || rule.span === null) {
        throw new RuleSetError([
          rule.location.issueAt(
            ['query'],
            'compile',
            'a span_aggregation rule needs an event query and a span',
          ),
        ]);
      }
      const spec = compileSpanAggregate<SequorEvent>(body, groupByFields(rule), rule.span.ms, catalog, {
        source: rule.query,
      });
      compiled = {
        spec,
        eventTime: compileEventTime<SequorEvent>(catalog),
        windowMs: rule.span.ms,
        keyFields: rule.groupBy,
        fieldsUsed: [...new Set([...queryFieldNames(rule.ast), ...rule.groupBy])],
        pipes: [],
      };
    } else {
      compiled = compileQuery<SequorEvent>(rule.ast, catalog);
    }
  } catch (error) {
    if (error instanceof RuleSetError) throw error;
    throw new RuleSetError(compileErrors(rule, error));
  }
  return compiled;
}

/** Everything about a rule that every alert repeats, computed once. */
interface AlertShape {
  readonly rule: Rule;
  readonly ruleSummary: AlertRule;
  /** The rule id and version (with its revision when it has one) as every alert id of the rule begins. */
  readonly idPrefix: AlertIdPrefix;
  readonly threat: readonly AlertThreat[];
  readonly keyFields: readonly string[];
  readonly keyIndex: ReadonlyMap<string, number>;
  readonly evidenceFields: readonly EvidenceField[];
  /** A Sigma rule's: the fields its detection reads, by their Sigma names (`sigma-evidence.ts`). */
  readonly sigmaEvidence: ((e: SequorEvent) => AlertEvidenceField[]) | null;
  readonly accessors: ReadonlyMap<string, (e: SequorEvent) => unknown>;
  /** How `host.id`, `host.name`, `user.id` and `user.name` resolve, in that order. */
  readonly entity: readonly FieldResolver[];
  readonly message: MessageTemplate;
  /** The message of a template without placeholders (a Sigma rule's title): the same for every alert. */
  readonly fixedMessage: string | null;
}

/** A placeholder or entity field: its position among the key fields (-1: none), its accessor. */
interface FieldResolver {
  readonly key: number;
  readonly get: ((e: SequorEvent) => unknown) | null;
}

interface EvidenceField {
  readonly name: string;
  readonly info: FieldInfo;
  readonly get: (e: SequorEvent) => unknown;
}

const shapes = new WeakMap<Rule, AlertShape>();

function threatRows(rule: Rule): AlertThreat[] {
  const rows: AlertThreat[] = [];
  for (const t of rule.threat) {
    const tactic = { id: t.tactic.id, name: t.tactic.name };
    if (t.technique.length === 0)
      rows.push({ framework: t.framework, tactic, technique: null, subtechnique: null });
    for (const tech of t.technique) {
      const technique = { id: tech.id, name: tech.name };
      if (tech.subtechnique.length === 0)
        rows.push({ framework: t.framework, tactic, technique, subtechnique: null });
      for (const sub of tech.subtechnique)
        rows.push({
          framework: t.framework,
          tactic,
          technique,
          subtechnique: { id: sub.id, name: sub.name },
        });
    }
  }
  return rows;
}

/** The compiled Sigma rules whose matches are a rule's evidence: its own, or a correlation's inputs. */
function sigmaRulesOf(rule: Rule): readonly CompiledSigmaRule[] {
  if (rule.type === 'sigma-correlation') return rule.compiled?.rules ?? [];
  if (rule.type !== 'sigma') return [];
  const bound = bindSigmaRule(rule);
  return bound instanceof RuleFileError || bound.binding === undefined ? [] : [bound.binding.compiled];
}

function alertShape(rule: Rule, catalog: FieldCatalog): AlertShape {
  const cached = shapes.get(rule);
  if (cached !== undefined) return cached;
  const keyFields = ruleKeyFields(rule);
  const message = MessageTemplate.parse(rule.message);
  const read = rule.type === 'eql' || rule.type === 'span_aggregation' ? queryFieldNames(rule.ast) : [];
  const names = [...new Set([...keyFields, ...read, ...message.fields()])];
  const entityFields = ['host.id', 'host.name', 'user.id', 'user.name'];
  const accessors = new Map<string, (e: SequorEvent) => unknown>();
  const evidenceFields: EvidenceField[] = [];
  for (const name of [...names, ...entityFields]) {
    if (accessors.has(name)) continue;
    const info = catalog.lookup(name.split('.'));
    if (info === undefined) continue; // lint refuses unknown fields; optional `?field`s may be absent
    const get = compileAccessor<SequorEvent>(info.storagePath);
    accessors.set(name, get);
    if (names.includes(name)) evidenceFields.push({ name, info, get });
  }
  const keyIndex = new Map(keyFields.map((f, i) => [f, i]));
  const sigmaRules = sigmaRulesOf(rule);
  const sigmaEvidence =
    sigmaRules.length === 0
      ? null
      : sigmaEvidenceReader(sigmaRules, new Set(evidenceFields.map((f) => f.name)));
  const shape: AlertShape = {
    rule,
    ruleSummary: Object.freeze({
      id: rule.id,
      name: rule.name,
      version: rule.version,
      type: rule.type,
      severity: rule.severity,
      risk_score: rule.riskScore,
      references: Object.freeze([...rule.references]),
      revision: null,
      level: rule.type === 'sigma' || rule.type === 'sigma-correlation' ? rule.level : null,
      tags: Object.freeze([...rule.tags]),
      author: Object.freeze([...rule.author]),
    }),
    idPrefix: new AlertIdPrefix(rule.id, rule.version),
    threat: Object.freeze(threatRows(rule)),
    keyFields,
    keyIndex,
    evidenceFields,
    sigmaEvidence,
    accessors,
    entity: entityFields.map((field) => resolverOf(field, keyIndex, accessors)),
    message,
    fixedMessage: message.placeholders.length === 0 ? message.render(() => null) : null,
  };
  shapes.set(rule, shape);
  return shape;
}

function evidenceValue(field: EvidenceField, event: SequorEvent): AlertEvidenceField['value'] {
  const v = field.get(event);
  if (v === null || v === undefined) return null;
  if (field.info.type === 'timestamp' && typeof v === 'number') return new Date(v).toISOString();
  if (Array.isArray(v)) return v.map((x) => renderValue(x) ?? '');
  return renderValue(v);
}

function resolverOf(
  field: string,
  keyIndex: ReadonlyMap<string, number>,
  accessors: ReadonlyMap<string, (e: SequorEvent) => unknown>,
): FieldResolver {
  return { key: keyIndex.get(field) ?? -1, get: accessors.get(field) ?? null };
}

/** A placeholder or entity field's value: the key's value first, then the evidence events in order. */
function resolveField(resolver: FieldResolver, match: Match<SequorEvent>): unknown {
  if (resolver.key >= 0) {
    const v = match.keyValues[resolver.key];
    if (v !== null && v !== undefined) return v;
  }
  const get = resolver.get;
  if (get === null) return null;
  const events = match.events;
  for (let i = 0; i < events.length; i++) {
    const v = get(events[i]!);
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** An entity field's text: most are strings, taken as they are (what `renderValue` gives for one). */
function entityText(resolver: FieldResolver, match: Match<SequorEvent>): string | null {
  const v = resolveField(resolver, match);
  return typeof v === 'string' ? v : renderValue(v);
}

/** One evidence entry's fields: the rule's evidence fields the event has, then a Sigma rule's. */
function evidenceFieldsOf(shape: AlertShape, event: SequorEvent): AlertEvidenceField[] {
  const fields: AlertEvidenceField[] = [];
  const list = shape.evidenceFields;
  for (let i = 0; i < list.length; i++) {
    const value = evidenceValue(list[i]!, event);
    if (value !== null) fields.push({ name: list[i]!.name, value });
  }
  if (shape.sigmaEvidence !== null) for (const f of shape.sigmaEvidence(event)) fields.push(f);
  return fields;
}

function buildAlertWith(shape: AlertShape, match: Match<SequorEvent>, context: AlertContext): Alert {
  const events = match.events;
  const evidenceIds: string[] = [];
  for (let i = 0; i < events.length; i++) evidenceIds.push(events[i]!.event.id);
  const [hostId, hostName, userId, userName] = shape.entity as [
    FieldResolver,
    FieldResolver,
    FieldResolver,
    FieldResolver,
  ];
  // Built in one go, property by property in the order the alert has always had (its JSON is byte-stable).
  return {
    alert: { id: alertIdOf(shape.idPrefix, evidenceIds) },
    timestamp: context.detectedAt,
    rule: shape.ruleSummary,
    threat: shape.threat,
    entity: {
      host: {
        id: entityText(hostId, match),
        name: entityText(hostName, match),
      },
      user: {
        id: entityText(userId, match),
        name: entityText(userName, match),
      },
    },
    keys: shape.keyFields.map((field, i) => ({ field, value: renderValue(match.keyValues[i]) })),
    event: { first_time: match.firstTime, last_time: match.lastTime, count: match.count ?? events.length },
    evidence: events.map((e) => ({
      event_id: e.event.id,
      timestamp: e.timestamp,
      origin: {
        format: e.origin.format,
        topic: e.origin.topic,
        partition: e.origin.partition,
        offset: e.origin.offset,
      },
      fields: evidenceFieldsOf(shape, e),
    })),
    message:
      shape.fixedMessage ??
      shape.message.render((field) =>
        resolveField(resolverOf(field, shape.keyIndex, shape.accessors), match),
      ),
    trace_id: context.traceId ?? null,
  };
}

/**
 * The alert for one match of `rule`: deterministic id from the rule id, version and evidence event ids
 * (`alertId`), entity and message resolved from the key values then the evidence, evidence carrying the
 * fields the rule used. Pure: the detection time and trace id come from `context`.
 */
export function buildAlert(
  rule: Rule,
  match: Match<SequorEvent>,
  context: AlertContext,
  catalog: FieldCatalog = eventFieldCatalog,
): Alert {
  return buildAlertWith(alertShape(rule, catalog), match, context);
}
