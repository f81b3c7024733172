import type { SequorEvent } from '@sequor/model';
import type { RecordOrigin } from './types.js';

/**
 * The event's `origin`: the format and where the record was read. Every format's mapper sets it once,
 * from its context (`format`, `origin`).
 */
export function originOf(ctx: {
  readonly format: string;
  readonly origin: RecordOrigin;
}): SequorEvent['origin'] {
  return {
    format: ctx.format,
    topic: ctx.origin.topic,
    partition: ctx.origin.partition,
    offset: ctx.origin.offset,
  };
}
