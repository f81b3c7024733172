/**
 * The rule set a command runs: `@sequor/rules`' `loadRuleSet` (the built-ins plus, with `--rules DIR` or
 * `rules test|lint DIR`, the user's rule files, checked together), with an unusable path reported as an
 * InputError naming it.
 */
import type { RuleDirLoad, RuleSelection, ValueListSet } from '@sequor/rules';
import { loadRuleSet as loadRules, loadValueLists, RulePathError } from '@sequor/rules';
import { InputError, systemReason } from './errors.js';

/** The value lists of `--lists DIR` (none without it); an unreadable folder is an InputError naming it. */
async function valueLists(dir: string | undefined): Promise<ValueListSet | undefined> {
  if (dir === undefined) return undefined;
  try {
    return await loadValueLists(dir);
  } catch (cause) {
    throw new InputError(dir, `cannot read value lists: ${systemReason(cause)}`, { cause });
  }
}

/**
 * Loads and checks built-ins + `paths`, with the value lists of `listsDir` for `in_list` exceptions;
 * rule errors are returned, not thrown (lint prints them all).
 */
export async function loadRuleSet(
  paths: readonly string[],
  withBuiltins = true,
  listsDir?: string,
  selection?: RuleSelection,
  /** The events topic's key (default: lint's, `host.id`): correlations must group on its first field. */
  partitionKeyFields?: readonly string[],
): Promise<RuleDirLoad> {
  const lists = await valueLists(listsDir);
  try {
    return await loadRules(
      { paths, builtins: withBuiltins },
      {
        ...(lists === undefined ? {} : { valueLists: lists }),
        ...(selection === undefined ? {} : { selection }),
        ...(partitionKeyFields === undefined ? {} : { partitionKeyFields }),
      },
    );
  } catch (error) {
    if (!(error instanceof RulePathError)) throw error;
    if (error.problem === 'no-rule-files')
      throw new InputError(error.path, 'no rule files (*.yaml, *.yml) in this directory');
    throw new InputError(error.path, `cannot read rules: ${systemReason(error.cause)}`, {
      cause: error.cause,
    });
  }
}
