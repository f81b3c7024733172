/**
 * Checks that span rule files or depend on the deployment: duplicate rule ids across files, and whether a
 * correlation rule's key is compatible with how the events topic is partitioned. Per-file checks (YAML,
 * metadata, EQL, placeholders) live in analyze.ts; `lintRuleDir` runs both and collects every finding.
 */
import type { FieldCatalog } from '@sequor/model';
import type { RuleFileResult } from './analyze.js';
import type { CompileRuleOptions } from './compile.js';
import { compileRule } from './compile.js';
import { RuleFileError, RuleSetError } from './errors.js';
import type { RuleSelection } from './select.js';
import { ruleSelected } from './select.js';
import { compileSigmaCorrelationRules, compileSigmaRules } from './sigma.js';
import { filterApplies, silencedBySigmaCorrelations } from '@sequor/sigma';
import { fieldName, isCorrelationRule, itemKeyFields } from './query-fields.js';
import type { Rule, SigmaCorrelationRule, SigmaDetectionRule } from './types.js';

/** The normalizer keys normalized events by host, so `host.id` is the default co-partitioning field. */
export const defaultPartitionKeyFields: readonly string[] = Object.freeze(['host.id']);

/**
 * A correlation rule is evaluated per partition, by whichever detector instance owns it. It can only see
 * all the events of one key if every event with that key lands on the same partition, i.e. if its key
 * includes every field the topic is partitioned on (at the same position in every item, for sequences and
 * joins). A rule keyed on anything else would silently miss matches whose events sit on different
 * partitions, so it is refused. Event queries keep no state and need no key.
 *
 * Returns null when compatible, else an error pointing at the rule's `by` clause or `group_by`.
 */
export function checkPartitionCompatibility(
  rule: Rule,
  partitionKeyFields: readonly string[] = defaultPartitionKeyFields,
): RuleFileError | null {
  if (rule.type === 'sigma' || !isCorrelationRule(rule)) return null;
  const partitioned = partitionKeyFields.join(', ');
  const why =
    `the events topic is partitioned by ${partitioned}, and each detector instance sees only its own partitions: ` +
    `events with the same key but a different ${partitioned} land on other partitions, so matches across them would be silently missed`;

  if (rule.type === 'sigma-correlation') {
    // The event fields group-by reads (after aliases and the rules' field maps), as compiled.
    const compiled = rule.compiled;
    if (compiled === undefined) return null; // not compiled: its own error says why
    const read = compiled.groupByFields;
    const missing = partitionKeyFields.filter((f) => !read.includes(f));
    if (missing.length > 0) {
      const groupBy = rule.correlation.groupBy;
      const at = groupBy[0]?.position ?? rule.correlation.position;
      return rule.location.issue(
        at,
        'incompatible-partition-key',
        `group-by [${groupBy.map((g) => g.name).join(', ')}] reads [${read.join(', ')}], which does not include ${missing.join(', ')}: ${why}. Add ${missing.join(', ')} to group-by (or an alias of it), or partition the topic by a field the correlation groups on.`,
        { length: at.length },
      );
    }
    // The correlations it runs inside its chain keep state by their own group-by: the same holds for them.
    for (const inner of compiled.innerGroupByFields) {
      const absent = partitionKeyFields.filter((f) => !inner.fields.includes(f));
      if (absent.length === 0) continue;
      const { file, position, groupBy, title } = inner.correlation;
      const at = rule.correlation.position;
      return rule.location.issue(
        at,
        'incompatible-partition-key',
        `it runs correlation "${title}" (${file}:${position.line}), whose group-by [${groupBy.map((g) => g.name).join(', ')}] reads [${inner.fields.join(', ')}], which does not include ${absent.join(', ')}: ${why}. Add ${absent.join(', ')} to that group-by (or an alias of it), or partition the topic by a field both correlations group on.`,
        { length: at.length },
      );
    }
    return null;
  }

  if (rule.type === 'span_aggregation') {
    const missing = partitionKeyFields.filter((f) => !rule.groupBy.includes(f));
    if (missing.length === 0) return null;
    return rule.location.issueAt(
      ['group_by'],
      'incompatible-partition-key',
      `group_by [${rule.groupBy.join(', ')}] does not include ${missing.join(', ')}: ${why}. Add ${missing.join(', ')} to group_by, or partition the topic by a field the rule groups on.`,
    );
  }

  const body = rule.ast.body;
  if (body.kind === 'event') return null;
  const perItem = itemKeyFields(rule.ast).map((keys) => keys.map(fieldName));
  const width = Math.min(...perItem.map((k) => k.length));
  const missing = partitionKeyFields.filter(
    (p) => !Array.from({ length: width }, (_, j) => j).some((j) => perItem.every((keys) => keys[j] === p)),
  );
  if (missing.length === 0) return null;

  // Point at the query-level `by` fields when there are any, else at the sequence/join keyword.
  const anchor = body.by[0]?.span ?? body.span;
  const keyText = perItem.length > 0 && width > 0 ? `by ${(perItem[0] ?? []).join(', ')}` : 'no `by` key';
  const detail =
    width === 0
      ? `this ${body.kind} has no \`by\` key, so it correlates events across the whole stream: ${why}. Add \`by ${partitioned}\` (and any finer keys).`
      : `this ${body.kind} correlates ${keyText}, which does not include ${missing.join(', ')} in every item: ${why}. Add ${missing.join(', ')} to the \`by\` key, or partition the topic by a field the rule joins on.`;
  return rule.location.issue(
    rule.location.positionInScalar(['query'], anchor.start),
    'incompatible-partition-key',
    detail,
    {
      length: anchor.end - anchor.start,
    },
  );
}

