/**
 * A Zeek log as a SourceFormat. One format name reads both encodings, sniffing each record: a JSON
 * object starts with `{`, a TSV line never does (it starts with `#` or a timestamp). TSV needs the
 * `#fields` header seen earlier in the same stream, so each decoder keeps its own header and the
 * column plan compiled from it.
 */
import type { SequorEvent } from '@sequor/model';
import type { DecoderOptions, RecordDecoder, RecordOrigin, SourceFormat } from '../types.js';
import { NormalizeError } from '../types.js';
import type { ZeekColumn } from './columns.js';
import { ZeekRecordError } from './errors.js';
import { zeekEventId } from './event.js';
import { zeekFieldsFromJson, zeekFieldsFromTsv } from './fields.js';
import type { ZeekLogSpec } from './log-spec.js';
import type { ZeekTsvPlan } from './rows.js';
import { compileTsvPlan, parseZeekJson, rowFromJson, rowFromTsv } from './rows.js';
import { ZEEK_ANY_LOG, zeekJsonLogSpec, zeekLogSpecFor } from './logs/any-log.js';
import type { ZeekTsvHeader } from './tsv.js';
import { ZeekTsvReader } from './tsv.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const OPEN_BRACE = 0x7b;
const BYTE_ORDER_MARK = 0xfeff;

/**
 * Which log a record is: one fixed log (a per-log format such as `zeek-conn`), or any log, named by the
 * TSV header's `#path` or the JSON record's `_path` (the `zeek` format: `logs/any-log.ts`).
 */
export interface ZeekLogChoice {
  readonly formatName: string;
  /** The spec for a TSV header's `#path` (null when the header has none). */
  forTsv(path: string | null): ZeekLogSpec;
  forJson(record: Readonly<Record<string, unknown>>): ZeekLogSpec;
  /** The format name the events of `spec` carry. */
  formatOf(spec: ZeekLogSpec): string;
}

/**
 * One log's format. A TSV header naming another log (logs concatenated into one file, or piped in
 * together: a `#path dns` after a conn log), or a JSON record whose `_path` does, is read with that log's
 * spec, as the `zeek` format reads it, and its events carry that format's name: a row is never read with
 * another log's columns.
 */
function fixedLog(spec: ZeekLogSpec): ZeekLogChoice {
  return {
    formatName: spec.formatName,
    forTsv: (path) => (path === null || path === spec.path ? spec : zeekLogSpecFor(path, '#path')),
    // A JSON record that names another log by `_path` is that log's, likewise.
    forJson: (record) =>
      typeof record['_path'] === 'string' && record['_path'] !== spec.path ? zeekJsonLogSpec(record) : spec,
    formatOf: (used) => (used === spec ? spec.formatName : ZEEK_ANY_LOG),
  };
}

const anyLog: ZeekLogChoice = {
  formatName: ZEEK_ANY_LOG,
  forTsv(path) {
    if (path === null)
      throw new ZeekRecordError('bad-header', '#fields without a #path: the zeek format names the log by it');
    return zeekLogSpecFor(path, '#path');
  },
  forJson: zeekJsonLogSpec,
  formatOf: () => ZEEK_ANY_LOG,
};

/** Decodes one stream (topic-partition or file) of one Zeek log (or, for the `zeek` format, of any). */
export class ZeekDecoder<C extends readonly ZeekColumn[]> implements RecordDecoder {
  private readonly logs: ZeekLogChoice;
  private readonly tsv = new ZeekTsvReader();
  /** The header the plan (or the error) below was compiled for. */
  private planHeader: ZeekTsvHeader | null = null;
  private plan: ZeekTsvPlan | null = null;
  /** The spec the plan was compiled for. */
  private planSpec: ZeekLogSpec | null = null;
  private planError: ZeekRecordError | null = null;

  /** The last checkpoint and the header it was written for: most commits see the same header. */
  private checkpointHeader: ZeekTsvHeader | null = null;
  private checkpointText: string | undefined;

  constructor(spec: ZeekLogSpec<C> | ZeekLogChoice) {
    this.logs = 'forTsv' in spec ? spec : fixedLog(spec as unknown as ZeekLogSpec);
  }

