/**
 * Reading Sigma rule files and folders: the I/O edge of this package. A file that cannot be read or has
 * errors is reported and skipped; it never takes the other rules down.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SigmaRuleError } from './errors.js';
import type { SigmaFileResult } from './load.js';
import { loadSigmaText } from './load.js';
import type { SigmaFilter, SigmaRule } from './rule.js';

const START = { line: 1, column: 1, offset: 0, length: 1 };

/** Reads and loads one rule file. */
export async function loadSigmaFile(file: string): Promise<SigmaFileResult> {
  try {
    const text = await readFile(file, 'utf8');
    return loadSigmaText(text, file);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return {
      file,
      rule: null,
      errors: [new SigmaRuleError(file, START, 'io', `cannot read rule file: ${reason}`, '', cause)],
    };
  }
}

/** `*.yml` / `*.yaml` under `dir`, recursively, sorted. */
export async function listSigmaFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && /\.ya?ml$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

export interface SigmaLoad {
  readonly rules: readonly SigmaRule[];
  /** Meta filters found beside the rules (apply them with `applySigmaFilters` or `SigmaRuleSet`). */
  readonly filters: readonly SigmaFilter[];
  /** Every file's errors and refusals (`code` says which), each at `file:line:column`. */
  readonly errors: readonly SigmaRuleError[];
  readonly files: readonly SigmaFileResult[];
}

/** Loads a rule file or every rule file under a folder. */
export async function loadSigmaPath(target: string): Promise<SigmaLoad> {
  let files: string[];
  try {
    files = (await stat(target)).isDirectory() ? await listSigmaFiles(target) : [target];
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return {
      rules: [],
      filters: [],
      errors: [new SigmaRuleError(target, START, 'io', `cannot read: ${reason}`, '', cause)],
      files: [],
    };
  }
  const results: SigmaFileResult[] = [];
  // In batches: thousands of files opened at once would exhaust file descriptors.
  for (let i = 0; i < files.length; i += 64) {
    results.push(...(await Promise.all(files.slice(i, i + 64).map(loadSigmaFile))));
  }
  return {
    rules: results.flatMap((r) => (r.rule === null ? [] : [r.rule])),
    filters: results.flatMap((r) => (r.filter === undefined || r.filter === null ? [] : [r.filter])),
    errors: results.flatMap((r) => r.errors),
    files: results,
  };
}
