import { describe, expect, it } from 'vitest';
import {
  decodeRestoreMetadata,
  encodeRestoreMetadata,
  MAX_RESTORE_METADATA_CHARS,
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

  it('round-trips the stream-time advances after the restore point, as deltas', () => {
    const point = {
      offset: 1_000,
      eventTime: 1_700_000_000_123.5,
      streamTime: 1_700_000_400_000,
      advances: [
        { offset: 1_000, streamTime: 1_700_000_000_100 },
        { offset: 1_200, streamTime: 1_700_000_300_000 },
        { offset: 1_200, streamTime: 1_700_000_301_000 },
        { offset: 1_450, streamTime: 1_700_000_400_000 },
      ],
    };
    const text = encodeRestoreMetadata(point);
    expect(text).toContain('"adv":[0,1700000000100,200,299900,0,1000,250,99000]');
    expect(decodeRestoreMetadata(text)).toEqual(point);
  });

  it.each([
    '{"v":1,"restore":1,"restoreTime":1,"streamTime":1,"adv":[0]}',
    '{"v":1,"restore":1,"restoreTime":1,"streamTime":1,"adv":[-1,5]}',
    '{"v":1,"restore":1,"restoreTime":1,"streamTime":1,"adv":[0,1.5]}',
    '{"v":1,"restore":1,"restoreTime":1,"streamTime":1,"adv":{"a":1}}',
  ])('reads %j, advances it cannot apply exactly, as no restore point', (text) => {
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

describe('RestorePointTracker: stream-time advances without a record (idle partition)', () => {
  it('keeps an advance followed by an older record until the restore point passes it; advances are no candidates', () => {
    const t = new RestorePointTracker(10_000);
    t.observe(0, 1_000);
    expect(t.advance(1, 1_000)).toBe(false); // not later
    expect(t.advance(1, 8_000)).toBe(true);
    t.observe(1, 7_000); // judged against the advanced watermark: the replay needs the advance
    expect(t.streamTime).toBe(8_000);
    expect(t.restorePoint()).toEqual({
      offset: 0,
      eventTime: 1_000,
      streamTime: 8_000,
      advances: [{ offset: 1, streamTime: 8_000 }],
    });
    t.observe(2, 20_000); // threshold 10 s: offset 0 is still the last candidate older
    expect(t.restorePoint()).toMatchObject({ offset: 0, advances: [{ offset: 1, streamTime: 8_000 }] });
    t.observe(3, 30_001); // threshold just past 20 s: offset 2 is older; the advance before it is never replayed
    expect(t.restorePoint()).toEqual({ offset: 2, eventTime: 20_000, streamTime: 30_001 });
    expect(t.advanceCount).toBe(0);
  });

  it('forgets an advance once the first timed record after it is newer: it moves stream time past it anyway', () => {
    const t = new RestorePointTracker(10_000);
    t.observe(0, 1_000);
    t.advance(1, 8_000);
    t.advance(1, 9_000);
    expect(t.restorePoint()?.advances).toHaveLength(2); // undecided: the commit at offset 1 carries them
    t.observe(1, Number.NaN); // untimed: decides nothing
    expect(t.advanceCount).toBe(2);
    t.observe(2, 9_500);
    expect(t.advanceCount).toBe(0);
    expect(t.restorePoint()).toEqual({ offset: 0, eventTime: 1_000, streamTime: 9_500 });
    // A record exactly at the advanced stream time does not move it: it was judged against that watermark.
    t.advance(3, 12_000);
    t.observe(3, 12_000);
    t.observe(4, 50_000);
    expect(t.restorePoint()?.advances).toEqual([{ offset: 3, streamTime: 12_000 }]);
    t.observe(5, 70_000); // threshold 60 s: the restore point (offset 4) passes it
    expect(t.restorePoint()).toEqual({ offset: 4, eventTime: 50_000, streamTime: 70_000 });
  });

  it('refuses an advance whose metadata would not fit, unless replaying one already committed', () => {
    const t = new RestorePointTracker(1e12); // nothing passes out of the horizon: every advance is kept
    t.observe(0, 1_700_000_000_000);
    let time = 1_700_000_000_000;
    let accepted = 0;
    for (let offset = 1; offset < 1_000; offset++) {
      time += 1_000_003;
      if (!t.advance(offset * 100_000, time)) break;
      accepted++;
    }
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(999);
    const text = encodeRestoreMetadata(t.restorePoint()!);
    expect(text.length).toBeLessThanOrEqual(MAX_RESTORE_METADATA_CHARS);
    expect(decodeRestoreMetadata(text)?.advances).toHaveLength(t.advanceCount);
    expect(t.advance(999_999_999, time + 1_000_000, false)).toBe(true);
  });

  it('rebuilds the same candidates and advances from the restore point on (a replay commits what the first run did)', () => {
    const horizon = 30_000;
    const first = new RestorePointTracker(horizon);
    const steps: { offset: number; time: number; advance: boolean }[] = [];
    let time = 0;
    for (let offset = 0; offset < 400; offset++) {
      time += 700;
      if (offset % 7 === 3) steps.push({ offset, time: time + 4_000, advance: true });
      steps.push({ offset, time: offset % 5 === 0 ? time - 3_000 : time, advance: false });
    }
    const apply = (
      t: RestorePointTracker,
      s: { offset: number; time: number; advance: boolean },
      bounded: boolean,
    ) => (s.advance ? t.advance(s.offset, s.time, bounded) : t.observe(s.offset, s.time));
    let point = null as ReturnType<RestorePointTracker['restorePoint']>;
    for (const s of steps.filter((x) => x.offset < 200)) apply(first, s, true);
    point = first.restorePoint()!;
    // A new owner replays from the point: each advance of the metadata before the record at its offset.
    const replay = new RestorePointTracker(horizon);
    for (const s of steps.filter((x) => x.offset >= point!.offset)) {
      if (s.advance) {
        if (s.offset >= 200) continue;
        expect(point.advances?.some((a) => a.offset === s.offset && a.streamTime === s.time)).toBe(true);
      }
      if (s.offset >= 200 && !s.advance) break;
      apply(replay, s, false);
    }
    expect(replay.restorePoint()).toEqual(point);
    for (const s of steps.filter((x) => x.offset >= 200)) {
      apply(first, s, true);
      apply(replay, s, true);
    }
    expect(replay.restorePoint()).toEqual(first.restorePoint());
  });
});
