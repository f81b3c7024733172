/**
 * The scenario plan: every injected event (attacks, legitimate look-alikes, near-misses) with its time
 * and host, and the alerts and near-misses that ground truth will report about them. Planned before
 * the noise, held in memory (a few events per instance), merged into the noise by event time.
 */
import type { RawEvent } from '../events.js';
import type { Rng } from '../random.js';
import type { RuleSlug } from '../rules.js';
import type { LogonReservations, TimedEvent } from '../timeline.js';
import type { Account, Host, World } from '../world.js';

/** Who an alert is about, as far as its evidence says. */
export interface AlertEntity {
  readonly host?: { readonly id?: string; readonly name?: string; readonly ip?: string };
  readonly user?: { readonly id?: string; readonly name?: string; readonly domain?: string };
  readonly source?: { readonly ip: string };
  readonly process?: { readonly guid: string };
}

export interface PlannedAlert {
  readonly rule: RuleSlug;
  /** Which story produced it (a stable name), e.g. "remote-sam-dump". */
  readonly scenario: string;
  /** True for legitimate activity the published analytic fires on anyway. */
  readonly benign: boolean;
  readonly entity: AlertEntity;
  /** Evidence events, in the order the rule reports them. */
  readonly tags: readonly number[];
}

export interface PlannedNearMiss {
  readonly rule: RuleSlug;
  /** A stable code for the kind of near-miss, for tests: "hive-write-after-maxspan". */
  readonly kind: string;
  readonly description: string;
  readonly tags: readonly number[];
}

export class Plan {
  readonly events: TimedEvent[] = [];
  readonly alerts: PlannedAlert[] = [];
  readonly nearMisses: PlannedNearMiss[] = [];

  constructor(
    readonly world: World,
    readonly rng: Rng,
    readonly reservations: LogonReservations,
  ) {}

  /** Place one event; returns its tag (for alerts and near-misses to refer to). */
  add(ts: number, host: Host | null, ev: RawEvent): number {
    const tag = this.events.length;
    this.events.push({ key: Math.round(ts), seq: tag, host, ev, tag, late: false, follower: null });
    return tag;
  }

  /** The planned events sorted by event time (ties in planning order); `events` stays indexed by tag. */
  inTimeOrder(): TimedEvent[] {
    return [...this.events].sort((a, b) => a.key - b.key || a.seq - b.seq);
  }

  ts(tag: number): number {
    return (this.events[tag] as TimedEvent).key;
  }

  alert(
    rule: RuleSlug,
    scenario: string,
    benign: boolean,
    entity: AlertEntity,
    tags: readonly number[],
  ): void {
    this.alerts.push({ rule, scenario, benign, entity, tags });
  }

  nearMiss(rule: RuleSlug, kind: string, description: string, tags: readonly number[]): void {
    this.nearMisses.push({ rule, kind, description, tags });
  }

  /**
   * A (host, account) pair with no reservation overlapping [from, to], reserved for that window. Tries
   * random pairs; returns null when every pair tried is taken (the caller moves in time).
   */
  reserveFreePair(
    hosts: readonly Host[],
    accounts: readonly Account[],
    from: number,
    to: number,
    exclude: ReadonlySet<string> = new Set(),
  ): { host: Host; account: Account } | null {
    for (let i = 0; i < 64; i++) {
      const host = this.rng.pick(hosts);
      const account = this.rng.pick(accounts);
      if (exclude.has(account.sid)) continue;
      if (!this.reservations.overlaps(host, account.sid, from, to)) {
        this.reservations.add(host, account.sid, from, to);
        return { host, account };
      }
    }
    return null;
  }

  /** Reserve [from, to] for `host` and an account from `accounts` that is free then; null if none is. */
  reserveFreeAccount(
    host: Host,
    accounts: readonly Account[],
    from: number,
    to: number,
    exclude: ReadonlySet<string> = new Set(),
  ): Account | null {
    const start = this.rng.int(accounts.length);
    for (let i = 0; i < accounts.length; i++) {
      const account = accounts[(start + i) % accounts.length] as Account;
      if (exclude.has(account.sid) || this.reservations.overlaps(host, account.sid, from, to)) continue;
      this.reservations.add(host, account.sid, from, to);
      return account;
    }
    return null;
  }
}

export function hostEntity(host: Host): NonNullable<AlertEntity['host']> {
  return host.flat ? { name: host.flatHostname } : { id: host.id as string, name: host.agentName };
}

/**
 * Instance times for `n` instances of one rule: spread over the noise span in n slots with a random
 * offset inside each slot; `phase` (0..1) staggers the four rules so they do not all start together.
 */
export function instanceTimes(rng: Rng, startMs: number, spanMs: number, n: number, phase: number): number[] {
  const out: number[] = [];
  const margin = 90_000;
  for (let k = 0; k < n; k++) {
    const slot = spanMs / n;
    const t = startMs + slot * k + slot * (0.15 + 0.6 * ((phase + rng.next() * 0.5) % 1));
    out.push(Math.round(Math.max(startMs + margin, t)));
  }
  return out;
}