/** The second and later rules with an id seen before, each pointing at its `id` and naming the first file. */
export function duplicateIdErrors(rules: readonly Rule[]): Map<Rule, RuleFileError> {
  const first = new Map<string, Rule>();
  const out = new Map<Rule, RuleFileError>();
  for (const rule of rules) {
    const seen = first.get(rule.id.toLowerCase());
    if (seen === undefined) {
      first.set(rule.id.toLowerCase(), rule);
      continue;
    }
    const at = seen.location.positionOf(['id']);
    out.set(
      rule,
      rule.location.issueAt(
        ['id'],
        'duplicate-id',
        `rule id ${rule.id} is already used by ${seen.location.file}:${at.line} ("${seen.name}"): alert ids and rule state are keyed by rule id`,
      ),
    );
  }
  return out;
}

export interface RuleSetCheckOptions extends Pick<CompileRuleOptions, 'catalog'> {
  /** The fields the events topic is partitioned on (the normalizer's key fields); default `['host.id']`. */
  readonly partitionKeyFields?: readonly string[];
  /**
   * Which rules run (`--min-level`, `--status`, `--tags`); the others are marked `deselected` and left
   * uncompiled, so thousands of unwanted Sigma rules cost nothing per event. Default: every rule.
   */
  readonly selection?: RuleSelection;
}

/**
 * Applies the cross-file checks to per-file results: a rule with a duplicate id or an incompatible key,
 * or one the engine's compiler refuses (a bad regex, a type it cannot compare), moves from `rule` to
 * `errors`. Results keep their order (sorted paths make "first" deterministic).
 */
