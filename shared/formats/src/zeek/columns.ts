/**
 * Column specs: which Zeek columns a log format reads, under which names, with which type. A log's
 * typed row type is derived from its spec, so the TSV and JSON readers fill the same shape and the
 * mapping to the event model reads plain properties.
 */
import type { ZeekType, ZeekValueOf } from './values.js';

export interface ZeekColumn<
  K extends string = string,
  T extends ZeekType = ZeekType,
  R extends boolean = boolean,
> {
  /** Property name in the typed row. */
  readonly key: K;
  /** Zeek field names, first match wins (`named_pipe`, then its successor `sec_addr`). */
  readonly names: readonly string[];
  readonly type: T;
  /** A required column missing from `#fields` is a bad header; a required value unset is a missing field. */
  readonly required: R;
}

/** Declares one column; `names` defaults to `[key]`. */
export function column<K extends string, T extends ZeekType, R extends boolean = false>(
  key: K,
  type: T,
  options: { names?: readonly string[]; required?: R } = {},
): ZeekColumn<K, T, R> {
  return { key, names: options.names ?? [key], type, required: (options.required ?? false) as R };
}

/** The typed row of a column list: required columns are non-null, the others may be null (unset). */
export type ZeekRowOf<C extends readonly ZeekColumn[]> = {
  readonly [Col in C[number] as Col['key']]: Col['required'] extends true
    ? ZeekValueOf<Col['type']>
    : ZeekValueOf<Col['type']> | null;
};

/** The connection columns every log here starts with (`ts`, `uid`, the `conn_id` 4-tuple). */
export const connIdColumns = [
  column('ts', 'time', { required: true }),
  column('uid', 'string', { required: true }),
  column('orig_h', 'addr', { names: ['id.orig_h'], required: true }),
  column('orig_p', 'port', { names: ['id.orig_p'], required: true }),
  column('resp_h', 'addr', { names: ['id.resp_h'], required: true }),
  column('resp_p', 'port', { names: ['id.resp_p'], required: true }),
] as const;

/** The row fields of `connIdColumns`: `ts` is integer epoch microseconds. */
export type ZeekConnIdRow = ZeekRowOf<typeof connIdColumns>;
