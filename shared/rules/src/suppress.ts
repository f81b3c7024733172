/**
 * A rule's `suppress` compiled for the engine (`SuppressSpec`): the group key of an alert from its
 * evidence, read once per alert (never per event), with the field accessors compiled once per rule; and
 * the update record a closed window becomes (`schemas/alert-update.avsc`).
 */
import type { Match, SuppressionUpdate, SuppressSpec } from '@sequor/engine';
import { compileAccessor } from '@sequor/engine';
import type { Alert, AlertUpdate, FieldCatalog, SequorEvent } from '@sequor/model';
import { RuleSetError } from './errors.js';
import { renderValue } from './message.js';
import type { Rule } from './types.js';

/** `SuppressSpec` plus what an update record reports: the `by` fields and a group's values. */
export interface CompiledSuppression extends SuppressSpec<SequorEvent> {
  readonly by: readonly string[];
  /** Each `by` field's value for an alert (the values its group key was built from), rendered. */
  values(match: Match<SequorEvent>): (string | null)[];
}

/** The first non-null value of a field among the evidence events, in order. */
function firstValue(get: (event: SequorEvent) => unknown, events: readonly SequorEvent[]): unknown {
  for (const event of events) {
    const value = get(event);
    if (value !== null && value !== undefined) return value;
  }
  return null;
}

/**
 * The suppression of `rule`, or null when it has no `suppress`. Each `by` field's value is the first
 * non-null one among the evidence events in order (a filter's one event; a sequence's earliest event that
 * has it). The key tags each value with its type and length (`1` and `"1"` differ; no two tuples share a
 * key); a missing value is the tag `n` under `missing: suppress` (such alerts group by the other values),
 * and makes the alert unsuppressed under `missing: alert`.
 */
export function compileSuppression(rule: Rule, catalog: FieldCatalog): CompiledSuppression | null {
  const suppress = rule.suppress;
  if (suppress === undefined || suppress === null) return null;
  const getters = suppress.by.map((name, i) => {
    const info = catalog.lookup(name.split('.'));
    if (info === undefined)
      throw new RuleSetError([
        rule.location.issueAt(['suppress', 'by', i], 'compile', `unknown field \`${name}\` in suppress.by`),
      ]);
    return compileAccessor<SequorEvent>(info.storagePath);
  });
  const alertWhenMissing = suppress.missing === 'alert';
  const parts: string[] = [];
  const groupKey = (match: Match<SequorEvent>): string | null => {
    parts.length = 0;
    for (const get of getters) {
      const value = firstValue(get, match.events);
      if (value === null) {
        if (alertWhenMissing) return null;
        parts.push('n');
      } else {
        const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
        parts.push(`${(typeof value)[0]}${text.length}:${text}`);
      }
    }
    return parts.join('');
  };
  return {
    windowMs: suppress.window.ms,
    groupKey,
    by: suppress.by,
    values: (match) => getters.map((get) => renderValue(firstValue(get, match.events))),
  };
}

/**
 * The update record of a closed suppression window. `opening` is the alert the window's first match
 * raised (`CompiledRule.toAlert` of `update.opening`), whose id the update carries; `detectedAt` the
 * detector's clock when the window closed.
 */
export function buildAlertUpdate(
  suppression: CompiledSuppression,
  opening: Alert,
  update: SuppressionUpdate<SequorEvent>,
  detectedAt: number,
): AlertUpdate {
  const values = suppression.values(update.opening);
  return {
    alert: { id: opening.alert.id },
    timestamp: detectedAt,
    rule: { id: opening.rule.id, name: opening.rule.name, version: opening.rule.version },
    suppression: {
      by: suppression.by.map((field, i) => ({ field, value: values[i] ?? null })),
      count: update.suppressed,
      window_start: update.windowStart,
      window_end: update.windowEnd,
      first_time: update.firstTime,
      last_time: update.lastTime,
      closed_by: update.closedBy,
    },
    last_evidence: update.last.events.map((event) => event.event.id),
  };
}