export function checkRuleSet(
  results: readonly RuleFileResult[],
  options: RuleSetCheckOptions = {},
): RuleFileResult[] {
  const sigmaBound = bindSigmaRules(markDeselected(results, options.selection), options.catalog);
  const loaded = sigmaBound.flatMap((r) => (r.rule === null ? [] : [r.rule]));
  const duplicates = duplicateIdErrors(loaded);
  return sigmaBound.map((r) => {
    if (r.rule === null) return r;
    if (r.deselected === true) {
      const dup = duplicates.get(r.rule);
      return dup === undefined ? r : { ...r, rule: null, errors: [...r.errors, dup] };
    }
    const notes = tuningWarnings(r, options.partitionKeyFields);
    const warnings = notes.length === 0 ? r.warnings : [...r.warnings, ...notes];
    const extra: RuleFileError[] = [];
    const dup = duplicates.get(r.rule);
    if (dup) extra.push(dup);
    const key = checkPartitionCompatibility(r.rule, options.partitionKeyFields);
    if (key) extra.push(key);
    // Sigma rules were compiled with their set above, and so were the correlations that run only inside
    // an outer one (a chain's inner correlations: silenced, no spec of their own); every EQL rule and
    // alerting correlation is compiled here.
    if (r.rule.type !== 'sigma' && !(r.rule.type === 'sigma-correlation' && r.silenced === true)) {
      try {
        compileRule(r.rule, { catalog: options.catalog });
      } catch (error) {
        if (!(error instanceof RuleSetError)) throw error;
        extra.push(...error.errors);
      }
    }
    return extra.length === 0
      ? { ...r, warnings }
      : { ...r, rule: null, errors: [...r.errors, ...extra], warnings };
  });
}

/**
 * What a rule's tuning does not do, said where it is written (warnings: the rule loads): suppression is
 * kept per partition, so `by` without the partition key depends on the partition count; a rule that
 * raises no alerts of its own (generate: false) has nothing to suppress.
 */
function tuningWarnings(
  r: RuleFileResult,
  partitionKeyFields: readonly string[] = defaultPartitionKeyFields,
): RuleFileError[] {
  const rule = r.rule;
  if (rule === null) return [];
  const sigma = rule.type === 'sigma' || rule.type === 'sigma-correlation';
  const base: readonly (string | number)[] = sigma ? ['sequor'] : [];
  const out: RuleFileError[] = [];
  const suppress = rule.suppress;
  if (suppress != null) {
    if (r.silenced === true)
      out.push(
        rule.location.issueAt(
          [...base, 'suppress'],
          'invalid-field',
          'this rule raises no alerts of its own (a correlation names it with generate: false), so its suppression never applies',
          { level: 'warning' },
        ),
      );
    const missing = partitionKeyFields.filter((f) => !suppress.by.some((b) => b === f));
    if (missing.length > 0)
      out.push(
        rule.location.issueAt(
          [...base, 'suppress', ...(suppress.by.length > 0 ? ['by'] : [])],
          'incompatible-partition-key',
          `suppression windows are kept per partition and events are partitioned by ${partitionKeyFields.join(', ')}: by [${suppress.by.join(', ')}] does not include ${missing.join(', ')}, so a group seen on two partitions opens a window on each (the alerts then depend on the partition count). Add ${missing.join(', ')} to by to suppress per ${missing.join(', ')}.`,
          { level: 'warning' },
        ),
      );
  }
  return out;
}

/**
 * The Sigma rules of the results compiled together, with the meta filters found among the files
 * joined to the rules they apply to: each rule gets its binding to the set, or is refused with the
 * reason (a logsource no pipeline knows, a pattern past the bounds) at its position.
 */
