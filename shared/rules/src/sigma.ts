/**
 * Sigma rule files in the rule set: which language a file is written in, a Sigma file's text → a
 * `SigmaDetectionRule` (or the meta filter it holds) with its problems as `RuleFileError`s, and the one
 * compile of every Sigma rule of a set (meta filters joined, matchers shared, one `SigmaRuleSet` index).
 * Pure: the loader reads the files.
 */
import type { FilterDispatch } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import type { CompiledSigmaRule, SigmaFilter, SigmaLevel, SigmaRuleError } from '@sequor/sigma';
import { defaultPipeline, loadSigmaText, SigmaRuleSet } from '@sequor/sigma';
import type { Node } from 'yaml';
import type { RuleFileResult } from './analyze.js';
import type { RuleIssueCode } from './errors.js';
import { RuleFileError } from './errors.js';
import type { DocPath } from './source-map.js';
import { RuleSourceMap } from './source-map.js';
import { sequorFieldSource } from './sigma-event-source.js';
import type { Rule, RuleSeverity, SigmaDetectionRule } from './types.js';

/** The language of a rule file. */
export type RuleLanguage = 'sigma' | 'sequor';

/** Top-level keys of every YAML document in `text` (block style, as rule files are written). */
function topLevelKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const m of text.matchAll(/^([A-Za-z_][\w-]*)[ \t]*:/gm)) keys.add(m[1] as string);
  return keys;
}

/**
 * Sigma when a document has `detection` and `logsource` (a rule), or is a `correlation` or `filter`
 * document without a Sequor `query`; Sequor YAML otherwise (so a broken Sequor file keeps its own errors).
 */
export function sniffRuleLanguage(text: string): RuleLanguage {
  const keys = topLevelKeys(text);
  if (keys.has('detection') && keys.has('logsource')) return 'sigma';
  if ((keys.has('correlation') || keys.has('filter')) && !keys.has('query')) return 'sigma';
  return 'sequor';
}

/**
 * Sigma `level` → the alert severity Sequor uses (Elastic's four); `informational` is `low` (the level as
 * written stays on the rule and its alerts). A rule without a level is `medium`, Sigma's middle.
 */
export function severityOfSigmaLevel(level: SigmaLevel | null): RuleSeverity {
  switch (level) {
    case 'informational':
    case 'low':
      return 'low';
    case null:
    case 'medium':
      return 'medium';
    case 'high':
      return 'high';
    case 'critical':
      return 'critical';
  }
}

/** The risk score Elastic's Sigma conversion gives each severity (its mapping's lower bounds). */
const riskOfSeverity: Readonly<Record<RuleSeverity, number>> = {
  low: 21,
  medium: 47,
  high: 73,
  critical: 99,
};

const issueCodes: Readonly<Record<SigmaRuleError['code'], RuleIssueCode>> = {
  io: 'io',
  'too-large': 'too-large',
  'yaml-syntax': 'yaml-syntax',
  'invalid-rule': 'invalid-field',
  'invalid-condition': 'sigma-condition',
  'invalid-modifier': 'sigma-modifier',
  'invalid-value': 'sigma-value',
  unsupported: 'sigma-unsupported',
  'unknown-logsource': 'sigma-logsource',
};

/** A Sigma loader or compiler error as a rule error (same position, caret snippet and cause). */
export function ruleErrorOfSigma(error: SigmaRuleError): RuleFileError {
  return new RuleFileError({
    file: error.file,
    line: error.position.line,
    column: error.position.column,
    offset: error.position.offset,
    length: error.position.length,
    code: issueCodes[error.code],
    detail: error.detail,
    snippet: error.format(),
    cause: error,
  });
}

interface FakeNode {
  readonly range: [number, number, number];
}

/**
 * Positions of a Sigma file's top-level keys, for the checks that run after loading (duplicate ids):
 * the Sigma loader keeps its own positions, so this reads only the key lines, not the YAML again.
 */
function sigmaSourceMap(file: string, text: string): RuleSourceMap {
  const values = new Map<string, FakeNode>();
  const keys = new Map<string, FakeNode>();
  for (const m of text.matchAll(/^([A-Za-z_][\w-]*)([ \t]*:[ \t]*)(.*)$/gm)) {
    const key = m[1] as string;
    if (values.has(key)) continue;
    const start = m.index;
    const valueStart = start + key.length + (m[2] as string).length;
    keys.set(key, { range: [start, start + key.length, start + key.length] });
    const end = valueStart + (m[3] as string).trimEnd().length;
    values.set(key, {
      range: end > valueStart ? [valueStart, end, end] : [start, start + key.length, start],
    });
  }
  const at = (map: Map<string, FakeNode>) => (path: DocPath) =>
    path.length === 1 && typeof path[0] === 'string'
      ? (map.get(path[0]) as unknown as Node | undefined)
      : undefined;
  return new RuleSourceMap(file, text, at(values), at(keys));
}

