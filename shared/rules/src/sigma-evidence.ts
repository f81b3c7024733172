/**
 * The fields a Sigma alert's evidence entries carry besides the entity fields: the fields the rule's
 * detection reads, by their Sigma names (`Image`, `CommandLine`, `query`), with the event's values, so an
 * analyst sees why it matched without fetching the event (as an EQL rule's evidence lists its query's
 * fields).
 */
import type { AlertEvidenceField, SequorEvent } from '@sequor/model';
import type { CompiledSigmaRule, CompiledVariant, SearchNode, SigmaRule } from '@sequor/sigma';
import { EventView, SequorEventFields } from '@sequor/sigma';

/**
 * At most this many of the rule's fields per evidence entry (SigmaHQ's rules read up to a few dozen);
 * past it, one more entry, `SIGMA_OMITTED_FIELDS`, names the present fields left out.
 */
/** No renames, and no prototype: a rule's field named `toString` is that field, not an inherited function. */
const NO_FIELD_MAP: Readonly<Record<string, string>> = Object.freeze(
  Object.create(null) as Record<string, string>,
);

export const MAX_SIGMA_EVIDENCE_FIELDS = 16;
export const SIGMA_OMITTED_FIELDS = 'sigma.omitted_fields';

/** The fields the rule's searches name, in file order, each once (keywords name none). */
export function sigmaDetectionFields(rule: SigmaRule): string[] {
  const out = new Set<string>();
  const walk = (node: SearchNode): void => {
    if (node.kind === 'anyOf') {
      for (const m of node.maps) walk(m);
      return;
    }
    for (const item of node.items) if (item.field !== null) out.add(item.field);
  };
  for (const node of rule.searches.values()) walk(node);
  return [...out];
}

/**
 * Whether `variant` selects (and, with `detect`, detects) the event in `view`; false when its code throws.
 * The evidence reader only chooses the names to show: an exception of a rule there is one the detection
 * already met and reported on that event (a correlation of correlations alerts with an event one of its
 * parts threw on), and must not cost the alert or stop the partition.
 */
function holds(variant: CompiledVariant, view: EventView, detect: boolean): boolean {
  try {
    return variant.selects(view) && (!detect || variant.detects(view));
  } catch {
    return false;
  }
}

/**
 * The reader of one matched event's evidence fields for a Sigma rule (`rules` of one), or a correlation
 * over `rules`: each field of the rule that matched the event (but those in `skip`, already listed) that
 * the event has, read through `SequorEventFields` under the name the logsource variant that matched maps
 * the Sigma name to (Security 4688's `NewProcessName` for `Image`), shown under the Sigma name. Runs per
 * alert, not per event.
 */
export function sigmaEvidenceReader(
  rules: readonly CompiledSigmaRule[],
  skip: ReadonlySet<string>,
): (event: SequorEvent) => AlertEvidenceField[] {
  const readers = rules.map((compiled) => ({
    compiled,
    names: sigmaDetectionFields(compiled.rule).filter((name) => !skip.has(name)),
  }));
  const first = readers[0];
  if (first === undefined || readers.every((r) => r.names.length === 0)) return () => [];
  const source = new SequorEventFields();
  // One view, rebound per alert: a fresh one per alert was most of an alert's garbage.
  const view = new EventView(source);
  const read = (names: readonly string[], variant: CompiledVariant | undefined): AlertEvidenceField[] =>
    readFields(source, names, variant?.variant.fieldMap ?? NO_FIELD_MAP);
  if (readers.length === 1) {
    const variantOf = singleRuleVariant(first.compiled.variants, first.names);
    return (event) => read(first.names, variantOf(view.reset(source.bind(event))));
  }
  return (event) => {
    view.reset(source.bind(event));
    // The rule and variant that matched; an event that none matches (an excepted one, a test's) reads the
    // first rule's names under the variant its logsource selects, else the Sigma names as written.
    let names = first.names;
    let variant: CompiledVariant | undefined;
    for (const r of readers) {
      variant = r.compiled.variants.find((v) => holds(v, view, true));
      if (variant !== undefined) {
        names = r.names;
        break;
      }
    }
    variant ??= first.compiled.variants.find((v) => holds(v, view, false));
    return read(names, variant);
  };
}

/**
 * For one rule: the variant whose field names an event's evidence is read under, as the general reader
 * picks it (the first variant that selects and detects the event, else the first that selects it, else
 * none: the Sigma names as written), but deciding by the logsource conditions alone whenever the choice
 * cannot change the names read: when every variant maps the rule's fields to the names as written, or
 * when the variants that select the event all map them alike (Sysmon's and Security's process_creation
 * select different channels). Only an event selected by variants that read differently runs their
 * detection again.
 */
function singleRuleVariant(
  variants: readonly CompiledVariant[],
  names: readonly string[],
): (view: EventView) => CompiledVariant | undefined {
  const readAs = (variant: CompiledVariant | undefined): string => {
    const map = variant?.variant.fieldMap ?? NO_FIELD_MAP;
    return names.map((name) => map[name] ?? name).join('\u0000');
  };
  const asWritten = readAs(undefined);
  if (variants.every((v) => readAs(v) === asWritten)) return () => undefined;
  const keys = variants.map(readAs);
  const selected: number[] = [];
  return (view) => {
    selected.length = 0;
    for (let i = 0; i < variants.length; i++) if (holds(variants[i]!, view, false)) selected.push(i);
    if (selected.length === 0) return undefined;
    const firstKey = keys[selected[0]!];
    let alike = true;
    for (let i = 1; i < selected.length && alike; i++) alike = keys[selected[i]!] === firstKey;
    if (alike) return variants[selected[0]!];
    for (const i of selected) if (holds(variants[i]!, view, true)) return variants[i];
    return variants[selected[0]!];
  };
}

/** The present fields of `names`, each read under its name in `map`, shown under its Sigma name. */
function readFields(
  source: SequorEventFields,
  names: readonly string[],
  map: Readonly<Record<string, string>>,
): AlertEvidenceField[] {
  const fields: AlertEvidenceField[] = [];
  let omitted: string[] | null = null;
  for (const name of names) {
    const value = source.get(map[name] ?? name);
    if (value === undefined || value === null) continue;
    if (fields.length < MAX_SIGMA_EVIDENCE_FIELDS)
      fields.push({ name, value: typeof value === 'string' ? value : String(value) });
    else (omitted ??= []).push(name);
  }
  if (omitted !== null) fields.push({ name: SIGMA_OMITTED_FIELDS, value: omitted });
  return fields;
}
