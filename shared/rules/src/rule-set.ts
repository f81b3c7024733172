/**
 * The rule set a process runs: the built-in rules plus the user's rule files and folders, loaded and
 * checked together (so a user rule reusing a built-in id is refused, and correlation keys are checked
 * against the partition key). One loader for `sequor` (`--rules`, `rules test|lint`) and the detector
 * (`RULES_DIR`); each reports the outcome its own way.
 */
import { stat } from 'node:fs/promises';
import { SequorError } from '@sequor/model';
import { builtinRulesDir } from './builtin.js';
import type { LoadOptions, RuleDirLoad } from './loader.js';
import { listRuleFiles, loadRuleFiles } from './loader.js';

/** Why a path given for rules cannot be used. */
export type RulePathProblem = 'unreadable' | 'not-a-directory' | 'no-rule-files';

/**
 * A path given for rules cannot be used. Thrown, not collected with the rule errors: the caller names
 * it in its own terms (the CLI the path, the detector its `RULES_DIR` setting).
 */
export class RulePathError extends SequorError {
  constructor(
    readonly path: string,
    readonly problem: RulePathProblem,
    options: { cause?: unknown } = {},
  ) {
    super(`${path}: ${problem}`, options);
  }
}

export interface RuleSetSources {
  /** Rule files, or directories searched for `*.yaml` / `*.yml`, loaded after the built-ins. */
  readonly paths?: readonly string[];
  /** Start from the built-in rules (default true). */
  readonly builtins?: boolean;
  /** Every path must be a directory (a service's `RULES_DIR`), else `not-a-directory`. */
  readonly directoriesOnly?: boolean;
  /**
   * A directory without rule files is `no-rule-files` (default true: a mistyped `--rules` should not
   * silently run the built-ins alone). A service's mounted, possibly empty folder is allowed.
   */
  readonly refuseEmptyDirectories?: boolean;
}

/** The rule files of `sources`: the built-ins, then each path's files in order (a file is taken as is). */
export async function ruleSetFiles(sources: RuleSetSources): Promise<string[]> {
  const files = sources.builtins === false ? [] : await listRuleFiles(builtinRulesDir);
  for (const p of sources.paths ?? []) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(p)).isDirectory();
    } catch (cause) {
      throw new RulePathError(p, 'unreadable', { cause });
    }
    if (!isDirectory) {
      if (sources.directoriesOnly === true) throw new RulePathError(p, 'not-a-directory');
      files.push(p);
      continue;
    }
    let found: string[];
    try {
      found = await listRuleFiles(p);
    } catch (cause) {
      throw new RulePathError(p, 'unreadable', { cause });
    }
    if (found.length === 0 && sources.refuseEmptyDirectories !== false)
      throw new RulePathError(p, 'no-rule-files');
    files.push(...found);
  }
  return files;
}

/**
 * Loads and checks every rule of `sources` (per file, duplicate ids, partition keys per `options`). Rule
 * errors and warnings are returned, not thrown, so a caller can print them all; an unusable path throws
 * `RulePathError`.
 */
export async function loadRuleSet(sources: RuleSetSources, options: LoadOptions = {}): Promise<RuleDirLoad> {
  return loadRuleFiles(await ruleSetFiles(sources), options);
}
