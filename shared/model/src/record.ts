/**
 * The shape of a record on a topic, as every package sees it: the pure ones (formats, pipeline,
 * telemetry) and `@sequor/kafka` alike. Declared here, not in `@sequor/kafka`, so a pure package can name
 * a record's headers or origin without importing the Kafka client.
 */

/**
 * Record headers, as kafkajs carries them: a value is bytes or a string (sent as UTF-8); a repeated
 * header is an array. Consumed headers come back as Buffers.
 */
export interface RecordHeaders {
  [name: string]: Buffer | string | (Buffer | string)[] | undefined;
}

/** One partition of one topic: where a record was read (a file reads as its path, partition 0). */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Where a raw record came from: a Kafka record, or a file (topic = file path, partition 0, offset = line index). */
export interface RecordOrigin extends TopicPartition {
  readonly offset: number;
}
