/**
 * The rule set a command runs: `@sequor/rules`' `loadRuleSet` (the built-ins plus, with `--rules DIR` or
 * `rules test|lint DIR`, the user's rule files, checked together), with an unusable path reported as an
 * InputError naming it.
 */
import type { RuleDirLoad } from '@sequor/rules';
import { loadRuleSet as loadRules, RulePathError } from '@sequor/rules';
import { InputError, systemReason } from './errors.js';

/** Loads and checks built-ins + `paths`; rule errors are returned, not thrown (lint prints them all). */
export async function loadRuleSet(paths: readonly string[], withBuiltins = true): Promise<RuleDirLoad> {
  try {
    return await loadRules({ paths, builtins: withBuiltins });
  } catch (error) {
    if (!(error instanceof RulePathError)) throw error;
    if (error.problem === 'no-rule-files')
      throw new InputError(error.path, 'no rule files (*.yaml, *.yml) in this directory');
    throw new InputError(error.path, `cannot read rules: ${systemReason(error.cause)}`, {
      cause: error.cause,
    });
  }
}
