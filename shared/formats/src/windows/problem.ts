import type { NormalizeReason } from '../types.js';

/**
 * Why one record cannot be normalized, thrown by the pure field readers (which know nothing of
 * topics and offsets); the decoder turns it into a NormalizeError carrying the record's origin.
 */
export class RecordProblem extends Error {
  constructor(
    readonly reason: NormalizeReason,
    message: string,
  ) {
    super(message);
    this.name = 'RecordProblem';
  }
}
