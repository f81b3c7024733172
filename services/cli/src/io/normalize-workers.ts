/**
 * `--threads N`: the inputs' lines normalized by N worker threads, ahead of the merge, while this thread
 * merges by event time and detects (or queries) exactly as with one thread. Profiled, reading a line
 * costs little and JSON.parse plus the format's mapping most of the rest, while the events cannot be
 * split by partition before they are parsed (the key is a normalized field): so the workers parse and
 * map, and hand back each batch's events as Avro bytes, the services' own record values (a structured
 * clone of the objects costs more than the parse it saves).
 *
 * Batches of one input go out round-robin, several in flight per input, and come back into one queue
 * per input in line order, so the merge sees every input's lines in order, as from `inlineNormalizedLines`.
 * A file whose format keeps stream state (Zeek TSV headers) is normalized by one worker only.
 *
 * A worker that throws or dies fails the run at once with a WorkerError (exit 1), never a hang.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec, SequorError } from '@sequor/model';
import type {
  DeadLetterVerdict,
  FormatCounters,
  NormalizeCounters,
  NormalizedRecord,
  ProcessResult,
  RecordHeaders,
} from '@sequor/pipeline';
import type { OpenInput } from './inputs.js';
import type { RecordReader } from './lines.js';
import type { MergedRecord, NormalizedLines } from './merge.js';
import type { LineBatch, NormalizedBatch, NormalizeWorkerData, WorkerReply } from './normalize-protocol.js';

/** Lines per batch, and bytes: a batch is a few milliseconds of a worker's time. */
const BATCH_LINES = 1024;
const BATCH_BYTES = 1 << 20;
/** Batches in flight per worker: enough to keep every worker busy while the merge reads one. */
const IN_FLIGHT_PER_WORKER = 2;
/**
 * A batch's buffer starts this small and doubles as lines come (a directory of a thousand small logs must
 * not hold a thousand 1 MiB buffers); buffers the workers hand back are reused.
 */
const FIRST_BUFFER_BYTES = 64 << 10;
const NO_OUTPUTS: readonly NormalizedRecord[] = Object.freeze([]);
const NO_HEADERS: RecordHeaders = Object.freeze({});
const NO_LINE = Buffer.alloc(0);

/** The most `--threads` takes: more workers than cores only add copies and context switches. */
export const MAX_THREADS = 64;

/**
 * The default `--threads`: one worker per core beside the main thread's, from 3 cores up; on 1 or 2
 * cores, 1 (no workers). Measured on 2 cores (`sequor detect` over 115,000 Winlogbeat events): the main
 * thread's CPU falls from 3.2 s to 2.0 s with 2 workers, but the workers spend 3.1 s (the parse plus an
 * Avro encode, and the main thread an Avro decode, per event) and the collector 0.7 s more: 6.6 s of CPU
 * on 2 cores is slower than 3.3 s on one. With a core per worker the main thread's 2.0 s is the bound.
 */
export function defaultThreads(cores = os.availableParallelism()): number {
  return cores >= 3 ? cores - 1 : 1;
}

/** A normalize worker failed (threw, or its thread died): the run cannot complete. Exit 1. */
export class WorkerError extends SequorError {
  constructor(
    readonly worker: number,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`normalize worker ${worker + 1}: ${reason}`, options);
  }
}

interface Pending {
  readonly resolve: (batch: NormalizedBatch) => void;
  readonly reject: (error: unknown) => void;
}

/** N normalize worker threads for the inputs of one run. Call `close()` when done (also after a failure). */
export class NormalizeWorkers {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private readonly counterWaiters: ((counters: NormalizeCounters) => void)[][];
  /** Line buffers the workers handed back, for the next batches. */
  private readonly spareBuffers: ArrayBuffer[] = [];
  /** Batches sent and not yet answered, over all inputs. */
  inFlight = 0;
  /**
   * Past this many batches in flight an input sends its next one only when it has none out: every input
   * needs one (the merge waits on each file's next event) and only the one being read needs more.
   */
  readonly maxInFlight: number;
  private nextId = 0;
  private roundRobin = 0;
  private failure: WorkerError | null = null;
  private closing = false;