/** Loads one Sigma file's text as a rule of the rule set (`file` names it in every message). */
export function analyzeSigmaText(text: string, file: string): RuleFileResult {
  const loaded = loadSigmaText(text, file);
  const errors = loaded.errors.map(ruleErrorOfSigma);
  const filter = loaded.filter ?? null;
  const sigma = loaded.rule;
  if (filter !== null && errors.length === 0)
    return { file, rule: null, sigmaFilter: filter, errors, warnings: [] };
  if (sigma === null || errors.length > 0) return { file, rule: null, errors, warnings: [] };
  const location = sigmaSourceMap(file, text);
  if (sigma.id === null) {
    const error = location.issue(
      location.position(0),
      'missing-field',
      'a Sigma rule needs an `id` to run in Sequor: alert ids and rule state are keyed by it',
    );
    return { file, rule: null, errors: [error], warnings: [] };
  }
  const severity = severityOfSigmaLevel(sigma.level);
  const rule: SigmaDetectionRule = {
    type: 'sigma',
    id: sigma.id,
    name: sigma.title,
    description: sigma.description ?? '',
    // Sigma has no version: `modified` dates changes, but alert ids must stay stable across them.
    version: 1,
    severity,
    riskScore: riskOfSeverity[severity],
    author: sigma.authors,
    license: '',
    threat: [],
    references: sigma.references,
    falsePositives: sigma.falsepositives,
    tags: sigma.tags,
    source: null,
    message: sigma.title,
    tests: [],
    location,
    sigma,
    level: sigma.level,
    status: sigma.status,
  };
  return { file, rule, errors: [], warnings: [] };
}

/** A Sigma rule refused when the set is compiled (unknown logsource, a pattern past the bounds). */
export interface SigmaCompileOutcome {
  /** Per input rule, in order: the rule with its binding, or its refusal. */
  readonly rules: readonly (SigmaDetectionRule | RuleFileError)[];
}

/**
 * Compiles every Sigma rule of a set once: the meta filters that apply are joined to each rule first
 * (`applySigmaFilters`, inside `SigmaRuleSet`), matchers are shared, and each rule gets its binding to
 * the set (the index the filter dispatch asks). A rule the pipeline cannot run is returned as its error.
 */
export function compileSigmaRules(
  rules: readonly SigmaDetectionRule[],
  filters: readonly SigmaFilter[],
): SigmaCompileOutcome {
  if (rules.length === 0) return { rules: [] };
  const set = new SigmaRuleSet(
    rules.map((r) => r.sigma),
    defaultPipeline,
    filters,
  );
  // The set keeps input order and leaves refused rules out; each rule is one file.
  const compiledByFile = new Map(set.rules.map((c) => [c.rule.file, c]));
  const refusedByFile = new Map(set.refused.map((e) => [e.file, e]));
  return {
    rules: rules.map((rule) => {
      const compiled = compiledByFile.get(rule.sigma.file);
      if (compiled !== undefined) return { ...rule, sigma: compiled.rule, binding: { set, compiled } };
      const refused = refusedByFile.get(rule.sigma.file);
      if (refused !== undefined) return ruleErrorOfSigma(refused);
      return rule.location.issue(
        rule.location.position(0),
        'compile',
        'the Sigma rule set did not compile it',
      );
    }),
  };
}

/** One Sigma rule compiled on its own (a rule that did not go through `checkRuleSet`). */
export function bindSigmaRule(rule: SigmaDetectionRule): SigmaDetectionRule | RuleFileError {
  if (rule.binding !== undefined) return rule;
  return compileSigmaRules([rule], []).rules[0] as SigmaDetectionRule | RuleFileError;
}

/**
 * The filter dispatch (`createRuleSetPipeline`'s `filterDispatch`) of a compiled rule list: the Sigma
 * rules are covered, and each event is matched once against their `SigmaRuleSet` index (channel, EventID,
 * literal gates) instead of through every rule's predicate. Undefined when no rule is a bound Sigma rule.
 * Indexes are positions in `rules`, as the rule set pipeline is given them.
 */
export function sigmaFilterDispatch(
  rules: readonly { readonly rule: Rule }[],
): FilterDispatch<SequorEvent> | undefined {
  const bySet = new Map<SigmaRuleSet, Map<CompiledSigmaRule, number[]>>();
  const covers: number[] = [];
  rules.forEach(({ rule }, index) => {
    if (rule.type !== 'sigma' || rule.binding === undefined) return;
    const { set, compiled } = rule.binding;
    let byRule = bySet.get(set);
    if (byRule === undefined) bySet.set(set, (byRule = new Map()));
    const list = byRule.get(compiled);
    if (list === undefined) byRule.set(compiled, [index]);
    else list.push(index);
    covers.push(index);
  });
  if (covers.length === 0) return undefined;
  const sets = [...bySet];
  const source = sequorFieldSource();
  const out: number[] = [];
  return {
    covers,
    matching(event) {
      out.length = 0;
      source.bind(event);
      for (let s = 0; s < sets.length; s++) {
        const [set, byRule] = sets[s]!;
        const matched = set.match(source);
        for (let m = 0; m < matched.length; m++) {
          const indexes = byRule.get(matched[m]!);
          if (indexes !== undefined) for (let i = 0; i < indexes.length; i++) out.push(indexes[i]!);
        }
      }
      return out;
    },
  };
}
