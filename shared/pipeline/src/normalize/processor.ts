/**
 * NormalizeProcessor: one raw record (Kafka or a file line) to its normalized, keyed, Avro-encoded
 * records, or to a dead-letter verdict. Pure and transport-agnostic: the normalizer service runs it
 * over Kafka batches, `sequor detect` over files; neither the clock nor any I/O is touched here.
 *
 * ```ts
 * const processor = createNormalizeProcessor({
 *   bindings: parseSourceBindings('flat-windows:winlogbeat.raw'),
 *   encoder: singleObjectEventEncoder(),
 * });
 * const { outputs, deadLetter } = processor.process({ topic: 'winlogbeat.raw', partition: 0, offset: 42, value });
 * ```
 */
import type { EntityIdentityOptions, SequorEvent } from '@sequor/model';
import { CodecError, defaultEntityIdentity, SequorError } from '@sequor/model';
import type { NormalizeReason, RecordDecoder, SourceBinding, SourceFormat } from '@sequor/formats';
import { DEFAULT_MAX_RECORD_BYTES, NormalizeError } from '@sequor/formats';
import type { EventEncoder } from './encoder.js';
import type { RecordHeaders } from './headers.js';
import { NORMALIZED_HEADERS } from './headers.js';
import type { PartitionKeyFields } from './partition-key.js';
import { defaultPartitionKeyFields, partitionKeyOf } from './partition-key.js';

/** One raw record: a Kafka record (offset as kafkajs gives it, a decimal string) or a file line. */
export interface RawRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number | string;
  readonly key?: Buffer | string | null;
  /** `null` is a tombstone: it cannot be normalized and is dead-lettered as `malformed`. */
  readonly value: Uint8Array | null;
  readonly headers?: RecordHeaders;
  /** Epoch ms (Kafka create/append time). Not used for the event's time, which comes from the source. */
  readonly timestamp?: number | string;
}

/** One normalized record to produce. */
export interface NormalizedRecord {
  readonly key: string;
  readonly value: Buffer;
  /**
   * The raw record's headers (trace context rides on them) plus `sequor.format`,
   * `sequor.partition-key-fields` and `sequor.partition-key-field`. Shared by the outputs of one raw
   * record, and by every output of a topic and key field whose raw record had no headers (built once,
   * not per record): do not mutate, copy first (as a tracer that injects its context must).
   */
  readonly headers: RecordHeaders;
  readonly event: SequorEvent;
}

/** Why a record is dead-lettered: the formats' reasons, an event the schema refuses, or a bug. */
/** `record-too-large`: the normalized event does not fit the output topic's `max.message.bytes` (decided by the service). */
export type DeadLetterReason = NormalizeReason | 'invalid-value' | 'unexpected-error' | 'record-too-large';

export interface DeadLetterVerdict {
  readonly reason: DeadLetterReason;
  /** The error class name (`NormalizeError`, `CodecError`, `TypeError`): the `error.type` header. */
  readonly errorType: string;
  readonly message: string;
  readonly format: string;
  /** The error itself, for logs and for `@sequor/kafka`'s `deadLetterRecord`. */
  readonly error: Error;
}

export interface ProcessResult {
  /** Empty for a record that carries no event (a Zeek header line) or a dead letter. */
  readonly outputs: readonly NormalizedRecord[];
  readonly deadLetter?: DeadLetterVerdict;
}

export interface NormalizeProcessorOptions {
  /** Topic (or file path) to format: `parseSourceBindings(...)`. */
  readonly bindings: readonly SourceBinding[];
  readonly encoder: EventEncoder;
  /** Default: `@sequor/model`'s default identity (source host ids, short host names). */
  readonly identity?: EntityIdentityOptions;
  /** Records larger than this are dead-lettered as `too-large` without being parsed. Default 1 MiB. */
  readonly maxRecordBytes?: number;
  /** Default `host.id,host.name,user.id`. */
  readonly partitionKeyFields?: PartitionKeyFields;
}

export interface FormatCounters {
  /** Raw records read. */
  records: number;
  /** Normalized records produced. */
  events: number;
  /** Raw records that gave no event and no error (Zeek header and comment lines). */
  empty: number;
  deadLetters: number;
}

export interface NormalizeCounters {
  readonly total: FormatCounters;
  readonly byFormat: Readonly<Record<string, FormatCounters>>;
  readonly deadLettersByReason: Readonly<Partial<Record<DeadLetterReason, number>>>;
  /** Events keyed by each field (`host.id`, ..., `event.id` when no key field was present). */
  readonly keyedBy: Readonly<Record<string, number>>;
}

