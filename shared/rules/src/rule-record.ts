/**
 * The records of a rules topic (the detector's `RULES_TOPIC`, written by `sequor rules publish`): one
 * compacted record per key, the value a file's text, a tombstone (null value) removing it.
 *
 * - `rule:<id>`: a rule file (Sequor YAML or Sigma, whatever the rule loader takes) whose id is `<id>`.
 * - `list:<name>.<type>`: a value list (`keyword`, `ip`, `cidr`, `wildcard`), as in `VALUE_LISTS_DIR`.
 *
 * Pure: keys, sizes, the content revision of a rule, and a record's text checked alone
 * (`checkRuleRecordText`, as the detectors check it and `rules publish` before writing it).
 */
import { createHash } from 'node:crypto';
import { SequorError } from '@sequor/model';
import { filterApplies } from '@sequor/sigma';
import type { RuleFileResult } from './analyze.js';
import { analyzeRuleText } from './analyze.js';
import { checkRuleSet } from './lint.js';
import { analyzeSigmaText, sniffRuleLanguage } from './sigma.js';
import type { Rule } from './types.js';
import type { ValueListSet, ValueListType } from './value-lists.js';
import { valueListFileName } from './value-lists.js';

export type RuleRecordKey =
  | { readonly kind: 'rule'; readonly id: string }
  | { readonly kind: 'list'; readonly name: string; readonly type: ValueListType };

/** A rules-topic record that cannot be used as one: its key or value says why. */
export class RuleRecordError extends SequorError {
  constructor(
    readonly key: string | null,
    readonly reason: string,
  ) {
    super(`rules record ${key === null ? '(no key)' : JSON.stringify(key.slice(0, 200))}: ${reason}`);
  }
}

export const RULE_KEY_PREFIX = 'rule:';
export const LIST_KEY_PREFIX = 'list:';
/** Longest key taken (a rule id or a list name is short; anything longer is not ours). */
export const MAX_RULE_RECORD_KEY_CHARS = 1_000;

export function ruleRecordKey(id: string): string {
  return `${RULE_KEY_PREFIX}${id}`;
}

export function listRecordKey(name: string, type: ValueListType): string {
  return `${LIST_KEY_PREFIX}${name}.${type}`;
}

/** What a key names, or a RuleRecordError saying why it names nothing. */
export function parseRuleRecordKey(key: string | null): RuleRecordKey | RuleRecordError {
  if (key === null || key === '') return new RuleRecordError(key, 'no key (rule:<id> or list:<name>.<type>)');
  if (key.length > MAX_RULE_RECORD_KEY_CHARS)
    return new RuleRecordError(key, `a key longer than ${MAX_RULE_RECORD_KEY_CHARS} characters`);
  if (key.startsWith(RULE_KEY_PREFIX)) {
    const id = key.slice(RULE_KEY_PREFIX.length);
    if (id.trim() === '' || id.trim() !== id) return new RuleRecordError(key, 'an empty or padded rule id');
    return { kind: 'rule', id };
  }
  if (key.startsWith(LIST_KEY_PREFIX)) {
    const named = valueListFileName(key.slice(LIST_KEY_PREFIX.length));
    if (named === null)
      return new RuleRecordError(key, 'a list key is list:<name>.<type>, type keyword, ip, cidr or wildcard');
    return { kind: 'list', ...named };
  }
  return new RuleRecordError(key, 'a key is rule:<id> or list:<name>.<type>');
}

/** sha256 of a list's text, hex, first 16 characters: what a rule's revision takes of each list it uses. */
export function listContentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}

/**
 * A rule's content revision: sha256 over its text and, sorted by name, each list it uses with that
 * list's content hash (length-prefixed parts), hex, first 16 characters. Any edit of the rule or of a
 * list it names gives another revision, a version bump or not.
 */
export function ruleRevision(text: string, lists: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256');
  const part = (s: string): void => {
    const bytes = Buffer.from(s, 'utf8');
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length, 0);
    hash.update(length).update(bytes);
  };
  part('sequor.rule-revision.v1');
  part(text);
  for (const name of [...lists.keys()].sort()) {
    part(name);
    part(lists.get(name) as string);
  }
  return hash.digest('hex').slice(0, 16);
}

/** A rule record's text checked alone (`checkRuleRecordText`): its one alerting rule, or why not. */
export type RuleRecordCheck =
  | { readonly ok: true; readonly rule: Rule; readonly results: readonly RuleFileResult[] }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * A rules-topic record's text checked on its own, as each detector checks it: the rule loader's text
 * entry (Sequor YAML, or Sigma when sniffed as Sigma: every document of it) with the value lists in
 * effect, the cross-file checks within the record (co-partitioning on the partition key's first field,
 * the compiler), and exactly one rule that alerts (a Sigma correlation with the rules it names counts as
 * one). A record cannot name a rule of another record: a correlation and its rules share one file.
 */
export function checkRuleRecordText(
  text: string,
  source: string,
  options: { readonly valueLists?: ValueListSet; readonly partitionKeyFields: readonly string[] },
): RuleRecordCheck {
  const lists = options.valueLists === undefined ? {} : { valueLists: options.valueLists };
  const analyzed: RuleFileResult[] =
    sniffRuleLanguage(text) === 'sigma'
      ? analyzeSigmaText(text, source, lists)
      : [analyzeRuleText(text, source, lists)];
  const first = options.partitionKeyFields[0];
  const checked = checkRuleSet(analyzed, { partitionKeyFields: first === undefined ? [] : [first] });
  const errors = checked.flatMap((r) => r.errors);
  if (errors.length > 0) return { ok: false, errors: errors.map((e) => e.format()) };
  const alerting = checked.flatMap((r) => (r.rule === null || r.silenced === true ? [] : [r.rule]));
  if (alerting.length !== 1)
    return {
      ok: false,
      errors: [
        `${source}: a rule record holds exactly one rule that alerts (a Sigma correlation with its rules counts as one); this one holds ${alerting.length}`,
      ],
    };
  return { ok: true, rule: alerting[0] as Rule, results: checked };
}

/**
 * Why the Sigma meta filters of `file` would not apply on the rules topic as they do over the folder
 * `results` were loaded from, or null when they would: a record is checked alone, so there a filter
 * reaches only its own file's rules, and over the folder it reaches every rule it applies to (by id,
 * name or `rules: any`, and logsource).
 */
export function filtersBeyondRecord(results: readonly RuleFileResult[], file: string): string | null {
  const others = results.flatMap((r) => (r.file !== file && r.rule?.type === 'sigma' ? [r.rule] : []));
  for (const r of results) {
    const filter = r.sigmaFilter;
    if (r.file !== file || filter === undefined) continue;
    const reached = others.filter((rule) => filterApplies(filter, rule.sigma));
    if (reached.length === 0) continue;
    const where = `${file}:${filter.position.line}:${filter.position.column}`;
    const names = reached.map((rule) => `"${rule.sigma.name ?? rule.id}" (${rule.location.file})`);
    return `${where}: filter "${filter.title}" applies over the folder to ${names.join(', ')}, in another file: on the rules topic a filter reaches only its own file's rules; copy it into that rule's file`;
  }
  return null;
}
