import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SequorEvent } from '@sequor/model';
import type { DecoderOptions, NormalizeError, RecordOrigin } from '../../src/index.js';
import { getFormat, NormalizeError as NormalizeErrorClass } from '../../src/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const securityDatasets = path.resolve(repoRoot, '../shared/datasets/security-datasets');

const enc = new TextEncoder();

/** The lines of a dataset file (1-based line numbers as in an editor: lines[n - 1]). */
export function datasetLines(file: string): string[] {
  return readFileSync(path.join(securityDatasets, file), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

export function decodeOne(
  format: string,
  line: string | Uint8Array,
  options?: DecoderOptions,
  origin: RecordOrigin = { topic: 't', partition: 0, offset: 0 },
): SequorEvent {
  const events = getFormat(format)
    .createDecoder(options)
    .decode(typeof line === 'string' ? enc.encode(line) : line, origin);
  if (events.length !== 1) throw new Error(`expected one event, got ${events.length}`);
  return events[0] as SequorEvent;
}

export function decodeError(
  format: string,
  line: string | Uint8Array,
  options?: DecoderOptions,
): NormalizeError {
  try {
    decodeOne(format, line, options);
  } catch (e) {
    if (e instanceof NormalizeErrorClass) return e;
    throw e;
  }
  throw new Error('expected a NormalizeError');
}
