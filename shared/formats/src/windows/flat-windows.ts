/**
 * `flat-windows`: Windows events as flat JSON, one object per line, the shape of the public
 * Security-Datasets (Mordor) captures: `EventID`, `Channel`, `Hostname`, `@timestamp` and the
 * event's EventData fields at the top level; nxlog-collected lines add `RecordNumber`, `UserID`,
 * `AccountName`, `Domain` (the account the event was logged under). System `Level`, `Keywords`, `Task`
 * and `Opcode` (NXLog: `OpcodeValue`; its `Keywords` a signed decimal) become `winlog.*_raw` where the
 * record gives the exact number (system-numbers.ts).
 */
import type { SourceFormat } from '../types.js';
import type { KnownChannel } from './channels.js';
import { lookupChannel } from './channels.js';
import type { JsonMapContext } from './decoder.js';
import { originOf } from '../origin.js';
import { JsonLinesDecoder, sniffJson } from './decoder.js';
import { eventDataOf } from '../event-data.js';
import { windowsEventId } from './event-id.js';
import { RecordProblem } from './problem.js';
import type { Json } from './values.js';
import { describe, readInteger, readString, readTimestamp } from './values.js';
import { mapWindowsEvent } from './windows-event.js';
import { keywordsMask, MAX_LEVEL, MAX_OPCODE, MAX_TASK, systemInteger } from './system-numbers.js';
import type { SequorEvent } from '@sequor/model';

export const FLAT_WINDOWS = 'flat-windows';

/** Windows event ids are 16-bit. */
export function readEventCode(v: unknown, field: string): number {
  if (v === undefined || v === null) throw new RecordProblem('missing-field', `${field} is missing`);
  const n = readInteger(v, field);
  if (n === null || n < 0 || n > 65535)
    throw new RecordProblem('wrong-type', `${field}: expected an event id 0..65535, got ${describe(v)}`);
  return n;
}

export function readChannel(v: unknown, field: string): KnownChannel {
  if (v === undefined || v === null) throw new RecordProblem('missing-field', `${field} is missing`);
  if (typeof v !== 'string')
    throw new RecordProblem('wrong-type', `${field}: expected a string, got ${describe(v)}`);
  if (v === '') throw new RecordProblem('wrong-type', `${field}: expected a channel name, got ""`);
  // A channel no mapping knows (Task Scheduler, WMI-Activity, ...) keeps its name as written: the event
  // gets the common fields and its own data (winlog.event_data), which is what Sigma rules for it read.
  return lookupChannel(v) ?? { name: v, kind: 'other' };
}

/**
 * The keys of a flat record that are not the event's own data: the header the model keeps elsewhere
 * (`EventID`, `Channel`, `Hostname`, `@timestamp`, `RecordNumber`, `SourceName`), nxlog's own fields
 * (im_msvistalog: the System element and the shipper's bookkeeping) and Logstash's. Every other top-level
 * key is an EventData name (`Image`, `TargetObject`, ...) and goes to `winlog.event_data`. `EventType` is
 * nxlog's when its value is one of nxlog's (`AUDIT_SUCCESS`, `INFO`, ...) and the record has no
 * `EventTypeOrignal` (the datasets' rename of nxlog's field when the event has an `EventType` of its own);
 * any other value is the event's own (Sysmon registry events: `CreateKey`, `SetValue`), with or without it.
 */
