/**
 * `sequor rules test [dir...]` and `sequor rules lint [dir|file...]`: the rule author's loop. Both load
 * the built-in rules together with the given ones (a user rule reusing a built-in id is an error).
 */
import { readFile } from 'node:fs/promises';
import type { RegressionOutcome, Rule, RuleDirLoad } from '@sequor/rules';
import {
  describeFailures,
  documentRange,
  listRegressionTests,
  runRegressionTests,
  runRuleTests,
} from '@sequor/rules';
import type { OptionSpecs } from '../args.js';
import { builtinsOption, flag, parseCommandArgs, stringOption } from '../args.js';
import type { CommandContext } from '../context.js';
import { EXIT, InputError, systemReason, UsageError } from '../errors.js';
import { requireStdout } from '../io/output.js';
import { loadRuleSet } from '../rule-set.js';
import { table } from '../summary.js';

export const rulesUsage = `usage: sequor rules test [dir|file...] [--regression DIR]
       sequor rules lint [dir|file...]

Rule files are Sequor YAML or Sigma (*.yaml, *.yml), sniffed per file; Sigma meta filters found among
them apply to the Sigma rules.

test   runs every rule's embedded test cases (tests: in the rule file) through the engine, built-in
       rules plus the given ones, and prints a pass/fail table; with --regression, also SigmaHQ's
       regression tests under DIR (info.yml + the events as evtx JSON): each rule must match exactly
       its match_count (at least one where none is given). Exit 1 on any failure or rule error.
lint   checks rule files (YAML, metadata, EQL against the event model, placeholders, duplicate ids,
       partition-key compatibility; Sigma syntax, modifiers, logsource) and prints every problem as
       file:line:column with the line and a caret, then the rules loaded and refused per reason; exit 1
       on any error (warnings do not fail).

options:
  --lists DIR       the value lists that rules' in_list exceptions name (<name>.keyword|ip|cidr|wildcard)
  --regression DIR  (test) SigmaHQ regression folders to run
  --no-builtins     only the given rules, not the built-in rules
  -h, --help        this help`;

