/**
 * Windows events as the `evtx` crate renders them to JSON (SigmaHQ's regression data): `Event.System`
 * with XML attributes under `#attributes`, `Event.EventData` (or `Event.UserData`'s one element) as a flat
 * object. This module reads such files and gives each event as a `FieldSource` with the names SigmaHQ's
 * rules use: the EventData names as they are, and from System `EventID`, `Channel`, `Computer`,
 * `Provider_Name`, `Provider_Guid`, `Security_UserID`, `Level`, `Task`, `Opcode`, `Keywords`, `Version`,
 * `EventRecordID`, `Execution_ProcessID`, `Execution_ThreadID`, `TimeCreated_SystemTime`. It becomes the
 * `evtx` input format later.
 */
import type { FieldSource, FieldValue } from './field-source.js';

/** A document that is not JSON, or not an evtx event, with the 1-based line where it starts. */
export class EvtxJsonError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'EvtxJsonError';
  }
}

/**
 * Splits text holding JSON documents one after another (pretty-printed, or one per line) into the
 * documents. A scan for the end of each top-level value (strings and escapes respected), then `JSON.parse`.
 */
export function splitJsonDocuments(text: string): { value: unknown; line: number }[] {
  const out: { value: unknown; line: number }[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) line += 1;
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) {
      i += 1;
      continue;
    }
    if (c !== 123 && c !== 91) throw new EvtxJsonError(`expected a JSON object, found \`${text[i]}\``, line);
    const start = i;
    const startLine = line;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const d = text.charCodeAt(i);
      if (d === 10) line += 1;
      if (inString) {
        if (d === 92) i += 1;
        else if (d === 34) inString = false;
        continue;
      }
      if (d === 34) inString = true;
      else if (d === 123 || d === 91) depth += 1;
      else if (d === 125 || d === 93) {
        depth -= 1;
        if (depth === 0) {
          i += 1;
          break;
        }
      }
    }
    if (depth !== 0) throw new EvtxJsonError('a JSON document is not closed', startLine);
    try {
      out.push({ value: JSON.parse(text.slice(start, i)) as unknown, line: startLine });
    } catch (error) {
      throw new EvtxJsonError(`not JSON: ${(error as Error).message}`, startLine);
    }
  }
  return out;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalar(v: unknown): FieldValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (isObject(v) && '#text' in v) return scalar(v['#text']);
  if (Array.isArray(v)) return v.map((x) => String(scalar(x) ?? '')).join('\n');
  return undefined;
}

function attribute(system: Json, element: string, name: string): FieldValue {
  const e = system[element];
  if (!isObject(e)) return undefined;
  const attrs = e['#attributes'];
  return isObject(attrs) ? scalar(attrs[name]) : undefined;
}

/** One evtx-JSON event (`{ "Event": { "System": …, "EventData": … } }`) as a field source. */
export function evtxFieldSource(document: unknown): FieldSource {
  const event = isObject(document) && isObject(document['Event']) ? document['Event'] : null;
  if (event === null) throw new EvtxJsonError('not an evtx event: no `Event` object', 0);
  const system = isObject(event['System']) ? event['System'] : {};
  const fields = new Map<string, FieldValue>();
  let data: unknown = event['EventData'];
  if (!isObject(data) && isObject(event['UserData'])) {
    // UserData holds one element named by the provider (`<TaskDisabled>`): its children are the fields.
    const inner = Object.entries(event['UserData']).find(([k]) => k !== '#attributes');
    data = inner?.[1];
  }
  if (isObject(data)) {
    for (const [k, v] of Object.entries(data)) {
      if (k === '#attributes') continue;
      const s = scalar(v);
      if (s !== undefined) fields.set(k, s);
    }
  }
  for (const k of [
    'EventID',
    'Channel',
    'Computer',
    'Level',
    'Task',
    'Opcode',
    'Keywords',
    'Version',
    'EventRecordID',
  ]) {
    const s = scalar(system[k]);
    if (s !== undefined) fields.set(k, s);
  }
  const attrs: [string, string, string][] = [
    ['Provider_Name', 'Provider', 'Name'],
    ['Provider_Guid', 'Provider', 'Guid'],
    ['Security_UserID', 'Security', 'UserID'],
    ['Execution_ProcessID', 'Execution', 'ProcessID'],
    ['Execution_ThreadID', 'Execution', 'ThreadID'],
    ['TimeCreated_SystemTime', 'TimeCreated', 'SystemTime'],
  ];
  for (const [name, element, attr] of attrs) {
    const s = attribute(system, element, attr);
    if (s !== undefined) fields.set(name, s);
  }
  return {
    get: (field) => fields.get(field),
    values: () => fields.values(),
  };
}

/** Every event of an evtx-JSON file's text, as field sources. */
export function readEvtxJson(text: string): FieldSource[] {
  return splitJsonDocuments(text).map(({ value, line }) => {
    try {
      return evtxFieldSource(value);
    } catch (error) {
      if (error instanceof EvtxJsonError)
        throw new EvtxJsonError(error.message.replace(/^line 0: /, ''), line);
      throw error;
    }
  });
}
