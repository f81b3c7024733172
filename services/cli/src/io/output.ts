/**
 * Where results go: NDJSON on a stream (stdout), or alerts as an Avro object container file with
 * `schemas/alert.avsc` (schema embedded: readable by any Avro tool). Writes are
 * buffered by the caller's loop and `flush()` waits for the stream to drain, so a slow consumer on stdout
 * slows the run instead of growing memory.
 */
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { avroType } from '@sequor/model';
import type { Alert } from '@sequor/rules';

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

/** One JSON document per line. `toJson` shapes the value (default: as is). */
export class NdjsonWriter<T> implements RecordWriter<T> {
  private buffer: string[] = [];
  private chars = 0;
  written = 0;

  constructor(
    private readonly stream: Writable,
    private readonly toJson: (value: T) => unknown = (v) => v,
    private readonly endStream = false,
  ) {}

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
    if (this.buffer.length === 0) return;
    const text = `${this.buffer.join('\n')}\n`;
    this.buffer = [];
    this.chars = 0;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  /** True when enough is buffered to be worth a write now. */
  get full(): boolean {
    return this.chars >= FLUSH_CHARS;
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.endStream) {
      this.stream.end();
      await once(this.stream, 'finish');
    }
  }
}

/** `schemas/alert.avsc`, read beside the package (src/ and dist/ are both three levels below the root). */
export const alertSchemaPath: string = fileURLToPath(new URL('../../../../schemas/alert.avsc', import.meta.url));

/**
 * Alerts as an Avro object container file: what avsc's `createFileEncoder` does (a `BlockEncoder` piped
 * into a file), with the file stream's errors (a missing directory, a full disk) reported instead of
 * lost. Default `null` codec: any Avro reader opens it.
 */
export class AvroAlertFileWriter implements RecordWriter<Alert> {
  private readonly encoder: InstanceType<typeof avro.streams.BlockEncoder>;
  private readonly finished: Promise<void>;
  private failure: Error | null = null;
  written = 0;

  constructor(path: string) {
    const type = avroType(readFileSync(alertSchemaPath, 'utf8'));
    this.encoder = new avro.streams.BlockEncoder(type);
    const file = createWriteStream(path);
    this.finished = new Promise((resolve, reject) => {
      pipeline(this.encoder, file, (error) => {
        if (error) {
          this.failure = error;
          reject(error);
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
