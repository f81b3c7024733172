/**
 * The fields Sigma predicates read from a `SequorEvent`, by the names the processing pipeline maps to
 * (`Channel`, `EventID`, the event's own `winlog.event_data` names; `_path` and Zeek's names). One
 * object rebound per event, so the per-event path allocates nothing for it.
 *
 * Interim: the model's own FieldSource over SequorEvent (`@sequor/sigma` sequor-event.ts) replaces this
 * when it lands; it is read through a structural view so it does not depend on generated types in flux.
 */
import type { SequorEvent } from '@sequor/model';
import type { FieldSource, FieldValue } from '@sequor/sigma';

interface WindowsView {
  readonly channel?: string | null;
  readonly event_id?: string | null;
  readonly computer_name?: string | null;
  readonly provider_name?: string | null;
  readonly event_data?: Readonly<Record<string, string>> | null;
}

interface EventView {
  readonly winlog?: WindowsView | null;
  readonly zeek?: { readonly fields?: Readonly<Record<string, string>> | null } | null;
  readonly event?: { readonly code?: string | null; readonly dataset?: string | null } | null;
  readonly host?: { readonly name?: string | null } | null;
}

/** A field source rebound to one event at a time (`bind` before each read). */
export interface SequorFieldSource extends FieldSource {
  bind(event: SequorEvent): this;
}

class InterimSequorFieldSource implements SequorFieldSource {
  private event: EventView = {};

  bind(event: SequorEvent): this {
    this.event = event as unknown as EventView;
    return this;
  }

  get(field: string): FieldValue {
    const e = this.event;
    const data = e.winlog?.event_data ?? e.zeek?.fields;
    const own = data?.[field];
    if (own !== undefined) return own;
    switch (field) {
      case 'Channel':
        return e.winlog?.channel ?? undefined;
      case 'EventID':
        return e.winlog?.event_id ?? e.event?.code ?? undefined;
      case 'Computer':
        return e.winlog?.computer_name ?? e.host?.name ?? undefined;
      case 'Provider_Name':
        return e.winlog?.provider_name ?? undefined;
      case '_path': {
        const dataset = e.event?.dataset;
        return dataset?.startsWith('zeek.') === true ? dataset.slice('zeek.'.length) : undefined;
      }
      default:
        return undefined;
    }
  }

  values(): Iterable<FieldValue> {
    const data = this.event.winlog?.event_data ?? this.event.zeek?.fields;
    return data === null || data === undefined ? [] : Object.values(data);
  }
}

/** A new source for one predicate or dispatch (each keeps its own binding). */
export function sequorFieldSource(): SequorFieldSource {
  return new InterimSequorFieldSource();
}
