/**
 * `sequor rules publish DIR --topic T`: writes a folder of rule files (and, with `--lists`, value lists)
 * to a detector rules topic (`RULES_TOPIC`), one compacted record per file, keyed by its one alerting
 * rule. Every file is validated first, as `rules lint` does and alone as a detector checks a record; one
 * error and nothing is written. Then the topic is read whole and only what differs is written: new and
 * changed rules, and tombstones for rules on the topic that are not in DIR only with `--delete-missing`
 * (a folder that is missing files by accident must not delete rules from every detector). Prints each
 * change.
 */
import { readFile } from 'node:fs/promises';
import {
  createKafkaClient,
  createLogger,
  ensureCompactedTopic,
  kafkaConfigFromEnv,
  TopicFollower,
} from '@sequor/kafka';
import { ConfigError } from '@sequor/model';
import { DEFAULT_PARTITION_KEY_FIELDS, parsePartitionKeyFields } from '@sequor/pipeline';
import {
  checkRuleRecordText,
  filtersBeyondRecord,
  listRecordKey,
  loadValueLists,
  parseRuleRecordKey,
  RULE_KEY_PREFIX,
  RuleRecordError,
  ruleRecordKey,
} from '@sequor/rules';
import type { OptionSpecs } from '../args.js';
import { flag, parseCommandArgs, stringOption } from '../args.js';
import type { CommandContext } from '../context.js';
import { EXIT, InputError, ReportedError, systemReason, UsageError } from '../errors.js';
import { loadRuleSet } from '../rule-set.js';

export const rulesPublishUsage = `usage: sequor rules publish DIR --topic T [--lists DIR] [--delete-missing] [--dry-run]

Writes the rule files of DIR (Sequor YAML or Sigma) to a detector rules topic (the detectors'
RULES_TOPIC), one record per file (key rule:<id> of its one alerting rule, value the file's text);
with --lists, the value lists of that folder too (key list:<name>.<type>), written first. Every file is
checked first, as rules lint does and alone as a detector checks a record (a correlation and the rules
it names share one file): one error and nothing is written. Then only what changed is written, and
each change printed. The topic is created compacted, with one partition, when missing. Kafka settings
come from the environment (KAFKA_BROKERS, ...: shared/kafka/README.md), and so does
PARTITION_KEY_FIELDS (the detectors' value, default host.id,...), which correlations are checked
against. A rule now held silent in another file's record (a building block merged into its
correlation's file) has its own record removed.

options:
  --topic T          the rules topic (required)
  --lists DIR        value lists to publish (<name>.keyword|ip|cidr|wildcard)
  --delete-missing   also remove (tombstone) rules and lists on the topic that DIR does not have;
                     without it they are listed and kept
  --dry-run          check and print what would change; write nothing
  -h, --help         this help`;

