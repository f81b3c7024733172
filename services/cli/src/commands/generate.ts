/**
 * `sequor generate --out DIR`: seeded raw telemetry with injected attacks and exact ground truth
 * (`@sequor/scenarios`' `writeScenario`), then a table of what was written.
 */
import type { ScenarioOptions } from '@sequor/scenarios';
import { writeScenario } from '@sequor/scenarios';
import { ConfigError } from '@sequor/model';
import type { OptionSpecs } from '../args.js';
import {
  durationOption,
  flag,
  integerOption,
  noPositionals,
  numberOption,
  parseCommandArgs,
  stringOption,
} from '../args.js';
import type { CommandContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { table } from '../summary.js';

export const generateUsage = `usage: sequor generate --out DIR [options]

Writes a seeded scenario: benign noise from many hosts and users in four real formats (Winlogbeat ECS
JSON, Elastic Endpoint ECS, flat Windows JSON, Zeek dce_rpc TSV) with attacks and near-misses for the
four built-in rules injected, and DIR/ground-truth.json naming every expected alert's evidence by
file:line. The same options always give the same bytes.

options:
  --out DIR               directory to write (created if missing; files of the same names are replaced)
  --seed N|TEXT           PRNG seed (default 1)
  --events N              approximate number of events over all files (default 100000)
  --hosts N               Windows machines (default 50)
  --users N               domain users (default 200)
  --rate N                events per second of event time (default 20)
  --start ISO             event time of the first event (default 2024-03-04T08:00:00.000Z)
  --out-of-order DURATION arrival jitter within each file, up to 60s (default 0: sorted by event time);
                          detect with --lateness at least this
  --late FRACTION         fraction of noise events (0..0.5) that arrive late (default 0)
  --late-by DURATION      how far behind a late event arrives (default 5m)
  --scenarios N           attack instances per rule (default events / 50000, at least 1)
  --zeek-json             also write zeek/dce_rpc.json (Zeek JSON logs of the same rows)
  -h, --help              this help`;

const options: OptionSpecs = {
  out: { type: 'string' },
  seed: { type: 'string' },
  events: { type: 'string' },
  hosts: { type: 'string' },
  users: { type: 'string' },
  rate: { type: 'string' },
  start: { type: 'string' },
  'out-of-order': { type: 'string' },
  late: { type: 'string' },
  'late-by': { type: 'string' },
  scenarios: { type: 'string' },
  'zeek-json': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

// Option names as the scenario library reports them in ConfigErrors -> the flags the user typed.
const FLAG_OF: Readonly<Record<string, string>> = {
  outOfOrder: '--out-of-order',
  lateByMs: '--late-by',
  zeekJson: '--zeek-json',
};

export async function generateCommand(args: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  if (flag(values, 'help')) {
    ctx.stdout.write(`${generateUsage}\n`);
    return EXIT.ok;
  }
  noPositionals('generate', positionals);
  const out = stringOption(values, 'out');
  if (out === undefined) throw new UsageError('--out DIR is required');
  const seedText = stringOption(values, 'seed');
  const scenarioOptions: ScenarioOptions = {
    seed: seedText === undefined ? undefined : /^\d+$/.test(seedText) ? Number(seedText) : seedText,
    events: values['events'] === undefined ? undefined : integerOption(values, 'events', 0, 1, 1_000_000_000),
    hosts: values['hosts'] === undefined ? undefined : integerOption(values, 'hosts', 0, 1, 100_000),
    users: values['users'] === undefined ? undefined : integerOption(values, 'users', 0, 1, 1_000_000),
    rate: numberOption(values, 'rate', undefined, 0, Number.MAX_VALUE),
    start: stringOption(values, 'start'),
    outOfOrder: durationOption(values, 'out-of-order', undefined),
    late: numberOption(values, 'late', undefined, 0, 1),
    lateByMs: durationOption(values, 'late-by', undefined),
    scenarios:
      values['scenarios'] === undefined ? undefined : integerOption(values, 'scenarios', 0, 0, 100_000),
    zeekJson: flag(values, 'zeek-json'),
  };
  let result;
  try {
    result = await writeScenario(out, scenarioOptions);
  } catch (error) {
    if (error instanceof ConfigError) {
      const name = error.variable.split('.')[0] as string;
      const flagName = FLAG_OF[name] ?? `--${name}`;
      throw new UsageError(`${flagName} ${JSON.stringify(error.value)}: expected ${error.expected}`);
    }
    throw error;
  }
  const gt = result.groundTruth;
  const n = (x: number): string => x.toLocaleString('en-US');
  const c = gt.counts;
  ctx.stdout.write(
    `wrote ${out} (seed ${JSON.stringify(gt.generator.seed)}: ${n(c.events)} events, ${c.hosts.total} hosts, ${c.users} users)\n\n` +
      `${table([['file', 'format', 'lines', 'events', 'late'], ...gt.files.map((f) => [f.path, f.format, n(f.lines), n(f.events), n(f.late)])])}\n\n` +
      `ground-truth.json: ${n(c.alerts)} alerts (${c.benign_alerts} benign), ${n(c.near_misses)} near-misses, ${n(c.late)} late events\n` +
      `${table([['rule', 'alerts', 'near-misses'], ...Object.entries(c.alerts_by_rule).map(([rule, count]) => [rule, n(count), n(c.near_misses_by_rule[rule as keyof typeof c.near_misses_by_rule])])])}\n` +
      (c.out_of_order_ms > 0
        ? `\nlines arrive up to ${n(c.out_of_order_ms)} ms out of order: detect with --lateness ${c.out_of_order_ms}ms or more\n`
        : ''),
  );
  return EXIT.ok;
}
