/**
 * `sequor detect <files|dirs|->`: normalize and detect in one process (embedded mode), alerts as NDJSON
 * on stdout or into `--out` (Avro container file for `*.avro`, NDJSON otherwise), the summary on stderr.
 */
import { writeFile } from 'node:fs/promises';
import { defaultMaxFutureSkewMs } from '@sequor/pipeline';
import type { AlertUpdate } from '@sequor/model';
import type { Alert, CompiledRule } from '@sequor/rules';
import type { RuleSelection } from '@sequor/rules';
import {
  compileRule,
  parseMinLevel,
  parseStatuses,
  parseTags,
  refusalCodes,
  RuleSelectionError,
  RuleSetError,
} from '@sequor/rules';
import type { OptionSpecs, ParsedArgs } from '../args.js';
import {
  builtinsOption,
  durationOption,
  flag,
  integerOption,
  parseCommandArgs,
  stringOption,
} from '../args.js';
import type { CommandContext } from '../context.js';
import { runEmbeddedDetection } from '../embedded.js';
import { EXIT, OutputError, ReportedError, systemReason, UsageError } from '../errors.js';
import { expandInputs, formatOverride, openInputs, readFailures } from '../io/inputs.js';
import type { RecordWriter } from '../io/output.js';
import { AvroAlertFileWriter, NdjsonWriter, openOutputFile, requireStdout } from '../io/output.js';
import { defaultThreads, MAX_THREADS } from '../io/normalize-workers.js';
import { ProgressBar } from '../io/progress.js';
import { loadRuleSet } from '../rule-set.js';
import { formatDetectionSummary } from '../summary.js';

export const DEFAULT_PARTITIONS = 4;
/**
 * Files are often less ordered than a live stream: the Security-Datasets files run up to 52 s behind
 * their own newest event. A minute keeps them whole; the services' default (5 s) is for live topics.
 */
export const DEFAULT_LATENESS_MS = 60_000;

export const detectUsage = `usage: sequor detect [options] <file|dir|->...

Normalizes and detects in one process: the normalizer's and the detector's code over an in-memory
transport (events keyed by host into N partitions, one detector per partition), no Kafka needed.
Inputs are NDJSON (Winlogbeat, flat Windows JSON, ECS) or Zeek logs (TSV or JSON), plain or gzip; each
file's format is detected from its first lines. Several files are merged by event time (a k-way merge on
each file's next event), so sources interleave as they would on a live stream; each file's own order is
kept, out-of-order lines included.

options:
  --format NAME           read every input as this format (default: detect per file)
  --rules PATH            add the rules of PATH (a rule file, or a folder of *.yaml / *.yml: Sequor
                          YAML and Sigma alike, sniffed per file) to the built-in rules (repeatable)
  --no-builtins           run only the --rules, not the built-in rules
  --min-level LEVEL       run only rules at LEVEL or above (informational, low, medium, high,
                          critical; a Sequor rule's level is its severity)
  --status LIST           run only Sigma rules and correlations with one of these statuses (e.g. stable,test)
  --tags LIST             run only rules with one of these tags (e.g. attack.t1059*,attack.execution)
  --lists DIR             the value lists rules' in_list exceptions name (<name>.keyword|ip|cidr|wildcard)
  --lateness DURATION     allowed lateness behind stream time (default 1m; e.g. 500ms, 30s, 2m)
  --partitions N          partitions of the in-memory events topic (default 4)
  --threads N             worker threads that parse and normalize the lines while this thread merges
                          and detects; 1 does all on this thread (default: one per core but this
                          thread's from 3 cores up, else 1; here ${defaultThreads()}). The alerts and
                          their order are the same for every N
  --max-open-partials N   cap on open partial matches per rule and partition (default: the engine's)
  --max-future-skew DURATION  events dated more than this after the run's start are dead-lettered as
                          future-timestamp instead of blinding the rest of the stream (default: the
                          lateness)
  --reorder-max-mib N     memory bound of each partition's reorder buffer, MiB (default 128)
  --state-max-mib N       memory bound of each rule's partial matches per partition, MiB (default 64)
  --out FILE              write alerts to FILE: an Avro container file (schemas/alert.avsc) if it ends
                          in .avro, NDJSON otherwise (default: NDJSON on stdout)
  --updates FILE          write the update records of rules with \`suppress\` (schemas/alert-update.avsc:
                          one per closed window that counted alerts) to FILE as NDJSON (default: not
                          written; the summary counts them)
  --summary-json FILE     also write the summary's numbers as JSON
  -h, --help              this help

Alerts go to stdout (or --out), the summary to stderr, a progress line too when stderr is a terminal.
An alert's timestamp is its detection time; with SOURCE_DATE_EPOCH=<seconds> set it is that instant,
so runs over the same input write the same bytes.
Exit 0 when the run completes (bad records are dead-lettered and counted, not fatal; files in a
directory that are empty or of no known format are listed as skipped). Exit 1 on bad rules, a file given
by name whose format cannot be told, output that cannot be written (--out, a closed stdout), or any
input that cannot be read in full (a truncated gzip, a dangling link, permission denied): the other
inputs are still read and their alerts written, and each failure is one line naming the file. Exit 2 on
bad arguments.`;

