/**
 * Reading rule files: the I/O edge of this package. A file that cannot be read or has errors is reported
 * and skipped; it never takes the other rules down.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RuleAnalysisOptions, RuleFileResult } from './analyze.js';
import { analyzeRuleText } from './analyze.js';
import { RuleFileError } from './errors.js';
import type { RuleSetCheckOptions } from './lint.js';
import { checkRuleSet } from './lint.js';
import { analyzeSigmaText, sniffRuleLanguage } from './sigma.js';
import type { Rule } from './types.js';

export type LoadOptions = RuleAnalysisOptions & RuleSetCheckOptions;

/** A file read error as a rule error at 1:1, so one bad path is reported like any other bad file. */
function ioError(file: string, cause: unknown): RuleFileError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RuleFileError({
    file,
    line: 1,
    column: 1,
    offset: 0,
    length: 1,
    code: 'io',
    detail: `cannot read rule file: ${reason}`,
    snippet: `${file}:1:1: cannot read rule file: ${reason}`,
    cause,
  });
}

/**
 * Reads and checks one rule file (per-file checks only: no duplicate-id or partition-key check): one
 * result for a Sequor YAML file, one per document (and one with the file's errors) for a Sigma file.
 */
export async function loadRuleFileDocuments(
  file: string,
  options: RuleAnalysisOptions = {},
): Promise<RuleFileResult[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    return [{ file, rule: null, errors: [ioError(file, cause)], warnings: [] }];
  }
  try {
    if (sniffRuleLanguage(text) === 'sigma') return analyzeSigmaText(text, file, options);
    return [analyzeRuleText(text, file, options)];
  } catch (cause) {
    // A bug or a resource guard tripping on one hostile file must not hide every other file's findings.
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = new RuleFileError({
      file,
      line: 1,
      column: 1,
      offset: 0,
      length: 1,
      code: 'invalid-field',
      detail: `cannot check rule file: ${reason}`,
      snippet: `${file}:1:1: cannot check rule file: ${reason}`,
      cause,
    });
    return [{ file, rule: null, errors: [error], warnings: [] }];
  }
}

/**
 * One rule file's result (`loadRuleFileDocuments`' first: a multi-document Sigma file has more, which
 * the rule set loads).
 */
export async function loadRuleFile(file: string, options: RuleAnalysisOptions = {}): Promise<RuleFileResult> {
  return (await loadRuleFileDocuments(file, options))[0] as RuleFileResult;
}

/**
 * `*.yaml` / `*.yml` files under `dir` (Sequor YAML and Sigma alike: each file's language is sniffed), recursively, sorted (so "the first file with an id" is stable).
 * Symbolic links named so are listed too (a ConfigMap mounts its files as links): reading one that leads
 * nowhere is then an `io` error naming it, not a rule silently missing.
 */
export async function listRuleFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && /\.ya?ml$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

export interface RuleDirLoad {
  readonly rules: readonly Rule[];
  readonly errors: readonly RuleFileError[];
  readonly warnings: readonly RuleFileError[];
  /** Per file (per document of a Sigma file), for `rules lint` output. */
  readonly files: readonly RuleFileResult[];
}

/**
 * Loads every rule file under `dir` with all checks (per file, duplicate ids, partition keys). Rules with
 * errors are left out and their errors returned; the rest load.
 */
export async function loadRuleDir(dir: string, options: LoadOptions = {}): Promise<RuleDirLoad> {
  let files: string[];
  try {
    files = await listRuleFiles(dir);
  } catch (cause) {
    const err = ioError(dir, cause);
    return { rules: [], errors: [err], warnings: [], files: [] };
  }
  return loadRuleFiles(files, options);
}

/** Like loadRuleDir for an explicit list of files (`sequor rules lint a.yaml b.yaml`). */
export async function loadRuleFiles(
  files: readonly string[],
  options: LoadOptions = {},
): Promise<RuleDirLoad> {
  const perFile: RuleFileResult[] = [];
  // In batches: thousands of files opened at once would exhaust file descriptors.
  for (let i = 0; i < files.length; i += 64)
    perFile.push(
      ...(await Promise.all(files.slice(i, i + 64).map((f) => loadRuleFileDocuments(f, options)))).flat(),
    );
  const checked = checkRuleSet(perFile, options);
  return {
    // A rule a Sigma correlation silences (`generate: false`) runs inside the correlation only.
    rules: checked.flatMap((r) =>
      r.rule === null || r.silenced === true || r.deselected === true ? [] : [r.rule],
    ),
    errors: checked.flatMap((r) => r.errors),
    warnings: checked.flatMap((r) => r.warnings),
    files: checked,
  };
}
