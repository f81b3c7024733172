/**
 * ground-truth.json: what the four seed analytics must report on the generated files, exactly: every
 * alert with its evidence as (file, 1-based line), and the near-misses that must not fire.
 */
import type { AlertEntity } from './scenarios/plan.js';
import type { RuleSlug } from './rules.js';

export const GENERATOR_NAME = '@sequor/scenarios';
/** Bumped whenever the same options would produce different bytes. */
export const GENERATOR_VERSION = '0.1.0';

export interface EvidenceRef {
  readonly file: string;
  /** 1-based line number in `file` (Zeek header lines count). */
  readonly line: number;
}

export interface GroundTruthAlert {
  readonly rule: RuleSlug;
  readonly scenario: string;
  /** Legitimate activity the published analytic fires on anyway (a benign true positive). */
  readonly benign: boolean;
  readonly entity: AlertEntity;
  /** In the order the rule reports them: [logon, hive write], [process create, registry write], [row]. */
  readonly evidence: readonly EvidenceRef[];
  readonly first_time: string;
  readonly last_time: string;
}

export interface GroundTruthNearMiss {
  readonly rule: RuleSlug;
  readonly kind: string;
  readonly description: string;
  readonly evidence: readonly EvidenceRef[];
}

export type FileFormat = 'winlogbeat' | 'ecs' | 'flat-windows' | 'zeek-dce-rpc';

export interface GroundTruthFile {
  readonly path: string;
  /** The @sequor/formats name that reads it. */
  readonly format: FileFormat;
  readonly encoding: 'ndjson' | 'zeek-tsv' | 'zeek-json';
  /** Lines in the file (Zeek header and #close included). */
  readonly lines: number;
  /** Lines that are events. */
  readonly events: number;
  /** Late events in this file (see counts.late). */
  readonly late: number;
  /** The JSON Zeek log repeats the TSV log's rows in the same order: line in this file = TSV line + lineOffset. */
  readonly mirrors?: { readonly path: string; readonly lineOffset: number };
}

export interface GroundTruth {
  readonly generator: {
    readonly name: string;
    readonly version: string;
    readonly seed: number | string;
    readonly options: Readonly<Record<string, unknown>>;
  };
  readonly files: readonly GroundTruthFile[];
  readonly alerts: readonly GroundTruthAlert[];
  readonly near_misses: readonly GroundTruthNearMiss[];
  readonly counts: {
    /** Event lines over all files (the JSON Zeek mirror not counted twice). */
    readonly events: number;
    readonly noise_events: number;
    readonly scenario_events: number;
    /** Noise events that arrive after an event of the same host and file at least `late_by_ms` newer. */
    readonly late: number;
    readonly late_by_ms: number;
    readonly out_of_order_ms: number;
    readonly alerts: number;
    readonly benign_alerts: number;
    readonly alerts_by_rule: Readonly<Record<RuleSlug, number>>;
    readonly near_misses: number;
    readonly near_misses_by_rule: Readonly<Record<RuleSlug, number>>;
    readonly hosts: { readonly total: number; readonly agent: number; readonly flat: number };
    readonly users: number;
  };
}

/** The file's text: two-space JSON and a final newline (stable for byte comparisons). */
export function formatGroundTruth(gt: GroundTruth): string {
  return `${JSON.stringify(gt, null, 2)}\n`;
}
