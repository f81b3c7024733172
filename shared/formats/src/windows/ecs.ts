/**
 * `ecs`: documents already in ECS (Elastic Endpoint events, or any shipper that wrote ECS): the event
 * model's fields are copied with their types checked, `@timestamp` parsed (ISO 8601 or epoch ms),
 * `file.Ext.header_bytes` and `file.size` kept. `event.id` is the document's, else a hash of the
 * record; host.id/user.id follow the identity rules. A document with no model field besides
 * `@timestamp` is refused (`unsupported-event`): there is nothing to detect on.
 */
import { eventIdFromContent } from '@sequor/model';
import type { SequorEvent } from '@sequor/model';
import type { SourceFormat } from '../types.js';
import { eventDataOfObject } from '../event-data.js';
import { blank, blankEvent } from './blank.js';
import type { JsonMapContext } from './decoder.js';
import { originOf } from '../origin.js';
import { JsonLinesDecoder, sniffJson } from './decoder.js';
import { ecsEventId, overlayEcsFields } from './ecs-fields.js';
import { applyIdentity } from './identity-step.js';
import { RecordProblem } from './problem.js';
import { hasWinlogChannel } from './winlogbeat.js';
import type { Json } from './values.js';
import { isObject, readString, readTimestamp } from './values.js';

export const ECS = 'ecs';

export function mapEcs(doc: Json, ctx: JsonMapContext): SequorEvent {
  const ev = blankEvent();
  ev.timestamp = readTimestamp(doc['@timestamp'], '@timestamp', true);
  ev.event = blank('event');
  const copied = overlayEcsFields(ev, doc);
  if (copied === 0)
    throw new RecordProblem(
      'unsupported-event',
      'the document has no field of the event model besides @timestamp',
    );
  // Elastic Agent's Windows integrations keep the event's own data under winlog.event_data, as Winlogbeat.
  const winlog = doc['winlog'];
  const eventData = isObject(winlog) ? eventDataOfObject(winlog['event_data']) : null;
  if (eventData !== null) (ev.winlog ??= blank('winlog')).event_data = eventData;
  ev.event.id = ecsEventId(doc) ?? eventIdFromContent(ctx.bytes);
  const host = doc['host'];
  const hostId = isObject(host) ? readString(host['id'], 'host.id') : readString(doc['host.id'], 'host.id');
  applyIdentity(ev, hostId, ev.host?.name ?? null, ctx.identity);
  ev.origin = originOf(ctx);
  return ev;
}

export const ecsFormat: SourceFormat = {
  name: ECS,
  description: 'ECS JSON (Elastic Endpoint and other ECS shippers): model fields copied with types checked',
  createDecoder: (options) => new JsonLinesDecoder(ECS, mapEcs, options),
  sniff(firstLine) {
    const doc = sniffJson(firstLine);
    return doc !== undefined && isObject(doc['event']) && '@timestamp' in doc && !hasWinlogChannel(doc);
  },
};
