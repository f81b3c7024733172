/**
 * When a member running stateful tasks is ready (`/readyz`): it joined the group, got its partitions,
 * and every one of them has its state rebuilt. A rebalance makes it not ready until the next
 * assignment's restores finish. Pure: the task runner reports assignments and restores, and reads `state()`.
 *
 * A partition counts as restored when its task went live, or when the runner found on assignment that
 * it has nothing to replay (no committed restore point below the committed offset).
 */
import { describePartitionKey } from './committed-offsets.js';

export interface ReadinessState {
  readonly ready: boolean;
  /** Why, for `/readyz` and logs: `restoring 2 of 6 partitions: events[3], events[5]`. */
  readonly reason: string;
}

/** Partitions named in reasons before "and N more". */
const NAMED_IN_REASON = 4;

export class RestoreReadiness {
  private joined = false;
  private rebalancing = false;
  private assigned = 0;
  private readonly pending = new Set<string>();

  /** A new assignment (after every join): `keys` are the owned partitions, `live(key)` those already restored. */
  assign(keys: Iterable<string>, live: (key: string) => boolean): void {
    this.joined = true;
    this.rebalancing = false;
    this.pending.clear();
    this.assigned = 0;
    for (const key of keys) {
      this.assigned++;
      if (!live(key)) this.pending.add(key);
    }
  }

  /** A rebalance started: the current partitions are about to be revoked. */
  rebalance(): void {
    this.rebalancing = true;
  }

  /** `key`'s state is rebuilt (or found to need no rebuild). */
  restored(key: string): void {
    this.pending.delete(key);
  }

  /** True while `key` is assigned and its state not yet restored. */
  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  state(): ReadinessState {
    if (!this.joined) return { ready: false, reason: 'joining the consumer group' };
    if (this.rebalancing) return { ready: false, reason: 'rebalancing' };
    if (this.pending.size > 0) {
      const named = [...this.pending].slice(0, NAMED_IN_REASON).map(describePartitionKey).join(', ');
      const more =
        this.pending.size > NAMED_IN_REASON ? ` and ${this.pending.size - NAMED_IN_REASON} more` : '';
      return {
        ready: false,
        reason: `restoring ${this.pending.size} of ${this.assigned} partitions: ${named}${more}`,
      };
    }
    return { ready: true, reason: `${this.assigned} partitions assigned, state restored` };
  }
}
