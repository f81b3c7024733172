/**
 * The oracle for the codec's own readers (string-map.ts, avro-reader.ts): decoding as the codec did with
 * avsc alone, through avsc's plain types (no hook, no compiled reader) and the codec's error reasons.
 * Single-object frames only (the header is the codec's, unchanged).
 */
import avro from 'avsc';
import type { Schema, Type } from 'avsc';
import { CodecError } from '../src/index.js';

export const plainType = (schema: Schema): Type =>
  avro.Type.forSchema(schema, { omitRecordMethods: true, wrapUnions: 'auto' });

export interface Decoder<T> {
  decode(bytes: Buffer): T;
}

/** avsc's decode of single-object frames written with `writer` (default: `reader`) as `reader`. */
export function avscDecoder<T>(reader: Schema, writer?: Schema): Decoder<T> {
  const type = plainType(reader);
  const resolver = writer === undefined ? undefined : type.createResolver(plainType(writer));
  return {
    decode(bytes: Buffer): T {
      let decoded: { value: unknown; offset: number };
      try {
        decoded = resolver === undefined ? type.decode(bytes, 10) : type.decode(bytes, 10, resolver);
      } catch (cause) {
        throw new CodecError('malformed', 'avsc threw', {}, { cause });
      }
      if (decoded.offset < 0) throw new CodecError('truncated', 'avsc: cut short');
      if (decoded.offset !== bytes.length) throw new CodecError('trailing-bytes', 'avsc: bytes left');
      return decoded.value as T;
    },
  };
}
