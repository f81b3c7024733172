import { createHash } from 'node:crypto';

/** Bumped if the encoding below ever changes, so old and new ids cannot be confused. */
const ALERT_ID_DOMAIN = 'sequor.alert.v1';

/**
 * The deterministic id of an alert: sha256 (hex, first 32 chars = 128 bits) over the rule id, the rule
 * version and the evidence `event.id`s in order. Every part is length-prefixed (UTF-8 byte length as a
 * 4-byte big-endian integer), so no two different inputs share an encoding (`["ab","c"]` vs
 * `["a","bc"]`). Re-processing the same events (a replay, a rebalance) gives the same id, which is how
 * downstream consumers deduplicate; the order of the evidence is part of the identity.
 *
 * @example
 * alertId('elastic-remote-sam', 1, ['evt-logon', 'evt-file']); // '3f0c…' (32 hex chars)
 */
export function alertId(
  ruleId: string,
  ruleVersion: number | string,
  evidenceEventIds: readonly string[],
): string {
  const hash = createHash('sha256');
  writePart(hash, ALERT_ID_DOMAIN);
  writePart(hash, ruleId);
  writePart(hash, String(ruleVersion));
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32BE(evidenceEventIds.length, 0);
  hash.update(count);
  for (const id of evidenceEventIds) writePart(hash, id);
  return hash.digest('hex').slice(0, 32);
}

function writePart(hash: ReturnType<typeof createHash>, part: string): void {
  const bytes = Buffer.from(part, 'utf8');
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(bytes.length, 0);
  hash.update(length);
  hash.update(bytes);
}
