/**
 * Sigma rule files in the rule set: which language a file is written in, a Sigma file's text → a
 * `SigmaDetectionRule` (or the meta filter it holds) with its problems as `RuleFileError`s, and the one
 * compile of every Sigma rule of a set (meta filters joined, matchers shared, one `SigmaRuleSet` index).
 * Pure: the loader reads the files.
 */
import type { FilterDispatch, FilterFailure } from '@sequor/engine';
import type { FieldCatalog, SequorEvent } from '@sequor/model';
import type {
  CompiledSigmaRule,
  SigmaCorrelation,
  SigmaFilter,
  SigmaLevel,
  SigmaRule,
  SigmaRuleError,
  SigmaRuleFailure,
  SigmaUnloadedCorrelation,
} from '@sequor/sigma';
import {
  compileSigmaCorrelations,
  defaultPipeline,
  loadSigmaDocuments,
  SequorEventFields,
  SigmaRuleSet,
} from '@sequor/sigma';
import type { Document, Node } from 'yaml';
import { isAlias, isMap, isNode, isScalar, parseAllDocuments } from 'yaml';
import { eventFieldCatalog } from '@sequor/model';
import { threatFromSigmaTags } from './attack.js';
import { sigmaSetMatches } from './sigma-matches.js';
import type { RuleAnalysisOptions } from './analyze.js';
import { MAX_ALIAS_COUNT } from './analyze.js';
import type { ExceptionItem } from './exceptions.js';
import { compileExceptions, exceptionFields, readExceptions, withExceptions } from './exceptions.js';
import { MetadataReader } from './metadata.js';
import type { RuleFileResult } from './analyze.js';
import type { RuleIssueCode } from './errors.js';
import { RuleFileError } from './errors.js';
import type { DocPath } from './source-map.js';
import { RuleSourceMap } from './source-map.js';
import type {
  Rule,
  RuleCommon,
  RuleSeverity,
  RuleSuppression,
  SigmaCorrelationRule,
  SigmaDetectionRule,
} from './types.js';

/** The language of a rule file. */
export type RuleLanguage = 'sigma' | 'sequor';

