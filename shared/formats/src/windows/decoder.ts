/**
 * The decoder shell the JSON-lines Windows formats share: size limit, UTF-8, JSON, then the format's
 * pure mapping; any RecordProblem becomes a NormalizeError with the record's origin and format.
 */
import { TextDecoder } from 'node:util';
import type { EntityIdentityOptions, SequorEvent } from '@sequor/model';
import { defaultEntityIdentity } from '@sequor/model';
import type { DecoderOptions, RecordDecoder, RecordOrigin } from '../types.js';
import { NormalizeError } from '../types.js';
import { DEFAULT_MAX_RECORD_BYTES, parseJsonRecord } from './json-record.js';
import { RecordProblem } from './problem.js';
import type { Json } from './values.js';

export interface JsonMapContext {
  readonly format: string;
  readonly identity: EntityIdentityOptions;
  /** The raw record, for content-hash event ids. */
  readonly bytes: Uint8Array;
  readonly origin: RecordOrigin;
}

/** A format's pure mapping from one parsed record to one event. Throws RecordProblem. */
export type JsonEventMapper = (doc: Json, ctx: JsonMapContext) => SequorEvent;

export class JsonLinesDecoder implements RecordDecoder {
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  private readonly identity: EntityIdentityOptions;
  private readonly maxBytes: number;

  constructor(
    private readonly format: string,
    private readonly map: JsonEventMapper,
    options: DecoderOptions = {},
  ) {
    this.identity = options.identity ?? defaultEntityIdentity;
    this.maxBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  decode(value: Uint8Array, origin: RecordOrigin): readonly SequorEvent[] {
    try {
      const doc = parseJsonRecord(value, this.utf8, this.maxBytes);
      return [this.map(doc, { format: this.format, identity: this.identity, bytes: value, origin })];
    } catch (e) {
      if (e instanceof RecordProblem) throw new NormalizeError(e.reason, e.message, this.format, origin);
      throw e;
    }
  }
}

/** Parses a sniffed first line; undefined when it is not a JSON object. */
export function sniffJson(firstLine: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(firstLine);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}
