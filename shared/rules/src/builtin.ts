/**
 * The built-in rules: the four seed analytics as YAML data files in `builtin/` at the package root,
 * found relative to this module (src/ when run from source, dist/ when built: both sit beside builtin/).
 */
import { fileURLToPath } from 'node:url';
import type { RuleDirLoad, LoadOptions } from './loader.js';
import { loadRuleDir } from './loader.js';
import { RuleSetError } from './errors.js';
import type { Rule } from './types.js';

/** Absolute path of the built-in rules directory. */
export const builtinRulesDir: string = fileURLToPath(new URL('../builtin/', import.meta.url));

/** Loads the built-in rules with every check; returns errors rather than throwing (for lint). */
export function loadBuiltinRuleSet(options: LoadOptions = {}): Promise<RuleDirLoad> {
  return loadRuleDir(builtinRulesDir, options);
}

/** The built-in rules. Throws RuleSetError if any of them fails a check: a packaging bug, never input. */
export async function loadBuiltinRules(options: LoadOptions = {}): Promise<readonly Rule[]> {
  const loaded = await loadBuiltinRuleSet(options);
  if (loaded.errors.length > 0) throw new RuleSetError(loaded.errors);
  return loaded.rules;
}
