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

const templates = new Map<string, Record<string, null>>();
const walk = (rec: SchemaRecord, path: string): void => {
  const t: Record<string, null> = {};
  for (const f of rec.fields) {
    t[f.name] = null;
    const child = recordOf(f.type);
    if (child !== undefined) walk(child, path === '' ? f.name : `${path}.${f.name}`);
  }
  // Not frozen: spreading a frozen object takes a slow path in V8 (about 5x).
  templates.set(path, t);
};
walk(eventSchema as unknown as SchemaRecord, '');

/** The path of a group of the event model, as blank() takes it: `process.parent`. */
export type GroupPath = keyof Groups;

/** A fresh group with every field null (required ones too: the mapper sets them). */
export function blank<K extends keyof Groups>(path: K): Groups[K] {
  const t = templates.get(path);
  if (t === undefined) throw new Error(`no group ${path} in the event schema`);
  return { ...t } as unknown as Groups[K];
}

/** A fresh event with every group null; `timestamp`, `event` and `origin` are set by the caller. */
export function blankEvent(): SequorEvent {
  return { ...(templates.get('') as object) } as SequorEvent;
}
