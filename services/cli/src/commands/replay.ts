/**
 * `sequor replay <files> --topic T`: raw files into Kafka raw topics, as a shipper would have sent them,
 * as fast as possible or at `--rate` events/s, each record's timestamp the event time of its line.
 *
 * Keys: raw topics have no entity key (the normalizer computes it), so each record is keyed by its
 * file's name: every line of a file lands in ONE partition, in file order. That is required for Zeek
 * TSV (the `#fields` header must reach the same partition, and decoder, before its rows) and keeps each
 * source's own order for the others; files spread over partitions by the hash of their names.
 *
 * Several files are interleaved by event time (the same k-way merge as `detect`), so a rate-limited
 * replay looks like live traffic. Lines without an event time (Zeek headers, unreadable lines, which the
 * normalizer will dead-letter) go out just before their file's next event, with its timestamp.
 */
import path from 'node:path';
import type { KafkaClient, KeyedProducer } from '@sequor/kafka';
import {
  createKafkaClient,
  createKeyedProducer,
  ensureTopics,
  kafkaConfigFromEnv,
  recordSizeUpperBound,
  TopicLimits,
  withAdmin,
} from '@sequor/kafka';
import { ConfigError } from '@sequor/model';
import { createNormalizeProcessor, inMemoryEvents } from '@sequor/pipeline';
import { createLogger } from '@sequor/service';
import type { OptionSpecs } from '../args.js';
import { flag, integerOption, numberOption, parseCommandArgs, stringOption } from '../args.js';
import type { CommandContext } from '../context.js';
import { EXIT, ReportedError, UsageError } from '../errors.js';
import type { OpenInput } from '../io/inputs.js';
import { expandInputs, formatOverride, openInputs, readFailures } from '../io/inputs.js';
import { EventTimeMerge, inlineNormalizedLines } from '../io/merge.js';
import { formatCount, ProgressBar } from '../io/progress.js';

export const replayUsage = `usage: sequor replay [options] (--topic T | --topic-map FILE=TOPIC,...) <file|dir|->...

Produces raw files into Kafka raw topics (KAFKA_BROKERS and the other KAFKA_* variables say where), as
fast as possible or at --rate events/s, each record timestamped with its line's event time. Every line of
a file is keyed by the file's name, so a file stays in one partition in order (Zeek TSV headers must
precede their rows). Several files are interleaved by event time.

options:
  --topic T               the topic for every input
  --topic-map F=T,...     a topic per input file (F the file name or path as given)
  --rate N                events per second (default: as fast as the broker takes them)
  --format NAME           read every input as this format (default: detect per file)
  --partitions N          partitions for a topic that does not exist yet (default 1)
  -h, --help              this help

Raw topics holding old event times need a retention that keeps them (retention.ms=-1 or long enough):
Kafka deletes a segment once its newest timestamp is older than the retention.`;

