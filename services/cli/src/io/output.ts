/**
 * Where results go: NDJSON on a stream (stdout), or alerts as an Avro object container file with
 * `schemas/alert.avsc` (`@sequor/model`'s alert codec; schema embedded: readable by any Avro tool). Writes are
 * buffered by the caller's loop and `flush()` waits for the stream to drain, so a slow consumer on stdout
 * slows the run instead of growing memory.
 */
import { once } from 'node:events';
import { createWriteStream, readFileSync, readlinkSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream';
import { finished } from 'node:stream/promises';
import avro from 'avsc';
import type { Alert } from '@sequor/model';
import { createAlertCodec } from '@sequor/model';
import { OutputError, systemReason } from '../errors.js';

export interface RecordWriter<T> {
  write(value: T): void;
  /** Hands the buffered lines to the stream and waits while it is full. */
  flush(): Promise<void>;
  /** Flushes and ends (a file) or leaves open (stdout). */
  close(): Promise<void>;
  readonly written: number;
  /** Values written but not yet handed to the stream. */
  readonly buffered: number;
}

const FLUSH_CHARS = 1 << 16;

/**
 * One JSON document per line. `toJson` shapes the value (default: as is). Every write waits for its
 * callback, so a failed write (the reader closed stdout, a full disk) is an OutputError naming `name`
 * at the next flush or close, never a lost alert with exit 0.
 */
export class NdjsonWriter<T> implements RecordWriter<T> {
  private buffer: string[] = [];
  private chars = 0;
  private failure: unknown = null;
  written = 0;

  constructor(
    private readonly stream: Writable,
    private readonly toJson: (value: T) => unknown = (v) => v,
    private readonly endStream = false,
    /** What errors name: `stdout` or the `--out` path. */
    private readonly name = 'stdout',
  ) {
    // Without a listener a stream error is an uncaught exception that kills the process with a stack.
    stream.on('error', (error: unknown) => (this.failure ??= error));
  }

  write(value: T): void {
    const line = JSON.stringify(this.toJson(value));
    this.buffer.push(line);
    this.chars += line.length + 1;
    this.written++;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  async flush(): Promise<void> {
    this.check();
    if (this.buffer.length === 0) return;
    const text = `${this.buffer.join('\n')}\n`;
    this.buffer = [];
    this.chars = 0;
    // The callback comes once the text is handed to the OS (or failed): backpressure and errors in one.
    await new Promise<void>((resolve, reject) =>
      this.stream.write(text, (error) => (error ? reject(this.outputError(error)) : resolve())),
    );
  }

  /** True when enough is buffered to be worth a write now. */
  get full(): boolean {
    return this.chars >= FLUSH_CHARS;
  }

  async close(): Promise<void> {
    await this.flush();
    if (!this.endStream) return;
    this.stream.end();
    try {
      await finished(this.stream);
    } catch (error) {
      throw this.outputError(error);
    }
  }

  private check(): void {
    if (this.failure !== null) throw this.outputError(this.failure);
  }

  private outputError(error: unknown): OutputError {
    // The stream's own error says why (EPIPE); a later write only says the stream is gone.
    const cause = this.failure ?? error;
    return new OutputError(this.name, `cannot write: ${systemReason(cause)}`, { cause });
  }
}

/**
 * A new output file, open before any work is done: `--out` in a missing directory or without permission
 * is one line naming the path at the start, not a crash or a lost run at the end.
 */
export async function openOutputFile(
  path: string,
  open: (path: string) => Writable = createWriteStream,
): Promise<Writable> {
  const stream = open(path);
  // A test's stream may not be a file: only an fs.WriteStream has an 'open' to wait for.
  if (!('pending' in stream) || (stream as { pending?: boolean }).pending !== true) return stream;
  try {
    await once(stream, 'ready');
  } catch (error) {
    throw new OutputError(path, `cannot write: ${systemReason(error)}`, { cause: error });
  }
  return stream;
}

/**
 * Refuses to run when stdout was closed at start (`>&-`): the results would go nowhere and the exit code
 * would say all is well. `>/dev/null` is a choice and is not refused.
 */
export function requireStdout(
  ctx: { readonly stdoutClosed?: boolean },
  what: string,
  outOption = false,
): void {
  if (ctx.stdoutClosed !== true) return;
  const instead = outOption
    ? 'write them with --out FILE or redirect stdout to a file'
    : 'redirect stdout to a file';
  throw new OutputError(
    'stdout',
    `closed, so the ${what} would be lost; ${instead}, or to /dev/null to discard them`,
  );
}

/**
 * True when this process started with `fd` closed (`sequor detect x >&-`). Node then opens /dev/null
 * read-write in its place, so writes succeed and the output is silently gone; a shell's `>/dev/null` opens
 * it write-only and is left alone (discarding output on purpose is fine). Linux only (/proc); false elsewhere.
 */
export function closedAtStart(fd: number): boolean {
  try {
    if (readlinkSync(`/proc/self/fd/${fd}`) !== '/dev/null') return false;
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    // O_ACCMODE = 3, O_RDWR = 2.
    return flags !== undefined && (Number.parseInt(flags, 8) & 3) === 2;
  } catch {
    return false;
  }
}

/**
 * Alerts as an Avro object container file: what avsc's `createFileEncoder` does (a `BlockEncoder` piped
 * into a file), with the file stream's errors (a missing directory, a full disk) reported instead of
 * lost. Default `null` codec: any Avro reader opens it.
 */
export class AvroAlertFileWriter implements RecordWriter<Alert> {
  private readonly encoder: InstanceType<typeof avro.streams.BlockEncoder>;
  private readonly finished: Promise<void>;
  private failure: OutputError | null = null;
  written = 0;

  /** Opens `path` first (an OutputError naming it if that fails), then writes into it. */
  static async create(path: string): Promise<AvroAlertFileWriter> {
    return new AvroAlertFileWriter(path, await openOutputFile(path));
  }

  private constructor(
    private readonly path: string,
    file: Writable,
  ) {
    this.encoder = new avro.streams.BlockEncoder(createAlertCodec().type);
    this.finished = new Promise((resolve, reject) => {
      pipeline(this.encoder, file, (error) => {
        if (error) {
          this.failure = new OutputError(this.path, `cannot write: ${systemReason(error)}`, { cause: error });
          reject(this.failure);
        } else resolve();
      });
    });
    this.finished.catch(() => undefined);
  }

  readonly buffered = 0;

  write(alert: Alert): void {
    if (this.failure !== null) throw this.failure;
    this.encoder.write(alert);
    this.written++;
  }

  async flush(): Promise<void> {
    if (this.failure !== null) throw this.failure;
    if (this.encoder.writableNeedDrain) await Promise.race([once(this.encoder, 'drain'), this.finished]);
  }

  /** Resolves when the file is complete on disk. */
  async close(): Promise<void> {
    this.encoder.end();
    await this.finished;
  }
}