function bindSigmaRules(results: readonly RuleFileResult[], catalog?: FieldCatalog): RuleFileResult[] {
  const filters = results.flatMap((r) => (r.sigmaFilter === undefined ? [] : [r.sigmaFilter]));
  const sigma = results.flatMap((r) => (r.rule?.type === 'sigma' && r.deselected !== true ? [r.rule] : []));
  const correlations = results.flatMap((r) =>
    r.rule?.type === 'sigma-correlation' && r.deselected !== true ? [r.rule] : [],
  );
  // A filter naming no loaded rule (a typo, a rule since removed) applies to nothing: said, not silent.
  const known = new Set(
    results.flatMap((r) => (r.rule?.type === 'sigma' ? [r.rule.id, r.rule.sigma.name ?? null] : [])),
  );
  // So is one whose logsource covers none of the rules it would apply to (a filter for process_creation
  // naming a registry rule; `rules: any` under `product: linux`).
  const loadedSigma = results.flatMap((r) => (r.rule?.type === 'sigma' ? [r.rule.sigma] : []));
  results = results.map((r) => {
    const filter = r.sigmaFilter;
    if (filter === undefined) return r;
    let detail: string;
    if (filter.rules === 'any') {
      if (loadedSigma.length === 0 || loadedSigma.some((rule) => filterApplies(filter, rule))) return r;
      detail = `filter "${filter.title}" applies to any rule, but its logsource covers no loaded Sigma detection rule's: it excepts nothing`;
    } else {
      const unknown = filter.rules.filter((ref) => !known.has(ref));
      const uncovered = filter.rules.filter(
        (ref) =>
          known.has(ref) &&
          !loadedSigma.some((rule) => (rule.id === ref || rule.name === ref) && filterApplies(filter, rule)),
      );
      if (unknown.length > 0)
        detail = `filter "${filter.title}" names ${unknown.map((u) => `"${u}"`).join(', ')}, which no loaded Sigma detection rule has as its id or name (filters apply to detection rules): it excepts nothing there`;
      else if (uncovered.length > 0)
        detail = `filter "${filter.title}" names ${uncovered.map((u) => `"${u}"`).join(', ')}, whose logsource its own does not cover (a filter's logsource must hold every field of the rule's): it excepts nothing there`;
      else return r;
    }
    const { file, position } = filter;
    const warning = new RuleFileError({
      file,
      line: position.line,
      column: position.column,
      offset: position.offset,
      length: position.length,
      code: 'invalid-field',
      level: 'warning',
      detail,
      snippet: `${file}:${position.line}:${position.column}: warning: ${detail}`,
    });
    return { ...r, warnings: [...r.warnings, warning] };
  });
  if (sigma.length === 0 && correlations.length === 0) return [...results];
  const outcome = compileSigmaRules(sigma, filters).rules;
  let next = 0;
  const bound = results.map((r) => {
    if (r.rule?.type !== 'sigma' || r.deselected === true) return r;
    const rule = outcome[next++] as SigmaDetectionRule | RuleFileError;
    return rule instanceof RuleFileError ? { ...r, rule: null, errors: [...r.errors, rule] } : { ...r, rule };
  });
  // A detection rule a correlation names with generate: false is a building block: it stays silent when
  // the selection (--status, --min-level, --tags) leaves that correlation out, rather than alerting alone.
  const everyCorrelation = results.flatMap((r) => (r.rule?.type === 'sigma-correlation' ? [r.rule] : []));
  // A correlation that did not load still names its building blocks: they stay silent, and say why.
  const unloaded = results.flatMap((r) => r.unloadedCorrelations ?? []);
  const silencedByAny = silencedBySigmaCorrelations([
    ...everyCorrelation.map((c) => c.correlation),
    ...unloaded,
  ]);
  const silencedByLoaded = silencedBySigmaCorrelations(everyCorrelation.map((c) => c.correlation));
  const building = (r: RuleFileResult, rule: SigmaDetectionRule): boolean =>
    r.keptForCorrelation === true || silencedByAny.has({ id: rule.id, name: rule.sigma.name ?? null });
  // A rule (or an inner correlation) kept silent only by correlations that did not load says so.
  const silence = (r: RuleFileResult, rule: SigmaDetectionRule | SigmaCorrelationRule): RuleFileResult => {
    const name = (rule.type === 'sigma' ? rule.sigma.name : rule.correlation.name) ?? null;
    if (silencedByLoaded.has({ id: rule.id, name })) return { ...r, silenced: true };
    const names = [rule.id, name];
    const why = unloaded.filter((c) => !c.generate && c.rules.some((ref) => names.includes(ref.name)));
    // Each at the id or name that correlation names it by.
    const warnings = why.map((c) =>
      rule.location.issue(
        rule.location.positionOf([c.rules.some((ref) => ref.name === name) ? 'name' : 'id']),
        'invalid-field',
        `raises no alerts of its own: correlation ${c.title === null ? '' : `"${c.title}" `}(${c.file}:${c.position.line}:${c.position.column}) names it and did not load; fix that correlation (its rules stay its building blocks meanwhile)`,
        { level: 'warning' },
      ),
    );
    return { ...r, silenced: true, warnings: [...r.warnings, ...warnings] };
  };
  if (correlations.length === 0)
    return bound.map((r) =>
      r.rule?.type === 'sigma' && r.deselected !== true && building(r, r.rule) ? silence(r, r.rule) : r,
    );
  const compiledRules = bound.flatMap((r) =>
    r.rule?.type === 'sigma' && r.rule.binding !== undefined ? [r.rule.binding.compiled] : [],
  );
  const exceptions = new Map(
    bound.flatMap((r) =>
      r.rule?.type === 'sigma' && r.rule.binding !== undefined && (r.rule.exceptions?.length ?? 0) > 0
        ? [[r.rule.binding.compiled, r.rule.exceptions ?? []] as const]
        : [],
    ),
  );
  const set = compileSigmaCorrelationRules(
    compiledRules,
    correlations,
    everyCorrelation,
    { exceptions, catalog },
    unloaded,
  );
  return bound.map((r) => {
    const rule = r.rule;
    if (rule === null || r.deselected === true) return r;
    if (rule.type === 'sigma') return building(r, rule) ? silence(r, rule) : r;
    if (rule.type !== 'sigma-correlation') return r;
    const outcome = set.byRule.get(rule);
    if (outcome === undefined) return silence(r, rule); // an inner correlation of a chain
    if (outcome instanceof RuleFileError) return { ...r, rule: null, errors: [...r.errors, outcome] };
    // Left out by the selection, read by a kept chain: it runs inside that chain only.
    return r.keptForCorrelation === true ? silence(r, rule) : { ...r, rule: outcome };
  });
}