const FLAT_HEADER_KEYS: ReadonlySet<string> = new Set([
  'EventID',
  'Channel',
  'Hostname',
  'Computer',
  '@timestamp',
  'RecordNumber',
  'EventRecordID',
  'SourceName',
  // nxlog im_msvistalog
  'EventTime',
  'EventReceivedTime',
  'SourceModuleName',
  'SourceModuleType',
  'ProviderGuid',
  'Keywords',
  'Severity',
  'SeverityValue',
  'Version',
  'Task',
  'Opcode',
  'OpcodeValue',
  'Category',
  'ActivityID',
  'RelatedActivityID',
  'ExecutionProcessID',
  'ThreadID',
  'Domain',
  'AccountName',
  'UserID',
  'AccountType',
  'Message',
  'EventTypeOrignal',
  'ERROR_EVT_UNRESOLVED',
  'Level',
  'TimeCreated',
  // Logstash
  '@version',
  'host',
  'port',
  'tags',
]);
const FLAT_HEADER_KEYS_WITH_EVENT_TYPE: ReadonlySet<string> = new Set([...FLAT_HEADER_KEYS, 'EventType']);

/** nxlog im_msvistalog's `EventType` values (the event's level or audit result, not its data). */
const NXLOG_EVENT_TYPES: ReadonlySet<string> = new Set([
  'AUDIT_SUCCESS',
  'AUDIT_FAILURE',
  'CRITICAL',
  'ERROR',
  'WARNING',
  'INFO',
  'VERBOSE',
]);

/** Whether the record's `EventType` is nxlog's own field rather than the event's data. */
function nxlogEventType(doc: Json): boolean {
  const v = doc['EventType'];
  return !('EventTypeOrignal' in doc) && typeof v === 'string' && NXLOG_EVENT_TYPES.has(v);
}

export function mapFlatWindows(doc: Json, ctx: JsonMapContext): SequorEvent {
  const code = readEventCode(doc['EventID'], 'EventID');
  const channel = readChannel(doc['Channel'], 'Channel');
  const timestamp = readTimestamp(doc['@timestamp'], '@timestamp', false);
  const computerName = readString(doc['Hostname'], 'Hostname') ?? readString(doc['Computer'], 'Computer');
  const recordId = readInteger(doc['RecordNumber'] ?? doc['EventRecordID'], 'RecordNumber');
  const userId = readString(doc['UserID'], 'UserID');
  const userName = readString(doc['AccountName'], 'AccountName');
  const ev = mapWindowsEvent(
    {
      timestamp,
      eventId: windowsEventId(null, computerName, channel.name, recordId, ctx.bytes),
      code,
      channel,
      computerName,
      recordId,
      provider: readString(doc['SourceName'], 'SourceName'),
      logUser:
        userId === null && userName === null
          ? null
          : { id: userId, name: userName, domain: readString(doc['Domain'], 'Domain') },
      format: ctx.format,
      numbers: {
        level: systemInteger(doc['Level'], MAX_LEVEL),
        // NXLog writes the mask as a signed 64-bit decimal, past 2^53: checked against the record's text.
        keywords: keywordsMask(doc['Keywords'], ctx.bytes, 'Keywords'),
        task: systemInteger(doc['Task'], MAX_TASK),
        // NXLog: `Opcode` is the name ("Info"), `OpcodeValue` the number.
        opcode: systemInteger(doc['OpcodeValue'] ?? doc['Opcode'], MAX_OPCODE),
      },
    },
    doc,
    ctx.identity,
  );
  (ev.winlog as NonNullable<SequorEvent['winlog']>).event_data = eventDataOf(
    doc,
    nxlogEventType(doc) ? FLAT_HEADER_KEYS_WITH_EVENT_TYPE : FLAT_HEADER_KEYS,
  );
  ev.origin = originOf(ctx);
  return ev;
}

export const flatWindowsFormat: SourceFormat = {
  name: FLAT_WINDOWS,
  description:
    'Flat Windows event JSON (EventID, Channel, Hostname, @timestamp and EventData at the top level), as in Security-Datasets',
  createDecoder: (options) => new JsonLinesDecoder(FLAT_WINDOWS, mapFlatWindows, options),
  sniff(firstLine) {
    const doc = sniffJson(firstLine);
    return doc !== undefined && 'EventID' in doc && 'Channel' in doc && !('winlog' in doc);
  },
};
