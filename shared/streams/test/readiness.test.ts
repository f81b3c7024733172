import { describe, expect, it } from 'vitest';
import { RestoreReadiness } from '../src/readiness.js';

const key = (partition: number): string => `events\u0000${partition}`;

describe('RestoreReadiness', () => {
  it('is not ready before the first assignment', () => {
    expect(new RestoreReadiness().state()).toEqual({ ready: false, reason: 'joining the consumer group' });
  });

  it('becomes ready once every assigned partition is restored, naming those still restoring', () => {
    const readiness = new RestoreReadiness();
    readiness.assign([key(0), key(1), key(2)], () => false);
    expect(readiness.state()).toEqual({
      ready: false,
      reason: 'restoring 3 of 3 partitions: events[0], events[1], events[2]',
    });
    readiness.restored(key(1));
    readiness.restored(key(0));
    expect(readiness.state()).toEqual({ ready: false, reason: 'restoring 1 of 3 partitions: events[2]' });
    expect(readiness.isPending(key(2))).toBe(true);
    readiness.restored(key(2));
    expect(readiness.state()).toEqual({ ready: true, reason: '3 partitions assigned, state restored' });
  });

  it('keeps partitions that stayed (already live) out of the pending set', () => {
    const readiness = new RestoreReadiness();
    readiness.assign([key(0), key(1)], (k) => k === key(0));
    expect(readiness.isPending(key(0))).toBe(false);
    expect(readiness.state().reason).toBe('restoring 1 of 2 partitions: events[1]');
  });

  it('is not ready during a rebalance, and a restore of a revoked partition does not count', () => {
    const readiness = new RestoreReadiness();
    readiness.assign([key(0)], () => true);
    expect(readiness.state().ready).toBe(true);
    readiness.rebalance();
    expect(readiness.state()).toEqual({ ready: false, reason: 'rebalancing' });
    readiness.assign([key(1)], () => false);
    readiness.restored(key(0));
    expect(readiness.state().ready).toBe(false);
    readiness.restored(key(1));
    expect(readiness.state().ready).toBe(true);
  });

  it('an empty assignment (more members than partitions) is ready', () => {
    const readiness = new RestoreReadiness();
    readiness.assign([], () => false);
    expect(readiness.state()).toEqual({ ready: true, reason: '0 partitions assigned, state restored' });
  });

  it('names at most four partitions', () => {
    const readiness = new RestoreReadiness();
    readiness.assign([0, 1, 2, 3, 4, 5].map(key), () => false);
    expect(readiness.state().reason).toBe(
      'restoring 6 of 6 partitions: events[0], events[1], events[2], events[3] and 2 more',
    );
  });
});