const options: OptionSpecs = {
  topic: { type: 'string' },
  'topic-map': { type: 'string', multiple: true },
  rate: { type: 'string' },
  format: { type: 'string' },
  partitions: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** Which topic each input goes to. */
export function topicsFor(
  inputs: readonly { readonly path: string; readonly name: string }[],
  topic: string | undefined,
  map: readonly string[],
): string[] {
  if ((topic === undefined) === (map.length === 0))
    throw new UsageError('give either --topic T or --topic-map FILE=TOPIC,...');
  if (topic !== undefined) return inputs.map(() => topic);
  const byFile = new Map<string, string>();
  for (const entry of map.flatMap((m) => m.split(','))) {
    const eq = entry.lastIndexOf('=');
    if (eq <= 0 || eq === entry.length - 1)
      throw new UsageError(`--topic-map wants FILE=TOPIC, got ${JSON.stringify(entry)}`);
    byFile.set(entry.slice(0, eq).trim(), entry.slice(eq + 1).trim());
  }
  return inputs.map((input) => {
    const t = byFile.get(input.path) ?? byFile.get(input.name) ?? byFile.get(path.basename(input.path));
    if (t === undefined) throw new UsageError(`--topic-map names no topic for ${input.name}`);
    return t;
  });
}

export async function replayCommand(args: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  if (flag(values, 'help')) {
    ctx.stdout.write(`${replayUsage}\n`);
    return EXIT.ok;
  }
  const rate = numberOption(values, 'rate', undefined, 0.001, 1e9);
  const partitions = integerOption(values, 'partitions', 1, 1, 10_000);
  const override = formatOverride(stringOption(values, 'format'));
  let config;
  try {
    config = kafkaConfigFromEnv(ctx.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`Kafka settings: ${error.message}`);
    throw error;
  }
  const files = await expandInputs(positionals);
  const { opened, skipped, failed } = await openInputs(files, override);
  for (const s of skipped) ctx.stderr.write(`sequor replay: skipped ${s.file.name}: ${s.reason}\n`);
  for (const f of failed) ctx.stderr.write(`sequor replay: ${f.message}\n`);
  if (opened.length === 0 && failed.length > 0) throw new ReportedError('no readable input', EXIT.failed);
  const topics = topicsFor(
    opened.map((o) => o.file),
    stringOption(values, 'topic'),
    (values['topic-map'] as string[] | undefined) ?? [],
  );

  const logger = createLogger('replay', { level: 'error', write: (line) => void ctx.stderr.write(line) });
  const client = createKafkaClient(config, { logger });
  const limits = await prepareTopics(client, topics, partitions);
  const producer = await createKeyedProducer(client, { name: 'replay', logger, limits });
  let result: ReplayResult;
  try {
    result = await replay(opened, topics, producer, limits, rate, ctx);
    ctx.stderr.write(
      `sequor replay: ${result.records.toLocaleString('en-US')} records (${result.events.toLocaleString('en-US')} with events) ` +
        `from ${opened.length} file${opened.length === 1 ? '' : 's'} to ${[...new Set(topics)].join(', ')} in ${(result.ms / 1000).toFixed(1)} s ` +
        `(${formatCount((result.records * 1000) / Math.max(result.ms, 1))} records/s)\n`,
    );
  } finally {
    for (const o of opened) o.stream.close();
    await producer.disconnect();
  }
  // Unreadable inputs and inputs a read error cut short fail the run; what could be read was sent.
  const truncated = readFailures(opened);
  for (const f of truncated) ctx.stderr.write(`sequor replay: ${f.message}\n`);
  if (failed.length > 0 || truncated.length > 0) return EXIT.failed;
  if (result.restamped > 0) {
    ctx.stderr.write(
      `sequor replay: ${result.restamped} record${result.restamped === 1 ? '' : 's'} stamped with the send time: ` +
        `event time outside the topic's message.timestamp.after.max.ms / before.max.ms (the broker would refuse them)\n`,
    );
  }
  if (result.tooLarge > 0) {
    ctx.stderr.write(
      `sequor replay: ${result.tooLarge} line${result.tooLarge === 1 ? '' : 's'} not sent: larger than the topic's max.message.bytes\n`,
    );
    return EXIT.failed;
  }
  return EXIT.ok;
}

/**
 * Creates the topics that do not exist (with `partitions`; existing ones are used as they are) and reads
 * their `max.message.bytes`, so no batch the producer sends is refused whole.
 */
async function prepareTopics(
  client: KafkaClient,
  topics: readonly string[],
  partitions: number,
): Promise<TopicLimits> {
  return withAdmin(client, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length > 0)
      await ensureTopics(
        admin,
        missing.map((topic) => ({ topic, partitions })),
      );
    return TopicLimits.read(admin, topics);
  });
}

interface ReplayResult {
  readonly records: number;
  readonly events: number;
  readonly ms: number;
  /** Lines not sent because they exceed their topic's `max.message.bytes` (each named on stderr). */
  readonly tooLarge: number;
  /** Records whose event time the topic would refuse as CreateTime (a year-9999 event): sent stamped with the clock. */
  readonly restamped: number;
}

