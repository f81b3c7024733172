/**
 * A normalized `SequorEvent` as a `FieldSource`, by the names the processing pipelines map Sigma's to:
 * what `evtx-json.ts` gives for the same Windows record, and Zeek's own names for Zeek records.
 *
 * | name | from |
 * |---|---|
 * | `Channel`, `EventID`, `Computer`, `EventRecordID` | `winlog.channel`, `winlog.event_id` (text), `winlog.computer_name`, `winlog.record_id` |
 * | `Level`, `Task`, `Opcode` (numbers), `Keywords` (hex text) | `winlog.level_raw`, `winlog.task_raw`, `winlog.opcode_raw`, `winlog.keywords_raw` |
 * | `Provider_Name` | `event.provider` (Windows events only) |
 * | any other name (`Image`, `TargetObject`, `NewProcessName`, …) | `winlog.event_data[name]` |
 * | `_path` | a Zeek event's log: `event.dataset` without `zeek.` |
 * | Zeek names (`query`, `id.orig_h`, …) | `zeek.fields[name]` |
 *
 * The System names come first (as in the evtx adapter, where System wins over an EventData of the same
 * name), with the evtx adapter's types: `Level: 4` and `Keywords: '0x8010000000000000'` match the same
 * events from either source. `Level`, `Keywords`, `Task` and `Opcode` are present where the input gave the
 * exact numbers (evtx JSON, flat Windows and NXLog; from Winlogbeat, which ships their names, only a
 * Security audit's Keywords: see `@sequor/formats` system-numbers.ts) and absent otherwise. System names
 * the model does not keep (`Version`, `Provider_Guid`, `Security_UserID`, `Execution_ProcessID`,
 * `Execution_ThreadID`, `TimeCreated_SystemTime`) read as absent; no rule of the SigmaHQ set reads them.
 *
 * Unnamed `<Data>` (classic PowerShell, Application) is `Data`, the items joined by newlines, from evtx
 * JSON and from Winlogbeat's `param1`…`paramN` alike (`withUnnamedData` in `@sequor/formats`).
 *
 * Fallbacks, only for an event without `winlog.event_data` (a source that does not ship the raw data,
 * such as Elastic Endpoint's ECS): the Sysmon names whose value an ECS field holds exactly (`Image` ←
 * `process.executable`, `CommandLine` ← `process.command_line`, `ParentImage`, `ParentCommandLine`,
 * `ProcessId`, `ParentProcessId`, `ProcessGuid`, `ParentProcessGuid`, `TargetObject` ← `registry.path`,
 * `TargetFilename` ← `file.path`, `SourceIp`/`SourcePort`/`DestinationIp`/`DestinationPort`). Where the
 * map is present it is the event's own word: a name it lacks is absent, never guessed from ECS.
 *
 * A model field by its own ECS name (`host.id`, `user.id`, `file.Ext.header_bytes`, `file.size`) reads
 * that field, for any event, when the event's data has no entry of that name: no Windows or Zeek name is
 * a catalog name, so nothing is guessed, and a rule written over ECS events (Elastic Endpoint's, or a
 * correlation's `group-by: host.id`, the key events are partitioned by) can say what it needs. Scalar
 * fields only (a list such as `event.category` has no one value); a projected decoder must keep the
 * names a rule reads this way besides `SEQUOR_EVENT_SIGMA_FIELDS`.
 *
 * One instance serves every event: `bind(event)` points it at the next one, nothing is allocated per
 * event or per field read. The fields it reads are `SEQUOR_EVENT_SIGMA_FIELDS`: a projected decoder
 * (the detector's) must decode at least those for the answers to be the ones of the full event.
 *
 * ```ts
 * const fields = new SequorEventFields();
 * for (const event of events) if (match(compiled, fields.bind(event))) alert(event);
 * ```
 */
import type { SequorEvent } from '@sequor/model';
import { EVENT_DATA_TRUNCATED_KEY, eventFieldCatalog } from '@sequor/model';
import type { FieldSource, FieldValue } from './field-source.js';
import type { SearchNode, SigmaRule } from './rule.js';

/**
 * A module constant, read on every field read: an imported binding can be an accessor (a transpiler's
 * export getter), a local const never is.
 */
const TRUNCATED_KEY: string = EVENT_DATA_TRUNCATED_KEY;

