/**
 * Empty groups of the event model, built once from the schema: every field null, nested groups null.
 * Mappers start from these so every event of a format has the same shape (one hidden class per group
 * in V8) and a field added to the schema later is present (null) without touching the mappers.
 */
import { eventSchema } from '@sequor/model';
import type {
  EventFile,
  EventFileExt,
  EventHost,
  EventMeta,
  EventNetwork,
  EventProcess,
  EventProcessParent,
  EventRegistry,
  EventRegistryData,
  EventSource,
  EventDestination,
  EventUser,
  EventWinlog,
  EventWinlogLogon,
  SequorEvent,
} from '@sequor/model';

interface Groups {
  event: EventMeta;
  host: EventHost;
  user: EventUser;
  source: EventSource;
  destination: EventDestination;
  network: EventNetwork;
  process: EventProcess;
  'process.parent': EventProcessParent;
  registry: EventRegistry;
  'registry.data': EventRegistryData;
  file: EventFile;
  'file.Ext': EventFileExt;
  winlog: EventWinlog;
  'winlog.logon': EventWinlogLogon;
}

interface SchemaRecord {
  readonly type: 'record';
  readonly fields: readonly { readonly name: string; readonly type: unknown }[];
}

function recordOf(t: unknown): SchemaRecord | undefined {
  const branch = Array.isArray(t) ? t.find((b) => b !== 'null') : t;
  return typeof branch === 'object' && branch !== null && (branch as { type?: unknown }).type === 'record'
    ? (branch as SchemaRecord)
    : undefined;
}

/**
 * One factory per group, generated once from the schema: an object literal with every field null, which
 * V8 clones from a boilerplate (about 3x cheaper than spreading a template, and one hidden class per
 * group). Field names are written with JSON.stringify: only the schema's names become code.
 */
const factories = new Map<string, () => Record<string, null>>();
const walk = (rec: SchemaRecord, path: string): void => {
  const fields: string[] = [];
  for (const f of rec.fields) {
    fields.push(`${JSON.stringify(f.name)}: null`);
    const child = recordOf(f.type);
    if (child !== undefined) walk(child, path === '' ? f.name : `${path}.${f.name}`);
  }
  factories.set(
    path,
    new Function(`return () => ({ ${fields.join(', ')} });`)() as () => Record<string, null>,
  );
};
walk(eventSchema as unknown as SchemaRecord, '');

/** The path of a group of the event model, as blank() takes it: `process.parent`. */
export type GroupPath = keyof Groups;

/** A fresh group with every field null (required ones too: the mapper sets them). */
export function blank<K extends keyof Groups>(path: K): Groups[K] {
  const make = factories.get(path);
  if (make === undefined) throw new Error(`no group ${path} in the event schema`);
  return make() as unknown as Groups[K];
}

const newEvent = factories.get('') as () => Record<string, null>;

/** A fresh event with every group null; `timestamp`, `event` and `origin` are set by the caller. */
export function blankEvent(): SequorEvent {
  return newEvent() as unknown as SequorEvent;
}
