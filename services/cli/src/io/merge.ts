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
 */
import { BinaryHeap } from '@sequor/model';
import type { NormalizeProcessor, ProcessResult } from '@sequor/pipeline';
import type { OpenInput } from './inputs.js';
import type { LineReader } from './lines.js';

export interface MergedRecord {
  /** Index of the input in the list given to the merge. */
  readonly source: number;
  /** 0-based line index in its file (file line = offset + 1). */
  readonly offset: number;
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
  readonly topic: string;
  readonly reader: LineReader;
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
  private lines = 0;
  private stopped = false;

  /**
   * `topics[i]` is the name input i is bound to in `normalize` (its origin topic in events and alerts).
   */
  constructor(
    private readonly inputs: readonly OpenInput[],
    topics: readonly string[],
    private readonly normalize: NormalizeProcessor,
  ) {
    this.cursors = inputs.map((input, source) => ({
      source,
      topic: topics[source] as string,
      reader: input.reader,
      head: null,
      headTime: 0,
    }));
  }

  progress(): MergeProgress {
    let bytes = 0;
    for (const input of this.inputs) bytes += input.stream.bytesRead();
    return { lines: this.lines, bytes };
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
    const reader = cursor.reader;
    for (;;) {
      const line = reader.next();
      if (line === undefined) {
        if (reader.done) return;
        await reader.fill();
        continue;
      }
      this.lines++;
      if (line.length === 0) continue;
      const offset = reader.lineIndex;
      const result = this.normalize.process({ topic: cursor.topic, partition: 0, offset, value: line });
      const record: MergedRecord = { source: cursor.source, offset, line, result };
      const first = result.outputs[0];
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
