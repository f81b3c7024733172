/**
 * How the command fails. Every failure the user can act on is one of these classes, printed as one line
 * (`sequor detect: cannot read x.json: no such file`) with its exit code; anything else is a bug and is
 * printed with its stack.
 */
import { SequorError } from '@sequor/model';

/**
 * Exit codes: 0 done; 1 the run failed (an input could not be read, even in part; output could not be
 * written; failing rule tests, lint errors); 2 bad usage.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Bad arguments: unknown option, missing value, a number out of range. Exit 2, with a pointer to --help. */
export class UsageError extends SequorError {
  readonly exitCode = EXIT.usage;
}

/** Input that cannot be used: a file that cannot be read, a format that cannot be detected. Exit 1. */
export class InputError extends SequorError {
  readonly exitCode = EXIT.failed;

  constructor(
    readonly path: string,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${path}: ${reason}`, options);
  }
}

/** Output that cannot be written: `--out` in a missing directory, a full disk, stdout closed. Exit 1. */
export class OutputError extends SequorError {
  readonly exitCode = EXIT.failed;

  constructor(
    readonly path: string,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${path}: ${reason}`, options);
  }
}

/**
 * A message already printed in full (a query error with its caret, lint output): the command only sets
 * the exit code.
 */
export class ReportedError extends SequorError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** `ENOENT` -> `no such file or directory`: the part of a Node.js system error worth a line. */
export function systemReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    switch (code) {
      case 'ENOENT':
        return 'no such file or directory';
      case 'EACCES':
      case 'EPERM':
        return 'permission denied';
      case 'EISDIR':
        return 'is a directory';
      case 'ENOTDIR':
        return 'not a directory';
      case 'ELOOP':
        return 'too many levels of symbolic links (a link loop)';
      case 'ENOSPC':
        return 'no space left on device';
      case 'EPIPE':
        return 'the reader closed it (EPIPE)';
      case 'EBADF':
        return 'not open (EBADF)';
      case 'Z_DATA_ERROR':
      case 'Z_BUF_ERROR':
        return `not valid gzip (${error.message})`;
      default:
        return error.message;
    }
  }
  return String(error);
}
