import type { SequorEvent } from '@sequor/model';
import type { ZeekColumn, ZeekRowOf } from './columns.js';
import type { ZeekEventContext } from './event.js';

/** One Zeek log as a source format: its columns (for both encodings) and its mapping to the event model. */
export interface ZeekLogSpec<C extends readonly ZeekColumn[] = readonly ZeekColumn[]> {
  /** Registry name: `zeek-dce-rpc`, ... */
  readonly formatName: string;
  /** Zeek's log path (`#path`, file name stem): `dce_rpc`, ... */
  readonly path: string;
  readonly description: string;
  readonly columns: C;
  /** JSON keys (besides `uid`) that every record of this log carries and other Zeek logs do not all share; used by sniff. */
  readonly jsonSignature: readonly string[];
  /**
   * The event id from the row and the record's `zeek.fields`; by default a hash over the log path and the
   * spec's columns (`zeekEventId`). The any-log spec reads only a few columns, so it hashes every field.
   */
  eventId?(row: ZeekRowOf<C>, fields: Readonly<Record<string, string>> | null): string;
  toEvent(row: ZeekRowOf<C>, ctx: ZeekEventContext): SequorEvent;
}