/** The model fields (ECS names) a `SequorEventFields` reads: what a projection must keep for Sigma rules. */
export const SEQUOR_EVENT_SIGMA_FIELDS: readonly string[] = Object.freeze([
  'winlog.channel',
  'winlog.event_id',
  'winlog.computer_name',
  'winlog.record_id',
  'winlog.level_raw',
  'winlog.keywords_raw',
  'winlog.task_raw',
  'winlog.opcode_raw',
  'winlog.event_data',
  'event.provider',
  'event.dataset',
  'zeek.fields',
  'process.executable',
  'process.command_line',
  'process.pid',
  'process.entity_id',
  'process.parent.executable',
  'process.parent.command_line',
  'process.parent.pid',
  'process.parent.entity_id',
  'registry.path',
  'file.path',
  'source.ip',
  'source.port',
  'destination.ip',
  'destination.port',
]);

type Read = (event: SequorEvent) => FieldValue;

/** Names answered from the model's own fields, whatever the event data holds. */
const SYSTEM: ReadonlyMap<string, Read> = new Map<string, Read>([
  ['Channel', (e) => e.winlog?.channel],
  ['EventID', (e) => e.winlog?.event_id],
  ['Computer', (e) => e.winlog?.computer_name],
  ['EventRecordID', (e) => e.winlog?.record_id],
  ['Level', (e) => e.winlog?.level_raw],
  ['Keywords', (e) => e.winlog?.keywords_raw],
  ['Task', (e) => e.winlog?.task_raw],
  ['Opcode', (e) => e.winlog?.opcode_raw],
  ['Provider_Name', (e) => (e.winlog == null ? undefined : e.event.provider)],
  [
    '_path',
    (e) => {
      const dataset = e.zeek == null ? null : e.event.dataset;
      return dataset == null || !dataset.startsWith('zeek.') ? undefined : dataset.slice(5);
    },
  ],
]);

/** Names answered from ECS when the event carries no event data (see the module comment). */
const ECS_FALLBACK: ReadonlyMap<string, Read> = new Map<string, Read>([
  ['Image', (e) => e.process?.executable],
  ['CommandLine', (e) => e.process?.command_line],
  ['ProcessId', (e) => e.process?.pid],
  ['ProcessGuid', (e) => e.process?.entity_id],
  ['ParentImage', (e) => e.process?.parent?.executable],
  ['ParentCommandLine', (e) => e.process?.parent?.command_line],
  ['ParentProcessId', (e) => e.process?.parent?.pid],
  ['ParentProcessGuid', (e) => e.process?.parent?.entity_id],
  ['TargetObject', (e) => e.registry?.path],
  ['TargetFilename', (e) => e.file?.path],
  ['SourceIp', (e) => e.source?.ip],
  ['SourcePort', (e) => e.source?.port],
  ['DestinationIp', (e) => e.destination?.ip],
  ['DestinationPort', (e) => e.destination?.port],
]);

/** By field number (`fieldId`): the System reader of that name, null when it is none; filled as read. */
const SYSTEM_BY_ID: (Read | null | undefined)[] = [];

/** `_path`'s reader (`values()` reads the other System names itself). */
const SYSTEM_PATH = SYSTEM.get('_path') as Read;
/** `ECS_FALLBACK`'s readers as an array: `values()` walks them per event without an iterator. */
const FALLBACK_READS: readonly Read[] = [...ECS_FALLBACK.values()];

/** Readers of model fields by ECS name, made once per name a rule reads; null: not a scalar model field. */
const MODEL_FIELDS = new Map<string, Read | null>();

function modelField(name: string): Read | null {
  let read = MODEL_FIELDS.get(name);
  if (read === undefined) {
    const info = name.includes('.') ? eventFieldCatalog.lookup(name.split('.')) : undefined;
    const path = info === undefined || info.type.endsWith('[]') ? null : info.storagePath;
    read =
      path === null
        ? null
        : (e) => {
            let v: unknown = e;
            for (let i = 0; i < path.length && v != null; i++) v = (v as Record<string, unknown>)[path[i]!];
            return v as FieldValue;
          };
    MODEL_FIELDS.set(name, read);
  }
  return read;
}

/** `undefined` for null and undefined: a projected or absent group reads as a missing field. */
function present(v: FieldValue): FieldValue {
  return v === null ? undefined : v;
}

export class SequorEventFields implements FieldSource {
  private event: SequorEvent | null = null;
  /** The bound event's own data (`winlog.event_data`, else `zeek.fields`), or null. */
  private data: Readonly<Record<string, string>> | null = null;
  private readonly buffer: FieldValue[] = [];
  /** How many leading entries of `buffer` the last `values()` set. */
  private filled = 0;

  /** Points this source at `event` (returns this, to pass on at once). */
  bind(event: SequorEvent): this {
    this.event = event;
    this.data = event.winlog?.event_data ?? event.zeek?.fields ?? null;
    return this;
  }

