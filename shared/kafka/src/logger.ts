/**
 * kafkajs's logs routed into the Sequor logger (`@sequor/service`), at the level kafkajs should build
 * entries for. The logger API is re-exported: every kafka user makes one to pass in.
 */
import type { Logger, LogLevel } from '@sequor/service';
import type { logCreator, LogEntry } from 'kafkajs';
import { logLevel as KafkaJsLogLevel } from 'kafkajs';

export { createLogger, logLevelFromEnv } from '@sequor/service';
export type { LogFields, Logger, LoggerOptions, LogLevel } from '@sequor/service';

/** kafkajs's log level for a Sequor level: kafkajs then skips building entries we would drop. */
export function kafkaJsLogLevel(level: LogLevel): KafkaJsLogLevel {
  switch (level) {
    case 'error':
      return KafkaJsLogLevel.ERROR;
    case 'warn':
      return KafkaJsLogLevel.WARN;
    case 'info':
      return KafkaJsLogLevel.INFO;
    case 'debug':
      return KafkaJsLogLevel.DEBUG;
    default: {
      const never: never = level;
      throw new Error(`unknown log level ${String(never)}`);
    }
  }
}

/**
 * A kafkajs `logCreator` that routes kafkajs's logs into `logger` (as `<logger>.kafkajs.<namespace>`).
 *
 * kafkajs logs every broker error response at ERROR in its Connection namespace, including ones that are
 * ordinary protocol flow (MEMBER_ID_REQUIRED on the first JoinGroup, CONCURRENT_TRANSACTIONS right after a
 * commit) and that it then retries. Whatever is not recovered surfaces again from the producer, consumer
 * or admin (and as the thrown error), so the Connection-level copies go to debug. Likewise an ERROR
 * that carries `retryTime` announces a retry, not a failure, and becomes a warning.
 */
/** kafkajs's text for the broker's CONCURRENT_TRANSACTIONS (code 51), which ends its retry log lines. */
const CONCURRENT_TRANSACTIONS_MESSAGE =
  'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';

/**
 * kafkajs's warning when an idempotent producer's retries are bounded. Sequor bounds them only on its
 * transactional producers (`createTransactionalProducer`, ~40 s of retries), where a send that gives up
 * fails its transaction: the transaction aborts and its records are produced again from the committed
 * offsets, so the bound cannot break exactly once, and the warning at every start misleads.
 */
const LIMITED_RETRIES_MESSAGE = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

export function kafkaJsLogCreator(logger: Logger): logCreator {
  const children = new Map<string, Logger>();
  const childFor = (namespace: string): Logger => {
    let child = children.get(namespace);
    if (child === undefined) {
      child = logger.child(namespace === '' ? 'kafkajs' : `kafkajs.${namespace}`);
      children.set(namespace, child);
    }
    return child;
  };
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const {
        message,
        timestamp: _timestamp,
        logger: _logger,
        level: _level,
        ...fields
      } = log as LogEntry['log'] & {
        level?: unknown;
      };
      const target = childFor(namespace);
      if (level === KafkaJsLogLevel.WARN && message === LIMITED_RETRIES_MESSAGE) {
        target.debug(message, fields);
        return;
      }
      if (level === KafkaJsLogLevel.ERROR && namespace === 'Connection' && message.startsWith('Response ')) {
        target.debug(message, fields);
        return;
      }
      if (
        level === KafkaJsLogLevel.ERROR &&
        typeof (fields as { retryTime?: unknown }).retryTime === 'number' &&
        message.endsWith(CONCURRENT_TRANSACTIONS_MESSAGE)
      ) {
        // A transaction started while the previous one's markers are still being written: routine
        // between back-to-back transactions (group commit), retried after ~20 ms; only worth a debug line.
        target.debug(message, fields);
        return;
      }
      if (
        level === KafkaJsLogLevel.ERROR &&
        typeof (fields as { retryTime?: unknown }).retryTime === 'number'
      ) {
        // kafkajs's retrier logs each failed attempt at ERROR with the delay before the next one: a retry
        // is scheduled, so this is a warning; the final failure is logged (and thrown) without retryTime.
        target.warn(message, fields);
        return;
      }
      switch (level) {
        case KafkaJsLogLevel.ERROR:
          target.error(message, fields);
          break;
        case KafkaJsLogLevel.WARN:
          target.warn(message, fields);
          break;
        case KafkaJsLogLevel.INFO:
          target.info(message, fields);
          break;
        default:
          target.debug(message, fields);
      }
    };
}
