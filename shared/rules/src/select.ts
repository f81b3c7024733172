/**
 * Which loaded rules a process runs: `--min-level`, `--status`, `--tags` (CLI) and `SIGMA_MIN_LEVEL`,
 * `SIGMA_STATUS`, `SIGMA_TAGS` (detector). Pure: parsing the settings and choosing the rules.
 */
import type { SigmaLevel, SigmaStatus } from '@sequor/sigma';
import { SIGMA_LEVELS, SIGMA_STATUSES } from '@sequor/sigma';
import { SequorError } from '@sequor/model';
import type { Rule } from './types.js';

export interface RuleSelection {
  /** Rules at this level or above (Sigma's levels; a Sequor rule's severity is its level). */
  readonly minLevel?: SigmaLevel;
  /** Sigma rules and correlations with one of these statuses (Sequor YAML rules have no status and are kept). */
  readonly statuses?: readonly SigmaStatus[];
  /** Rules with at least one of these tags, case-insensitive; `attack.t1059*` matches by prefix. */
  readonly tags?: readonly string[];
}

/** A setting that names no level, status or tag list: `setting` is what the caller calls it. */
export class RuleSelectionError extends SequorError {
  constructor(
    readonly setting: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`${setting}: ${JSON.stringify(value)} is not ${expected}`);
  }
}

export function parseMinLevel(value: string, setting: string): SigmaLevel {
  const level = value.trim().toLowerCase();
  if ((SIGMA_LEVELS as readonly string[]).includes(level)) return level as SigmaLevel;
  throw new RuleSelectionError(setting, value, `a level (${SIGMA_LEVELS.join(', ')})`);
}

/** A comma-separated list of statuses. */
export function parseStatuses(value: string, setting: string): SigmaStatus[] {
  const items = splitList(value);
  const bad = items.find((s) => !(SIGMA_STATUSES as readonly string[]).includes(s));
  if (items.length === 0 || bad !== undefined)
    throw new RuleSelectionError(setting, value, `a comma-separated list of ${SIGMA_STATUSES.join(', ')}`);
  return items as SigmaStatus[];
}

/** A comma-separated list of tags. */
export function parseTags(value: string, setting: string): string[] {
  const items = splitList(value);
  if (items.length === 0) throw new RuleSelectionError(setting, value, 'a comma-separated list of tags');
  return items;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
}

const levelRank: Readonly<Record<SigmaLevel, number>> = {
  informational: 0,
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
};

/** The rule's level for `minLevel`: Sigma's as written (none: its severity), a Sequor rule's severity. */
function levelOf(rule: Rule): SigmaLevel {
  return rule.type === 'sigma' || rule.type === 'sigma-correlation'
    ? (rule.level ?? rule.severity)
    : rule.severity;
}

function tagMatches(wanted: string, tag: string): boolean {
  const t = tag.toLowerCase();
  return wanted.endsWith('*') ? t.startsWith(wanted.slice(0, -1)) : t === wanted;
}

/** Whether the selection keeps the rule. */
export function ruleSelected(rule: Rule, selection: RuleSelection): boolean {
  if (selection.minLevel !== undefined && levelRank[levelOf(rule)] < levelRank[selection.minLevel])
    return false;
  if (selection.statuses !== undefined && (rule.type === 'sigma' || rule.type === 'sigma-correlation')) {
    if (rule.status === null || !selection.statuses.includes(rule.status)) return false;
  }
  if (selection.tags !== undefined) {
    const wanted = selection.tags;
    if (!rule.tags.some((tag) => wanted.some((w) => tagMatches(w, tag)))) return false;
  }
  return true;
}

/** The rules the selection keeps, in order. */
export function selectRules<R extends Rule>(rules: readonly R[], selection: RuleSelection): R[] {
  return rules.filter((r) => ruleSelected(r, selection));
}

/** Codes of valid rules the Sigma pipeline cannot run (reported as refused, not as faults of the file). */
export const refusalCodes: ReadonlySet<string> = new Set(['sigma-unsupported', 'sigma-logsource']);
