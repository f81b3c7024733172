import { eventIdFromContent, eventIdFromPartText, eventIdPart } from '@sequor/model';

const WINLOG_PART = eventIdPart('winlog');
/** The id text of each channel, by canonical name: a handful of known channels, written once each. */
const channelParts = new Map<string, string>();

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
  if (computerName !== null && recordId !== null) {
    let channelPart = channelParts.get(channel);
    if (channelPart === undefined) {
      channelPart = eventIdPart(channel.toLowerCase());
      channelParts.set(channel, channelPart);
    }
    // = eventIdFromParts('winlog', computerName.toLowerCase(), channel.toLowerCase(), recordId)
    return eventIdFromPartText(
      WINLOG_PART + eventIdPart(computerName.toLowerCase()) + channelPart + eventIdPart(recordId),
    );
  }
  return eventIdFromContent(bytes);
}