  /** The TSV header in force, as `zeek-tsv-header:1:<json>`; undefined outside a header's scope. */
  checkpoint(): string | undefined {
    const header = this.tsv.activeHeader;
    if (header === null) return undefined;
    if (header !== this.checkpointHeader) {
      this.checkpointHeader = header;
      this.checkpointText = `${CHECKPOINT_PREFIX}${JSON.stringify(header)}`;
    }
    return this.checkpointText;
  }

  resume(checkpoint: string): boolean {
    if (!checkpoint.startsWith(CHECKPOINT_PREFIX)) return false;
    let header: unknown;
    try {
      header = JSON.parse(checkpoint.slice(CHECKPOINT_PREFIX.length));
    } catch {
      return false;
    }
    if (!isTsvHeader(header)) return false;
    this.tsv.restore(header);
    // A header of the wrong log fails here, as its #fields line would have.
    try {
      this.planFor(this.tsv.header);
    } catch (err) {
      if (!(err instanceof ZeekRecordError)) throw err;
    }
    return true;
  }

  decode(value: Uint8Array, origin: RecordOrigin): readonly SequorEvent[] {
    let text: string;
    try {
      text = utf8.decode(value);
    } catch (err) {
      throw new NormalizeError('malformed', 'record is not valid UTF-8', this.logs.formatName, origin, {
        cause: err,
      });
    }
    let end = text.length;
    while (end > 0 && (text.charCodeAt(end - 1) === 0x0a || text.charCodeAt(end - 1) === 0x0d)) end--;
    const start = text.charCodeAt(0) === BYTE_ORDER_MARK ? 1 : 0;
    if (start !== 0 || end !== text.length) text = text.slice(start, end);
    if (text.length === 0) return [];
    try {
      return this.decodeText(text, origin);
    } catch (err) {
      if (err instanceof ZeekRecordError) {
        throw new NormalizeError(err.reason, err.message, this.logs.formatName, origin, { cause: err });
      }
      throw err;
    }
  }

  private decodeText(text: string, origin: RecordOrigin): readonly SequorEvent[] {
    let spec: ZeekLogSpec;
    let row;
    let fields: Record<string, string> | null;
    if (text.charCodeAt(0) === OPEN_BRACE) {
      const record = parseZeekJson(text);
      spec = this.logs.forJson(record);
      row = rowFromJson(spec.columns, record);
      fields = zeekFieldsFromJson(record);
      if (fields !== null) isoTimesAsSeconds(fields, spec.columns, record, row);
    } else {
      const line = this.tsv.read(text);
      if (line.kind === 'directive') {
        // Check a new header at once, so a log of the wrong kind fails on its #fields line.
        if (this.tsv.header.fields.length > 0) this.planFor(this.tsv.header);
        return [];
      }
      const plan = this.planFor(line.header);
      spec = this.planSpec as ZeekLogSpec;
      row = rowFromTsv(spec.columns, plan, line.values);
      fields = zeekFieldsFromTsv(line.header, line.values);
    }
    const eventId =
      spec.eventId === undefined ? zeekEventId(spec.path, spec.columns, row) : spec.eventId(row, fields);
    const event = spec.toEvent(row, { format: this.logs.formatOf(spec), origin, eventId });
    // The record's own fields, whatever the log's mapping took from them.
    event.zeek = { fields };
    return [event];
  }

  private planFor(header: ZeekTsvHeader): ZeekTsvPlan {
    if (header !== this.planHeader) {
      this.planHeader = header;
      this.plan = null;
      this.planSpec = null;
      this.planError = null;
      try {
        this.planSpec = this.logs.forTsv(header.path);
        this.plan = compileTsvPlan(header, this.planSpec.columns);
      } catch (err) {
        if (!(err instanceof ZeekRecordError)) throw err;
        this.planError = err;
      }
    }
    if (this.planError !== null) throw this.planError;
    return this.plan as ZeekTsvPlan;
  }
}

/**
 * A JSON log written with `JSON::TS_ISO8601` gives times as ISO text; `zeek.fields` keeps Zeek's seconds,
 * as the TSV log and the default JSON writer have them: the typed row's microseconds / 1e6, which is the
 * double the seconds text parses to (one correctly rounded division of exact integers).
 */
