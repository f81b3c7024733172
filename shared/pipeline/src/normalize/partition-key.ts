/**
 * Which field keys a normalized event onto a Kafka partition. The four seed analytics correlate events
 * of one host (`sequence by host.id`, joins on a process GUID, which is unique within a host, spans
 * grouped by host and user), so every event of a host must land in the same partition: the detector
 * then holds all the state a rule needs in the partition's own task. The key is the first present
 * value of an ordered list of fields, by default `host.id`, then `host.name`, then `user.id` (events
 * that name no host at all still stay together per account).
 */
import type { SequorEvent } from '@sequor/model';
import { ConfigError, eventFieldCatalog, isAbsent } from '@sequor/model';

/** The default key fields, in order of preference. */
export const DEFAULT_PARTITION_KEY_FIELDS: readonly string[] = Object.freeze([
  'host.id',
  'host.name',
  'user.id',
]);

/**
 * Key fields resolved once against the event model: `names` as configured, `paths` the storage paths
 * read per event. Build with `compilePartitionKeyFields`.
 */
export interface PartitionKeyFields {
  readonly names: readonly string[];
  /** `names.join(',')`: the value of the `sequor.partition-key-fields` header. */
  readonly header: string;
  readonly paths: readonly (readonly string[])[];
}

/** The key of one event and the field it came from. */
export interface PartitionKey {
  readonly value: string;
  /** The field that supplied `value`, or `event.id` when none of the key fields is present. */
  readonly field: string;
}

/**
 * Resolves key field names through the event field catalog. Only string fields can key: a key must be
 * the same bytes for the same entity in every process. Throws ConfigError naming `variable`.
 */
export function compilePartitionKeyFields(
  names: readonly string[],
  variable = 'PARTITION_KEY_FIELDS',
): PartitionKeyFields {
  const spec = names.join(',');
  if (names.length === 0)
    throw new ConfigError(variable, spec, 'at least one field name, e.g. host.id,host.name,user.id');
  const seen = new Set<string>();
  const paths: string[][] = [];
  for (const name of names) {
    if (seen.has(name)) throw new ConfigError(variable, spec, `each field once (${name} is listed twice)`);
    seen.add(name);
    const info = eventFieldCatalog.lookup(name.split('.'));
    if (info === undefined)
      throw new ConfigError(variable, spec, `fields of the event model (${JSON.stringify(name)} is not one)`);
    if (info.type !== 'string' && info.type !== 'ip') {
      throw new ConfigError(variable, spec, `string fields (${name} is ${info.type})`);
    }
    paths.push([...info.storagePath]);
  }
  return Object.freeze({ names: Object.freeze([...names]), header: spec, paths: Object.freeze(paths) });
}

/** Parses `host.id,host.name,user.id` (spaces around names are ignored). */
export function parsePartitionKeyFields(spec: string, variable = 'PARTITION_KEY_FIELDS'): PartitionKeyFields {
  const names = spec.split(',').map((n) => n.trim());
  if (names.some((n) => n === ''))
    throw new ConfigError(variable, spec, 'comma-separated field names without empty entries');
  return compilePartitionKeyFields(names, variable);
}

export const defaultPartitionKeyFields: PartitionKeyFields = compilePartitionKeyFields(
  DEFAULT_PARTITION_KEY_FIELDS,
);

/**
 * The partition key of `event`: the first key field holding a value (absent values, `-` and blanks do
 * not count); `event.id` when none does, so such an event still goes to one deterministic partition
 * (a retried produce lands where the first attempt did).
 */
export function partitionKeyOf(
  event: SequorEvent,
  fields: PartitionKeyFields = defaultPartitionKeyFields,
): PartitionKey {
  const paths = fields.paths;
  for (let i = 0; i < paths.length; i++) {
    const value = readPath(event, paths[i] as readonly string[]);
    if (typeof value === 'string' && !isAbsent(value)) return { value, field: fields.names[i] as string };
  }
  return { value: event.event.id, field: 'event.id' };
}

function readPath(event: SequorEvent, path: readonly string[]): unknown {
  let node: unknown = event;
  for (let i = 0; i < path.length; i++) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[path[i] as string];
  }
  return node;
}
