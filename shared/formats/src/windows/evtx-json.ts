/**
 * `evtx-json`: Windows events as the Rust `evtx` crate renders them to JSON (`evtx_dump -o json|jsonl`,
 * Hayabusa and Chainsaw read the same; SigmaHQ's regression data is this): XML turned into objects, so
 * `Event.System` holds the header with XML attributes under `#attributes` (or `<Name>_attributes` with
 * `--separate-json-attributes`), an element with attributes and text as `{ "#attributes", "#text" }`, and
 * the event's own data in `Event.EventData` (named `<Data>` elements as keys) or `Event.UserData` (one
 * provider-named element whose children are the fields).
 *
 * One home for what such a document means: this module reads the header by the names SigmaHQ's rules use
 * (`readEvtxDocument`, which `@sequor/sigma` builds its field source on) and maps the event to the model
 * with the mapping every Windows format shares (`mapWindowsEvent`), EventData given as flat values, and
 * keeps that data whole in `winlog.event_data` (`eventDataOf`, the text and bounds every format shares).
 * Channels the other Windows formats refuse are read too (their header and data, no per-event mapping):
 * Sigma rules name many channels (Task Scheduler, WMI, ...) and the rendering is unambiguous.
 */
import type { SequorEvent } from '@sequor/model';
import { eventDataOf } from '../event-data.js';
import type { SourceFormat } from '../types.js';
import type { KnownChannel } from './channels.js';
import { lookupChannel } from './channels.js';
import type { JsonMapContext } from './decoder.js';
import { originOf } from '../origin.js';
import { JsonLinesDecoder, sniffJson } from './decoder.js';
import { windowsEventId } from './event-id.js';
import { readEventCode } from './flat-windows.js';
import { RecordProblem } from './problem.js';
import type { Json } from './values.js';
import { describe, isObject, readInteger, readString, readTimestamp } from './values.js';
import { mapWindowsEvent } from './windows-event.js';
import { keywordsMask, MAX_LEVEL, MAX_OPCODE, MAX_TASK, systemInteger } from './system-numbers.js';

export const EVTX_JSON = 'evtx-json';

/** A value of the flattened event: what an XML element's text becomes in the crate's JSON. */
export type EvtxValue = string | number | boolean | null;

/** One evtx-JSON event: its header by SigmaHQ's names and its own data, both flat. */
export interface EvtxDocument {
  /**
   * `Event.System` by the names SigmaHQ's rules use (`evtxSystemFields`): `EventID`, `Channel`, ...,
   * `Provider_Name`, `TimeCreated_SystemTime`. Only the ones present.
   */
  readonly system: Readonly<Record<string, EvtxValue>>;
  /** `EventData`'s named values (or `UserData`'s one element's children), `#attributes` left out. */
  readonly data: Readonly<Record<string, EvtxValue>>;
}

/** The System fields SigmaHQ's rules read: [name, element, attribute (undefined: the element's text)]. */
export const evtxSystemFields: readonly (readonly [string, string, string | undefined])[] = Object.freeze([
  ['EventID', 'EventID', undefined],
  ['Channel', 'Channel', undefined],
  ['Computer', 'Computer', undefined],
  ['Level', 'Level', undefined],
  ['Task', 'Task', undefined],
  ['Opcode', 'Opcode', undefined],
  ['Keywords', 'Keywords', undefined],
  ['Version', 'Version', undefined],
  ['EventRecordID', 'EventRecordID', undefined],
  ['Provider_Name', 'Provider', 'Name'],
  ['Provider_Guid', 'Provider', 'Guid'],
  ['Security_UserID', 'Security', 'UserID'],
  ['Execution_ProcessID', 'Execution', 'ProcessID'],
  ['Execution_ThreadID', 'Execution', 'ThreadID'],
  ['TimeCreated_SystemTime', 'TimeCreated', 'SystemTime'],
]);

