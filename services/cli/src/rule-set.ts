/**
 * The rule set a command runs: the built-in rules plus, with `--rules DIR` (or `rules test|lint DIR`),
 * the user's rule files, loaded and checked together so a user rule reusing a built-in id is refused.
 */
import type { RuleDirLoad } from '@sequor/rules';
import { builtinRulesDir, listRuleFiles, loadRuleFiles } from '@sequor/rules';
import { stat } from 'node:fs/promises';
import { InputError, systemReason } from './errors.js';

/** Rule files: the built-ins, then every `*.yaml`/`*.yml` under each of `paths` (a file is taken as is). */
export async function ruleFiles(paths: readonly string[], withBuiltins = true): Promise<string[]> {
  const files = withBuiltins ? await listRuleFiles(builtinRulesDir) : [];
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (error) {
      throw new InputError(p, `cannot read rules: ${systemReason(error)}`, { cause: error });
    }
    if (info.isDirectory()) {
      let found: string[];
      try {
        found = await listRuleFiles(p);
      } catch (error) {
        throw new InputError(p, `cannot read rules: ${systemReason(error)}`, { cause: error });
      }
      if (found.length === 0) throw new InputError(p, 'no rule files (*.yaml, *.yml) in this directory');
      files.push(...found);
    } else files.push(p);
  }
  return files;
}

/** Loads and checks built-ins + `paths`; errors are returned, not thrown (lint prints them all). */
export async function loadRuleSet(paths: readonly string[], withBuiltins = true): Promise<RuleDirLoad> {
  return loadRuleFiles(await ruleFiles(paths, withBuiltins));
}
