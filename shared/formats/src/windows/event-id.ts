import { eventIdFromContent, eventIdFromParts } from '@sequor/model';

/**
 * A Windows event's id, the same whatever carried it: the shipper's ECS `event.id` when it set one;
 * else computer + channel + record number (lower-cased: collectors disagree on case), which is unique
 * per machine and log; else a hash of the raw record.
 */
export function windowsEventId(
  ecsId: string | null,
  computerName: string | null,
  channel: string,
  recordId: number | null,
  bytes: Uint8Array,
): string {
  if (ecsId !== null) return ecsId;
  if (computerName !== null && recordId !== null)
    return eventIdFromParts('winlog', computerName.toLowerCase(), channel.toLowerCase(), recordId);
  return eventIdFromContent(bytes);
}
