/**
 * The event codec (avsc) writes an Avro `long` exactly only within ±2^52: its zig-zag step runs in
 * doubles, so -(2^52 + 1) reads back as 2^52 (sign lost) and 2^53 - 1 is refused. Every integer the
 * decoders put into a long field (epoch milliseconds, pids, record ids, byte counts, durations) must
 * lie in that range, or the event the detector reads from Kafka would differ from the one decoded, or
 * fail to encode at all. 2^52 ms is the year 144,683; 2^52 bytes are 4 PiB.
 */
export const MAX_EXACT_LONG = 2 ** 52;

/** An integer the event codec carries exactly. A long has no -0 either: callers write `n + 0`, which makes -0 into 0. */
export function isExactLong(n: number): boolean {
  return Number.isInteger(n) && n >= -MAX_EXACT_LONG && n <= MAX_EXACT_LONG;
}
