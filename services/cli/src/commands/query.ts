/**
 * `sequor query '<EQL>' <files|->`: a hunting tool in the manner of Python's `eql query`. One ad-hoc
 * query (event query, sequence, join; `| head N`, `| tail N`) over event files in any supported format,
 * each match printed as one NDJSON line: an event query prints the event, a sequence or join
 * `{"keys": [...], "events": [...]}`. Events are printed in ECS shape (`@timestamp` as ISO-8601, fields
 * that are null left out), which `--format ecs` reads back.
 */
import type { CompiledQuery } from '@sequor/engine';
import { compileQuery, createCorrelationPipeline, QueryCompileError } from '@sequor/engine';
import type { Pipe, Query } from '@sequor/eql';
import { checkQuery, EqlSyntaxError, parse } from '@sequor/eql';
import type { SequorEvent } from '@sequor/model';
import { eventFieldCatalog } from '@sequor/model';
import { createNormalizeProcessor, defaultMaxFutureSkewMs, inMemoryEvents } from '@sequor/pipeline';
import { map, Subject, take, takeLast, type MonoTypeOperatorFunction } from 'rxjs';
import type { OptionSpecs } from '../args.js';
import { durationOption, flag, integerOption, parseCommandArgs, stringOption } from '../args.js';
import type { CommandContext } from '../context.js';
import { deadLetterLine } from '../embedded.js';
import { EXIT, ReportedError, UsageError } from '../errors.js';
import type { OpenInput } from '../io/inputs.js';
import { expandInputs, formatOverride, openInputs, readFailures } from '../io/inputs.js';
import { EventTimeMerge, inlineNormalizedLines } from '../io/merge.js';
import { defaultThreads, MAX_THREADS, NormalizeWorkers } from '../io/normalize-workers.js';
import { NdjsonWriter, requireStdout } from '../io/output.js';

export const DEFAULT_QUERY_LATENESS_MS = 60_000;

export const queryUsage = `usage: sequor query [options] '<EQL>' <file|dir|->...

Runs one EQL query over event files (NDJSON, Zeek TSV/JSON, ECS JSON; plain or gzip) and prints each
match as one NDJSON line: an event query prints the event (ECS shape), a sequence or join prints
{"keys": [...], "events": [...]}. Pipes: | head N, | tail N. Several files are merged by event time.

  sequor query 'registry where registry.value : "ImagePath"' cmd_service_mod_fax.json
  sequor query 'sequence by host.id with maxspan=1m [authentication where true] [file where true] | head 5' logs/

options:
  --format NAME          read every input as this format (default: detect per file)
  --lateness DURATION    how far out of order events may be and still be matched in order (default 1m)
  --max-future-skew DURATION  a sequence or join ignores events dated more than this after the run's
                         start (counted on stderr) instead of letting one year-9999 date end the query (default: the lateness)
  --reorder-max-mib N    memory bound of the reorder buffer, MiB (default 128)
  --state-max-mib N      memory bound of the open partial matches, MiB (default 64)
  --threads N            worker threads that parse and normalize the lines while this thread merges
                         and queries; 1 does all on this thread (default: one per core but this
                         thread's from 3 cores up, else 1; here ${defaultThreads()}). The matches and
                         their order are the same for every N
  -h, --help             this help

A query error is printed with its line, column and a caret; exit 2. Exit 1 when an input cannot be
read in full or stdout cannot be written (each said in one line naming the file; the other inputs are
still queried).`;

