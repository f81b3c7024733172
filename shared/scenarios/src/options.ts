import { ConfigError } from '@sequor/model';
import type { RuleSlug } from './rules.js';
import { RULE_SLUGS } from './rules.js';

/** What to generate. Every field is optional; `resolveOptions` fills the defaults and checks the values. */
export interface ScenarioOptions {
  /** PRNG seed: the same options give byte-identical output. Default 1. */
  readonly seed?: number | string;
  /** Approximate total number of events (lines of data, noise included) over all files. Default 100,000. */
  readonly events?: number;
  /** Windows machines (domain controllers, servers, workstations; about a fifth report only as flat JSON). Default 50. */
  readonly hosts?: number;
  /** Domain user accounts. Default 200. */
  readonly users?: number;
  /** Event time of the first event, ISO-8601 with a zone. Default 2024-03-04T08:00:00.000Z. */
  readonly start?: string;
  /** Events per second of event time: the spacing of timestamps. Default 20. */
  readonly rate?: number;
  /**
   * Max arrival jitter in ms: lines within a file are shuffled within this event-time window (an event
   * arrives before any event more than this much newer). 0 = each file sorted by event time. Ground truth
   * holds for a detector whose allowed lateness is at least this. Default 0; at most 60,000.
   */
  readonly outOfOrder?: number;
  /**
   * Fraction (0..0.5) of noise events that arrive late: after an event of the same host and file that is
   * `lateByMs` newer. They never take part in an alert, so ground truth does not change; their number is
   * recorded (`counts.late`). Default 0.
   */
  readonly late?: number;
  /** How far behind its host's newer events a late event arrives. Default 300,000 (5 minutes). */
  readonly lateByMs?: number;
  /**
   * Attack instances per rule (each with its near-misses): one number for all four rules, or per rule
   * slug. Default max(1, round(events / 50,000)) for each.
   */
  readonly scenarios?: number | Readonly<Partial<Record<RuleSlug, number>>>;
  /** Also write `zeek/dce_rpc.json` (Zeek JSON logs, same rows in the same order). Default false. */
  readonly zeekJson?: boolean;
}

export interface ResolvedScenarioOptions {
  readonly seed: number | string;
  readonly events: number;
  readonly hosts: number;
  readonly users: number;
  readonly start: string;
  readonly startMs: number;
  readonly rate: number;
  readonly outOfOrder: number;
  readonly late: number;
  readonly lateByMs: number;
  readonly scenarios: Readonly<Record<RuleSlug, number>>;
  readonly zeekJson: boolean;
}

export const DEFAULT_START = '2024-03-04T08:00:00.000Z';
export const MIN_HOSTS = 4;
export const MIN_USERS = 4;
export const MAX_OUT_OF_ORDER_MS = 60_000;

const isoWithZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** Defaults filled in and every value checked; throws ConfigError naming the option. */
export function resolveOptions(options: ScenarioOptions = {}): ResolvedScenarioOptions {
  const seed = options.seed ?? 1;
  if (typeof seed === 'number' && !(Number.isSafeInteger(seed) && seed >= 0)) {
    throw new ConfigError('seed', String(seed), 'a non-negative integer or a string');
  }
  const events = integer('events', options.events ?? 100_000, 1, 1_000_000_000);
  const hosts = integer('hosts', options.hosts ?? 50, MIN_HOSTS, 100_000);
  const users = integer('users', options.users ?? 200, MIN_USERS, 1_000_000);
  const start = options.start ?? DEFAULT_START;
  const startMs = Date.parse(start);
  if (!isoWithZone.test(start) || !Number.isFinite(startMs)) {
    throw new ConfigError('start', start, 'an ISO-8601 date-time with a zone, e.g. 2024-03-04T08:00:00Z');
  }
  const rate = number('rate', options.rate ?? 20, 0.001, 10_000_000);
  const outOfOrder = integer('outOfOrder', options.outOfOrder ?? 0, 0, MAX_OUT_OF_ORDER_MS);
  const late = number('late', options.late ?? 0, 0, 0.5);
  const lateByMs = integer('lateByMs', options.lateByMs ?? 300_000, 1_000, 86_400_000);
  if (late > 0 && lateByMs <= outOfOrder) {
    throw new ConfigError(
      'lateByMs',
      String(lateByMs),
      `more than outOfOrder (${outOfOrder} ms), or late events are not late`,
    );
  }
  const defaultPerRule = Math.max(1, Math.round(events / 50_000));
  const scenarios = {} as Record<RuleSlug, number>;
  const given = options.scenarios;
  for (const slug of RULE_SLUGS) {
    const n = typeof given === 'number' ? given : (given?.[slug] ?? defaultPerRule);
    scenarios[slug] = integer(`scenarios.${slug}`, n, 0, 100_000);
  }
  if (given !== undefined && typeof given !== 'number') {
    for (const key of Object.keys(given)) {
      if (!(RULE_SLUGS as readonly string[]).includes(key)) {
        throw new ConfigError(
          `scenarios.${key}`,
          String(given[key as RuleSlug]),
          `a rule slug: ${RULE_SLUGS.join(', ')}`,
        );
      }
    }
  }
  return {
    seed,
    events,
    hosts,
    users,
    start: new Date(startMs).toISOString(),
    startMs,
    rate,
    outOfOrder,
    late,
    lateByMs,
    scenarios,
    zeekJson: options.zeekJson ?? false,
  };
}

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, String(value), `an integer from ${min} to ${max}`);
  }
  return value;
}

function number(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(name, String(value), `a number from ${min} to ${max}`);
  }
  return value;
}