const AWAIT_EVERY = 5_000;

async function replay(
  inputs: readonly OpenInput[],
  topics: readonly string[],
  producer: KeyedProducer,
  limits: TopicLimits,
  rate: number | undefined,
  ctx: CommandContext,
): Promise<ReplayResult> {
  const started = Date.now();
  const names = inputs.map((o) => o.file.name);
  const keys = inputs.map((o) => (o.file.path === '-' ? 'stdin' : path.basename(o.file.path)));
  // The normalizer reads each line only for its event time; the raw bytes are what is sent.
  const normalize = createNormalizeProcessor({
    bindings: inputs.map((o, i) => ({ topic: names[i] as string, format: o.format })),
    encoder: inMemoryEvents,
  });
  const pending: Buffer[][] = inputs.map(() => []);
  const lastTime: number[] = inputs.map(() => Number.NaN);
  let records = 0;
  let events = 0;
  let tooLarge = 0;
  let restamped = 0;
  let last: Promise<void> = Promise.resolve();
  const progress = new ProgressBar(ctx.stderr, 'replay');
  const merge = new EventTimeMerge(inputs, inlineNormalizedLines(inputs, names, normalize));
  const totalBytes = inputs.every((i) => i.file.size !== null)
    ? inputs.reduce((n, i) => n + (i.file.size as number), 0)
    : null;
  const send = (source: number, line: Buffer, eventTime: number): void => {
    const topic = topics[source] as string;
    const now = ctx.clock();
    // A shipper stamps records when it sends them; an event time the broker would refuse (Kafka 4 takes
    // CreateTime at most 1 h ahead by default) would fail the whole batch around it.
    const timestamp = limits.acceptsTimestamp(topic, eventTime, now) ? eventTime : now;
    if (timestamp !== eventTime) restamped++;
    const record = { topic, key: keys[source] as string, value: line, timestamp };
    const queued = producer.trySend(record);
    if (queued === null) {
      // The broker would refuse it (and the batch around it); a shipper would have dropped it too.
      tooLarge++;
      ctx.stderr.write(
        `sequor replay: ${names[source]}: a line of ${recordSizeUpperBound(record)} bytes does not fit ${record.topic}'s max.message.bytes: not sent\n`,
      );
      return;
    }
    last = queued;
    records++;
  };
  const pace = async (): Promise<void> => {
    await last;
    progress.tick(() => ({ events, alerts: 0, bytes: merge.progress().bytes, totalBytes }));
    if (rate === undefined) return;
    const due = started + (events / rate) * 1000;
    const wait = due - Date.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
  };
  // With --rate, pause often enough to keep the pace smooth (about every 10 ms of events).
  const step = rate === undefined ? AWAIT_EVERY : Math.max(1, Math.min(AWAIT_EVERY, Math.floor(rate / 100)));
  let sinceStep = 0;
  await merge.run((record) => {
    const source = record.source;
    const first = record.result.outputs[0];
    if (first === undefined) {
      (pending[source] as Buffer[]).push(record.line);
      return undefined;
    }
    const time = first.event.timestamp;
    for (const line of pending[source] as Buffer[]) send(source, line, time);
    (pending[source] as Buffer[]).length = 0;
    lastTime[source] = time;
    send(source, record.line, time);
    events++;
    if (++sinceStep < step) return undefined;
    sinceStep = 0;
    return pace();
  });
  // Lines after a file's last event (a Zeek #close) keep that event's time.
  pending.forEach((lines, source) => {
    const time = Number.isNaN(lastTime[source] as number) ? ctx.clock() : (lastTime[source] as number);
    for (const line of lines) send(source, line, time);
  });
  await producer.flush();
  progress.clear();
  return { records, events, ms: Date.now() - started, tooLarge, restamped };
}
