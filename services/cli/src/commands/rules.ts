/**
 * `sequor rules test [dir...]` and `sequor rules lint [dir|file...]`: the rule author's loop. Both load
 * the built-in rules together with the given ones (a user rule reusing a built-in id is an error).
 */
import { describeFailures, runRuleTests } from '@sequor/rules';
import type { OptionSpecs } from '../args.js';
import { flag, parseCommandArgs, stringOption } from '../args.js';
import type { CommandContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { requireStdout } from '../io/output.js';
import { loadRuleSet } from '../rule-set.js';
import { table } from '../summary.js';

export const rulesUsage = `usage: sequor rules test [dir|file...]
       sequor rules lint [dir|file...]

test   runs every rule's embedded test cases (tests: in the rule file) through the engine, built-in
       rules plus the given ones, and prints a pass/fail table; exit 1 on any failure or rule error.
lint   checks rule files (YAML, metadata, EQL against the event model, placeholders, duplicate ids,
       partition-key compatibility) and prints every problem as file:line:column with the line and a
       caret; exit 1 on any error (warnings do not fail).

options:
  --lists DIR  the value lists that rules' in_list exceptions name (<name>.keyword|ip|cidr|wildcard)
  -h, --help   this help`;

const options: OptionSpecs = { lists: { type: 'string' }, help: { type: 'boolean', short: 'h' } };

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
      return rulesTest(positionals, ctx, lists);
    case 'lint':
      return rulesLint(positionals, ctx, lists);
    default:
      throw new UsageError(`unknown rules command ${JSON.stringify(sub)}: use test or lint`);
  }
}

async function rulesTest(
  paths: readonly string[],
  ctx: CommandContext,
  lists: string | undefined,
): Promise<number> {
  const loaded = await loadRuleSet(paths, true, lists);
  for (const e of loaded.errors) ctx.stderr.write(`${e.format()}\n`);
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
  return failed > 0 || loaded.errors.length > 0 ? EXIT.failed : EXIT.ok;
}

async function rulesLint(
  paths: readonly string[],
  ctx: CommandContext,
  lists: string | undefined,
): Promise<number> {
  const loaded = await loadRuleSet(paths, true, lists);
  for (const e of [...loaded.errors, ...loaded.warnings].sort((a, b) =>
    a.file === b.file ? a.offset - b.offset : a.file < b.file ? -1 : 1,
  )) {
    ctx.stdout.write(`${e.format()}\n`);
  }
  const errors = loaded.errors.length;
  const warnings = loaded.warnings.length;
  const plural = (k: number, word: string): string => `${k} ${word}${k === 1 ? '' : 's'}`;
  ctx.stdout.write(
    `${plural(loaded.files.length, 'file')} checked: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`,
  );
  return errors > 0 ? EXIT.failed : EXIT.ok;
}