  get(field: string): FieldValue {
    const event = this.event;
    if (event === null) return undefined;
    const system = SYSTEM.get(field);
    if (system !== undefined) return present(system(event));
    return this.own(event, field);
  }

  /** `get` by the field's number (`fieldId`): whether it is a System name is looked up once per number. */
  getAt(id: number, field: string): FieldValue {
    const event = this.event;
    if (event === null) return undefined;
    let system = SYSTEM_BY_ID[id];
    if (system === undefined) SYSTEM_BY_ID[id] = system = SYSTEM.get(field) ?? null;
    if (system !== null) return present(system(event));
    return this.own(event, field);
  }

  /** A name that is no System name: the event data's entry, else the model's field or a fallback. */
  private own(event: SequorEvent, field: string): FieldValue {
    const data = this.data;
    if (data !== null) {
      // The maps hold strings: a string read is the entry's own (inherited properties are functions).
      const value = data[field];
      if (typeof value === 'string') return field === TRUNCATED_KEY ? undefined : value;
    }
    // ECS names start lower-case, Windows' own (Image, TargetObject, ...) upper-case: those skip the lookup.
    const first = field.charCodeAt(0);
    const model = first >= 97 && first <= 122 ? modelField(field) : null;
    if (model !== null) return present(model(event));
    if (data !== null) return undefined;
    const fallback = ECS_FALLBACK.get(field);
    return fallback === undefined ? undefined : present(fallback(event));
  }

  /**
   * Every field's value (keywords): the System names', then the event data's (fallbacks when none). The
   * array is reused, valid until the next call, and never shortened: past this event's values it holds
   * `undefined` (absent), as many as an earlier event had more (truncating a reused array makes V8 free
   * its storage and grow it again on the next event: ~150 ns and garbage per event).
   */
  values(): FieldValue[] {
    const event = this.event;
    const out = this.buffer;
    let n = 0;
    if (event !== null) {
      // The System names' values in `SYSTEM`'s order, read here directly: keyword rules ask for every value
      // of every event they are offered.
      const winlog = event.winlog;
      if (winlog != null) {
        if (winlog.channel != null) out[n++] = winlog.channel;
        if (winlog.event_id != null) out[n++] = winlog.event_id;
        if (winlog.computer_name != null) out[n++] = winlog.computer_name;
        if (winlog.record_id != null) out[n++] = winlog.record_id;
        if (winlog.level_raw != null) out[n++] = winlog.level_raw;
        if (winlog.keywords_raw != null) out[n++] = winlog.keywords_raw;
        if (winlog.task_raw != null) out[n++] = winlog.task_raw;
        if (winlog.opcode_raw != null) out[n++] = winlog.opcode_raw;
        if (event.event.provider != null) out[n++] = event.event.provider;
      }
      if (event.zeek != null) {
        const path = SYSTEM_PATH(event);
        if (path !== undefined) out[n++] = path;
      }
      const data = this.data;
      if (data !== null) {
        for (const key in data) if (key !== TRUNCATED_KEY) out[n++] = data[key];
      } else {
        for (let i = 0; i < FALLBACK_READS.length; i++) {
          const v = present((FALLBACK_READS[i] as Read)(event));
          if (v !== undefined) out[n++] = v;
        }
      }
    }
    for (let i = n; i < this.filled; i++) out[i] = undefined;
    this.filled = n;
    return out;
  }
}

/** A field source over one event (a fresh `SequorEventFields`; reuse one with `bind` on a hot path). */
export function sequorEventFieldSource(event: SequorEvent): FieldSource {
  return new SequorEventFields().bind(event);
}

/**
 * The model fields (ECS names) a projected decoder must keep for `rule` to match through
 * `SequorEventFields` as it does on the full event: `SEQUOR_EVENT_SIGMA_FIELDS` (the maps, the System
 * names' fields, the fallbacks) and the model fields the rule names by their ECS name (`host.id`). What a
 * compiled Sigma rule gives as `fieldsUsed`, so the detector's projection (`eventFieldsRead`) keeps them.
 */
export function sigmaRuleEventFields(rule: SigmaRule): string[] {
  const out = new Set<string>(SEQUOR_EVENT_SIGMA_FIELDS);
  const walk = (node: SearchNode): void => {
    if (node.kind === 'anyOf') {
      for (const m of node.maps) walk(m);
      return;
    }
    for (const item of node.items)
      if (item.field !== null && modelField(item.field) !== null) out.add(item.field);
  };
  for (const node of rule.searches.values()) walk(node);
  return [...out];
}