const options: OptionSpecs = {
  format: { type: 'string' },
  lateness: { type: 'string' },
  'max-future-skew': { type: 'string' },
  'reorder-max-mib': { type: 'string' },
  'state-max-mib': { type: 'string' },
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** The engine's skew guard and memory bounds, as `sequor detect` sets them. */
interface QueryBounds {
  readonly threads: number;
  readonly lateness: number;
  readonly maxFutureSkewMs: number;
  readonly maxBufferedBytes: number;
  readonly maxStateBytes: number;
}

/** Parses, checks and compiles; every problem printed with a caret, then ReportedError (exit 2). */
export function compileAdHocQuery(
  text: string,
  ctx: CommandContext,
): { query: Query; compiled: CompiledQuery<SequorEvent> } {
  let query: Query;
  try {
    query = parse(text);
  } catch (error) {
    if (!(error instanceof EqlSyntaxError)) throw error;
    ctx.stderr.write(`${error.format('query')}\n`);
    throw new ReportedError('query syntax error', EXIT.usage);
  }
  const findings = checkQuery(query, eventFieldCatalog);
  for (const f of findings) ctx.stderr.write(`${f.format('query')}\n`);
  if (findings.some((f) => f.severity === 'error')) throw new ReportedError('query error', EXIT.usage);
  try {
    return { query, compiled: compileQuery<SequorEvent>(query, eventFieldCatalog) };
  } catch (error) {
    if (!(error instanceof QueryCompileError)) throw error;
    for (const e of error.errors) ctx.stderr.write(`${e.format('query')}\n`);
    throw new ReportedError('query compile error', EXIT.usage);
  }
}

/** The event as an ECS document: `@timestamp` ISO-8601, nulls and empty objects left out. */
export function toEcsDocument(event: SequorEvent): Record<string, unknown> {
  const doc: Record<string, unknown> = { '@timestamp': new Date(event.timestamp).toISOString() };
  const fields = event as unknown as Record<string, unknown>;
  for (const key in fields) {
    if (key === 'timestamp') continue;
    const pruned = prune(fields[key]);
    if (pruned !== undefined) doc[key] = pruned;
  }
  return doc;
}

// Runs once per printed event and field: a for-in walk, no entry arrays, an object only when needed.
function prune(value: unknown): unknown {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value))
    return value ?? undefined;
  let out: Record<string, unknown> | undefined;
  const fields = value as Record<string, unknown>;
  for (const key in fields) {
    const p = prune(fields[key]);
    if (p !== undefined) (out ??= {})[key] = p;
  }
  return out;
}

/**
 * `| head N` and `| tail N`, in order, as rxjs `take` and `takeLast`: a full `head` completes and
 * unsubscribes upstream, which is how the reader learns to stop; a `tail` holds its last N until the end.
 */
export function queryPipes<T>(pipes: readonly Pipe[]): MonoTypeOperatorFunction<T> {
  const stages = pipes.map((p) => (p.kind === 'head' ? take<T>(p.count) : takeLast<T>(p.count)));
  return (source) => stages.reduce((stream, stage) => stream.pipe(stage), source);
}

export async function queryCommand(args: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  if (flag(values, 'help')) {
    ctx.stdout.write(`${queryUsage}\n`);
    return EXIT.ok;
  }
  const [text, ...paths] = positionals;
  if (text === undefined) throw new UsageError("missing the query: sequor query '<EQL>' <files>");
  if (paths.length === 0)
    throw new UsageError('no input: give files, directories or - for stdin after the query');
  const override = formatOverride(stringOption(values, 'format'));
  const lateness = durationOption(values, 'lateness', DEFAULT_QUERY_LATENESS_MS) as number;
  const bounds: QueryBounds = {
    threads: integerOption(values, 'threads', defaultThreads(), 1, MAX_THREADS),
    lateness,
    maxFutureSkewMs: durationOption(values, 'max-future-skew', defaultMaxFutureSkewMs(lateness)) as number,
    maxBufferedBytes: integerOption(values, 'reorder-max-mib', 128, 1, 1 << 20) * 2 ** 20,
    maxStateBytes: integerOption(values, 'state-max-mib', 64, 1, 1 << 20) * 2 ** 20,
  };
  const { query, compiled } = compileAdHocQuery(text, ctx);
  const files = await expandInputs(paths);
  requireStdout(ctx, 'matches');
  const { opened, skipped, failed } = await openInputs(files, override);
  for (const s of skipped) ctx.stderr.write(`sequor query: skipped ${s.file.name}: ${s.reason}\n`);
  for (const f of failed) ctx.stderr.write(`sequor query: ${f.message}\n`);
  if (opened.length === 0 && failed.length > 0) throw new ReportedError('no readable input', EXIT.failed);
  try {
    const truncated = await runQuery(query, compiled, opened, bounds, ctx);
    return failed.length > 0 || truncated > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    for (const o of opened) o.stream.close();
  }
}

