/**
 * The root of Sequor's error hierarchy. Retry decisions read `retriable` (and the class), never the
 * message text, as kafkajs does with KafkaJSError. Subclasses carry the context needed to act on them:
 * a rule file position, a record's topic/partition/offset, a config variable's name.
 */
export class SequorError extends Error {
  /** True when doing the same thing again may succeed (a broker hiccup), false for bad input or config. */
  readonly retriable: boolean;

  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** Configuration that cannot be used: names the variable, the value and what was expected. */
export class ConfigError extends SequorError {
  constructor(
    readonly variable: string,
    readonly value: string | undefined,
    readonly expected: string,
  ) {
    super(`${variable}=${value === undefined ? '(unset)' : JSON.stringify(value)}: expected ${expected}`);
  }
}
