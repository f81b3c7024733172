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
 * - Stream time can also move without a record (the detector's idle-partition rule, on the wall clock).
 *   Each such advance is recorded as (offset, new stream time): it happened after every record below
 *   `offset` and before the record at `offset`. A replay applies the recorded advances at or after R at
 *   the same offsets and so walks the same watermarks. An advance is forgotten as soon as the first
 *   timed record after it is newer than it: that record moves stream time past it anyway, releasing the
 *   same events in the same order, and no record was judged against the advanced watermark in between,
 *   so a replay without it reaches the same state (its alerts were committed with it, below that
 *   record's offset, and are suppressed either way). Only an advance followed by an older record (one
 *   it made late, or on time only against its watermark) stays, until R passes it. On a live feed that
 *   is rare, so the record stays small; it is also bounded: the metadata must stay under Kafka's
 *   `offset.metadata.max.bytes` (4096 by default), and an advance that would not fit is refused
 *   (`RestorePointTracker.advance` returns false); the partition then waits for its next record, as it
 *   would without the rule. Exactness is never traded.
 * - The rule set can change while a partition runs (the detector's rules topic). Each change is
 *   recorded as (offset, revision): from the record at `offset` on, the rule set of `revision` (the
 *   rules topic's position: every rule record below it applied) ran. The metadata keeps the switch in
 *   effect at the restore point (its offset clamped to R) and every switch after it, so a replay runs
 *   each record with the rules that first ran it. Bounded with the advances: a switch that would not
 *   fit is refused (`switchRuleSet` returns false) and the partition keeps its rules until it fits.
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
  /**
   * Stream-time advances without a record at or after `offset` (idle partition), in the order they
   * happened; absent when there are none. A replay applies each before the record at its offset.
   */
  readonly advances?: readonly StreamTimeAdvance[];
  /**
   * The rule-set revisions in effect (the detector's rules topic), in offset order; absent when the
   * detector does not record them. The first is in effect at `offset` (its offset is `offset`).
   */
  readonly ruleSets?: readonly RuleSetSwitch[];
}

/** From the record at `offset` on, the rule set of `revision` ran (until the next switch). */
export interface RuleSetSwitch {
  readonly offset: number;
  /** The rules topic's position: the rule set with every rules-topic record below it applied. */
  readonly revision: number;
}

/** Stream time moved to `streamTime` after the records below `offset` and before the one at `offset`. */
export interface StreamTimeAdvance {
  readonly offset: number;
  /** Epoch ms, an integer (so the delta encoding round-trips exactly). */
  readonly streamTime: number;
}

const METADATA_VERSION = 1;
/**
 * Longest restore metadata we write: Kafka refuses more than `offset.metadata.max.bytes` (4096 by
 * default) with OFFSET_METADATA_TOO_LARGE, which would fail the transaction. The margin covers the
 * restore offset and times growing a few digits between the bound check and a later commit.
 */
export const MAX_RESTORE_METADATA_CHARS = 3_800;

/**
 * The offset metadata text for `point`: small JSON (Kafka keeps up to 4 KiB by default). Advances go
 * as one flat array of deltas, `[offset − restore, time, Δoffset, Δtime, ...]` (~12 characters each).
 */
export function encodeRestoreMetadata(point: RestorePoint): string {
  const advances = point.advances;
  const rs = encodeRuleSets(point);
  if (advances === undefined || advances.length === 0)
    return JSON.stringify({
      v: METADATA_VERSION,
      restore: point.offset,
      restoreTime: point.eventTime,
      streamTime: point.streamTime,
      ...(rs === null ? {} : { rs }),
    });
  const adv: number[] = [];
  let offset = point.offset;
  let time = 0;
  for (const a of advances) {
    adv.push(a.offset - offset, a.streamTime - time);
    offset = a.offset;
    time = a.streamTime;
  }
  return JSON.stringify({
    v: METADATA_VERSION,
    restore: point.offset,
    restoreTime: point.eventTime,
    streamTime: point.streamTime,
    adv,
    ...(rs === null ? {} : { rs }),
  });
}

/** Rule-set switches as `[offset − restore, revision, Δoffset, Δrevision, ...]`; null when there are none. */
function encodeRuleSets(point: RestorePoint): number[] | null {
  const switches = point.ruleSets;
  if (switches === undefined || switches.length === 0) return null;
  const rs: number[] = [];
  let offset = point.offset;
  let revision = 0;
  for (const s of switches) {
    rs.push(s.offset - offset, s.revision - revision);
    offset = s.offset;
    revision = s.revision;
  }
  return rs;
}

/** The switches of an `rs` array, or null when it is not one we wrote. */
function decodeRuleSets(rs: unknown, restore: number): RuleSetSwitch[] | null {
  if (!Array.isArray(rs) || rs.length % 2 !== 0 || rs.length === 0) return null;
  const out: RuleSetSwitch[] = [];
  let offset = restore;
  let revision = 0;
  for (let i = 0; i < rs.length; i += 2) {
    const dOffset: unknown = rs[i];
    const dRevision: unknown = rs[i + 1];
    if (typeof dOffset !== 'number' || !Number.isSafeInteger(dOffset) || dOffset < 0) return null;
    if (typeof dRevision !== 'number' || !Number.isSafeInteger(dRevision)) return null;
    offset += dOffset;
    revision += dRevision;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(revision) || revision < 0) return null;
    out.push({ offset, revision });
  }
  return out;
}

/** The advances of an `adv` array, or null when it is not one we wrote. */
function decodeAdvances(adv: unknown, restore: number): StreamTimeAdvance[] | null {
  if (!Array.isArray(adv) || adv.length % 2 !== 0) return null;
  const out: StreamTimeAdvance[] = [];
  let offset = restore;
  let time = 0;
  for (let i = 0; i < adv.length; i += 2) {
    const dOffset: unknown = adv[i];
    const dTime: unknown = adv[i + 1];
    if (typeof dOffset !== 'number' || !Number.isSafeInteger(dOffset) || dOffset < 0) return null;
    if (typeof dTime !== 'number' || !Number.isSafeInteger(dTime)) return null;
    offset += dOffset;
    time += dTime;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(time)) return null;
    out.push({ offset, streamTime: time });
  }
  return out;
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
  const { v, restore, restoreTime, streamTime, adv, rs } = parsed as Record<string, unknown>;
  if (v !== METADATA_VERSION) return null;
  if (typeof restore !== 'number' || !Number.isSafeInteger(restore) || restore < 0) return null;
  if (typeof restoreTime !== 'number' || !Number.isFinite(restoreTime)) return null;
  if (typeof streamTime !== 'number' || !Number.isFinite(streamTime)) return null;
  // Switches we cannot read would replay with other rules: no restore point at all then.
  const ruleSets = rs === undefined ? [] : decodeRuleSets(rs, restore);
  if (ruleSets === null) return null;
  const withRuleSets = ruleSets.length === 0 ? {} : { ruleSets };
  if (adv === undefined) return { offset: restore, eventTime: restoreTime, streamTime, ...withRuleSets };
  // Advances we cannot read would make the replay walk other watermarks: no restore point at all then.
  const advances = decodeAdvances(adv, restore);
  if (advances === null) return null;
  return advances.length === 0
    ? { offset: restore, eventTime: restoreTime, streamTime, ...withRuleSets }
    : { offset: restore, eventTime: restoreTime, streamTime, advances, ...withRuleSets };
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
  /**
   * Stream-time advances a replay must apply, at or after the last restore point, in order; those from
   * `undecided` on have no timed record after them yet.
   */
  private advances: StreamTimeAdvance[] = [];
  private undecided = 0;
  /** Rule-set switches, in offset order; the first may lie before the restore point (it is in effect there). */
  private ruleSets: RuleSetSwitch[] = [];
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

  /** The recorded advances a commit now would carry (those at or after the restore point). */
  get advanceCount(): number {
    return this.advances.length;
  }

  /**
   * One record of the partition, in offset order, late ones included; `eventTime` as the engine reads it
   * (epoch ms). Not for records the engine refused (future-timestamp): they never met the watermark.
   */
  observe(offset: number, eventTime: number): void {
    // A non-finite time never reaches the engine's clock (nor its late decision).
    if (!Number.isFinite(eventTime)) return;
    if (this.undecided < this.advances.length) this.decideAdvances(eventTime);
    // Only records that move stream time can be restore points: from them on, the replay's stream time
    // is the first run's.
    if (!(eventTime > this.streamTimeMs)) return;
    this.moveTo(offset, eventTime);
  }

  /**
   * The first timed record after the undecided advances: newer than all of them, it moves stream time
   * past them itself (same releases, same order, nobody judged against their watermark): forgotten.
   * Otherwise it was judged against their watermark: kept for the replay.
   */
  private decideAdvances(eventTime: number): void {
    const last = this.advances[this.advances.length - 1] as StreamTimeAdvance;
    if (eventTime > last.streamTime) this.advances.length = this.undecided;
    this.undecided = this.advances.length;
  }

  /**
   * Stream time moved to `streamTime` (an integer, epoch ms) without a record, after the records below
   * `offset`: recorded so the next commits carry it. Returns false, recording nothing, when it is not
   * later than stream time or when `bounded` and the commit's metadata would no longer fit
   * (`MAX_RESTORE_METADATA_CHARS`): the caller must then not apply it. A replay re-records the advances
   * it applies with `bounded` false: they fitted when first committed, and the replay's candidates and
   * decisions from the restore point on are the first run's (same records, same advances, same
   * thinning; advances are never candidates), so they still do.
   */
  advance(offset: number, streamTime: number, bounded = true): boolean {
    if (!(streamTime > this.streamTimeMs) || !Number.isSafeInteger(streamTime)) return false;
    if (bounded && !this.fits(offset, streamTime, null)) return false;
    // Not a restore candidate: a replay that starts at a record reaches it with the same stream time.
    this.streamTimeMs = streamTime;
    this.advances.push({ offset, streamTime });
    return true;
  }

  private moveTo(offset: number, time: number): void {
    this.streamTimeMs = time;
    const n = this.offsets.length;
    if (n > this.head && time < (this.times[n - 1] as number) + this.spacingMs) return;
    this.offsets.push(offset);
    this.times.push(time);
  }

  /**
   * From the record at `offset` on, the rule set of `revision` runs: recorded so the next commits carry
   * it. Returns false, recording nothing, when `bounded` and the commit's metadata would no longer fit:
   * the caller must then keep the rules it runs (and try again later, when the restore point has moved
   * past older switches). A replay re-records the switches it applies with `bounded` false.
   */
  switchRuleSet(offset: number, revision: number, bounded = true): boolean {
    const last = this.ruleSets[this.ruleSets.length - 1];
    if (last !== undefined && last.revision === revision) return true;
    const next = { offset, revision };
    if (bounded && !this.fits(offset, this.streamTimeMs, next)) return false;
    // Two switches before the same record: the later one is what ran.
    if (last !== undefined && last.offset === offset) this.ruleSets[this.ruleSets.length - 1] = next;
    else this.ruleSets.push(next);
    return true;
  }

  /** The rule-set switches a commit now would carry (the first in effect at the restore point). */
  get ruleSetCount(): number {
    return this.ruleSets.length;
  }

  /**
   * Whether the metadata of a commit right after this advance (or switch, `ruleSet` set) would fit.
   * Reads, never moves, the candidates.
   */
  private fits(offset: number, streamTime: number, ruleSet: RuleSetSwitch | null): boolean {
    const threshold = streamTime - this.horizonMs;
    let head = this.head;
    const times = this.times;
    while (head + 1 < times.length && (times[head + 1] as number) < threshold) head++;
    // No candidate yet (no timed record): the replay would start at this advance.
    const from = head < times.length ? (this.offsets[head] as number) : offset;
    const kept = this.advances.filter((a) => a.offset >= from);
    if (ruleSet === null) kept.push({ offset, streamTime });
    const switches = keptRuleSets(this.ruleSets, from);
    if (ruleSet !== null) switches.push(ruleSet);
    const text = encodeRestoreMetadata({
      offset: from,
      eventTime: head < times.length ? (times[head] as number) : streamTime,
      streamTime: Number.isFinite(streamTime) ? streamTime : 0,
      advances: kept,
      ruleSets: switches,
    });
    return text.length <= MAX_RESTORE_METADATA_CHARS;
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
    const offset = this.offsets[head] as number;
    // Advances before the restore point are never replayed (the replay starts at it, on empty state).
    if (this.advances.length > 0 && (this.advances[0] as StreamTimeAdvance).offset < offset) {
      const kept = this.advances.filter((a) => a.offset >= offset);
      this.undecided -= this.advances.length - kept.length;
      this.advances = kept;
    }
    // Switches before the restore point: only the last one matters (it is in effect there).
    if (this.ruleSets.length > 1 && (this.ruleSets[1] as RuleSetSwitch).offset <= offset)
      this.ruleSets = keptRuleSets(this.ruleSets, offset);
    const point: RestorePoint = {
      offset,
      eventTime: this.times[head] as number,
      streamTime: this.streamTimeMs,
      ...(this.advances.length === 0 ? {} : { advances: this.advances.slice() }),
      ...(this.ruleSets.length === 0 ? {} : { ruleSets: keptRuleSets(this.ruleSets, offset) }),
    };
    return point;
  }
}

/**
 * The switches a restore from `from` needs: the one in effect at `from` (its offset clamped to `from`)
 * and every later one. A new array.
 */
function keptRuleSets(switches: readonly RuleSetSwitch[], from: number): RuleSetSwitch[] {
  let first = 0;
  while (first + 1 < switches.length && (switches[first + 1] as RuleSetSwitch).offset <= from) first++;
  const out = switches.slice(first);
  const head = out[0];
  if (head !== undefined && head.offset < from) out[0] = { offset: from, revision: head.revision };
  return out;
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