const noData: Readonly<Record<string, EvtxValue>> = Object.freeze({});

/**
 * An element's value: a scalar as it is; `{ "#text": ... }` (an element with attributes) its text; a list
 * (repeated elements, unnamed `<Data>`) its items' text joined by newlines. Undefined for anything else
 * (an element with children only). Never recursive beyond one list level, whatever the nesting.
 */
export function evtxValue(v: unknown): EvtxValue | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) {
    let text = '';
    for (let i = 0; i < v.length; i++) {
      const item = textOf(v[i]);
      text = i === 0 ? item : `${text}\n${item}`;
    }
    return text;
  }
  if (isObject(v) && '#text' in v) {
    const t = v['#text'];
    return Array.isArray(t) || !isObject(t) ? evtxValue(t) : undefined;
  }
  return undefined;
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isObject(v)) {
    const t = v['#text'];
    if (typeof t === 'string') return t;
    if (typeof t === 'number' || typeof t === 'boolean') return String(t);
  }
  return '';
}

function attributeOf(system: Json, element: string, name: string): EvtxValue | undefined {
  const e = system[element];
  const attrs = isObject(e) ? e['#attributes'] : system[`${element}_attributes`];
  return isObject(attrs) ? evtxValue(attrs[name]) : undefined;
}

/** The `Event` object of a document, or a RecordProblem saying why there is none. */
function eventOf(doc: unknown): Json {
  if (!isObject(doc)) throw new RecordProblem('malformed', 'an evtx event must be a JSON object');
  const event = doc['Event'];
  if (event === undefined) throw new RecordProblem('missing-field', 'not an evtx event: no `Event` object');
  if (!isObject(event))
    throw new RecordProblem('wrong-type', `Event: expected an object, got ${describe(event)}`);
  return event;
}

/** Reads one document (`{ "Event": { "System": ..., "EventData" | "UserData": ... } }`). Throws RecordProblem. */
export function readEvtxDocument(doc: unknown): EvtxDocument {
  const event = eventOf(doc);
  const system: Record<string, EvtxValue> = {};
  const header = event['System'];
  if (header !== undefined && header !== null && !isObject(header))
    throw new RecordProblem('wrong-type', `Event.System: expected an object, got ${describe(header)}`);
  if (isObject(header)) {
    for (const [name, element, attribute] of evtxSystemFields) {
      const v =
        attribute === undefined ? evtxValue(header[element]) : attributeOf(header, element, attribute);
      if (v !== undefined) system[name] = v;
    }
  }
  return { system, data: readEventData(event) };
}

/** Whether `key` is the attributes of a sibling element (`<Name>_attributes` beside `<Name>`). */
function separateAttributes(parent: Json, key: string): boolean {
  return key.endsWith('_attributes') && Object.hasOwn(parent, key.slice(0, -'_attributes'.length));
}