const options: OptionSpecs = {
  topic: { type: 'string' },
  lists: { type: 'string' },
  'delete-missing': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

interface Desired {
  readonly key: string;
  readonly text: string;
  /** What to print: `rule <id> (<file>)`, `list <name>.<type> (<file>)`. */
  readonly label: string;
  /** The rules this record holds silent (building blocks of its correlation), by id. */
  readonly silentIds?: readonly string[];
}

export async function rulesPublishCommand(args: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  if (flag(values, 'help')) {
    ctx.stdout.write(`${rulesPublishUsage}\n`);
    return EXIT.ok;
  }
  const topic = stringOption(values, 'topic');
  if (topic === undefined) throw new UsageError('--topic T is required (the detectors’ RULES_TOPIC)');
  if (positionals.length !== 1) throw new UsageError('one rules folder: sequor rules publish DIR --topic T');
  const dir = positionals[0] as string;
  const listsDir = stringOption(values, 'lists');
  const dryRun = flag(values, 'dry-run');
  const deleteMissing = flag(values, 'delete-missing');

  let partitionKey;
  try {
    partitionKey = parsePartitionKeyFields(
      ctx.env['PARTITION_KEY_FIELDS'] ?? DEFAULT_PARTITION_KEY_FIELDS.join(','),
    );
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  const desired = await checkedRecords(dir, listsDir, partitionKey.names, ctx);
  if (desired === null) return EXIT.failed;

  let config;
  try {
    config = kafkaConfigFromEnv(ctx.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`Kafka settings: ${error.message}`);
    throw error;
  }
  const logger = createLogger('rules-publish', {
    level: 'error',
    write: (line) => void ctx.stderr.write(line),
  });
  const client = createKafkaClient(config, { logger });
  const admin = client.admin();
  await admin.connect();
  try {
    const { created } = await ensureCompactedTopic(
      admin,
      { topic, partitions: 1, configs: { 'min.compaction.lag.ms': String(86_400_000) } },
      { logger },
    );
    if (created) ctx.stderr.write(`sequor rules publish: created ${topic} (compacted, 1 partition)\n`);
    const onTopic = new Map<string, string>();
    const follower = new TopicFollower(client, {
      topic,
      groupIdPrefix: 'sequor-rules-publish',
      onRecords: (_partition, records) => {
        for (const r of records) {
          const key = r.key?.toString('utf8');
          if (key === undefined) continue;
          if (r.value === null) onTopic.delete(key);
          else onTopic.set(key, r.value.toString('utf8'));
        }
      },
    });
    try {
      await follower.start(admin);
    } finally {
      await follower.stop();
    }

    const messages: { key: string; value: string | null }[] = [];
    const lines: string[] = [];
    let unchanged = 0;
    for (const d of desired) {
      const current = onTopic.get(d.key);
      if (current === d.text) {
        unchanged++;
        continue;
      }
      messages.push({ key: d.key, value: d.text });
      lines.push(`${current === undefined ? 'added  ' : 'changed'} ${d.label}`);
    }
    const wanted = new Set(desired.map((d) => d.key));
    // A rule now held silent in another record (merged into its correlation's file): its own record,
    // left from before, would keep alerting on every detector, so it goes whatever --delete-missing says.
    const silentIn = new Map<string, Desired>();
    for (const d of desired) for (const id of d.silentIds ?? []) silentIn.set(ruleRecordKey(id), d);
    const missing = [...onTopic.keys()].filter((k) => !wanted.has(k)).sort();
    for (const key of missing) {
      const holder = silentIn.get(key);
      if (holder !== undefined) {
        messages.push({ key, value: null });
        lines.push(`removed rule ${key.slice(RULE_KEY_PREFIX.length)} (now held silent by ${holder.label})`);
        continue;
      }
      const parsed = parseRuleRecordKey(key);
      const what =
        parsed instanceof RuleRecordError
          ? `record ${JSON.stringify(key)}`
          : parsed.kind === 'rule'
            ? `rule ${parsed.id}`
            : `list ${parsed.name}.${parsed.type}`;
      // Lists are only compared when --lists names a folder: without it, the topic's lists are not ours.
      if (!(parsed instanceof RuleRecordError) && parsed.kind === 'list' && listsDir === undefined) continue;
      if (deleteMissing) {
        messages.push({ key, value: null });
        lines.push(`removed ${what}`);
      } else {
        lines.push(`kept    ${what} (on the topic, not in ${dir}; --delete-missing removes it)`);
      }
    }
    if (!dryRun && messages.length > 0) {
      const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        await producer.send({ topic, acks: -1, messages });
      } finally {
        await producer.disconnect();
      }
    }
    for (const line of lines) ctx.stdout.write(`${line}\n`);
    const written = messages.length;
    ctx.stderr.write(
      `sequor rules publish: ${dryRun ? 'would write' : 'wrote'} ${written} record${written === 1 ? '' : 's'} to ${topic} ` +
        `(${desired.length} in ${dir}${listsDir === undefined ? '' : ` and ${listsDir}`}, ${unchanged} unchanged)\n`,
    );
    return EXIT.ok;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The records DIR (and the lists folder) should put on the topic, or null after printing every error:
 * one per file, keyed by its one alerting rule, each file checked alone as the detectors check a record
 * (`checkRuleRecordText`: a correlation and the rules it names share a file). Lists come first, so a
 * detector reading the topic in order has them when the rules that name them arrive.
 */
async function checkedRecords(
  dir: string,
  listsDir: string | undefined,
  partitionKeyFields: readonly string[],
  ctx: CommandContext,
): Promise<Desired[] | null> {
  // Checked against the detectors' key, as each record will be (its first field, as they check it).
  const first = partitionKeyFields[0];
  const loaded = await loadRuleSet([dir], false, listsDir, undefined, first === undefined ? [] : [first]);
  let failed = false;
  for (const error of loaded.errors) {
    ctx.stderr.write(`${error.format()}\n`);
    failed = true;
  }
  // As rules lint says them: they do not stop the publish.
  for (const warning of loaded.warnings) ctx.stderr.write(`${warning.format()}\n`);
  const desired: Desired[] = [];
  const lists = listsDir === undefined ? undefined : await loadValueLists(listsDir);
  if (lists !== undefined) {
    for (const refusal of lists.refused.values()) {
      ctx.stderr.write(`${refusal.file}: value list refused: ${refusal.reason}\n`);
      failed = true;
    }
    for (const list of lists.lists.values())
      desired.push({
        key: listRecordKey(list.name, list.type),
        text: await readFile(list.file, 'utf8'),
        label: `list ${list.name}.${list.type} (${list.file})`,
      });
  }
  const files = [...new Set(loaded.files.filter((r) => r.rule !== null).map((r) => r.file))];
  // A file of meta filters alone would be a record that applies to nothing (each is checked alone).
  const filterOnly = [
    ...new Set(loaded.files.filter((r) => r.sigmaFilter !== undefined).map((r) => r.file)),
  ].filter((file) => !files.includes(file));
  for (const file of filterOnly) {
    ctx.stderr.write(
      `${file}: a file of Sigma meta filters alone is not a rules-topic record: a detector checks each record alone, so it would apply to no rule there. Write the filter into the file of each rule it applies to\n`,
    );
    failed = true;
  }
  let ruleRecords = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      throw new InputError(file, `cannot read: ${systemReason(cause)}`, { cause });
    }
    const record = checkRuleRecordText(text, file, {
      ...(lists === undefined ? {} : { valueLists: lists }),
      partitionKeyFields,
    });
    if (!record.ok) {
      for (const error of record.errors) ctx.stderr.write(`${error}\n`);
      ctx.stderr.write(
        `${file}: a detector checks each record alone: keep a correlation and the rules it names in one file, one alerting rule per file (two correlations over one rule: each file its own copy, with its own id and name)\n`,
      );
      failed = true;
      continue;
    }
    // A filter reaches only its own record's rules there: one that reaches others in DIR would not.
    const reach = filtersBeyondRecord(loaded.files, file);
    if (reach !== null) {
      ctx.stderr.write(`${reach}\n`);
      failed = true;
      continue;
    }
    desired.push({
      key: ruleRecordKey(record.rule.id),
      text,
      label: `rule ${record.rule.id} (${file})`,
      silentIds: record.results.flatMap((r) => (r.rule !== null && r.silenced === true ? [r.rule.id] : [])),
    });
    ruleRecords++;
  }
  if (failed) {
    ctx.stderr.write('sequor rules publish: nothing written: fix the errors above first\n');
    return null;
  }
  if (ruleRecords === 0) throw new ReportedError(`no rules in ${dir}`, EXIT.failed);
  return desired;
}
