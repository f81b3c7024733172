/**
 * Counters for one correlation pipeline (reorder + one operator). Plain mutable numbers so the per-event
 * path pays one property increment; services read `snapshot()` on their metrics interval.
 *
 * Counters only grow. Gauges (`buffered`, `openPartials`, `keys`) go up and down and are kept by +/- so
 * several subscriptions to the same pipeline add up instead of overwriting each other.
 */
export class CorrelationStats {
  /** Events offered to the pipeline (before the late check). */
  eventsIn = 0;
  /** Events older than the watermark on arrival (handed to the late side channel). */
  late = 0;
  /** Events whose timestamp is not a finite number (handed to the late side channel, never matched). */
  invalidTime = 0;
  /** Events too far ahead of their record's clock or of stream time (side channel `future-timestamp`). */
  futureTime = 0;
  /** Matches emitted. */
  matched = 0;
  /** State dropped because the watermark passed its window (maxspan, join window, span bucket end). */
  evictedByWindow = 0;
  /** State dropped because the operator's cap on open partials was reached (oldest first). */
  evictedByCap = 0;
  /** State dropped because the operator's byte bound on partial state was reached (oldest first). */
  evictedByBytes = 0;
  /**
   * Events the reorder stage released before the watermark passed them because its byte bound was
   * reached; the watermark moved up to each one, so events older than it that arrive later are late.
   */
  forcedReleases = 0;
  /** Gauge: events held by the reorder buffer, waiting for the watermark to pass them. */
  buffered = 0;
  /** Gauge: estimated bytes of the events in the reorder buffer. */
  bufferedBytes = 0;
  /** Gauge: estimated bytes of the operators' partial state (events they retain included). */
  stateBytes = 0;
  /** Gauge: open partial sequences / partial joins / open (bucket, group) aggregates. */
  openPartials = 0;
  /**
   * Gauge: entries in the operators' keyed maps: sequence (key, step) pairs, join keys, spanAggregate
   * (bucket, group) pairs. Equals `openPartials` unless several sequences of a key await a trailing window.
   */
  keys = 0;
  /** Largest event time seen (epoch ms); -Infinity before the first event. */
  streamTime = Number.NEGATIVE_INFINITY;
  /** Stream time minus allowed lateness: every event older than this has been released. */
  watermark = Number.NEGATIVE_INFINITY;

  snapshot(): CorrelationStatsSnapshot {
    return {
      eventsIn: this.eventsIn,
      late: this.late,
      invalidTime: this.invalidTime,
      futureTime: this.futureTime,
      matched: this.matched,
      evictedByWindow: this.evictedByWindow,
      evictedByCap: this.evictedByCap,
      evictedByBytes: this.evictedByBytes,
      forcedReleases: this.forcedReleases,
      buffered: this.buffered,
      bufferedBytes: this.bufferedBytes,
      stateBytes: this.stateBytes,
      openPartials: this.openPartials,
      keys: this.keys,
      streamTime: this.streamTime,
      watermark: this.watermark,
    };
  }
}

export type CorrelationStatsSnapshot = Readonly<
  Pick<
    CorrelationStats,
    | 'eventsIn'
    | 'late'
    | 'invalidTime'
    | 'futureTime'
    | 'matched'
    | 'evictedByWindow'
    | 'evictedByCap'
    | 'evictedByBytes'
    | 'forcedReleases'
    | 'buffered'
    | 'bufferedBytes'
    | 'stateBytes'
    | 'openPartials'
    | 'keys'
    | 'streamTime'
    | 'watermark'
  >
>;
