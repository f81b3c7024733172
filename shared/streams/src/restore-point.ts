/**
 * Where a partition's new owner starts replaying to rebuild its state, and how that point travels with
 * the committed offset. Pure. The reasoning is in services/detector/README.md ("State rebuild on
 * assignment"); in short:
 *
 * - Stream time S is the largest event time seen; the watermark is W = S − allowed lateness. At a commit,
 *   no rule state depends on an event older than θ = W − longest window − longest join window.
 * - The restore point R is a record that set a new stream time, with every record before it older than
 *   θ. Replaying from R therefore rebuilds the state (every event it can depend on is at or after R) and
 *   walks through exactly the same watermarks as the first run did (R's event time is the stream time
 *   at R), so late decisions and emission points repeat, and alerts triggered below the committed offset
 *   can be recognised and suppressed.
 * - R goes into the committed offset's metadata (kafkajs passes `metadata` through TxnOffsetCommit and
 *   `admin.fetchOffsets` returns it), so it commits atomically with the offset and the alerts.
 */

/** What the committed offset's metadata says about restoring the partition. */
import type { CommittedOffset } from './committed-offsets.js';

export interface RestorePoint {
  /** First offset to replay (at most the committed offset). */
  readonly offset: number;
  /** Event time of the record at `offset`, epoch ms: the stream time the replay starts from. */
  readonly eventTime: number;
  /** Stream time when the offset was committed, epoch ms (for the restore log line). */
  readonly streamTime: number;
}

const METADATA_VERSION = 1;

/** The offset metadata text for `point`: small JSON (Kafka keeps up to 4 KiB by default). */
export function encodeRestoreMetadata(point: RestorePoint): string {
  return JSON.stringify({
    v: METADATA_VERSION,
    restore: point.offset,
    restoreTime: point.eventTime,
    streamTime: point.streamTime,
  });
}

/**
 * Reads a restore point from committed offset metadata; null when there is none or it is not ours
 * (offsets committed by a tool, an older detector): the caller then starts with empty state and says so.
 */
export function decodeRestoreMetadata(metadata: string | null | undefined): RestorePoint | null {
  if (metadata === null || metadata === undefined || metadata === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { v, restore, restoreTime, streamTime } = parsed as Record<string, unknown>;
  if (v !== METADATA_VERSION) return null;
  if (typeof restore !== 'number' || !Number.isSafeInteger(restore) || restore < 0) return null;
  if (typeof restoreTime !== 'number' || !Number.isFinite(restoreTime)) return null;
  if (typeof streamTime !== 'number' || !Number.isFinite(streamTime)) return null;
  return { offset: restore, eventTime: restoreTime, streamTime };
}

/**
 * How far behind the watermark state can reach: the allowed lateness, the longest rule window, and once
 * more the longest join window (a join pairs greedily, so whether an event is free to start a new join
 * depends on the join before it: README "State rebuild", edge cases).
 */
export function restoreHorizonMs(
  allowedLatenessMs: number,
  longestWindowMs: number,
  longestJoinWindowMs: number,
): number {
  return allowedLatenessMs + longestWindowMs + longestJoinWindowMs;
}

/** At most this many candidate points are kept per partition; finer spacing would only shorten replays. */
const MAX_CANDIDATES = 512;
const MIN_SPACING_MS = 1_000;

/**
 * Follows one partition's records and answers "where would a restore start now?". Keeps the records that
 * set a new stream time, thinned to one per `spacingMs` of event time (so memory is bounded by
 * horizon / spacing whatever the rate); a restore may start up to `spacingMs` earlier than strictly
 * needed, which only replays a little more.
 *
 * ```ts
 * const tracker = new RestorePointTracker(restoreHorizonMs(5_000, 3_600_000, 3_600_000));
 * for (const r of records) tracker.observe(r.offset, r.event.timestamp);
 * const metadata = encodeRestoreMetadata(tracker.restorePoint()!);
 * ```
 */
export class RestorePointTracker {
  private offsets: number[] = [];
  private times: number[] = [];
  /** Index of the first live candidate (the arrays are compacted lazily). */
  private head = 0;
  private streamTimeMs = Number.NEGATIVE_INFINITY;
  readonly spacingMs: number;

  constructor(readonly horizonMs: number) {
    this.spacingMs = Math.max(MIN_SPACING_MS, Math.ceil(horizonMs / MAX_CANDIDATES));
  }

  get streamTime(): number {
    return this.streamTimeMs;
  }

  /** Live candidates (for tests and the restore log). */
  get size(): number {
    return this.offsets.length - this.head;
  }

  /** One record of the partition, in offset order; `eventTime` as the engine reads it (epoch ms). */
  observe(offset: number, eventTime: number): void {
    // Only records that move stream time can be restore points: from them on, the replay's stream time
    // is the first run's. A non-finite time never reaches the engine's clock.
    if (!(eventTime > this.streamTimeMs) || !Number.isFinite(eventTime)) return;
    this.streamTimeMs = eventTime;
    const n = this.offsets.length;
    if (n > this.head && eventTime < (this.times[n - 1] as number) + this.spacingMs) return;
    this.offsets.push(offset);
    this.times.push(eventTime);
  }

  /**
   * The restore point for a commit now: the last candidate older than θ = stream time − horizon (every
   * record before it is older still), or the first candidate when none is (this owner's own start).
   * Drops the candidates before it: θ only grows. Null before any timed record.
   */
  restorePoint(): RestorePoint | null {
    if (this.size === 0) return null;
    const threshold = this.streamTimeMs - this.horizonMs;
    const times = this.times;
    let head = this.head;
    while (head + 1 < times.length && (times[head + 1] as number) < threshold) head++;
    this.head = head;
    if (head > 64 && head * 2 > times.length) {
      this.offsets = this.offsets.slice(head);
      this.times = times.slice(head);
      this.head = 0;
      head = 0;
    }
    return {
      offset: this.offsets[head] as number,
      eventTime: this.times[head] as number,
      streamTime: this.streamTimeMs,
    };
  }
}

/** Where a new owner of a partition starts, and why: decided once from the committed offset and its metadata. */
export interface RestorePlan {
  /** The first offset to process: the restore point, or `liveFrom` when there is nothing to replay. */
  readonly startOffset: number;
  /** The committed offset (output of records below it is suppressed); -1 when unknown (no commit, no records in hand). */
  readonly liveFrom: number;
  readonly point: RestorePoint | null;
  /** Set when retention deleted records at or after the restore point: the log start the replay begins at. */
  readonly truncatedAt: number | null;
}

/**
 * The restore plan for a partition: replay from the restore point in the committed metadata up to the
 * committed offset; records below the log start are gone (retention), so the replay starts at the log
 * start then, rather than trip the consumer's out-of-range reset, which would commit the reset position.
 * `firstOffset`: where the records in hand start, used as `liveFrom` when the group never committed.
 */
export async function planRestore(
  committed: CommittedOffset,
  logStart: () => Promise<number>,
  firstOffset = -1,
): Promise<RestorePlan> {
  const liveFrom = committed.offset >= 0 ? committed.offset : firstOffset;
  const point = decodeRestoreMetadata(committed.metadata);
  if (point === null || liveFrom < 0 || point.offset >= liveFrom)
    return { startOffset: liveFrom, liveFrom, point, truncatedAt: null };
  const low = await logStart();
  return {
    startOffset: Math.max(point.offset, low),
    liveFrom,
    point,
    truncatedAt: low > point.offset ? low : null,
  };
}
