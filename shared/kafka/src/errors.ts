import { SequorError } from '@sequor/model';

/**
 * A failure reported by the Kafka client (kafkajs). `retriable` is the client's own verdict (its
 * `retriable` flag, which follows the broker's error code), so retry code reads the flag, not the text.
 */
export class KafkaClientError extends SequorError {
  constructor(
    message: string,
    /** The client's error class name, e.g. `KafkaJSProtocolError`. */
    readonly clientErrorName: string,
    /** The broker error code name when the broker answered with one, e.g. `TOPIC_ALREADY_EXISTS`. */
    readonly errorType: string | undefined,
    options: { retriable: boolean; cause: unknown },
  ) {
    super(message, options);
  }
}

interface ClientErrorShape {
  name?: unknown;
  message?: unknown;
  retriable?: unknown;
  type?: unknown;
  cause?: unknown;
}

/** The broker error code name carried by a kafkajs error or the first error it wraps. */
export function clientErrorType(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const shape = current as ClientErrorShape;
    if (typeof shape.type === 'string') return shape.type;
    current = shape.cause;
  }
  return undefined;
}

/** The error's own retry verdict: `SequorError.retriable`, or the client's `retriable` flag. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof SequorError) return error.retriable;
  return typeof error === 'object' && error !== null && (error as ClientErrorShape).retriable === true;
}

/**
 * Wraps an error thrown by the client in a `KafkaClientError` that says what we were doing. Errors that
 * are already `SequorError`s pass through unchanged, so wrapping twice is harmless.
 */
export function wrapClientError(error: unknown, doing: string): SequorError {
  if (error instanceof SequorError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as ClientErrorShape;
  const name = typeof shape.name === 'string' ? shape.name : 'Error';
  const message = typeof shape.message === 'string' ? shape.message : String(error);
  return new KafkaClientError(`${doing}: ${message}`, name, clientErrorType(error), {
    retriable: shape.retriable === true,
    cause: error,
  });
}

/** An existing topic has fewer partitions than the caller needs; repartitioning is an operator decision. */
export class TopicPartitionCountError extends SequorError {
  constructor(
    readonly topic: string,
    readonly actualPartitions: number,
    readonly requiredPartitions: number,
  ) {
    super(
      `topic ${topic} has ${actualPartitions} partitions, at least ${requiredPartitions} required; ` +
        'add partitions with kafka-topics --alter (keys will move) or use another topic',
    );
  }
}

/** Partitions still without a leader when the wait ran out; the cluster may yet elect them. */
export class TopicNotReadyError extends SequorError {
  constructor(
    readonly topics: readonly string[],
    readonly timeoutMs: number,
    cause?: unknown,
  ) {
    super(`topics without a leader for every partition after ${timeoutMs} ms: ${topics.join(', ')}`, {
      retriable: true,
      cause,
    });
  }
}

/** The producer failed earlier and refuses new records: later records must not overtake lost ones. */
export class ProducerFailedError extends SequorError {
  constructor(
    readonly producerName: string,
    cause: unknown,
  ) {
    super(`producer ${producerName} failed and accepts no more records; create a new one`, {
      retriable: isRetriable(cause),
      cause,
    });
  }
}

/** A transactional producer used out of order (send outside a transaction, commit twice, ...). */
export class TransactionStateError extends SequorError {
  constructor(
    readonly transactionalId: string,
    message: string,
  ) {
    super(`transactional producer ${transactionalId}: ${message}`);
  }
}

/** `processBatch` failed for a batch; the runner stops (or kafkajs restarts it when retriable). */
export class BatchProcessingError extends SequorError {
  constructor(
    readonly groupId: string,
    readonly topic: string,
    readonly partition: number,
    readonly firstOffset: string,
    readonly lastOffset: string,
    cause: unknown,
  ) {
    super(
      `processing ${topic}[${partition}] offsets ${firstOffset}..${lastOffset} for group ${groupId} failed: ` +
        (cause instanceof Error ? cause.message : String(cause)),
      { retriable: isRetriable(cause), cause },
    );
  }
}

/** The consumer stopped on an error it will not recover from by itself. */
export class ConsumerCrashedError extends SequorError {
  constructor(
    readonly groupId: string,
    cause: unknown,
  ) {
    super(`consumer group ${groupId} crashed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** A record that cannot be processed, under the `fail` poison-record policy. Not retriable: it is the data. */
export class PoisonRecordError extends SequorError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    cause: unknown,
  ) {
    super(
      `poison record at ${topic}[${partition}]@${offset}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** A topic spec that cannot be created as written (a programming error, not a broker state). */
export class InvalidTopicSpecError extends SequorError {
  constructor(
    readonly topic: string,
    problem: string,
  ) {
    super(`topic spec ${JSON.stringify(topic)}: ${problem}`);
  }
}

/** A batch was not acknowledged within the delivery timeout (Java's `delivery.timeout.ms`). */
export class DeliveryTimeoutError extends SequorError {
  constructor(
    readonly producerName: string,
    readonly timeoutMs: number,
    readonly records: number,
  ) {
    super(`producer ${producerName}: ${records} records not acknowledged within ${timeoutMs} ms`, {
      retriable: true,
    });
  }
}

/**
 * Broker error codes answering a transactional request because a newer producer initialised the same
 * transactional id (or the id is no longer ours): the writer was fenced. The one list of them.
 */
const PRODUCER_FENCED_ERROR_TYPES: ReadonlySet<string> = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_ID_MAPPING',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/** Broker error codes refusing a produce request for its size (a topic's `max.message.bytes` lowered under us). */
const RECORD_SIZE_ERROR_TYPES: ReadonlySet<string> = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** True when the broker refused a transactional request because a newer producer took over the id. */
export function isProducerFenced(error: unknown): boolean {
  const type = clientErrorType(error);
  return type !== undefined && PRODUCER_FENCED_ERROR_TYPES.has(type);
}

/** True when the broker refused records for their size. */
export function isRefusedForSize(error: unknown): boolean {
  const type = clientErrorType(error);
  return type !== undefined && RECORD_SIZE_ERROR_TYPES.has(type);
}

/**
 * The transaction coordinator refused to add partitions or offsets to a transaction because the previous
 * transaction of the same id is still completing (its markers are written after EndTxn returned).
 * Nothing was added: the request is repeated as it was, as the Java client does.
 */
export function isConcurrentTransaction(error: unknown): boolean {
  return clientErrorType(error) === 'CONCURRENT_TRANSACTIONS';
}
