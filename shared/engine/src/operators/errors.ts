import { SequorError } from '@sequor/model';

/**
 * A spec or operator option the runtime cannot honour (a missing step without maxspan, a negative
 * lateness, a zero span). Raised when the operator is built, never per event; `setting` names the
 * offending field so a rule author or operator can find it.
 */
export class CorrelationSpecError extends SequorError {
  constructor(
    readonly setting: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${setting}=${String(value)}: expected ${expected}`);
  }
}

/** Throws unless `value` is a finite number >= min (integer when asked). */
export function requireNumber(setting: string, value: number, min: number, integer = false): void {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new CorrelationSpecError(setting, value, `${integer ? 'an integer' : 'a finite number'} >= ${min}`);
  }
}

/**
 * An exception of the caller's own callback (`onBucketClose`, `onSuppressionUpdate`) on its way out of a
 * rule's runtime: the stream fails with it, as when the callback runs anywhere else; never taken for the
 * rule's (`onStatefulError`), and a chain stops at once on it.
 */
export class CallbackFailure extends Error {
  constructor(readonly error: unknown) {
    super('a callback of the rule set threw', { cause: error });
  }
}

/** Runs a caller's callback; its exception leaves as a `CallbackFailure`. */
export function callerCallback(call: () => void): void {
  try {
    call();
  } catch (error) {
    throw new CallbackFailure(error);
  }
}
