// Kafka's default partitioning, pure (no kafkajs): @sequor/kafka's producer and the in-memory transport of
// @sequor/pipeline both place a key with it, so `sequor detect` partitions exactly as the services do.
/**
 * Kafka's murmur2 as in the Java client (`org.apache.kafka.common.utils.Utils.murmur2`), in 32-bit
 * integer arithmetic (`Math.imul`, `>>>`), so it matches Java's int overflow bit for bit without a Long
 * library. Returns Java's signed int.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  // Java's switch falls through from case 3 to case 1.
  const remaining = length & 3;
  if (remaining === 3) h ^= data[tail + 2]! << 16;
  if (remaining >= 2) h ^= data[tail + 1]! << 8;
  if (remaining >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();

/**
 * The partition the Java producer's default partitioner picks for a keyed record:
 * `Utils.toPositive(Utils.murmur2(keyBytes)) % partitionCount`, string keys as UTF-8 (Java's
 * StringSerializer). Every Sequor producer, test and any Java client therefore agree on where a host's
 * events live.
 */
export function partitionFor(key: Uint8Array | string, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  }
  const bytes = typeof key === 'string' ? encoder.encode(key) : key;
  return (murmur2(bytes) & 0x7fffffff) % partitionCount;
}
