/**
 * The `sequor` command: dispatch to a subcommand, and turn its failures into one line and an exit code.
 */
import { ConfigError, SequorError } from '@sequor/model';
import type { CommandContext } from './context.js';
import { detectCommand } from './commands/detect.js';
import { generateCommand } from './commands/generate.js';
import { queryCommand } from './commands/query.js';
import { replayCommand } from './commands/replay.js';
import { rulesCommand } from './commands/rules.js';
import { rulesPublishCommand } from './commands/rules-publish.js';
import { EXIT, InputError, ReportedError, systemReason, UsageError } from './errors.js';

export const usage = `usage: sequor <command> [options]

commands:
  detect <files|dirs|->         normalize + detect in one process (no Kafka); alerts as NDJSON
  query '<EQL>' <files|->       run one EQL query over event files; matches as NDJSON
  generate --out DIR            write a seeded scenario with exact ground truth
  replay <files> --topic T      produce raw files into Kafka, event time as record timestamps
  rules test [dir]              run the rules' embedded tests (built-in + dir)
  rules lint [dir|files]        check rule files; errors as file:line:column
  rules publish DIR --topic T   check rule files, then write what changed to a detector rules topic

sequor <command> --help for a command's options.`;

type Command = (args: readonly string[], ctx: CommandContext) => Promise<number>;

const commands: Readonly<Record<string, Command>> = {
  detect: detectCommand,
  query: queryCommand,
  generate: generateCommand,
  replay: replayCommand,
  rules: (args, ctx) =>
    args[0] === 'publish' ? rulesPublishCommand(args.slice(1), ctx) : rulesCommand(args, ctx),
};

/** `sequor detect`, `sequor rules lint`: what a one-line error starts with. */
export function commandLabel(argv: readonly string[]): string {
  const [name, sub] = argv;
  if (name === undefined) return 'sequor';
  return name === 'rules' && (sub === 'test' || sub === 'lint' || sub === 'publish')
    ? `sequor rules ${sub}`
    : `sequor ${name}`;
}

/** Runs one invocation; returns the exit code. Never throws for anything the user can fix. */
export async function runCli(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    ctx.stderr.write(`${usage}\n`);
    return EXIT.usage;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    ctx.stdout.write(`${usage}\n`);
    return EXIT.ok;
  }
  const command = commands[name];
  if (command === undefined) {
    ctx.stderr.write(
      `sequor: unknown command ${JSON.stringify(name)} (commands: ${Object.keys(commands).join(', ')}; see sequor --help)\n`,
    );
    return EXIT.usage;
  }
  const label = commandLabel(argv);
  try {
    return await command(args, ctx);
  } catch (error) {
    if (error instanceof ReportedError) return error.exitCode;
    if (error instanceof UsageError) {
      ctx.stderr.write(`${label}: ${error.message} (see ${label} --help)\n`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      ctx.stderr.write(`${label}: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof InputError || error instanceof SequorError) {
      ctx.stderr.write(`${label}: ${error.message}\n`);
      return EXIT.failed;
    }
    const system = systemErrorPath(error);
    if (system !== undefined) {
      // A file error no command anticipated still names its path in one line.
      ctx.stderr.write(`${label}: ${system}: ${systemReason(error)}\n`);
      return EXIT.failed;
    }
    const err = error instanceof Error ? error : new Error(String(error));
    ctx.stderr.write(`${label}: unexpected error: ${err.message}\n`);
    if (ctx.env.SEQUOR_DEBUG) ctx.stderr.write(`${err.stack ?? ''}\n`);
    else ctx.stderr.write(`(set SEQUOR_DEBUG=1 for the stack trace)\n`);
    return EXIT.failed;
  }
}

/** The path of a Node.js file-system error (`ENOENT ... open 'x'`), undefined for anything else. */
function systemErrorPath(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, path } = error as NodeJS.ErrnoException;
  return typeof code === 'string' && typeof path === 'string' ? path : undefined;
}
