import { describe, expect, it } from 'vitest';
import {
  checkpointAt,
  CommittedOffsets,
  encodeRestoreMetadata,
  LogStartOffsets,
  planRestore,
} from '../src/index.js';
import { FakeAdmin } from './fakes.js';

describe('CommittedOffsets', () => {
  it('reads offsets and metadata of a group in one request; a partition never committed reads as -1', async () => {
    const log: string[] = [];
    const admin = new FakeAdmin(log);
    admin.commit('raw', 0, 42, '#fields\tts\tuid');
    admin.commit('raw', 1, 7, '');
    const committed = await CommittedOffsets.read(admin, 'g', ['raw', 'raw']);
    expect(log).toEqual(['admin:fetchOffsets']);
    expect(committed.of('raw', 0)).toEqual({ offset: 42, metadata: '#fields\tts\tuid' });
    expect(committed.of('raw', 1)).toEqual({ offset: 7, metadata: null });
    expect(committed.of('raw', 2)).toEqual({ offset: -1, metadata: null });
    expect(committed.of('other', 0)).toEqual({ offset: -1, metadata: null });
  });

  it('a checkpoint applies only where it was committed', () => {
    expect(checkpointAt({ offset: 42, metadata: 'header' }, 42)).toEqual({
      checkpoint: 'header',
      mismatch: false,
    });
    expect(checkpointAt({ offset: 42, metadata: 'header' }, 40)).toEqual({
      checkpoint: null,
      mismatch: true,
    });
    expect(checkpointAt({ offset: 42, metadata: null }, 40)).toEqual({ checkpoint: null, mismatch: false });
    expect(checkpointAt({ offset: -1, metadata: null }, 0)).toEqual({ checkpoint: null, mismatch: false });
  });

  it('reads log starts once per topic', async () => {
    const admin = new FakeAdmin();
    admin.logStart.set('t/1', 30);
    let calls = 0;
    const counting = {
      fetchOffsets: admin.fetchOffsets.bind(admin),
      fetchTopicOffsets: (topic: string) => {
        calls++;
        return admin.fetchTopicOffsets(topic);
      },
    };
    const starts = new LogStartOffsets(counting);
    expect(await starts.of('t', 1)).toBe(30);
    expect(await starts.of('t', 0)).toBe(0);
    expect(calls).toBe(1);
  });
});

describe('planRestore', () => {
  const low = (n: number) => () => Promise.resolve(n);
  const metadata = encodeRestoreMetadata({ offset: 80, eventTime: 1_000, streamTime: 9_000 });

  it('replays from the restore point up to the committed offset', async () => {
    expect(await planRestore({ offset: 100, metadata }, low(0))).toMatchObject({
      startOffset: 80,
      liveFrom: 100,
      truncatedAt: null,
    });
  });

  it('starts at the log start when retention deleted the restore point', async () => {
    expect(await planRestore({ offset: 100, metadata }, low(90))).toMatchObject({
      startOffset: 90,
      liveFrom: 100,
      truncatedAt: 90,
    });
  });

  it('has nothing to replay without a restore point (foreign metadata), or without a commit', async () => {
    expect(await planRestore({ offset: 100, metadata: 'checkpoint-7' }, low(0))).toMatchObject({
      startOffset: 100,
      liveFrom: 100,
      point: null,
    });
    expect(await planRestore({ offset: -1, metadata: null }, low(0), 12)).toMatchObject({
      startOffset: 12,
      liveFrom: 12,
    });
    expect(await planRestore({ offset: -1, metadata: null }, low(0))).toMatchObject({
      startOffset: -1,
      liveFrom: -1,
    });
  });
});
