/**
 * Several input files as ONE stream in event-time order, the way their sources would interleave on a
 * live topic: a k-way merge on each file's next event time. Each file is normalized as it is read (its
 * own decoder: a Zeek TSV header belongs to its file), the next line that carries events is the file's
 * head, and the file whose head is oldest goes next. Within a file the order is never changed: a file
 * whose lines are out of order (arrival jitter, late events) keeps that disorder, which the detector's
 * reorder stage and lateness then judge exactly as they would on Kafka.
 *
 * Lines without events (Zeek header and comment lines) and dead letters are reported when they are read,
 * so they precede the next event of their own file.
 *
 * Where the normalizing happens is the sources' business (`NormalizedLines`): on this thread as each
 * line is read (`inlineNormalizedLines`), or ahead of the merge in worker threads (`--threads`,
 * `normalize-workers.ts`). The merge order is the same either way: it depends only on each file's
 * lines and their event times.
 */
import { BinaryHeap } from '@sequor/model';
import type { NormalizeProcessor, ProcessResult } from '@sequor/pipeline';
import type { OpenInput } from './inputs.js';
import type { RecordReader } from './lines.js';

/**
 * The normalized lines of one input in file order: `next()` while some are ready (synchronously, no
 * promise per line), then `await fill()` and ask again, until `done`.
 */
export interface NormalizedLines {
  next(): MergedRecord | undefined;
  fill(): Promise<void>;
  readonly done: boolean;
  /** Lines read so far, blank ones included. */
  readonly linesRead: number;
}

/** Each input normalized on this thread as its lines are read (`topics[i]`: input i's binding in `normalize`). */
export function inlineNormalizedLines(
  inputs: readonly OpenInput[],
  topics: readonly string[],
  normalize: NormalizeProcessor,
): NormalizedLines[] {
  return inputs.map((input, i) => new InlineNormalizedLines(i, input.reader, topics[i] as string, normalize));
}

class InlineNormalizedLines implements NormalizedLines {
  constructor(
    private readonly source: number,
    private readonly reader: RecordReader,
    private readonly topic: string,
    private readonly normalize: NormalizeProcessor,
  ) {}

  get done(): boolean {
    return this.reader.done;
  }

  /** The reader's count: a record of a document-framed file spans lines. */
  get linesRead(): number {
    return this.reader.linesRead;
  }

  next(): MergedRecord | undefined {
    for (;;) {
      const line = this.reader.next();
      if (line === undefined) return undefined;
      if (line.length === 0) continue;
      const offset = this.reader.lineIndex;
      const result = this.normalize.process({ topic: this.topic, partition: 0, offset, value: line });
      return { source: this.source, offset, line, result };
    }
  }

  fill(): Promise<void> {
    return this.reader.fill();
  }
}

export interface MergedRecord {
  /** Index of the input in the list given to the merge. */
  readonly source: number;
  /** 0-based line index in its file (file line = offset + 1). */
  readonly offset: number;
  /** The raw line (`replay` sends it); empty when worker threads normalized it (they took the bytes). */
  readonly line: Buffer;
  /** The normalizer's verdict: events (possibly none) or a dead letter. */
  readonly result: ProcessResult;
}

/**
 * Return `false` to stop the merge early (`query ... | head 10`), or a promise to make the merge wait
 * (an output draining): return one every few thousand records, not per record.
 */
export type MergedRecordHandler = (record: MergedRecord) => boolean | void | Promise<void>;

interface Cursor {
  readonly source: number;
  readonly lines: NormalizedLines;
  head: MergedRecord | null;
  headTime: number;
}

export interface MergeProgress {
  /** Lines read over all inputs. */
  readonly lines: number;
  /** Bytes read from disk over all inputs. */
  readonly bytes: number;
}

export class EventTimeMerge {
  private readonly cursors: Cursor[];
  private stopped = false;

  /** `sources[i]`: the normalized lines of `inputs[i]` (`inlineNormalizedLines`, or from workers). */
  constructor(
    private readonly inputs: readonly OpenInput[],
    sources: readonly NormalizedLines[],
  ) {
    this.cursors = sources.map((lines, source) => ({ source, lines, head: null, headTime: 0 }));
  }

  progress(): MergeProgress {
    let bytes = 0;
    let lines = 0;
    for (const input of this.inputs) bytes += input.stream.bytesRead();
    for (const cursor of this.cursors) lines += cursor.lines.linesRead;
    return { lines, bytes };
  }

  /** Feeds every record to `onRecord` in merge order; resolves at the end of every input (or a stop). */
  async run(onRecord: MergedRecordHandler): Promise<void> {
    const heap = new BinaryHeap<Cursor>(before);
    for (const cursor of this.cursors) {
      await this.advance(cursor, onRecord);
      if (this.stopped) return;
      if (cursor.head !== null) heap.push(cursor);
    }
    while (heap.size > 0) {
      const cursor = heap.peek() as Cursor;
      const head = cursor.head as MergedRecord;
      cursor.head = null;
      const verdict = onRecord(head);
      if (verdict === false) return this.stop();
      if (verdict instanceof Promise) await verdict;
      await this.advance(cursor, onRecord);
      if (this.stopped) return;
      if (cursor.head === null) heap.pop();
      else heap.updateTop(); // its head time moved on
    }
  }

  private stop(): void {
    this.stopped = true;
    for (const input of this.inputs) input.stream.close();
  }

  /** Reads `cursor`'s file up to its next line with events (its new head), reporting the lines before it. */
  private async advance(cursor: Cursor, onRecord: MergedRecordHandler): Promise<void> {
    const lines = cursor.lines;
    for (;;) {
      const record = lines.next();
      if (record === undefined) {
        if (lines.done) return;
        await lines.fill();
        continue;
      }
      const first = record.result.outputs[0];
      if (first === undefined) {
        const verdict = onRecord(record);
        if (verdict === false) return this.stop();
        if (verdict instanceof Promise) await verdict;
        continue;
      }
      cursor.head = record;
      cursor.headTime = first.event.timestamp;
      return;
    }
  }
}

// The merge order of cursors: (head time, input index), so ties go to the input listed first.
function before(a: Cursor, b: Cursor): boolean {
  return a.headTime < b.headTime || (a.headTime === b.headTime && a.source < b.source);
}
