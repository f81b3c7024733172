// The record shape lives in `@sequor/model` (no Kafka import); re-exported for the pipeline's users.
export type { RecordHeaders } from '@sequor/model';

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
