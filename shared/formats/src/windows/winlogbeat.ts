/**
 * `winlogbeat`: Winlogbeat / Elastic Agent JSON for Windows event logs: the event under `winlog`
 * (`channel`, `event_id`, `computer_name`, `record_id`, `provider_name`, `event_data`, `user`), plus
 * whatever ECS fields the shipper's processors or ingest pipeline already set. Event data is mapped
 * like flat-windows (same Windows field names); ECS fields the document carries win over ours, so a
 * shipper's `event.action` ("File created (rule: FileCreate)") or `user.id` is kept as it wrote it.
 * System Level, Task and Opcode come as names (`log.level`, `winlog.task`, `winlog.opcode`), which do not
 * give the numbers back: the model's `winlog.*_raw` stay null unless the shipper sends the `_raw`
 * numbers; Keywords only for a Security audit (system-numbers.ts says why).
 */
import type { SequorEvent } from '@sequor/model';
import type { SourceFormat } from '../types.js';
import type { JsonMapContext } from './decoder.js';
import { originOf } from '../origin.js';
import { JsonLinesDecoder, sniffJson } from './decoder.js';
import { ecsEventId, overlayEcsFields } from './ecs-fields.js';
import { eventDataOf, eventDataOfObject, withUnnamedData } from '../event-data.js';
import { windowsEventId } from './event-id.js';
import { readChannel, readEventCode } from './flat-windows.js';
import { applyIdentity } from './identity-step.js';
import { RecordProblem } from './problem.js';
import type { Json } from './values.js';
import { describe, isObject, readInteger, readString, readTimestamp } from './values.js';
import { mapWindowsEvent } from './windows-event.js';
import {
  keywordsFromNames,
  keywordsMask,
  MAX_LEVEL,
  MAX_OPCODE,
  MAX_TASK,
  systemInteger,
} from './system-numbers.js';

export const WINLOGBEAT = 'winlogbeat';

const noEventData: Json = Object.freeze({});

function objectField(doc: Json, key: string, field: string): Json | null {
  const v = doc[key];
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new RecordProblem('wrong-type', `${field}: expected an object, got ${describe(v)}`);
  return v;
}

export function mapWinlogbeat(doc: Json, ctx: JsonMapContext): SequorEvent {
  const winlog = objectField(doc, 'winlog', 'winlog');
  if (winlog === null) throw new RecordProblem('missing-field', 'winlog is missing');
  const event = objectField(doc, 'event', 'event');
  const host = objectField(doc, 'host', 'host');
  const code = readEventCode(winlog['event_id'] ?? event?.['code'], 'winlog.event_id');
  const channel = readChannel(winlog['channel'], 'winlog.channel');
  const timestamp = readTimestamp(doc['@timestamp'], '@timestamp', false);
  const computerName =
    readString(winlog['computer_name'], 'winlog.computer_name') ?? readString(host?.['name'], 'host.name');
  const recordId = readInteger(winlog['record_id'], 'winlog.record_id');
  const logUser = objectField(winlog, 'user', 'winlog.user');
  const data = objectField(winlog, 'event_data', 'winlog.event_data') ?? noEventData;
  const provider = readString(winlog['provider_name'], 'winlog.provider_name');

  const ev = mapWindowsEvent(
    {
      timestamp,
      eventId: windowsEventId(ecsEventId(doc), computerName, channel.name, recordId, ctx.bytes),
      code,
      channel,
      computerName,
      recordId,
      provider,
      logUser:
        logUser === null
          ? null
          : {
              id: readString(logUser['identifier'], 'winlog.user.identifier'),
              name: readString(logUser['name'], 'winlog.user.name'),
              domain: readString(logUser['domain'], 'winlog.user.domain'),
            },
      format: ctx.format,
      // Winlogbeat ships names (log.level, winlog.task, winlog.opcode): only the `_raw` numbers are exact.
      numbers: {
        level: systemInteger(winlog['level_raw'], MAX_LEVEL),
        keywords:
          keywordsMask(winlog['keywords_raw'], ctx.bytes, 'keywords_raw') ??
          keywordsFromNames(winlog['keywords'], provider),
        task: systemInteger(winlog['task_raw'], MAX_TASK),
        opcode: systemInteger(winlog['opcode_raw'], MAX_OPCODE),
      },
    },
    data,
    ctx.identity,
  );
  overlayEcsFields(ev, doc);
  const evWinlog = ev.winlog as NonNullable<SequorEvent['winlog']>;
  // The channel keeps its canonical spelling whatever the shipper wrote.
  evWinlog.channel = channel.name;
  // Winlogbeat writes UserData (events without EventData: 1102, Task Scheduler's) under user_data.
  // Unnamed <Data> (param1..N) also as `Data`, as the evtx crate has it (event-data.ts).
  evWinlog.event_data =
    data !== noEventData ? withUnnamedData(eventDataOf(data)) : eventDataOfObject(winlog['user_data']);
  applyIdentity(ev, readString(host?.['id'], 'host.id'), computerName, ctx.identity);
  ev.origin = originOf(ctx);
  return ev;
}

export const winlogbeatFormat: SourceFormat = {
  name: WINLOGBEAT,
  description:
    'Winlogbeat / Elastic Agent Windows event JSON (winlog.*, optionally with ECS fields from the shipper)',
  createDecoder: (options) => new JsonLinesDecoder(WINLOGBEAT, mapWinlogbeat, options),
  sniff(firstLine) {
    const doc = sniffJson(firstLine);
    return doc !== undefined && hasWinlogChannel(doc);
  },
};

/**
 * Winlogbeat always writes `winlog.channel` (the decoder requires it); an ECS document may carry a
 * `winlog` object without one (Elastic Agent integrations copy a few winlog fields) and is read as ECS.
 */
export function hasWinlogChannel(doc: Json): boolean {
  const winlog = doc['winlog'];
  return isObject(winlog) && 'channel' in winlog;
}
