import { describe, expect, it } from 'vitest';
import {
  CorrelationSpecError,
  CorrelationStats,
  PartialStore,
  type EvictionReason,
  type StoredPartial,
} from '../../src/index.js';

interface Item extends StoredPartial {
  readonly name: string;
}

/** Windows of 10 ms: an item starting at 90 ends at 100. */
function setup(maxOpen: number, mode: 'after' | 'at' = 'after', lifetime = 10, maxBytes?: number) {
  const stats = new CorrelationStats();
  const evicted: [string, EvictionReason][] = [];
  const store = new PartialStore<Item>(
    maxOpen,
    lifetime,
    mode,
    stats,
    (item, reason) => {
      evicted.push([item.name, reason]);
    },
    maxBytes,
  );
  const item = (name: string, start: number, bytes = 0): Item => ({ name, start, live: false, bytes });
  return { stats, evicted, store, item };
}

describe('PartialStore', () => {
  it("expires strictly after the deadline in 'after' mode and at it in 'at' mode", () => {
    const after = setup(10, 'after');
    after.store.add(after.item('a', 90));
    after.store.advance(100);
    expect(after.evicted).toEqual([]);
    after.store.advance(101);
    expect(after.evicted).toEqual([['a', 'window']]);

    const at = setup(10, 'at');
    at.store.add(at.item('a', 90));
    at.store.advance(99);
    expect(at.evicted).toEqual([]);
    at.store.advance(100);
    expect(at.evicted).toEqual([['a', 'window']]);
  });

  it('evicts oldest first, skipping released partials, and keeps the openPartials gauge', () => {
    const { store, stats, evicted, item } = setup(2);
    const a = item('a', 10);
    const b = item('b', 20);
    store.add(a);
    store.add(b);
    store.release(a);
    store.add(item('c', 30));
    expect(evicted).toEqual([]);
    store.add(item('d', 40));
    expect(evicted).toEqual([['b', 'cap']]);
    expect(stats.openPartials).toBe(2);
    expect(store.size).toBe(2);
  });

  it('compacts released partials so the queue stays proportional to live state', () => {
    const { store, item } = setup(1_000_000, 'after', Number.POSITIVE_INFINITY);
    store.add(item('keep', 0));
    store.advance(1e15); // an infinite lifetime never expires
    for (let index = 0; index < 100_000; index++) {
      const transient = item(`t${index}`, index);
      store.add(transient);
      store.release(transient);
    }
    expect(store.size).toBe(1);
    expect(store.queued).toBeLessThan(2100);
  });

  it('drains live partials oldest first and resets', () => {
    const { store, stats, item } = setup(10);
    store.add(item('a', 1));
    const b = item('b', 2);
    store.add(b);
    store.add(item('c', 3));
    store.release(b);
    const seen: string[] = [];
    store.drain((partial) => seen.push(partial.name));
    expect(seen).toEqual(['a', 'c']);
    expect(stats.openPartials).toBe(0);
    expect(store.queued).toBe(0);
  });

  it('rejects a cap below 1', () => {
    expect(() => setup(0)).toThrow(CorrelationSpecError);
  });

  it('stays under its byte bound, evicting the oldest with reason bytes, and keeps the stateBytes gauge', () => {
    const { store, stats, evicted, item } = setup(1_000_000, 'after', 1_000_000, 10_000);
    for (let i = 0; i < 100; i++) {
      store.add(item(`p${i}`, i, 1_000));
      expect(store.bytes).toBeLessThanOrEqual(10_000);
      expect(stats.stateBytes).toBe(store.bytes);
    }
    expect(store.size).toBe(10);
    expect(evicted).toHaveLength(90);
    expect(evicted[0]).toEqual(['p0', 'bytes']);
    expect(evicted.every(([, reason]) => reason === 'bytes')).toBe(true);
  });

  it('counts growth against the bound and gives bytes back on release and drain', () => {
    const { store, stats, evicted, item } = setup(100, 'after', 1_000, 3_000);
    const a = item('a', 1, 1_000);
    const b = item('b', 2, 1_000);
    store.add(a);
    store.add(b);
    store.grow(b, 500);
    expect(stats.stateBytes).toBe(2_500);
    store.grow(b, 1_000); // 3,500 > 3,000: the oldest (a) goes
    expect(evicted).toEqual([['a', 'bytes']]);
    expect(stats.stateBytes).toBe(2_500);
    store.release(b);
    expect(stats.stateBytes).toBe(0);
    store.add(item('c', 3, 100));
    store.drain();
    expect(stats.stateBytes).toBe(0);
  });

  it('never evicts the only partial, even one larger than the bound', () => {
    const { store, evicted, item } = setup(100, 'after', 1_000, 10);
    store.add(item('big', 1, 1_000));
    expect(store.size).toBe(1);
    expect(evicted).toEqual([]);
  });

  it('counts its evictions by reason, except those the operator reports completed', () => {
    const stats = new CorrelationStats();
    const store = new PartialStore<Item>(1, 10, 'after', stats, (item) =>
      item.name === 'done' ? 'completed' : undefined,
    );
    const item = (name: string, start: number): Item => ({ name, start, live: false, bytes: 0 });
    store.add(item('a', 0));
    store.add(item('b', 1)); // over the cap of 1: a goes
    const b = item('b2', 2);
    store.add(b); // b goes
    store.expire(b); // an in-order event showed b2's window is over
    store.add(item('done', 3));
    store.advance(100); // its window closes: the operator completed it, not a loss
    expect(stats).toMatchObject({ evictedByCap: 2, evictedByWindow: 1, openPartials: 0 });
  });

  it('gives lookups that keep the keys gauge themselves', () => {
    const stats = new CorrelationStats();
    const store = new PartialStore<Item>(10, 10, 'after', stats, () => undefined);
    const byKey = store.keyed<string, number>();
    byKey.set('a', 1);
    byKey.set('a', 2); // same key: still one entry
    byKey.set('b', 3);
    expect(stats.keys).toBe(2);
    expect(byKey.delete('a')).toBe(true);
    expect(byKey.delete('a')).toBe(false);
    expect(stats.keys).toBe(1);
    byKey.clear();
    expect(stats.keys).toBe(0);
  });
});
