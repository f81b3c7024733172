/**
 * The rule set a detector runs: the built-in rules plus the user's (`RULES_DIR`), loaded and checked
 * together (duplicate ids, co-partitioning with the events topic, the engine's compiler), compiled once
 * and shared by every partition. A rule the detector cannot run correctly is refused with its file
 * position: a correlation key that is not co-partitioned, or state no window bounds (the restore on
 * assignment replays a bounded stretch of the topic, README "State rebuild").
 */
import { replayWindowMs } from '@sequor/engine';
import { ConfigError, SequorError } from '@sequor/model';
import type {
  CompiledRule,
  Rule,
  RuleDirLoad,
  RuleFileError,
  RuleSelection,
  ValueListSet,
} from '@sequor/rules';
import { compileRule, loadRuleSet, loadValueLists, RulePathError } from '@sequor/rules';
import { restoreHorizonMs } from '@sequor/streams';

export interface RuleSetOptions {
  readonly rulesDir?: string | undefined;
  /** Load the built-in rules too (default true; `RULES_BUILTINS`). */
  readonly builtins?: boolean;
  /** `VALUE_LISTS_DIR`: the value lists `in_list` exceptions name (a rule naming a missing one is refused). */
  readonly valueListsDir?: string | undefined;
  /**
   * The fields the events topic is keyed by, in order. A correlation rule must correlate on the first
   * (the key of every event that has it): `host.id` by default.
   */
  readonly partitionKeyFields: readonly string[];
  /** Refuse to start on any rule error (default: report and skip the rule). */
  readonly strict?: boolean;
  /** Which loaded rules run (`RULES_MIN_LEVEL`, `RULES_STATUS`, `RULES_TAGS`); default every rule. */
  readonly selection?: RuleSelection;
  /**
   * Rules also come from a rules topic (`RULES_TOPIC`): a base set with no rule and no error is not
   * refused.
   */
  readonly rulesFromTopic?: boolean;
}

export interface DetectorRuleSet {
  readonly rules: readonly CompiledRule[];
  /** Rules left out, with every reason at its file position. */
  readonly errors: readonly RuleFileError[];
  readonly warnings: readonly RuleFileError[];
  /** How long a rule's state can depend on an event: max of sequence maxspans, join windows and spans. */
  readonly longestWindowMs: number;
  /** The longest join window (0 without joins): joins pair greedily, see README "State rebuild". */
  readonly longestJoinWindowMs: number;
  /** The longest `suppress.window` (0 without): a replay must rebuild the open suppression windows too. */
  readonly longestSuppressionWindowMs: number;
}

/**
 * The restore horizon of a rule set (`restoreHorizonMs`): an open suppression window holds alerts up to
 * its length older than the watermark, and each of them needs its rule's own window of events before
 * it, so the two lengths add (README "Suppression").
 */
export function ruleSetHorizonMs(allowedLatenessMs: number, ruleSet: DetectorRuleSet): number {
  return restoreHorizonMs(
    allowedLatenessMs,
    ruleSet.longestWindowMs + ruleSet.longestSuppressionWindowMs,
    ruleSet.longestJoinWindowMs,
  );
}

/** The rule set cannot be used: no rule loads, or (strict) one does not. Carries every error. */
export class RuleSetRefusedError extends SequorError {
  constructor(
    readonly errors: readonly RuleFileError[],
    reason: string,
  ) {
    super(`${reason}:\n${errors.map((e) => e.format()).join('\n')}`);
  }
}

/**
 * How long the state of `rule` can depend on one event, or null when nothing but the state cap bounds
 * it (a sequence without maxspan): such a rule cannot be restored from a bounded replay.
 */
export function ruleWindowMs(rule: CompiledRule): number | null {
  // One home for what each spec kind needs replayed: the engine's `replayWindowMs` (a sliding
  // correlation's alert also depends on the window of the group's previous event: two windows).
  return replayWindowMs(rule.compiled.spec);
}

function unboundedError(rule: Rule): RuleFileError {
  return rule.location.issueAt(
    ['query'],
    'compile',
    'the detector cannot run a correlation whose state no window bounds: it rebuilds rule state after a rebalance by replaying a bounded stretch of the topic. Add `with maxspan=...` to the sequence.',
  );
}

/** The built-ins and `rulesDir` (which may be empty: a mounted folder with no rules yet), checked together. */
async function loadRules(options: RuleSetOptions): Promise<RuleDirLoad> {
  const dir = options.rulesDir;
  const first = options.partitionKeyFields[0];
  const listsDir = options.valueListsDir;
  let valueLists: ValueListSet | undefined;
  try {
    valueLists = listsDir === undefined ? undefined : await loadValueLists(listsDir);
  } catch {
    throw new ConfigError('VALUE_LISTS_DIR', listsDir, 'a readable directory of value lists');
  }
  try {
    return await loadRuleSet(
      {
        paths: dir === undefined ? [] : [dir],
        builtins: options.builtins !== false,
        directoriesOnly: true,
        refuseEmptyDirectories: false,
      },
      {
        partitionKeyFields: first === undefined ? [] : [first],
        // Rules left out are not compiled: thousands of unwanted Sigma rules cost nothing per event.
        ...(options.selection === undefined ? {} : { selection: options.selection }),
        ...(valueLists === undefined ? {} : { valueLists }),
      },
    );
  } catch (error) {
    if (error instanceof RulePathError)
      throw new ConfigError('RULES_DIR', dir, 'a readable directory of rule files (*.yaml)');
    throw error;
  }
}

/** Loads the built-ins and `rulesDir`, applies every check, compiles what passes. */
export async function loadDetectorRules(options: RuleSetOptions): Promise<DetectorRuleSet> {
  const loaded = await loadRules(options);
  const errors: RuleFileError[] = [...loaded.errors];
  const rules: CompiledRule[] = [];
  let longestWindowMs = 0;
  let longestJoinWindowMs = 0;
  let longestSuppressionWindowMs = 0;
  for (const rule of loaded.rules) {
    const compiled = compileRule(rule);
    const window = ruleWindowMs(compiled);
    if (window === null) {
      errors.push(unboundedError(rule));
      continue;
    }
    longestWindowMs = Math.max(longestWindowMs, window);
    if (compiled.compiled.spec.kind === 'join') longestJoinWindowMs = Math.max(longestJoinWindowMs, window);
    if (compiled.suppress !== null)
      longestSuppressionWindowMs = Math.max(longestSuppressionWindowMs, compiled.suppress.windowMs);
    rules.push(compiled);
  }
  if (options.strict === true && errors.length > 0)
    throw new RuleSetRefusedError(errors, `${errors.length} rule error(s) and DETECTOR_STRICT is set`);
  // With a topic, an empty base is fine when nothing was refused: a RULES_DIR whose every file fails
  // is still a start to refuse.
  if (rules.length === 0 && !(options.rulesFromTopic === true && errors.length === 0))
    throw new RuleSetRefusedError(
      errors,
      options.rulesFromTopic === true
        ? 'no rule loads: every rule of RULES_DIR was refused (the rules topic does not stand in for them)'
        : 'no rule loads (RULES_DIR and the built-ins give none, and no RULES_TOPIC)',
    );
  return {
    rules,
    errors,
    warnings: loaded.warnings,
    longestWindowMs,
    longestJoinWindowMs,
    longestSuppressionWindowMs,
  };
}