export interface NormalizeProcessor {
  process(record: RawRecord): ProcessResult;
  /** The topics (or file paths) this processor has a format for. */
  readonly topics: readonly string[];
  readonly partitionKeyFields: PartitionKeyFields;
  /** Live counters (the same object each call): read them, do not write. */
  counters(): NormalizeCounters;
  /** Forgets the decoder of a partition (after revocation: its next owner resumes it from the checkpoint). */
  releasePartition(topic: string, partition: number): void;
  /**
   * The partition's stream state (a Zeek TSV header) to commit beside its offset, or undefined when the
   * records after it depend on nothing read so far (every JSON format; Zeek outside a header's scope).
   */
  checkpoint(topic: string, partition: number): string | undefined;
  /**
   * True while the partition has no decoder yet: nothing read since the start or `releasePartition`, so a
   * committed checkpoint can still be applied.
   */
  isFresh(topic: string, partition: number): boolean;
  /** Seeds the partition's fresh decoder from a committed checkpoint. False when it does not apply. */
  resumePartition(topic: string, partition: number, checkpoint: string): boolean;
}

/** A record from a topic no binding names: a wiring bug, not bad input. */
export class UnboundTopicError extends SequorError {
  constructor(
    readonly topic: string,
    readonly bound: readonly string[],
  ) {
    super(`no source format is bound to topic ${JSON.stringify(topic)} (bound: ${bound.join(', ')})`);
  }
}

interface TopicState {
  readonly format: SourceFormat;
  readonly counters: FormatCounters;
  /** One decoder per partition, by partition number: Zeek TSV headers belong to one stream. */
  readonly decoders: (RecordDecoder | undefined)[];
  /** Output headers by key field, for raw records without headers of their own (one per key field). */
  readonly sharedHeaders: Map<string, RecordHeaders>;
}

function hasAny(headers: RecordHeaders | undefined): headers is RecordHeaders {
  if (headers === undefined) return false;
  for (const _ in headers) return true;
  return false;
}

const noOutputs: readonly NormalizedRecord[] = Object.freeze([]);

function newCounters(): FormatCounters {
  return { records: 0, events: 0, empty: 0, deadLetters: 0 };
}

class DefaultNormalizeProcessor implements NormalizeProcessor {
  readonly topics: readonly string[];
  readonly partitionKeyFields: PartitionKeyFields;
  private readonly byTopic = new Map<string, TopicState>();
  private readonly encoder: EventEncoder;
  private readonly identity: EntityIdentityOptions;
  private readonly maxRecordBytes: number;
  private readonly stats: NormalizeCounters;
  private readonly byReason: Partial<Record<DeadLetterReason, number>> = {};
  private readonly keyedBy: Record<string, number> = {};