function isoTimesAsSeconds(
  fields: Record<string, string>,
  columns: readonly ZeekColumn[],
  record: Readonly<Record<string, unknown>>,
  row: object,
): void {
  for (const col of columns) {
    if (col.type !== 'time') continue;
    const micros = (row as Readonly<Record<string, unknown>>)[col.key];
    if (typeof micros !== 'number') continue;
    for (const name of col.names)
      if (typeof record[name] === 'string' && Object.hasOwn(fields, name))
        fields[name] = String(micros / 1e6);
  }
}

const CHECKPOINT_PREFIX = 'zeek-tsv-header:1:';

const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

/** The shape `checkpoint()` writes; anything else is not resumed from. */
function isTsvHeader(value: unknown): value is ZeekTsvHeader {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Record<string, unknown>;
  return (
    typeof h['separator'] === 'string' &&
    h['separator'] !== '' &&
    typeof h['setSeparator'] === 'string' &&
    typeof h['emptyField'] === 'string' &&
    typeof h['unsetField'] === 'string' &&
    (h['path'] === null || typeof h['path'] === 'string') &&
    isStrings(h['fields']) &&
    h['fields'].length > 0 &&
    (h['types'] === null || (isStrings(h['types']) && h['types'].length === h['fields'].length))
  );
}

const withoutByteOrderMark = (line: string): string =>
  line.charCodeAt(0) === BYTE_ORDER_MARK ? line.slice(1) : line;

/** `line` as a JSON object; null when it is not one (the sniffers' JSON half). */
function jsonObjectOf(line: string): Record<string, unknown> | null {
  if (line.charCodeAt(0) !== OPEN_BRACE) return null;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return null;
  }
  return typeof record === 'object' && record !== null && !Array.isArray(record)
    ? (record as Record<string, unknown>)
    : null;
}

/** True when `firstLine` is the start of a Zeek TSV log, or a JSON record of this log. */
function sniffZeek(spec: ZeekLogSpec, firstLine: string): boolean {
  const line = withoutByteOrderMark(firstLine);
  // Every Zeek TSV log starts with `#separator`, whatever its path: the header names the log only later.
  if (line.startsWith('#separator ')) return true;
  if (line.startsWith('#path')) return line.slice('#path'.length).trim() === spec.path;
  const keys = jsonObjectOf(line);
  if (keys === null) return false;
  // A record that names its log (`_path`) is the `zeek` format's: a stream of such records mixes logs
  // (Zeek's json-streaming-logs, one Kafka topic for all), and that format reads each by its own path.
  if ('_path' in keys) return false;
  return typeof keys['uid'] === 'string' && 'ts' in keys && spec.jsonSignature.every((k) => k in keys);
}

export function zeekSourceFormat<C extends readonly ZeekColumn[]>(spec: ZeekLogSpec<C>): SourceFormat {
  return {
    name: spec.formatName,
    description: spec.description,
    createDecoder(_options?: DecoderOptions): RecordDecoder {
      // Identity options do not apply: Zeek hosts are addresses (ip:<addr>), not names or agent ids.
      return new ZeekDecoder(spec);
    },
    sniff: (firstLine) => sniffZeek(spec as unknown as ZeekLogSpec, firstLine),
  };
}

/** True when `firstLine` starts a Zeek TSV log of any path, or is a JSON record that names its log. */
function sniffAnyZeek(firstLine: string): boolean {
  const line = withoutByteOrderMark(firstLine);
  if (line.startsWith('#separator ')) return true;
  if (line.startsWith('#path')) return line.slice('#path'.length).trim() !== '';
  const keys = jsonObjectOf(line);
  if (keys === null) return false;
  return typeof keys['_path'] === 'string' && 'ts' in keys;
}

/**
 * Every Zeek log, TSV or JSON: each record's log by its `#path` / `_path`; dce_rpc, smb_mapping,
 * smb_files and conn by their own mapping, the others by the common one (`logs/any-log.ts`).
 */
export const zeekAnyLogFormat: SourceFormat = {
  name: ZEEK_ANY_LOG,
  description:
    'Any Zeek log (TSV by #path, JSON by _path): its fields in zeek.fields, with time, connection and addresses',
  createDecoder: () => new ZeekDecoder(anyLog),
  sniff: sniffAnyZeek,
};
