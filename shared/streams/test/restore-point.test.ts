import { describe, expect, it } from 'vitest';
import {
  decodeRestoreMetadata,
  encodeRestoreMetadata,
  restoreHorizonMs,
  RestorePointTracker,
} from '../src/restore-point.js';

describe('restore metadata', () => {
  it('round-trips a restore point through the offset metadata text', () => {
    const point = { offset: 123_456_789_012, eventTime: 1_700_000_000_123, streamTime: 1_700_000_360_000 };
    const text = encodeRestoreMetadata(point);
    expect(text.length).toBeLessThan(200);
    expect(decodeRestoreMetadata(text)).toEqual(point);
  });

  it.each([
    null,
    undefined,
    '',
    'checkpoint-7',
    '[]',
    '{"v":2,"restore":1,"restoreTime":1,"streamTime":1}',
    '{"v":1,"restore":-1,"restoreTime":1,"streamTime":1}',
    '{"v":1,"restore":1.5,"restoreTime":1,"streamTime":1}',
    '{"v":1,"restore":1,"restoreTime":"x","streamTime":1}',
  ])('reads %j as no restore point (offsets committed by something else)', (text) => {
    expect(decodeRestoreMetadata(text)).toBeNull();
  });

  it('reaches back by the lateness, the longest window and once more the longest join window', () => {
    expect(restoreHorizonMs(5_000, 3_600_000, 3_600_000)).toBe(7_205_000);
    expect(restoreHorizonMs(5_000, 60_000, 0)).toBe(65_000);
  });
});

describe('RestorePointTracker', () => {
  it('starts at the first record, then at the last stream-time record older than stream time minus the horizon', () => {
    const t = new RestorePointTracker(10_000);
    expect(t.restorePoint()).toBeNull();
    t.observe(0, 1_000);
    t.observe(1, 500); // out of order: not a candidate
    t.observe(2, 3_000);
    expect(t.restorePoint()).toEqual({ offset: 0, eventTime: 1_000, streamTime: 3_000 });
    t.observe(3, 12_500); // threshold 2 500: offset 0 is the last candidate older
    expect(t.restorePoint()).toMatchObject({ offset: 0 });
    t.observe(4, 14_000); // threshold 4 000: offset 2 (3 000) is older
    expect(t.restorePoint()).toEqual({ offset: 2, eventTime: 3_000, streamTime: 14_000 });
  });

  it('ignores times that cannot place an event (NaN, infinities)', () => {
    const t = new RestorePointTracker(1_000);
    t.observe(0, Number.NaN);
    t.observe(1, Number.POSITIVE_INFINITY);
    expect(t.restorePoint()).toBeNull();
    t.observe(2, 5);
    expect(t.restorePoint()).toMatchObject({ offset: 2 });
  });

  it('never points past a record the state may still need, whatever the disorder (property)', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff;
    const horizon = 60_000;
    const t = new RestorePointTracker(horizon);
    const times: number[] = [];
    let clock = 0;
    for (let offset = 0; offset < 50_000; offset++) {
      clock += random() * 40;
      const time = clock - random() * 20_000; // up to 20 s out of order
      times.push(time);
      t.observe(offset, time);
      if (offset % 997 === 0) {
        const point = t.restorePoint()!;
        const threshold = t.streamTime - horizon;
        // Every record before the restore point is older than the threshold, and the restore point set
        // the stream time when it was read (so a replay walks the same watermarks).
        let before = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < point.offset; i++) before = Math.max(before, times[i]!);
        expect(before).toBeLessThan(threshold);
        expect(times[point.offset]).toBe(point.eventTime);
        expect(before).toBeLessThanOrEqual(point.eventTime);
        // It is not much earlier than needed: within one spacing of the threshold (or the first record).
        if (point.offset > 0) expect(point.eventTime).toBeGreaterThan(threshold - t.spacingMs - 20_000);
      }
    }
    expect(t.size).toBeLessThanOrEqual(horizon / t.spacingMs + 2);
  });

  it('keeps at most ~512 candidates however long the horizon and dense the stream', () => {
    const t = new RestorePointTracker(7_205_000);
    for (let offset = 0; offset < 200_000; offset++) t.observe(offset, offset * 100);
    t.restorePoint();
    expect(t.size).toBeLessThanOrEqual(515);
    expect(t.spacingMs).toBe(Math.ceil(7_205_000 / 512));
  });
});
