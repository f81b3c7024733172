/**
 * Transport-independent event ids. Alert ids are hashes of evidence event ids, so the same raw record
 * must get the same id whether `sequor detect` reads it from a file or the normalizer reads it from any
 * Kafka offset: ids never include topic, partition, offset or arrival time.
 *
 * Order of preference, applied by each format: the source's own id (ECS `event.id`), else an id built
 * from the source's identity (`eventIdFromParts('winlog', computer, channel, recordId)`), else a hash of
 * the raw record (`eventIdFromContent`).
 */
import { createHash, hash } from 'node:crypto';

const CR = 0x0d;
const LF = 0x0a;

/** SHA-256, first 128 bits, lower-case hex (32 chars): collisions are not a concern at any realistic volume. */
function digest(h: ReturnType<typeof createHash>): string {
  return h.digest('hex').slice(0, 32);
}

/**
 * Id from the raw record bytes. A trailing CR/LF is ignored so a line read from a file (with or without
 * its line ending, CRLF or LF) and the same record as a Kafka value get one id.
 */
export function eventIdFromContent(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === LF || bytes[end - 1] === CR)) end--;
  const h = createHash('sha256');
  h.update('content\0');
  h.update(end === bytes.length ? bytes : bytes.subarray(0, end));
  return digest(h);
}

/**
 * Id from the parts that identify a record at its source, e.g. `('winlog', computerName, channel, recordId)`.
 * Parts are length-prefixed so `('a|b', 'c')` and `('a', 'b|c')` differ; callers normalize case first
 * where the source is inconsistent (Windows channel names appear as `Security` and `security`).
 */
export function eventIdFromParts(...parts: readonly (string | number | bigint)[]): string {
  let text = '';
  for (const p of parts) text += eventIdPart(p);
  return eventIdFromPartText(text);
}

/** One part as `eventIdFromParts` writes it into the text it hashes: `<length>:<part>\0`. */
export function eventIdPart(part: string | number | bigint): string {
  const s = String(part);
  return `${s.length}:${s}\0`;
}

/**
 * `eventIdFromParts` of parts already written with `eventIdPart` and joined, so a caller with constant
 * parts (a format name, a channel) writes them once, not per event:
 * `eventIdFromPartText(eventIdPart('winlog') + host + ...) === eventIdFromParts('winlog', host, ...)`.
 */
export function eventIdFromPartText(partText: string): string {
  // One-shot hash (Node >= 20.12): no Hash object per event, about 2-3x cheaper than createHash().update().
  return hash('sha256', `parts\0${partText}`, 'hex').slice(0, 32);
}
