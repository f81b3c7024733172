/**
 * The field catalog: which ECS field names exist in the event model, where they live in the decoded
 * record and what type they hold. The EQL compiler resolves every field reference through it once,
 * at compile time, so a rule naming a field the model lacks is an error with a position, not a silent miss.
 */
export type FieldType =
  'string' | 'int' | 'long' | 'double' | 'boolean' | 'string[]' | 'ip' | 'ip[]' | 'timestamp';

export interface FieldInfo {
  /** The ECS name as written in rules: `@timestamp`, `host.id`, `file.Ext.header_bytes`. */
  readonly name: string;
  /** Property path in the decoded event object (Avro names cannot start with `@`: `@timestamp` is `timestamp`). */
  readonly storagePath: readonly string[];
  readonly type: FieldType;
}

/** A map of strings in the model (`winlog.event_data`): each key is a string field `<name>.<key>`. */
export interface MapFieldInfo {
  /** The ECS name of the map: `winlog.event_data`. */
  readonly name: string;
  readonly storagePath: readonly string[];
}

export interface FieldCatalog {
  /** `path` as split by the parser (`['host', 'id']`, `['@timestamp']`); undefined when the model lacks it. */
  lookup(path: readonly string[]): FieldInfo | undefined;
  /** Every leaf field, for lint messages ("did you mean ...") and docs. */
  fields(): Iterable<FieldInfo>;
}
