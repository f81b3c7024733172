/** The messages between the merging thread and its normalize workers (`--threads`). */
import type { DeadLetterReason, NormalizeCounters } from '@sequor/pipeline';

export interface NormalizeWorkerData {
  /** Input i's name (its origin topic in events and alerts) and format: the NormalizeProcessor's bindings. */
  readonly bindings: readonly { readonly topic: string; readonly format: string }[];
}

/** Consecutive non-blank lines of one input. */
export interface LineBatch {
  readonly id: number;
  readonly source: number;
  /** The lines, back to back; line i ends at `ends[i]` (and starts where line i - 1 ends). */
  readonly bytes: Uint8Array;
  readonly ends: Int32Array;
  /** Line i's 0-based index in its file. */
  readonly offsets: Float64Array;
}

/** A LineBatch normalized. */
export interface NormalizedBatch {
  readonly id: number;
  /** The LineBatch's bytes, handed back for the next batch (a fresh 1 MiB per batch kept the collector busy). */
  readonly lineBuffer: ArrayBuffer;
  /** Per line: the number of events it gave, or -1 for a dead letter (the next of `deadLetters`). */
  readonly counts: Int32Array;
  /** Per event: its partition key, and its Avro single-object encoding, back to back, ending at `ends[k]`. */
  readonly keys: readonly string[];
  readonly values: Uint8Array;
  readonly ends: Int32Array;
  readonly deadLetters: readonly {
    readonly reason: DeadLetterReason;
    readonly errorType: string;
    readonly message: string;
    readonly format: string;
  }[];
}

export type WorkerReply =
  | { readonly kind: 'batch'; readonly batch: NormalizedBatch }
  | { readonly kind: 'counters'; readonly counters: NormalizeCounters };

/** Test hook read by the workers: `exit` (the thread dies) or `throw` (it throws) on the first batch. */
export const WORKER_FAULT_VARIABLE = 'SEQUOR_TEST_WORKER_FAULT';