/**
 * The results with the rules `selection` leaves out marked `deselected`. A Sigma rule or correlation a
 * kept correlation names (by id or name, through chains) is kept: the correlation reads it.
 */
function markDeselected(
  results: readonly RuleFileResult[],
  selection: RuleSelection | undefined,
): readonly RuleFileResult[] {
  if (selection === undefined || Object.keys(selection).length === 0) return results;
  const rules = results.flatMap((r) => (r.rule === null ? [] : [r.rule]));
  const selected = new Set(rules.filter((rule) => ruleSelected(rule, selection)));
  const keep = new Set(selected);
  const names = (rule: Rule): (string | null | undefined)[] =>
    rule.type === 'sigma'
      ? [rule.id, rule.sigma.name]
      : rule.type === 'sigma-correlation'
        ? [rule.id, rule.correlation.name]
        : [];
  for (let changed = true; changed;) {
    changed = false;
    const named = new Set<string>();
    for (const rule of keep)
      if (rule.type === 'sigma-correlation') for (const ref of rule.correlation.rules) named.add(ref.name);
    for (const rule of rules) {
      if (keep.has(rule) || !names(rule).some((n) => n !== null && n !== undefined && named.has(n))) continue;
      keep.add(rule);
      changed = true;
    }
  }
  return results.map((r) =>
    r.rule === null || selected.has(r.rule)
      ? r
      : keep.has(r.rule)
        ? { ...r, keptForCorrelation: true }
        : { ...r, deselected: true },
  );
}

/** Totals for `sequor rules lint`. */
export interface LintSummary {
  readonly files: number;
  readonly rules: number;
  readonly errors: number;
  readonly warnings: number;
}

export function summarize(results: readonly RuleFileResult[]): LintSummary {
  return {
    files: results.length,
    rules: results.filter((r) => r.rule !== null).length,
    errors: results.reduce((n, r) => n + r.errors.length, 0),
    warnings: results.reduce((n, r) => n + r.warnings.length, 0),
  };
}
