import type { NormalizeReason } from '../types.js';

/**
 * Why one Zeek record (a TSV line or a JSON object) could not be read. The readers are pure and know
 * nothing of topics or offsets; the decoder wraps this into a NormalizeError with the record's origin.
 */
export class ZeekRecordError extends Error {
  constructor(
    readonly reason: Extract<
      NormalizeReason,
      'wrong-type' | 'missing-field' | 'bad-header' | 'column-count' | 'malformed'
    >,
    message: string,
  ) {
    super(message);
    this.name = 'ZeekRecordError';
  }
}
