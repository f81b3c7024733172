import { describe, expect, it } from 'vitest';
import {
  decodeRestoreMetadata,
  encodeRestoreMetadata,
  MAX_RESTORE_METADATA_CHARS,
  RestorePointTracker,
} from '../src/restore-point.js';

const T0 = Date.UTC(2024, 0, 1);

describe('restore metadata: rule-set switches (rules topic)', () => {
  it('round-trips the switches beside the advances, and leaves metadata without them unchanged', () => {
    const point = {
      offset: 100,
      eventTime: T0,
      streamTime: T0 + 5_000,
      advances: [{ offset: 120, streamTime: T0 + 3_000 }],
      ruleSets: [
        { offset: 100, revision: 7 },
        { offset: 130, revision: 9 },
        { offset: 131, revision: 12 },
      ],
    };
    expect(decodeRestoreMetadata(encodeRestoreMetadata(point))).toEqual(point);
    const plain = { offset: 100, eventTime: T0, streamTime: T0 };
    expect(encodeRestoreMetadata(plain)).not.toContain('rs');
    expect(decodeRestoreMetadata(encodeRestoreMetadata(plain))).toEqual(plain);
  });

  it('refuses switches it cannot read (no restore point rather than a replay with other rules)', () => {
    const text = (rs: unknown) => JSON.stringify({ v: 1, restore: 5, restoreTime: T0, streamTime: T0, rs });
    expect(decodeRestoreMetadata(text([0, 3, -1, 2]))).toBeNull();
    expect(decodeRestoreMetadata(text([0, 3, 1]))).toBeNull();
    expect(decodeRestoreMetadata(text([0, -3]))).toBeNull();
    expect(decodeRestoreMetadata(text('x'))).toBeNull();
  });
});

describe('RestorePointTracker.switchRuleSet', () => {
  it('keeps the switch in effect at the restore point (clamped to it) and every later one', () => {
    const tracker = new RestorePointTracker(10_000);
    tracker.switchRuleSet(0, 3);
    for (let i = 0; i < 100; i++) {
      if (i === 40) tracker.switchRuleSet(40, 5);
      if (i === 70) tracker.switchRuleSet(70, 8);
      tracker.observe(i, T0 + i * 1_000);
    }
    const point = tracker.restorePoint()!;
    // Stream time T0 + 99 s, horizon 10 s: the replay starts near record 89, under revision 8.
    expect(point.offset).toBeGreaterThan(70);
    expect(point.ruleSets).toEqual([{ offset: point.offset, revision: 8 }]);
    tracker.switchRuleSet(100, 9);
    tracker.observe(100, T0 + 100_000);
    expect(tracker.restorePoint()!.ruleSets).toEqual([
      { offset: tracker.restorePoint()!.offset, revision: 8 },
      { offset: 100, revision: 9 },
    ]);
  });

  it('records nothing for the revision already in effect; two switches before one record keep the later', () => {
    const tracker = new RestorePointTracker(10_000);
    tracker.switchRuleSet(0, 3);
    tracker.observe(0, T0);
    expect(tracker.switchRuleSet(1, 3)).toBe(true);
    tracker.switchRuleSet(1, 4);
    tracker.switchRuleSet(1, 6);
    tracker.observe(1, T0 + 1);
    expect(tracker.restorePoint()!.ruleSets).toEqual([
      { offset: 0, revision: 3 },
      { offset: 1, revision: 6 },
    ]);
  });

  it('refuses a switch that would not fit the metadata, and takes it once older ones age out', () => {
    const tracker = new RestorePointTracker(1_000_000);
    tracker.observe(0, T0);
    let offset = 1;
    let refusedAt = -1;
    for (let revision = 1; revision < 10_000; revision++, offset++) {
      tracker.observe(offset, T0 + offset);
      if (!tracker.switchRuleSet(offset, revision * 1_000_003)) {
        refusedAt = revision;
        break;
      }
    }
    expect(refusedAt).toBeGreaterThan(10);
    expect(encodeRestoreMetadata(tracker.restorePoint()!).length).toBeLessThanOrEqual(
      MAX_RESTORE_METADATA_CHARS,
    );
    // Much later (past the horizon) the old switches are behind the restore point: room again.
    tracker.observe(offset + 1, T0 + 5_000_000);
    tracker.observe(offset + 2, T0 + 10_000_000);
    expect(tracker.restorePoint()!.offset).toBe(offset + 1);
    expect(tracker.switchRuleSet(offset + 3, 1)).toBe(true);
  });
});
