/**
 * The contract every source format implements: raw record bytes -> events in the model, or a typed
 * error. Formats are pure and registered by name; the normalizer service and `sequor detect` bind topics
 * or files to them and use the same modules.
 */
import type { EntityIdentityOptions, RecordOrigin, SequorEvent } from '@sequor/model';
import { SequorError } from '@sequor/model';

// Where a raw record came from: one home in `@sequor/model`, re-exported for the formats' users.
export type { RecordOrigin } from '@sequor/model';

export interface DecoderOptions {
  /** How host.id / user.id are derived when a source lacks them (see @sequor/model identity). */
  readonly identity?: EntityIdentityOptions;
  /** Records larger than this many bytes are refused as `too-large` before parsing (default 1 MiB). */
  readonly maxRecordBytes?: number;
}

/**
 * A stateful decoder for one stream (one topic-partition, or one file): Zeek TSV needs the `#fields`
 * header seen earlier in the same stream. Returns zero events for header/comment lines, one (or, for
 * formats that batch, several) otherwise. Throws NormalizeError for anything it cannot normalize:
 * unknown input is an error, never a guess.
 */
export interface RecordDecoder {
  /** Each event's `origin` is this format's name and `origin`, set by the decoder (no one else writes it). */
  decode(value: Uint8Array, origin: RecordOrigin): readonly SequorEvent[];
  /**
   * Formats with stream state only (Zeek TSV): that state as text, to store beside the committed offset,
   * or undefined when the records that follow depend on nothing seen so far. Cheap: called per commit.
   */
  checkpoint?(): string | undefined;
  /**
   * Seeds a decoder that has decoded nothing yet with a `checkpoint()` of the same stream, so it reads the
   * records after that commit as the first decoder would have. False (and nothing changes) when the text
   * is not a checkpoint this format wrote.
   */
  resume?(checkpoint: string): boolean;
}

export interface SourceFormat {
  /** Registry name used in config: `winlogbeat`, `ecs`, `flat-windows`, `zeek-dce-rpc`, ... */
  readonly name: string;
  readonly description: string;
  createDecoder(options?: DecoderOptions): RecordDecoder;
  /** For auto-detection of files: true when the first line looks like this format. */
  sniff(firstLine: string): boolean;
  /**
   * How a file's bytes are cut into records: one per line (the default), or JSON documents one after
   * another, each spanning lines (`evtx-json`'s pretty-printed layout; see windows/evtx-documents.ts).
   * On a Kafka topic each record is one document either way.
   */
  readonly framing?: 'lines' | 'json-documents';
  /**
   * For formats whose records span lines: true when a file's first lines begin such a record. Asked
   * before the line vote (`decideFileFormat`), since no single line of such a record is one on its own.
   */
  sniffHead?(headLines: readonly string[]): boolean;
}

/** Why a record could not be normalized; `reason` is a stable code for metrics and dead-letter headers. */
export type NormalizeReason =
  | 'malformed'
  | 'too-large'
  | 'missing-field'
  | 'wrong-type'
  | 'unsupported-event'
  | 'bad-header'
  | 'column-count';

export class NormalizeError extends SequorError {
  constructor(
    readonly reason: NormalizeReason,
    message: string,
    readonly format: string,
    readonly origin: RecordOrigin,
    options: { cause?: unknown } = {},
  ) {
    super(`${format} ${origin.topic}[${origin.partition}]@${origin.offset}: ${reason}: ${message}`, options);
  }
}
