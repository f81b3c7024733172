/**
 * Windows events as the `evtx` crate renders them to JSON (SigmaHQ's regression data), as field sources
 * with the names SigmaHQ's rules use: the EventData (or UserData) names as they are, and from System
 * `EventID`, `Channel`, `Computer`, `Provider_Name`, `Security_UserID`, `TimeCreated_SystemTime`, ...
 *
 * What such a document means, and where each one ends in a file, has one home: the `evtx-json` source
 * format in `@sequor/formats` (`readEvtxDocument`, `frameJsonDocuments`), which `sequor detect` and the
 * normalizer read the same files with. This module only turns its reading into a `FieldSource`, keeping
 * the values' JSON types (`EventID` is the number 1, as the rules' values are compared).
 */
import type { EvtxValue } from '@sequor/formats';
import { frameJsonDocuments, readEvtxDocument, RecordProblem } from '@sequor/formats';
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
 * documents, each with the 1-based line it starts on; the first one that is not JSON throws.
 */
export function splitJsonDocuments(text: string): { value: unknown; line: number }[] {
  return frameJsonDocuments(text).map(({ bytes, line }) => {
    try {
      return { value: JSON.parse(bytes.toString('utf8')) as unknown, line: line + 1 };
    } catch (error) {
      throw new EvtxJsonError(`not JSON: ${(error as Error).message}`, line + 1);
    }
  });
}

/** One evtx-JSON event (`{ "Event": { "System": …, "EventData": … } }`) as a field source. */
export function evtxFieldSource(document: unknown): FieldSource {
  let read;
  try {
    read = readEvtxDocument(document);
  } catch (error) {
    if (error instanceof RecordProblem) throw new EvtxJsonError(error.message, 0);
    throw error;
  }
  const fields = new Map<string, FieldValue>();
  const add = (values: Readonly<Record<string, EvtxValue>>): void => {
    for (const name in values) fields.set(name, values[name]);
  };
  // System's names are set last: they win over an EventData entry of the same name.
  add(read.data);
  add(read.system);
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
