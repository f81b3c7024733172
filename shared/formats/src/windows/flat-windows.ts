/**
 * `flat-windows`: Windows events as flat JSON, one object per line, the shape of the public
 * Security-Datasets (Mordor) captures: `EventID`, `Channel`, `Hostname`, `@timestamp` and the
 * event's EventData fields at the top level; nxlog-collected lines add `RecordNumber`, `UserID`,
 * `AccountName`, `Domain` (the account the event was logged under).
 */
import type { SourceFormat } from '../types.js';
import type { KnownChannel } from './channels.js';
import { lookupChannel } from './channels.js';
import type { JsonMapContext } from './decoder.js';
import { JsonLinesDecoder, originOf, sniffJson } from './decoder.js';
import { windowsEventId } from './event-id.js';
import { RecordProblem } from './problem.js';
import type { Json } from './values.js';
import { describe, readInteger, readString, readTimestamp } from './values.js';
import { mapWindowsEvent } from './windows-event.js';
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
  const channel = lookupChannel(v);
  if (channel === undefined)
    throw new RecordProblem(
      'unsupported-event',
      `channel ${JSON.stringify(v)} is not one the Windows formats map`,
    );
  return channel;
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
    },
    doc,
    ctx.identity,
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
