/**
 * What a command may touch, injected so commands run the same from `main.ts` and in tests: the output
 * streams, the clock (alert detection time), the environment (Kafka settings) and file creation.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { closedAtStart } from './io/output.js';

export interface OutputStream extends Writable {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CommandContext {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: () => number;
  /** A new file to write (`--out`). */
  openOutput(path: string): Writable;
  /** stdout was closed when the process started (`>&-`): results written there would be lost. */
  readonly stdoutClosed?: boolean;
}

export function processContext(): CommandContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    clock: Date.now,
    openOutput: (path) => createWriteStream(path),
    stdoutClosed: closedAtStart(1),
  };
}