/** Top-level keys of every YAML document in `text` (block style, as rule files are written). */
function topLevelKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const m of text.matchAll(/^([A-Za-z_][\w-]*)[ \t]*:/gm)) keys.add(m[1] as string);
  // A document written as one flow mapping or JSON (`{title: ..., detection: ...}`) has no key lines: its
  // keys are read from the parsed documents (files this small and rare are cheap to parse twice).
  if (keys.size === 0 && /^\s*(?:#.*\n\s*)*(?:---[ \t]*\n\s*)?\{/.test(text)) {
    for (const doc of parseAllDocuments(text)) {
      const root = doc.contents;
      if (isMap(root))
        for (const pair of root.items) if (isScalar(pair.key)) keys.add(String(pair.key.value));
    }
  }
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

/** The `---`-separated YAML document of `text` that holds `offset`: [start, end). */
export function documentRange(text: string, offset: number): readonly [number, number] {
  let start = 0;
  let end = text.length;
  // A document starts at a line of `---`, alone or followed by a blank and more (`--- # the second rule`).
  for (const m of text.matchAll(/^---(?:[ \t].*)?$/gm)) {
    if (m.index <= offset) start = m.index + m[0].length;
    else {
      end = m.index;
      break;
    }
  }
  return [start, end];
}

/**
 * Positions of the top-level keys of the document holding `offset`, for the checks that run after
 * loading (duplicate ids): the Sigma loader keeps its own positions, so this reads only the key lines,
 * not the YAML again.
 */
function sigmaSourceMap(
  file: string,
  text: string,
  offset: number,
  sequor: SequorNodes | null = null,
): RuleSourceMap {
  const values = new Map<string, FakeNode>();
  const keys = new Map<string, FakeNode>();
  const [from, to] = documentRange(text, offset);
  // Plain or quoted keys (`"sequor":` is the same key); a quoted key's range is its quoted text.
  for (const m of text.slice(from, to).matchAll(/^(["']?)([A-Za-z_][\w-]*)\1([ \t]*:[ \t]*)(.*)$/gm)) {
    const key = m[2] as string;
    if (values.has(key)) continue;
    const start = from + m.index;
    const written = key.length + 2 * (m[1] as string).length;
    const valueStart = start + written + (m[3] as string).length;
    keys.set(key, { range: [start, start + written, start + written] });
    const end = valueStart + (m[4] as string).trimEnd().length;
    values.set(key, {
      range: end > valueStart ? [valueStart, end, end] : [start, start + written, start],
    });
  }
  const at =
    (map: Map<string, FakeNode>, inSequor: ((path: DocPath) => Node | undefined) | undefined) =>
    (path: DocPath) =>
      // Inside the `sequor:` attribute (parsed for its own checks): the nested key itself.
      inSequor !== undefined && path.length > 1 && path[0] === 'sequor'
        ? (inSequor(path.slice(1)) ?? (map.get('sequor') as unknown as Node | undefined))
        : path.length === 1 && typeof path[0] === 'string'
          ? (map.get(path[0]) as unknown as Node | undefined)
          : path.length === 0
            ? ({ range: [from, from + 1, from + 1] } as unknown as Node)
            : undefined;
  return new RuleSourceMap(file, text, at(values, sequor?.nodeAt), at(keys, sequor?.keyNodeAt));
}

/** The nodes of a document's `sequor:` attribute, by path inside it. */
interface SequorNodes {
  readonly nodeAt: (path: DocPath) => Node | undefined;
  readonly keyNodeAt: (path: DocPath) => Node | undefined;
}

/** What the rule set keeps of a Sigma rule or correlation's metadata. */
type SigmaMeta = Pick<
  SigmaRule,
  'id' | 'title' | 'description' | 'authors' | 'references' | 'falsepositives' | 'tags' | 'level'
>;

/** The common metadata of a Sigma document, or the error of a document without an `id`. */
function commonOf(meta: SigmaMeta, location: RuleSourceMap): RuleFileError | Omit<RuleCommon, 'location'> {
  if (meta.id === null) {
    return location.issue(
      location.positionOf([]),
      'missing-field',
      'a Sigma rule needs an `id` to run in Sequor: alert ids and rule state are keyed by it',
    );
  }
  const severity = severityOfSigmaLevel(meta.level);
  return {
    id: meta.id,
    name: meta.title,
    description: meta.description ?? '',
    // Sigma has no version: `modified` dates changes, but alert ids must stay stable across them.
    version: 1,
    severity,
    riskScore: riskOfSeverity[severity],
    author: meta.authors,
    license: '',
    // Sigma's ATT&CK tags as the rows built-in rules write (`attack.ts`).
    threat: threatFromSigmaTags(meta.tags),
    references: meta.references,
    falsePositives: meta.falsepositives,
    tags: meta.tags,
    source: null,
    message: meta.title,
    tests: [],
  };
}

/** What Sequor adds to a Sigma rule through its `sequor:` attribute (Sigma allows custom attributes). */
interface SequorAttribute {
  readonly suppress: RuleSuppression | null;
  readonly exceptions: readonly ExceptionItem[];
  readonly issues: readonly RuleFileError[];
  /** Its nodes, for positions found after loading (lint's warnings at `suppress.by`). */
  readonly nodes: SequorNodes | null;
}

const SEQUOR_KEYS = ['suppress', 'exceptions'] as const;

/**
 * The `sequor:` attribute of the document holding `offset`: `suppress` and `exceptions` written as in
 * Sequor YAML (ECS field names of the event model), checked at file:line:column. Null when absent.
 */
function sequorAttribute(
  text: string,
  file: string,
  offset: number,
  docs: () => readonly Document.Parsed[],
  options: RuleAnalysisOptions,
): SequorAttribute | null {
  const [from, to] = documentRange(text, offset);
  // A cheap look first (most Sigma files have none). The word anywhere, not only a key line: a document
  // written as a flow mapping or JSON, or with an explicit key (`? sequor`), has its key elsewhere.
  if (!text.slice(from, to).includes('sequor')) return null;
  const doc = docs().find((d) => {
    const range = d.contents?.range;
    return range !== undefined && range[0] <= offset && offset <= range[2];
  });
  // The whole attribute may be an alias (`sequor: *tuning`): its anchor's mapping.
  const found = doc?.getIn(['sequor'], true);
  if (doc !== undefined && found === undefined) return null; // the word, but no such key
  const section = doc !== undefined && isAlias(found) ? found.resolve(doc) : found;
  if (doc === undefined || !isMap(section)) {
    const map = sigmaSourceMap(file, text, offset);
    const issue = map.issueAt(
      ['sequor'],
      'invalid-field',
      '`sequor` must be a mapping: `suppress`, `exceptions`',
    );
    return { suppress: null, exceptions: [], issues: [issue], nodes: null };
  }
  const catalog = options.catalog ?? eventFieldCatalog;
  const nodeAt = (path: DocPath): Node | undefined =>
    path.length === 0 ? section : (doc.getIn(['sequor', ...path], true) as Node | undefined);
  const keyNodeAt = (path: DocPath): Node | undefined => {
    const parent = nodeAt(path.slice(0, -1));
    const last = path[path.length - 1];
    if (!isMap(parent)) return undefined;
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
    return isNode(pair?.key) ? pair.key : undefined;
  };
  const map = new RuleSourceMap(file, text, nodeAt, keyNodeAt);
  // Aliases resolved as everywhere else in the document (the loader already bounded their expansion).
  const root = section.toJS(doc, { maxAliasCount: MAX_ALIAS_COUNT }) as Record<string, unknown>;
  const read = new MetadataReader(root, map);
  read.unknownKeys([], SEQUOR_KEYS);
  const suppress = read.suppress();
  const unknownField = (path: DocPath, field: string): RuleFileError =>
    map.issueAt(path, 'eql-semantic', `unknown field \`${field}\`: the event model has no such field`);
  const issues: RuleFileError[] = [...read.issues];
  suppress?.by.forEach((f, i) => {
    if (catalog.lookup(f.split('.')) === undefined) issues.push(unknownField(['suppress', 'by', i], f));
  });
  const exceptions = readExceptions(root, map, catalog, options.valueLists, unknownField);
  issues.push(...exceptions.issues);
  return { suppress, exceptions: exceptions.items, issues, nodes: { nodeAt, keyNodeAt } };
}

/** Top-level keys of a Sigma document that are Sequor's tuning written outside `sequor:`, plain or quoted. */
const MISPLACED_TUNING = (['exceptions', 'suppress'] as const).map((key) => ({
  key,
  line: new RegExp(`^(?:${key}|"${key}"|'${key}')[ \t]*:`, 'm'),
}));

/** A line that starts a top-level `sequor` key, plain or quoted (a meta filter's misplaced tuning). */
const SEQUOR_KEY_LINE = /^(?:sequor|"sequor"|'sequor')[ \t]*:/m;

/** A `sequor:` key below the top level of a document. */
const NESTED_SEQUOR_KEY_LINE = /^[ \t]+(?:sequor|"sequor"|'sequor')[ \t]*:/m;

/**
 * Sequor's tuning written where it is not read: `exceptions` or `suppress` at the top level of a Sigma
 * document (Sigma keeps unknown keys as custom attributes, so they load and do nothing), or `sequor:`
 * inside another mapping than the document (`logsource`, a custom attribute). Warnings at the key.
 */
function misplacedTuning(
  text: string,
  offset: number,
  docs: () => readonly Document.Parsed[],
  /** The document's location (`sequorOf`'s), made once per document. */
  top: RuleSourceMap,
): RuleFileError[] {
  const [from, to] = documentRange(text, offset);
  const body = text.slice(from, to);
  const out: RuleFileError[] = [];
  for (const { key, line } of MISPLACED_TUNING)
    if (line.test(body))
      out.push(
        top.issue(
          top.positionOfKey([key]),
          'invalid-field',
          `\`${key}\` at the top level of a Sigma rule is not read (Sigma keeps it as a custom attribute): Sequor's tuning goes under \`sequor:\``,
          { level: 'warning', length: key.length },
        ),
      );
  // Nested `sequor:` keys are rare: the document is parsed again only when a line holds one.
  if (!NESTED_SEQUOR_KEY_LINE.test(body)) return out;
  const doc = docs().find((d) => {
    const range = d.contents?.range;
    return range !== undefined && range[0] <= offset && offset <= range[2];
  });
  const contents = doc?.contents;
  if (!isMap(contents)) return out;
  for (const pair of contents.items) {
    const inner = pair.value;
    if (!isMap(inner) || !isScalar(pair.key)) continue;
    const parent = String(pair.key.value);
    // Inside detection or correlation the Sigma loader refuses it already.
    if (parent === 'detection' || parent === 'correlation' || parent === 'sequor') continue;
    const nested = inner.items.find((p) => isScalar(p.key) && p.key.value === 'sequor');
    const range = nested !== undefined && isNode(nested.key) ? nested.key.range : undefined;
    if (range === undefined || range === null) continue;
    out.push(
      top.issue(
        top.position(range[0]),
        'invalid-field',
        `\`sequor\` inside \`${parent}\` is not read: it goes at the top level of the rule`,
        { level: 'warning', length: range[1] - range[0] },
      ),
    );
  }
  return out;
}

/**
 * Loads one Sigma file's text as rules of the rule set (`file` names it in every message): one result
 * per document (a detection rule, a meta filter, a correlation), and one with the file's errors. A
 * rule's `sequor:` attribute adds `suppress` and `exceptions` as Sequor YAML writes them.
 */
export function analyzeSigmaText(
  text: string,
  file: string,
  options: RuleAnalysisOptions = {},
): RuleFileResult[] {
  const loaded = loadSigmaDocuments(text, file);
  // Parsed again only for a file with a `sequor:` attribute, where its positions are needed.
  let parsed: readonly Document.Parsed[] | null = null;
  const docs = (): readonly Document.Parsed[] =>
    (parsed ??= parseAllDocuments(text, { prettyErrors: false }) as Document.Parsed[]);
  /** The document's `sequor:` attribute and its location (positions inside the attribute too). */
  const sequorOf = (
    offset: number,
  ): { tuning: Pick<RuleCommon, 'suppress' | 'exceptions'> | RuleFileError[]; location: RuleSourceMap } => {
    const attribute = sequorAttribute(text, file, offset, docs, options);
    const location = sigmaSourceMap(file, text, offset, attribute?.nodes ?? null);
    if (attribute === null) return { tuning: {}, location };
    const errors = attribute.issues.filter((i) => i.level === 'error');
    if (errors.length > 0) return { tuning: errors, location };
    return {
      tuning: {
        suppress: attribute.suppress,
        ...(attribute.exceptions.length > 0 ? { exceptions: attribute.exceptions } : {}),
      },
      location,
    };
  };
  const results: RuleFileResult[] = [];
  const empty = { file, rule: null, errors: [], warnings: [] } as const;
  if (loaded.errors.length > 0)
    results.push({
      ...empty,
      errors: loaded.errors.map(ruleErrorOfSigma),
      ...(loaded.unloadedCorrelations.length > 0
        ? { unloadedCorrelations: loaded.unloadedCorrelations }
        : {}),
    });
  for (const filter of loaded.filters) {
    // A filter is no rule: suppression and exceptions belong on the rules it applies to. Said, not ignored.
    const [from, to] = documentRange(text, filter.position.offset);
    const misplaced = SEQUOR_KEY_LINE.test(text.slice(from, to))
      ? [
          sigmaSourceMap(file, text, filter.position.offset).issueAt(
            ['sequor'],
            'invalid-field',
            'a Sigma meta filter takes no `sequor` attribute: write suppress and exceptions on the rules it applies to (its own searches and condition are its exceptions)',
          ),
        ]
      : [];
    results.push({ ...empty, sigmaFilter: filter, errors: misplaced });
  }
  for (const sigma of loaded.rules) {
    const { tuning: sequor, location } = sequorOf(sigma.position.offset);
    const common = commonOf(sigma, location);
    const warnings = misplacedTuning(text, sigma.position.offset, docs, location);
    if (common instanceof RuleFileError) results.push({ ...empty, errors: [common] });
    else if (Array.isArray(sequor)) results.push({ ...empty, errors: sequor });
    else
      results.push({
        ...empty,
        warnings,
        rule: {
          ...common,
          ...sequor,
          type: 'sigma',
          location,
          sigma,
          level: sigma.level,
          status: sigma.status,
        },
      });
  }
  for (const correlation of loaded.correlations) {
    const { tuning: sequor, location } = sequorOf(correlation.position.offset);
    const common = commonOf(correlation, location);
    const warnings = misplacedTuning(text, correlation.position.offset, docs, location);
    // Refused here (its metadata, its sequor: attribute), it still names its building blocks.
    const unloaded = {
      unloadedCorrelations: [
        {
          file,
          title: correlation.title,
          position: correlation.position,
          rules: correlation.rules,
          generate: correlation.generate,
        },
      ],
    };
    if (common instanceof RuleFileError) results.push({ ...empty, errors: [common], ...unloaded });
    else if (Array.isArray(sequor)) results.push({ ...empty, errors: sequor, ...unloaded });
    else
      results.push({
        ...empty,
        warnings,
        rule: {
          ...common,
          ...sequor,
          type: 'sigma-correlation',
          location,
          correlation,
          level: correlation.level,
          status: correlation.status,
        },
      });
  }
  return results.length > 0 ? results : [{ ...empty }];
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
  // The set compiles in input order, each rule either compiled (filters joined: the same file and
  // position) or refused, in order: walk both lists beside the input.
  let c = 0;
  let f = 0;
  return {
    rules: rules.map((rule) => {
      const compiled = set.rules[c];
      const same =
        compiled !== undefined &&
        compiled.rule.file === rule.sigma.file &&
        compiled.rule.position.offset === rule.sigma.position.offset;
      if (same) {
        c += 1;
        return { ...rule, sigma: compiled.rule, binding: { set, compiled } };
      }
      const refused = set.refused[f++];
      if (refused !== undefined) return ruleErrorOfSigma(refused);
      return rule.location.issue(
        rule.location.positionOf([]),
        'compile',
        'the Sigma rule set did not compile it',
      );
    }),
  };
}

/** What tunes the correlations' inputs (`compileSigmaCorrelationRules`). */
export interface SigmaCorrelationTuning {
  /** Each detection rule's exceptions, by its compiled rule. Absent: none. */
  readonly exceptions?: ReadonlyMap<CompiledSigmaRule, readonly ExceptionItem[]>;
  /** The catalog exceptions read fields through (default: the event model's). */
  readonly catalog?: FieldCatalog;
}

/** The correlations of a set compiled against its compiled Sigma rules. */
export interface SigmaCorrelationOutcome {
  /** Per correlation rule: bound to its compiled spec, or refused; absent: it runs inside an outer chain. */
  readonly byRule: ReadonlyMap<SigmaCorrelationRule, SigmaCorrelationRule | RuleFileError>;
  /** The detection rules (and correlations) that raise no alerts of their own (`generate: false`). */
  readonly silenced: { has(rule: { readonly id: string | null; readonly name?: string | null }): boolean };
}

/**
 * Compiles the Sigma correlations of a set (`compileSigmaCorrelations`: each on its own, one refusal
 * does not take the others down) over the set's compiled Sigma rules, each reading events through a
 * `SequorEventFields` of its own.
 */
export function compileSigmaCorrelationRules(
  rules: readonly CompiledSigmaRule[],
  correlations: readonly SigmaCorrelationRule[],
  /** Every loaded correlation, those a selection left out too: their `generate` decides what is silenced. */
  silencers: readonly SigmaCorrelationRule[] = correlations,
  /**
   * The detection rules' exceptions (by compiled rule), and the catalog they read: an event a rule
   * excepts is not its match inside the correlations that name it either.
   */
  tuning: SigmaCorrelationTuning = {},
  /** Correlations that did not load: the rules they name stay silent as theirs too. */
  unloaded: readonly SigmaUnloadedCorrelation[] = [],
): SigmaCorrelationOutcome {
  const catalog = tuning.catalog ?? eventFieldCatalog;
  const exceptionsOf = tuning.exceptions ?? new Map<CompiledSigmaRule, readonly ExceptionItem[]>();
  // A correlation run inside a chain is tuned by its own exceptions there, as on its own.
  const byCorrelation = new Map<SigmaCorrelation, SigmaCorrelationRule>(
    [...silencers, ...correlations].map((c) => [c.correlation, c]),
  );
  const set = compileSigmaCorrelations<SequorEvent>(
    rules,
    correlations.map((c) => c.correlation),
    () => {
      const fields = new SequorEventFields();
      return (event) => fields.bind(event);
    },
    {
      ruleExceptions: (rule) => compileExceptions(exceptionsOf.get(rule) ?? [], catalog),
      innerTuning: (correlation, spec) => {
        const excepted = compileExceptions(byCorrelation.get(correlation)?.exceptions ?? [], catalog);
        return excepted === null ? spec : withExceptions(spec, excepted);
      },
    },
    [...silencers.map((c) => c.correlation), ...unloaded],
  );
  const byRule = new Map<SigmaCorrelationRule, SigmaCorrelationRule | RuleFileError>();
  for (const compiled of set.alerting) {
    const rule = byCorrelation.get(compiled.correlation);
    if (rule === undefined) continue;
    const namedExceptionFields = [
      ...compiled.rules.flatMap((r) => exceptionFields(exceptionsOf.get(r) ?? [])),
      ...compiled.correlations.flatMap((c) => exceptionFields(byCorrelation.get(c)?.exceptions ?? [])),
    ];
    byRule.set(rule, { ...rule, compiled, namedExceptionFields: [...new Set(namedExceptionFields)] });
  }
  // Each refusal belongs to the correlation that was compiled (its position may be in another one: the
  // inner correlation of a chain that made it fail).
  for (const rule of correlations) {
    const refusal = set.refusals.get(rule.correlation);
    if (refusal !== undefined && !byRule.has(rule)) byRule.set(rule, ruleErrorOfSigma(refusal));
  }
  for (const rule of correlations) {
    if (byRule.has(rule) || set.silenced.has({ id: rule.id, name: rule.correlation.name })) continue;
    byRule.set(
      rule,
      rule.location.issue(rule.location.positionOf([]), 'compile', 'the Sigma correlation did not compile'),
    );
  }
  return { byRule, silenced: set.silenced };
}

/** One Sigma rule compiled on its own (a rule that did not go through `checkRuleSet`). */
export function bindSigmaRule(rule: SigmaDetectionRule): SigmaDetectionRule | RuleFileError {
  if (rule.binding !== undefined) return rule;
  return compileSigmaRules([rule], []).rules[0] as SigmaDetectionRule | RuleFileError;
}

const NO_FAILURES: readonly FilterFailure[] = Object.freeze([]);

/** A set's failures (`SigmaRuleSet.failures`) as the entries of the rules that threw. */
function entryFailures(
  failed: readonly SigmaRuleFailure[],
  byRule: ReadonlyMap<CompiledSigmaRule, readonly number[]>,
): FilterFailure[] {
  const out: FilterFailure[] = [];
  for (const { rule, error } of failed)
    for (const index of byRule.get(rule) ?? []) out.push({ index, error });
  return out;
}

/**
 * The filter dispatch (`createRuleSetPipeline`'s `filterDispatch`) of a compiled rule list: the Sigma
 * rules are covered, and each event is matched once against their `SigmaRuleSet` index (channel, EventID,
 * literal gates) instead of through every rule's predicate. Undefined when no rule is a bound Sigma rule.
 * Indexes are positions in `rules`, as the rule set pipeline is given them.
 */
export function sigmaFilterDispatch(
  rules: readonly { readonly rule: Rule; readonly suppress?: unknown }[],
): FilterDispatch<SequorEvent> | undefined {
  const bySet = new Map<SigmaRuleSet, Map<CompiledSigmaRule, number[]>>();
  const covers: number[] = [];
  /**
   * Per set, the entries that take the set's answer as theirs (plain filters), by rule: only
   * theirs are reported from here when the set or a rule throws. A suppressed rule runs on the reordered
   * stream; for an event its rule threw on, or that the set threw on, its predicate runs the detection
   * itself (`SigmaSetMatches.decided`) and its own exception is reported there, once.
   */
  const plainByRuleBySet = new Map<SigmaRuleSet, Map<CompiledSigmaRule, number[]>>();
  rules.forEach(({ rule, suppress }, index) => {
    if (rule.type !== 'sigma' || rule.binding === undefined) return;
    const { set, compiled } = rule.binding;
    let byRule = bySet.get(set);
    if (byRule === undefined) bySet.set(set, (byRule = new Map()));
    const list = byRule.get(compiled);
    if (list === undefined) byRule.set(compiled, [index]);
    else list.push(index);
    covers.push(index);
    if (suppress == null) {
      let plainByRule = plainByRuleBySet.get(set);
      if (plainByRule === undefined) plainByRuleBySet.set(set, (plainByRule = new Map()));
      const entries = plainByRule.get(compiled);
      if (entries === undefined) plainByRule.set(compiled, [index]);
      else entries.push(index);
    }
  });
  if (covers.length === 0) return undefined;
  const sets = [...bySet].map(([set, byRule]) => {
    const plainByRule = plainByRuleBySet.get(set) ?? new Map<CompiledSigmaRule, number[]>();
    // All of them, in entry order: what a throw of the set's own code reports.
    const plain = [...plainByRule.values()].flat().sort((a, b) => a - b);
    return { set, byRule, plain, plainByRule, decided: sigmaSetMatches(set) };
  });
  const source = new SequorEventFields();
  const out: number[] = [];
  // The rules that threw on the last event, by entry index: rare, so a fresh array only when there are.
  let failures: readonly FilterFailure[] = NO_FAILURES;
  return {
    covers,
    matching(event) {
      if (out.length !== 0) out.length = 0;
      failures = NO_FAILURES;
      source.bind(event);
      for (let s = 0; s < sets.length; s++) {
        const { set, byRule, plain, plainByRule, decided } = sets[s]!;
        let matched: readonly CompiledSigmaRule[];
        try {
          matched = set.match(source);
        } catch (error) {
          // The set's own code threw (its index, gates or memo, not one rule): every plain rule of the
          // set counts as not matched on this event and is reported, as one rule that throws is; the
          // partition goes on (the next `match` starts afresh). Nothing is decided for the event.
          decided.forget();
          failures = [...failures, ...plain.map((index) => ({ index, error }))];
          continue;
        }
        // The rules' own predicates, called next for this event, answer from it (`sigma-matches.ts`),
        // except those of the rules that threw: not among `matched`, and their plain entries reported.
        const failed = set.failures();
        decided.record(event, matched, failed);
        for (let m = 0; m < matched.length; m++) {
          const indexes = byRule.get(matched[m]!);
          if (indexes !== undefined) for (let i = 0; i < indexes.length; i++) out.push(indexes[i]!);
        }
        if (failed.length > 0) failures = [...failures, ...entryFailures(failed, plainByRule)];
      }
      return out;
    },
    failures: () => failures,
  };
}
