/**
 * How a normalized event becomes a Kafka record value. One encoder per process (the codec reuses a
 * scratch buffer): Avro single-object encoding by default, the Confluent wire format when a schema
 * registry id is known.
 */
import type { AvroCodec, SequorEvent } from '@sequor/model';
import { createEventCodec } from '@sequor/model';

export interface EventEncoder {
  /** `single-object` or `confluent`: for logs and the service's start line. */
  readonly framing: 'single-object' | 'confluent';
  /** Throws CodecError (`invalid-value`) when the event does not match the schema. */
  encode(event: SequorEvent): Buffer;
}

/** Avro single-object encoding (`C3 01` + schema fingerprint + body): needs no registry to read. */
export function singleObjectEventEncoder(codec: AvroCodec<SequorEvent> = createEventCodec()): EventEncoder {
  return { framing: 'single-object', encode: (event) => codec.encodeSingleObject(event) };
}

/** Confluent wire format (`00` + 4-byte schema id + body), for registries and Confluent tooling. */
export function confluentEventEncoder(codec: AvroCodec<SequorEvent>, schemaId: number): EventEncoder {
  return { framing: 'confluent', encode: (event) => codec.encodeConfluent(event, schemaId) };
}
