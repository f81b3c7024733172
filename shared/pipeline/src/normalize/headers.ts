/**
 * Record headers as the pipeline sees them: the shape kafkajs uses (a value is bytes or a string sent
 * as UTF-8; a repeated header is an array), declared here so the pure pipeline needs no Kafka import.
 */
export interface RecordHeaders {
  [name: string]: Buffer | string | (Buffer | string)[] | undefined;
}

/** Headers the normalizer adds to every normalized record. */
export const NORMALIZED_HEADERS = {
  /** The source format that produced the event (`flat-windows`, `zeek-dce-rpc`, ...). */
  format: 'sequor.format',
  /**
   * The configured key fields in order (`host.id,host.name,user.id`): a detector checks at start that
   * its rules' `by` fields are co-partitioned with the topic it reads.
   */
  partitionKeyFields: 'sequor.partition-key-fields',
  /** The field that supplied this record's key (`host.id`; `event.id` when no key field was present). */
  partitionKeyField: 'sequor.partition-key-field',
} as const;

/** Headers a normalizer dead letter carries besides the ones `@sequor/kafka` adds (error.type, origin.*). */
export const NORMALIZE_DEAD_LETTER_HEADERS = {
  /** The stable reason code (`malformed`, `too-large`, `column-count`, ...). */
  reason: 'error.reason',
  /** The source format the record was bound to. */
  format: 'sequor.format',
} as const;