const options: OptionSpecs = {
  format: { type: 'string' },
  rules: { type: 'string', multiple: true },
  'no-builtins': { type: 'boolean' },
  lists: { type: 'string' },
  'min-level': { type: 'string' },
  status: { type: 'string' },
  tags: { type: 'string' },
  lateness: { type: 'string' },
  partitions: { type: 'string' },
  threads: { type: 'string' },
  'max-open-partials': { type: 'string' },
  'max-future-skew': { type: 'string' },
  'reorder-max-mib': { type: 'string' },
  'state-max-mib': { type: 'string' },
  out: { type: 'string' },
  updates: { type: 'string' },
  'summary-json': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** `--min-level`, `--status`, `--tags`, checked (a bad value is a usage error naming the option). */
export function ruleSelectionOptions(values: ParsedArgs['values']): RuleSelection {
  const minLevel = stringOption(values, 'min-level');
  const status = stringOption(values, 'status');
  const tags = stringOption(values, 'tags');
  try {
    return {
      ...(minLevel === undefined ? {} : { minLevel: parseMinLevel(minLevel, '--min-level') }),
      ...(status === undefined ? {} : { statuses: parseStatuses(status, '--status') }),
      ...(tags === undefined ? {} : { tags: parseTags(tags, '--tags') }),
    };
  } catch (error) {
    if (error instanceof RuleSelectionError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * Loads built-ins + `--rules`, prints every error (file:line:col with a caret) and fails on any. A
 * Sigma rule the pipeline cannot run (an unsupported feature, an unmapped logsource) is refused: printed
 * with its reason, counted, and the run goes on with the others.
 */
export async function compiledRuleSet(
  ctx: CommandContext,
  dirs: readonly string[],
  listsDir?: string,
  selection: RuleSelection = {},
  withBuiltins = true,
): Promise<CompiledRule[]> {
  // Rules left out by the selection are not compiled: they cost nothing per event.
  const loaded = await loadRuleSet(dirs, withBuiltins, listsDir, selection);
  const refused = loaded.errors.filter((e) => refusalCodes.has(e.code));
  const errors = loaded.errors.filter((e) => !refusalCodes.has(e.code));
  if (errors.length > 0) {
    for (const e of loaded.errors) ctx.stderr.write(`${e.format()}\n`);
    throw new ReportedError(`${errors.length} rule error(s)`, EXIT.failed);
  }
  for (const e of refused) ctx.stderr.write(`refused: ${e.message}\n`);
  if (refused.length > 0)
    ctx.stderr.write(
      `sequor detect: ${refused.length} Sigma rule(s) refused (the pipeline cannot run them)\n`,
    );
  try {
    return loaded.rules.map((rule) => compileRule(rule));
  } catch (error) {
    if (!(error instanceof RuleSetError)) throw error;
    for (const e of error.errors) ctx.stderr.write(`${e.format()}\n`);
    throw new ReportedError(`${error.errors.length} rule error(s)`, EXIT.failed);
  }
}

export async function detectCommand(args: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  if (flag(values, 'help')) {
    ctx.stdout.write(`${detectUsage}\n`);
    return EXIT.ok;
  }
  const override = formatOverride(stringOption(values, 'format'));
  const lateness = durationOption(values, 'lateness', DEFAULT_LATENESS_MS) as number;
  const partitions = integerOption(values, 'partitions', DEFAULT_PARTITIONS, 1, 1024);
  const threads = integerOption(values, 'threads', defaultThreads(), 1, MAX_THREADS);
  const maxOpenPartials =
    values['max-open-partials'] === undefined
      ? undefined
      : integerOption(values, 'max-open-partials', 0, 1, 1e9);
  const maxFutureSkewMs = durationOption(
    values,
    'max-future-skew',
    defaultMaxFutureSkewMs(lateness),
  ) as number;
  const maxBufferedBytes = integerOption(values, 'reorder-max-mib', 128, 1, 1 << 20) * 2 ** 20;
  const maxStateBytes = integerOption(values, 'state-max-mib', 64, 1, 1 << 20) * 2 ** 20;
  const out = stringOption(values, 'out');
  const updatesOut = stringOption(values, 'updates');
  const summaryJson = stringOption(values, 'summary-json');
  const rulePaths = (values['rules'] as string[] | undefined) ?? [];
  const withBuiltins = builtinsOption(values, rulePaths, '--rules PATH');
  const files = await expandInputs(positionals);
  const rules = await compiledRuleSet(
    ctx,
    rulePaths,
    stringOption(values, 'lists'),
    ruleSelectionOptions(values),
    withBuiltins,
  );
  if (out === undefined) requireStdout(ctx, 'alerts', true);
  const { opened, skipped, failed } = await openInputs(files, override);
  // Unreadable inputs are said at once (a long run should not hide them) and fail the run at the end.
  for (const f of failed) ctx.stderr.write(`sequor detect: ${f.message}\n`);
  if (opened.length === 0 && failed.length > 0) throw new ReportedError('no readable input', EXIT.failed);

  const progress = new ProgressBar(ctx.stderr, 'detect');
  let summary;
  try {
    const writer: RecordWriter<Alert> =
      out === undefined
        ? new NdjsonWriter<Alert>(ctx.stdout)
        : out.endsWith('.avro')
          ? await AvroAlertFileWriter.create(out)
          : new NdjsonWriter<Alert>(await openOutputFile(out, (p) => ctx.openOutput(p)), (a) => a, true, out);
    // Updates are another record type than alerts: a file of their own, so an alert reader reads one schema.
    const updates =
      updatesOut === undefined
        ? undefined
        : new NdjsonWriter<AlertUpdate>(
            await openOutputFile(updatesOut, (p) => ctx.openOutput(p)),
            (u) => u,
            true,
            updatesOut,
          );
    summary = await runEmbeddedDetection({
      inputs: opened,
      skipped,
      rules,
      partitions,
      allowedLatenessMs: lateness,
      maxOpenPartials,
      maxFutureSkewMs,
      maxBufferedBytes,
      maxStateBytes,
      onAlert: (alert) => writer.write(alert),
      ...(updates === undefined ? {} : { onAlertUpdate: (update: AlertUpdate) => updates.write(update) }),
      afterBatch: async () => {
        // Alerts and the progress line on one terminal: erase the line before the alerts go out.
        if (ctx.stdout.isTTY === true && writer.buffered > 0) progress.clear();
        await updates?.flush();
        return writer.flush();
      },
      progress,
      clock: reproducibleClock(ctx.env['SOURCE_DATE_EPOCH']) ?? ctx.clock,
      threads,
    });
    await writer.close();
    await updates?.close();
  } finally {
    for (const o of opened) o.stream.close();
  }
  ctx.stderr.write(formatDetectionSummary(summary));
  const truncated = readFailures(opened);
  for (const f of truncated) ctx.stderr.write(`sequor detect: ${f.message}\n`);
  if (out !== undefined) ctx.stderr.write(`alerts written to ${out} (${summary.alerts})\n`);
  if (updatesOut !== undefined)
    ctx.stderr.write(`alert updates written to ${updatesOut} (${summary.alertUpdates})\n`);
  if (summaryJson !== undefined) {
    const unreadable = [...failed, ...truncated].map((f) => ({
      name: f.path,
      reason: f.message.slice(f.path.length + 2),
    }));
    try {
      await writeFile(summaryJson, `${JSON.stringify({ ...summary, unreadable }, null, 2)}\n`);
    } catch (error) {
      throw new OutputError(summaryJson, `cannot write: ${systemReason(error)}`, { cause: error });
    }
  }
  return failed.length > 0 || truncated.length > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * With `SOURCE_DATE_EPOCH` (seconds, the reproducible-builds convention) every alert's detection time is
 * that instant, so two runs over the same input write the same bytes (`--threads 1` against `--threads 4`).
 * Undefined when it is unset or not a whole number.
 */
export function reproducibleClock(epochSeconds: string | undefined): (() => number) | undefined {
  if (epochSeconds === undefined || !/^\d+$/.test(epochSeconds)) return undefined;
  const ms = Number(epochSeconds) * 1000;
  return () => ms;
}
