import type { Schema } from 'avsc';
import { AvroCodec } from './codec.js';
import type { AvroCodecOptions } from './codec.js';
import { eventSchema } from './event.generated.js';
import type { SequorEvent } from './event.generated.js';

/** A codec for `sequor.Event` with the current schema as reader. */
export function createEventCodec(options: AvroCodecOptions = {}): AvroCodec<SequorEvent> {
  return new AvroCodec<SequorEvent>(eventSchema as unknown as Schema, options);
}
