import type { TextDecoder } from 'node:util';
import type { Json } from './values.js';
import { isObject } from './values.js';
import { RecordProblem } from './problem.js';
import { parseWellFormedJson } from '../well-formed.js';

/** Default cap on one raw record: larger records are refused before parsing (`too-large`). */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

/**
 * Raw bytes -> one JSON object, or a RecordProblem: over the size limit, not UTF-8, not JSON, or JSON
 * that is not an object. Lone surrogates written as `\uD8xx` escapes become U+FFFD (see well-formed.ts).
 * `utf8` must be a fatal TextDecoder (one per decoder, reused).
 */
export function parseJsonRecord(bytes: Uint8Array, utf8: TextDecoder, maxBytes: number): Json {
  if (bytes.length > maxBytes)
    throw new RecordProblem('too-large', `${bytes.length} bytes exceeds the limit of ${maxBytes}`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new RecordProblem('malformed', 'not valid UTF-8');
  }
  let doc: unknown;
  try {
    doc = parseWellFormedJson(text);
  } catch (e) {
    throw new RecordProblem('malformed', `not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new RecordProblem('malformed', 'a record must be a JSON object');
  return doc;
}
