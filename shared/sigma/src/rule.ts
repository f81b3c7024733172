/** A loaded Sigma rule: metadata, logsource, and the detection with every value's modifiers applied. */
import type { ConditionNode } from './condition.js';
import type { SigmaPosition } from './errors.js';
import type { SigmaValue } from './values.js';

export const SIGMA_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type SigmaLevel = (typeof SIGMA_LEVELS)[number];
export const SIGMA_STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'] as const;
export type SigmaStatus = (typeof SIGMA_STATUSES)[number];

export interface SigmaLogsource {
  readonly product?: string;
  readonly category?: string;
  readonly service?: string;
  readonly definition?: string;
}

/**
 * One `field|modifiers: values` entry (or, with `field` null, keywords searched in every field). Values
 * are alternatives (`link` any) or all required (`link` all, the `all` modifier).
 */
export interface DetectionItem {
  readonly field: string | null;
  readonly modifiers: readonly string[];
  readonly link: 'any' | 'all';
  readonly values: readonly SigmaValue[];
  /** Where the item's key (or, for keywords, its list) is in the file. */
  readonly position: SigmaPosition;
}

/** A search identifier's body: a map (every item), a list of maps (any map), or keywords (one item). */
export type SearchNode =
  | { readonly kind: 'map'; readonly items: readonly DetectionItem[] }
  | { readonly kind: 'anyOf'; readonly maps: readonly SearchNode[] };

export interface SigmaRelated {
  readonly id: string;
  readonly type: string;
}

export interface SigmaRule {
  /** The file it came from (as given to the loader). */
  readonly file: string;
  readonly id: string | null;
  /** `name`: how correlations may refer to the rule (unique within a rule set); null when absent. */
  readonly name?: string | null;
  readonly title: string;
  readonly status: SigmaStatus | null;
  readonly level: SigmaLevel | null;
  readonly description: string | null;
  /** `author` as written (DRL 1.1: keep it wherever the rule is shown or shipped). */
  readonly author: string | null;
  /** `author` split at commas. */
  readonly authors: readonly string[];
  readonly tags: readonly string[];
  readonly related: readonly SigmaRelated[];
  readonly references: readonly string[];
  readonly falsepositives: readonly string[];
  readonly date: string | null;
  readonly modified: string | null;
  readonly logsource: SigmaLogsource;
  /** Search identifiers in file order. */
  readonly searches: ReadonlyMap<string, SearchNode>;
  /** The condition (a list of conditions is their `or`). */
  readonly condition: ConditionNode;
  /** Where `detection` is, for errors found when the rule is compiled. */
  readonly position: SigmaPosition;
  /** Meta filters joined to this rule (`applySigmaFilters`), for reports. */
  readonly filters?: readonly SigmaFilter[];
}

/**
 * A Sigma meta filter (filters specification 2.0): an exception for other rules. Its `condition` is
 * joined to each target rule's with `and` (pySigma's reading), so filters say `condition: not selection`.
 */
export interface SigmaFilter {
  readonly file: string;
  readonly id: string | null;
  readonly title: string;
  /** Applies to rules whose logsource has every field this one gives, with the same value. */
  readonly logsource: SigmaLogsource;
  /** Rule ids or names it applies to, or `any` (also written `all`, or an empty list) for every rule of its logsource. */
  readonly rules: 'any' | readonly string[];
  readonly searches: ReadonlyMap<string, SearchNode>;
  readonly condition: ConditionNode;
  readonly position: SigmaPosition;
}

/**
 * The authors of an `author` line: split at the commas outside parentheses, so an affiliation such as
 * "MSTI (query, idea)" stays one author (the DRL licence asks that authors be kept as written).
 */
export function splitAuthors(line: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= line.length; i++) {
    const c = line[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (i === line.length || (c === ',' && depth === 0)) {
      const author = line.slice(start, i).trim();
      if (author.length > 0) out.push(author);
      start = i + 1;
    }
  }
  // A parenthesis left open would swallow every author after it: split at every comma instead.
  if (depth > 0)
    return line
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a.length > 0);
  return out;
}