const options: OptionSpecs = {
  lists: { type: 'string' },
  regression: { type: 'string' },
  'no-builtins': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export async function rulesCommand(args: readonly string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    (sub === undefined ? ctx.stderr : ctx.stdout).write(`${rulesUsage}\n`);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  const { values, positionals } = parseCommandArgs(rest, options);
  if (flag(values, 'help')) {
    ctx.stdout.write(`${rulesUsage}\n`);
    return EXIT.ok;
  }
  if (sub === 'test' || sub === 'lint') requireStdout(ctx, `${sub === 'test' ? 'test' : 'lint'} results`);
  const lists = stringOption(values, 'lists');
  switch (sub) {
    case 'test':
      return rulesTest(
        positionals,
        ctx,
        lists,
        stringOption(values, 'regression'),
        builtinsOption(values, positionals, 'rule files or folders'),
      );
    case 'lint':
      return rulesLint(positionals, ctx, lists, builtinsOption(values, positionals, 'rule files or folders'));
    default:
      throw new UsageError(`unknown rules command ${JSON.stringify(sub)}: use test or lint`);
  }
}

async function rulesTest(
  paths: readonly string[],
  ctx: CommandContext,
  lists: string | undefined,
  regression: string | undefined,
  withBuiltins: boolean,
): Promise<number> {
  const loaded = await loadRuleSet(paths, withBuiltins, lists);
  for (const e of loaded.errors) ctx.stderr.write(`${e.format()}\n`);
  const regressionFailed = regression === undefined ? 0 : await regressionTests(regression, loaded, ctx);
  const results = runRuleTests(loaded.rules);
  const rows = results.map((r) => [r.passed ? 'PASS' : 'FAIL', r.ruleName, r.testName]);
  ctx.stdout.write(`${table([['result', 'rule', 'test'], ...rows])}\n`);
  const failures = describeFailures(results);
  if (failures.length > 0) ctx.stdout.write(`\n${failures.join('\n')}\n`);
  const failed = results.filter((r) => !r.passed).length;
  const ruleErrors =
    loaded.errors.length > 0 ? `; ${loaded.errors.length} rule error(s), those rules not tested` : '';
  ctx.stdout.write(
    `\n${results.length - failed} passed, ${failed} failed (${loaded.rules.length} rules)${ruleErrors}\n`,
  );
  return failed > 0 || regressionFailed > 0 || loaded.errors.length > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * The rule id of each refused Sigma rule (read back: a refused rule is not in the set), lower-cased: the
 * `id:` of the YAML document the error is in (a file may hold several rules).
 */
async function refusedIds(loaded: RuleDirLoad): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of loaded.errors) {
    const text = await readFile(e.file, 'utf8').catch(() => '');
    const [from, to] = documentRange(text, e.offset);
    const id = /^id:[ \t]*['"]?([^'"\s]+)/m.exec(text.slice(from, to))?.[1];
    if (id !== undefined) out.set(id.toLowerCase(), `${e.code}: ${e.message}`);
  }
  return out;
}

/** Runs the regression folders under `dir`, prints a table and the counts; returns failures + errors. */
async function regressionTests(dir: string, loaded: RuleDirLoad, ctx: CommandContext): Promise<number> {
  let infos: string[];
  try {
    infos = await listRegressionTests(dir);
  } catch (cause) {
    throw new InputError(dir, `cannot read regression tests: ${systemReason(cause)}`, { cause });
  }
  if (infos.length === 0) throw new InputError(dir, 'no regression tests (info.yml) in this directory');
  const results = await runRegressionTests(infos, loaded.rules, await refusedIds(loaded));
  const label: Record<RegressionOutcome, string> = {
    pass: 'PASS',
    fail: 'FAIL',
    refused: 'REFUSED',
    error: 'ERROR',
  };
  const rows = results.map((r) => [
    label[r.outcome],
    r.ruleName ?? r.ruleId,
    r.expected === null ? '>=1' : String(r.expected),
    r.matched === null ? '-' : String(r.matched),
  ]);
  ctx.stdout.write(`${table([['result', 'rule', 'expected', 'matched'], ...rows])}\n`);
  for (const r of results.filter((x) => x.outcome !== 'pass'))
    ctx.stdout.write(
      `${r.info}: ${r.outcome} ${r.ruleId}${r.reason === null ? `: matched ${r.matched}, expected ${r.expected ?? '>=1'}` : `: ${r.reason}`}\n`,
    );
  const count = (o: RegressionOutcome): number => results.filter((r) => r.outcome === o).length;
  ctx.stdout.write(
    `\nregression: ${count('pass')} passed, ${count('fail')} failed, ${count('refused')} refused, ${count('error')} errors (${results.length} tests)\n\n`,
  );
  return count('fail') + count('error');
}

async function rulesLint(
  paths: readonly string[],
  ctx: CommandContext,
  lists: string | undefined,
  withBuiltins: boolean,
): Promise<number> {
  const loaded = await loadRuleSet(paths, withBuiltins, lists);
  for (const e of [...loaded.errors, ...loaded.warnings].sort((a, b) =>
    a.file === b.file ? a.offset - b.offset : a.file < b.file ? -1 : 1,
  )) {
    ctx.stdout.write(`${e.format()}\n`);
  }
  const errors = loaded.errors.length;
  const warnings = loaded.warnings.length;
  const plural = (k: number, word: string): string => `${k} ${word}${k === 1 ? '' : 's'}`;
  // A Sigma file has one result per document: count files once.
  const fileCount = new Set(loaded.files.map((f) => f.file)).size;
  ctx.stdout.write(
    `${plural(fileCount, 'file')} checked: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`,
  );
  const ofType = (...types: Rule['type'][]): number =>
    loaded.files.filter((f) => f.rule !== null && types.includes(f.rule.type)).length;
  const filters = loaded.files.filter((f) => f.sigmaFilter !== undefined).length;
  const silenced = loaded.files.filter((f) => f.rule !== null && f.silenced === true).length;
  const refusedFiles = new Map<string, Set<string>>();
  for (const e of loaded.errors) {
    const files = refusedFiles.get(e.code) ?? new Set<string>();
    refusedFiles.set(e.code, files.add(e.file));
  }
  const refused = new Set(loaded.errors.map((e) => e.file)).size;
  const reasons = [...refusedFiles]
    .sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1))
    .map(([code, files]) => `${code} ${files.size}`)
    .join(', ');
  const loadedCount = loaded.files.filter((f) => f.rule !== null).length;
  ctx.stdout.write(
    `rules loaded: ${loadedCount} (${ofType('eql', 'span_aggregation')} Sequor YAML, ${ofType('sigma')} Sigma, ${ofType('sigma-correlation')} Sigma correlations; ${silenced} alert only through a correlation), ${plural(filters, 'Sigma meta filter')}; refused: ${plural(refused, 'file')}${reasons === '' ? '' : ` (by reason: ${reasons})`}\n`,
  );
  return errors > 0 ? EXIT.failed : EXIT.ok;
}