  constructor(options: NormalizeProcessorOptions) {
    this.encoder = options.encoder;
    this.identity = options.identity ?? defaultEntityIdentity;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!(Number.isInteger(this.maxRecordBytes) && this.maxRecordBytes > 0)) {
      throw new SequorError(`maxRecordBytes must be a positive integer, got ${this.maxRecordBytes}`);
    }
    this.partitionKeyFields = options.partitionKeyFields ?? defaultPartitionKeyFields;
    const byFormat: Record<string, FormatCounters> = {};
    for (const binding of options.bindings) {
      if (this.byTopic.has(binding.topic)) throw new SequorError(`topic ${binding.topic} is bound twice`);
      const counters = (byFormat[binding.format.name] ??= newCounters());
      this.byTopic.set(binding.topic, {
        format: binding.format,
        counters,
        decoders: [],
        sharedHeaders: new Map(),
      });
    }
    for (const name of [...this.partitionKeyFields.names, 'event.id']) this.keyedBy[name] = 0;
    this.topics = Object.freeze([...this.byTopic.keys()]);
    this.stats = {
      total: newCounters(),
      byFormat,
      deadLettersByReason: this.byReason,
      keyedBy: this.keyedBy,
    };
  }

  counters(): NormalizeCounters {
    return this.stats;
  }

  releasePartition(topic: string, partition: number): void {
    const state = this.byTopic.get(topic);
    if (state !== undefined) state.decoders[partition] = undefined;
  }

  checkpoint(topic: string, partition: number): string | undefined {
    return this.byTopic.get(topic)?.decoders[partition]?.checkpoint?.();
  }

  isFresh(topic: string, partition: number): boolean {
    const state = this.byTopic.get(topic);
    return state !== undefined && state.decoders[partition] === undefined;
  }

  resumePartition(topic: string, partition: number, checkpoint: string): boolean {
    const state = this.byTopic.get(topic);
    if (state === undefined || state.decoders[partition] !== undefined) return false;
    const decoder = this.decoderFor(state, partition);
    return decoder.resume?.(checkpoint) ?? false;
  }

  process(record: RawRecord): ProcessResult {
    const state = this.byTopic.get(record.topic);
    if (state === undefined) throw new UnboundTopicError(record.topic, this.topics);
    const formatName = state.format.name;
    const counters = state.counters;
    counters.records++;
    this.stats.total.records++;
    const offset = typeof record.offset === 'number' ? record.offset : Number(record.offset);
    const origin = { topic: record.topic, partition: record.partition, offset };
    const value = record.value;

    // The size check comes first: a 10 MB record is refused without being parsed or even UTF-8 decoded.
    if (value === null) {
      return this.deadLetter(
        state,
        new NormalizeError('malformed', 'record has no value (tombstone)', formatName, origin),
      );
    }
    if (value.byteLength > this.maxRecordBytes) {
      return this.deadLetter(
        state,
        new NormalizeError(
          'too-large',
          `${value.byteLength} bytes exceed the limit of ${this.maxRecordBytes}`,
          formatName,
          origin,
        ),
      );
    }

    let events: readonly SequorEvent[];
    try {
      events = this.decoderFor(state, record.partition).decode(value, origin);
    } catch (error) {
      return this.deadLetter(state, error);
    }
    if (events.length === 0) {
      counters.empty++;
      this.stats.total.empty++;
      return { outputs: noOutputs };
    }

    const fields = this.partitionKeyFields;
    const outputs: NormalizedRecord[] = [];
    // A raw record without headers (most of them) gets the topic's shared headers for its key field.
    const ownHeaders = hasAny(record.headers) ? record.headers : undefined;
    let headers: RecordHeaders | undefined;
    for (let i = 0; i < events.length; i++) {
      // The decoder set the event's origin (format, topic, partition, offset) when it built it.
      const event = events[i] as SequorEvent;
      let encoded: Buffer;
      try {
        encoded = this.encoder.encode(event);
      } catch (error) {
        // One raw record is one unit: if any of its events cannot be written, none is.
        return this.deadLetter(state, error);
      }
      const key = partitionKeyOf(event, fields);
      // Events of one raw record share one headers object unless their key fields differ.
      if (headers === undefined || headers[NORMALIZED_HEADERS.partitionKeyField] !== key.field) {
        headers =
          ownHeaders === undefined
            ? this.sharedHeaders(state, key.field)
            : this.normalizedHeaders(ownHeaders, formatName, key.field);
      }
      outputs.push({ key: key.value, value: encoded, headers, event });
    }
    for (const output of outputs) {
      const field = output.headers[NORMALIZED_HEADERS.partitionKeyField] as string;
      this.keyedBy[field] = (this.keyedBy[field] ?? 0) + 1;
    }
    counters.events += outputs.length;
    this.stats.total.events += outputs.length;
    return { outputs };
  }

  private normalizedHeaders(
    raw: RecordHeaders | undefined,
    formatName: string,
    keyField: string,
  ): RecordHeaders {
    return {
      ...raw,
      [NORMALIZED_HEADERS.format]: formatName,
      [NORMALIZED_HEADERS.partitionKeyFields]: this.partitionKeyFields.header,
      [NORMALIZED_HEADERS.partitionKeyField]: keyField,
    };
  }

  /** The headers of every output of `state`'s topic keyed by `keyField` whose raw record had none: built once. */
  private sharedHeaders(state: TopicState, keyField: string): RecordHeaders {
    let headers = state.sharedHeaders.get(keyField);
    if (headers === undefined) {
      headers = this.normalizedHeaders(undefined, state.format.name, keyField);
      state.sharedHeaders.set(keyField, headers);
    }
    return headers;
  }

  private decoderFor(state: TopicState, partition: number): RecordDecoder {
    let decoder = state.decoders[partition];
    if (decoder === undefined) {
      decoder = state.format.createDecoder({ identity: this.identity, maxRecordBytes: this.maxRecordBytes });
      state.decoders[partition] = decoder;
    }
    return decoder;
  }

  private deadLetter(state: TopicState, error: unknown): ProcessResult {
    const verdict = toVerdict(error, state.format.name);
    state.counters.deadLetters++;
    this.stats.total.deadLetters++;
    this.byReason[verdict.reason] = (this.byReason[verdict.reason] ?? 0) + 1;
    return { outputs: noOutputs, deadLetter: verdict };
  }
}

function toVerdict(error: unknown, format: string): DeadLetterVerdict {
  const err = error instanceof Error ? error : new Error(String(error));
  let reason: DeadLetterReason;
  if (err instanceof NormalizeError) reason = err.reason;
  else if (err instanceof CodecError) reason = 'invalid-value';
  // A format that throws anything else has a bug; the record still goes aside so the partition flows,
  // and the reason says it is ours, not the sender's.
  else reason = 'unexpected-error';
  return { reason, errorType: err.name, message: err.message, format, error: err };
}

/** Builds a processor; bindings and key fields are resolved once, here. */
export function createNormalizeProcessor(options: NormalizeProcessorOptions): NormalizeProcessor {
  return new DefaultNormalizeProcessor(options);
}