  constructor(
    readonly threads: number,
    private readonly inputs: readonly OpenInput[],
    topics: readonly string[],
  ) {
    const data: NormalizeWorkerData = {
      bindings: inputs.map((input, i) => ({ topic: topics[i] as string, format: input.format.name })),
    };
    // The worker's module beside this one: .js when built, .ts when run from the sources (tsx).
    const url = new URL(
      `./normalize-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
      import.meta.url,
    );
    this.counterWaiters = Array.from({ length: threads }, () => []);
    this.maxInFlight = IN_FLIGHT_PER_WORKER * threads;
    this.workers = Array.from({ length: threads }, (_, index) => {
      const worker = new Worker(url, { workerData: data });
      worker.on('message', (reply: WorkerReply) => {
        if (reply.kind === 'counters') this.counterWaiters[index]!.shift()?.(reply.counters);
        else this.settle(reply.batch);
      });
      worker.on('error', (error) => this.fail(new WorkerError(index, error.message, { cause: error })));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(new WorkerError(index, `its thread exited (code ${code})`));
      });
      return worker;
    });
  }

  /** The normalized lines of every input, for `EventTimeMerge`. */
  sources(): NormalizedLines[] {
    return this.inputs.map((input, source) => {
      // A format with stream state (a Zeek TSV header) needs one decoder for the whole file: one worker.
      const stateful = typeof input.format.createDecoder().checkpoint === 'function';
      return new WorkerNormalizedLines(this, source, input.reader, stateful ? source % this.threads : null);
    });
  }

  /** Normalizes one batch on `worker` (null: the next worker round-robin). */
  normalize(batch: LineBatch, worker: number | null): Promise<NormalizedBatch> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const index = worker ?? this.roundRobin++ % this.threads;
    this.inFlight++;
    return new Promise((resolve, reject) => {
      this.pending.set(batch.id, { resolve, reject });
      // The lines' bytes move to the worker (the merge keeps no raw line: `MergedRecord.line` is empty).
      this.workers[index]!.postMessage(batch, [batch.bytes.buffer as ArrayBuffer]);
    });
  }

  newBatchId(): number {
    return this.nextId++;
  }

  /** Every worker's normalizer counters, summed: what one NormalizeProcessor would have counted. */
  async counters(): Promise<NormalizeCounters> {
    const all = await Promise.all(
      this.workers.map(
        (worker, index) =>
          new Promise<NormalizeCounters>((resolve, reject) => {
            if (this.failure !== null) return reject(this.failure);
            this.counterWaiters[index]!.push(resolve);
            worker.postMessage({ kind: 'counters' });
          }),
      ),
    );
    return sumCounters(all);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** A buffer for a batch's lines: one a worker handed back, else a new small one. */
  lineBuffer(): Buffer {
    const spare = this.spareBuffers.pop();
    // Its own ArrayBuffer (not the pool's): it is handed to the worker, not copied.
    return spare === undefined ? Buffer.allocUnsafeSlow(FIRST_BUFFER_BYTES) : Buffer.from(spare);
  }

  private settle(batch: NormalizedBatch): void {
    this.inFlight--;
    const buffer = batch.lineBuffer;
    if (buffer.byteLength <= 2 * BATCH_BYTES && this.spareBuffers.length < this.maxInFlight)
      this.spareBuffers.push(buffer);
    const pending = this.pending.get(batch.id);
    this.pending.delete(batch.id);
    pending?.resolve(batch);
  }

  private fail(error: WorkerError): void {
    if (this.failure !== null) return;
    this.failure = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.closing = true;
    for (const w of this.workers) void w.terminate();
  }
}

/** One input's lines: read here, normalized by the workers, back in line order. */
class WorkerNormalizedLines implements NormalizedLines {
  /** The batch the merge is reading: its lines become records one by one, as the merge asks. */
  private lines: LineBatch | null = null;
  private batch: NormalizedBatch | null = null;
  private values: Buffer = NO_LINE;
  private line = 0;
  private event = 0;
  private deadLetter = 0;
  private readonly inFlight: { readonly lines: LineBatch; readonly reply: Promise<NormalizedBatch> }[] = [];
  private exhausted = false;
  private readonly codec = createEventCodec();
  private readonly maxInFlight: number;

  constructor(
    private readonly workers: NormalizeWorkers,
    private readonly source: number,
    private readonly reader: RecordReader,
    private readonly worker: number | null,
  ) {
    this.maxInFlight = IN_FLIGHT_PER_WORKER * (worker === null ? workers.threads : 1);
  }

  get done(): boolean {
    return this.exhausted && this.inFlight.length === 0 && this.batch === null;
  }

  /** Lines read so far (ahead of the records handed on), as the reader counts them. */
  get linesRead(): number {
    return this.reader.linesRead;
  }

  /**
   * The next line's record, its events decoded now: decoding a whole batch ahead would keep a thousand
   * events alive across young-generation collections (promoted, then collected the expensive way).
   */
  next(): MergedRecord | undefined {
    const batch = this.batch;
    if (batch === null) return undefined;
    const lines = this.lines as LineBatch;
    const i = this.line++;
    if (this.line >= batch.counts.length) this.batch = null;
    const count = batch.counts[i]!;
    let result: ProcessResult;
    if (count < 0) {
      const d = batch.deadLetters[this.deadLetter++]!;
      const error = new Error(d.message);
      error.name = d.errorType;
      const verdict: DeadLetterVerdict = { ...d, error };
      result = { outputs: NO_OUTPUTS, deadLetter: verdict };
    } else if (count === 0) {
      result = { outputs: NO_OUTPUTS };
    } else {
      const outputs: NormalizedRecord[] = [];
      for (let k = 0; k < count; k++) {
        const event = this.event++;
        const value = this.values.subarray(event === 0 ? 0 : batch.ends[event - 1]!, batch.ends[event]!);
        const decoded: SequorEvent = this.codec.decode(value);
        outputs.push({ key: batch.keys[event]!, value, headers: NO_HEADERS, event: decoded });
      }
      result = { outputs };
    }
    return { source: this.source, offset: lines.offsets[i]!, line: NO_LINE, result };
  }

  async fill(): Promise<void> {
    const workers = this.workers;
    while (
      !this.exhausted &&
      (this.inFlight.length === 0 ||
        (this.inFlight.length < this.maxInFlight && workers.inFlight < workers.maxInFlight))
    )
      await this.dispatch();
    const oldest = this.inFlight.shift();
    if (oldest === undefined) return;
    const batch = await oldest.reply;
    this.lines = oldest.lines;
    this.values = Buffer.from(batch.values.buffer, batch.values.byteOffset, batch.values.byteLength);
    this.line = 0;
    this.event = 0;
    this.deadLetter = 0;
    this.batch = batch.counts.length > 0 ? batch : null;
  }

  /** Reads the next batch of lines and sends it to a worker. */
  private async dispatch(): Promise<void> {
    const reader = this.reader;
    let bytes = this.workers.lineBuffer();
    const ends: number[] = [];
    const offsets: number[] = [];
    let used = 0;
    while (ends.length < BATCH_LINES && used < BATCH_BYTES) {
      const line = reader.next();
      if (line === undefined) {
        if (reader.done) {
          this.exhausted = true;
          break;
        }
        await reader.fill(); // the lines so far are copied: the chunk they were in may be reused
        continue;
      }
      if (line.length === 0) continue;
      if (used + line.length > bytes.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(bytes.length * 2, used + line.length));
        bytes.copy(bigger, 0, 0, used);
        bytes = bigger;
      }
      line.copy(bytes, used);
      used += line.length;
      ends.push(used);
      offsets.push(reader.lineIndex);
    }
    if (ends.length === 0) return;
    const lines: LineBatch = {
      id: this.workers.newBatchId(),
      source: this.source,
      bytes: bytes.subarray(0, used),
      ends: Int32Array.from(ends),
      offsets: Float64Array.from(offsets),
    };
    const reply = this.workers.normalize(lines, this.worker);
    reply.catch(() => undefined); // awaited in order by fill(); a failure must not be unhandled before then
    this.inFlight.push({ lines, reply });
  }
}

function sumCounters(all: readonly NormalizeCounters[]): NormalizeCounters {
  const total: FormatCounters = { records: 0, events: 0, empty: 0, deadLetters: 0 };
  const byFormat: Record<string, FormatCounters> = {};
  const deadLettersByReason: Record<string, number> = {};
  const keyedBy: Record<string, number> = {};
  const add = (into: FormatCounters, c: FormatCounters): void => {
    into.records += c.records;
    into.events += c.events;
    into.empty += c.empty;
    into.deadLetters += c.deadLetters;
  };
  for (const c of all) {
    add(total, c.total);
    for (const [format, counters] of Object.entries(c.byFormat))
      add((byFormat[format] ??= { records: 0, events: 0, empty: 0, deadLetters: 0 }), counters);
    for (const [reason, n] of Object.entries(c.deadLettersByReason))
      deadLettersByReason[reason] = (deadLettersByReason[reason] ?? 0) + (n ?? 0);
    for (const [field, n] of Object.entries(c.keyedBy)) keyedBy[field] = (keyedBy[field] ?? 0) + n;
  }
  return { total, byFormat, deadLettersByReason, keyedBy };
}