function readEventData(event: Json): Readonly<Record<string, EvtxValue>> {
  let data: unknown = event['EventData'];
  if (!isObject(data)) {
    const user = event['UserData'];
    if (!isObject(user)) return noData;
    // UserData holds one element named by the provider (`<TaskDisabled>`): its children are the fields.
    // With `--separate-json-attributes` its attributes come first, as `<TaskDisabled>_attributes`.
    data = undefined;
    for (const key in user) {
      if (key !== '#attributes' && !separateAttributes(user, key)) {
        data = user[key];
        break;
      }
    }
    if (!isObject(data)) return noData;
  }
  const out: Record<string, EvtxValue> = {};
  for (const key in data) {
    if (key === '#attributes' || separateAttributes(data as Json, key)) continue;
    const v = evtxValue(data[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Channels no Windows format maps per event keep their name as written: header and data only. */
function channelOf(v: EvtxValue | undefined): KnownChannel {
  if (v === undefined || v === null)
    throw new RecordProblem('missing-field', 'Event.System.Channel is missing');
  if (typeof v !== 'string' || v === '')
    throw new RecordProblem('wrong-type', `Event.System.Channel: expected a name, got ${describe(v)}`);
  return lookupChannel(v) ?? { name: v, kind: 'other' };
}

export function mapEvtxJson(doc: Json, ctx: JsonMapContext): SequorEvent {
  const { system, data } = readEvtxDocument(doc);
  const code = readEventCode(system['EventID'], 'Event.System.EventID');
  const channel = channelOf(system['Channel']);
  const timestamp = readTimestamp(
    system['TimeCreated_SystemTime'],
    'Event.System.TimeCreated.SystemTime',
    false,
  );
  const computerName = readString(system['Computer'], 'Event.System.Computer');
  const recordId = readInteger(system['EventRecordID'], 'Event.System.EventRecordID');
  const userId = readString(system['Security_UserID'], 'Event.System.Security.UserID');
  const ev = mapWindowsEvent(
    {
      timestamp,
      eventId: windowsEventId(null, computerName, channel.name, recordId, ctx.bytes),
      code,
      channel,
      computerName,
      recordId,
      provider: readString(system['Provider_Name'], 'Event.System.Provider.Name'),
      logUser: userId === null ? null : { id: userId, name: null, domain: null },
      format: ctx.format,
      numbers: {
        level: systemInteger(system['Level'], MAX_LEVEL),
        keywords: keywordsMask(system['Keywords'], ctx.bytes, 'Keywords'),
        task: systemInteger(system['Task'], MAX_TASK),
        opcode: systemInteger(system['Opcode'], MAX_OPCODE),
      },
    },
    data,
    ctx.identity,
  );
  (ev.winlog as NonNullable<SequorEvent['winlog']>).event_data = eventDataOf(data);
  ev.origin = originOf(ctx);
  return ev;
}

/**
 * Whether a file's first lines begin a pretty-printed evtx document: `{` alone, then `"Event": {`, then
 * one of Event's members (`System`, `#attributes`, `EventData`, `UserData`); `Record <id>` lines (the
 * crate's wrapper) and blank lines before it are skipped. One document per line is sniffed line by line.
 */
export function sniffEvtxJsonHead(headLines: readonly string[]): boolean {
  let step = 0;
  for (const raw of headLines) {
    const line = raw.trim();
    if (line === '' || (step === 0 && recordLine.test(line))) continue;
    if (step === 0) {
      if (line.replace(/^\ufeff/, '') !== '{') return false;
      step = 1;
    } else if (step === 1) {
      if (!eventOpen.test(line)) return false;
      step = 2;
    } else return eventMember.test(line);
  }
  return false;
}

/** A binary `.evtx` log's first line: its file header starts with the magic `ElfFile\0`. */
export function isBinaryEvtx(firstLine: string): boolean {
  return firstLine.startsWith('ElfFile\u0000');
}

/** Why a binary `.evtx` log is not read: what to do instead. */
export const BINARY_EVTX_REASON =
  'a binary Windows event log (.evtx); convert it to JSON first (evtx_dump -o jsonl), which the evtx-json format reads';

const recordLine = /^Record \d+$/;
const eventOpen = /^"Event"\s*:\s*\{$/;
const eventMember = /^"(?:System|#attributes|EventData|UserData)"\s*:/;

export const evtxJsonFormat: SourceFormat = {
  name: EVTX_JSON,
  description:
    'Windows events as the evtx crate renders them to JSON (Event.System, Event.EventData): pretty-printed documents one after another, or one per line',
  createDecoder: (options) => new JsonLinesDecoder(EVTX_JSON, mapEvtxJson, options),
  framing: 'json-documents',
  sniff(firstLine) {
    const doc = sniffJson(firstLine);
    if (doc === undefined) return false;
    const event = doc['Event'];
    return isObject(event) && (isObject(event['System']) || isObject(event['#attributes']));
  },
  sniffHead: sniffEvtxJsonHead,
};
