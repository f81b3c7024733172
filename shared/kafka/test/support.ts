// Helpers shared by the integration tests of this package (not a test file itself).

/** A promise with its resolve function outside: tests resolve it when a real condition holds. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Committed offset per partition for a group on one topic (-1 when nothing was committed). */
export function offsetsByPartition(
  fetched: readonly { topic: string; partitions: readonly { partition: number; offset: string }[] }[],
  topic: string,
): Map<number, number> {
  const result = new Map<number, number>();
  for (const { partition, offset } of fetched.find((t) => t.topic === topic)?.partitions ?? []) {
    result.set(partition, Number(offset));
  }
  return result;
}

/**
 * Polls until `read()` returns something `accept` takes. For broker state that settles asynchronously,
 * e.g. offsets committed in a transaction become visible only once the commit markers are written.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
