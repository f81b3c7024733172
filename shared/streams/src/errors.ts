import { isRetriable } from '@sequor/kafka';
import { SequorError } from '@sequor/model';

/**
 * Another producer initialised this partition's transactional id: the partition moved to another member
 * (we missed a rebalance). Retriable: kafkajs restarts the consumer, which rejoins the group and gets
 * an authoritative assignment (Kafka Streams' TaskMigratedException).
 */
export class PartitionFencedError extends SequorError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly transactionalId: string,
    cause: unknown,
  ) {
    super(
      `${topic}[${partition}]: transactional id ${transactionalId} was fenced by a newer owner; rejoining the group`,
      { retriable: true, cause },
    );
  }
}

/** A batch's transaction failed for another reason: its output is not committed and the task's state is ahead of it. */
export class TaskTransactionError extends SequorError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    cause: unknown,
    retriable = isRetriable(cause),
  ) {
    super(
      `${topic}[${partition}]: the transaction of a batch failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { retriable, cause },
    );
  }
}