/** Runs the query over the opened inputs; the number of inputs a read error cut short (each reported). */
async function runQuery(
  query: Query,
  compiled: CompiledQuery<SequorEvent>,
  opened: readonly OpenInput[],
  bounds: QueryBounds,
  ctx: CommandContext,
): Promise<number> {
  const topics = opened.map((o) => o.file.name);
  const workers = bounds.threads > 1 ? new NormalizeWorkers(bounds.threads, opened, topics) : null;
  try {
    return await queryLines(query, compiled, opened, topics, workers, bounds, ctx);
  } finally {
    await workers?.close();
  }
}

async function queryLines(
  query: Query,
  compiled: CompiledQuery<SequorEvent>,
  opened: readonly OpenInput[],
  topics: readonly string[],
  workers: NormalizeWorkers | null,
  bounds: QueryBounds,
  ctx: CommandContext,
): Promise<number> {
  const lateness = bounds.lateness;
  const sources =
    workers === null
      ? inlineNormalizedLines(
          opened,
          topics,
          createNormalizeProcessor({
            bindings: opened.map((o, i) => ({ topic: topics[i] as string, format: o.format })),
            encoder: inMemoryEvents,
          }),
        )
      : workers.sources();
  const writer = new NdjsonWriter<unknown>(ctx.stdout);
  const isEventQuery = compiled.spec.kind === 'filter';
  const pipeline = createCorrelationPipeline(compiled.spec, compiled.eventTime, {
    allowedLatenessMs: lateness,
    maxFutureSkewMs: bounds.maxFutureSkewMs,
    maxBufferedBytes: bounds.maxBufferedBytes,
    maxStateBytes: bounds.maxStateBytes,
    // Files carry no record clock: the run's start is the reference, as in `sequor detect`.
    record: { referenceTime: ctx.clock(), sizeBytes: Number.NaN },
  });
  const events = new Subject<SequorEvent>();
  let failure: unknown = null;
  events
    .pipe(
      pipeline.operator,
      map((match): unknown =>
        isEventQuery
          ? toEcsDocument(match.events[0] as SequorEvent)
          : { keys: match.keyValues, events: match.events.map(toEcsDocument) },
      ),
      queryPipes(query.pipes),
    )
    .subscribe({ next: (result) => writer.write(result), error: (error: unknown) => (failure = error) });
  // A full head unsubscribes from `events`: no later result can come out, so reading stops.
  const exhausted = (): boolean => !events.observed;
  let deadLetters = 0;
  let sinceFlush = 0;
  const merge = new EventTimeMerge(opened, sources);
  await merge.run((record) => {
    const verdict = record.result.deadLetter;
    if (verdict !== undefined) {
      if (deadLetters++ < 5)
        ctx.stderr.write(
          `sequor query: skipped ${deadLetterLine(topics[record.source] as string, record.offset, verdict.format, verdict.message)}\n`,
        );
    }
    for (const out of record.result.outputs) events.next(out.event);
    if (failure !== null) throw failure;
    if (exhausted()) return false;
    if (writer.full || ++sinceFlush >= 4096) {
      sinceFlush = 0;
      return writer.flush();
    }
    return undefined;
  });
  events.complete(); // the tails release what they hold
  if (failure !== null) throw failure;
  await writer.close();
  if (deadLetters > 5) ctx.stderr.write(`sequor query: ${deadLetters} records could not be read in all\n`);
  const future = pipeline.stats.futureTime;
  if (future > 0)
    ctx.stderr.write(
      `sequor query: ${future} event(s) dated more than ${bounds.maxFutureSkewMs} ms after the run's start were not matched (--max-future-skew)\n`,
    );
  const late = pipeline.stats.late;
  if (late > 0)
    ctx.stderr.write(
      `sequor query: ${late} event(s) arrived more than ${lateness} ms out of order and were not matched (raise --lateness)\n`,
    );
  const truncated = readFailures(opened);
  for (const f of truncated) ctx.stderr.write(`sequor query: ${f.message}\n`);
  return truncated.length;
}
