/**
 * A rule's `suppress` compiled for the engine (`SuppressSpec`): the group key of an alert from its
 * evidence, read once per alert (never per event), with the field accessors compiled once per rule.
 */
import type { Match, SuppressSpec } from '@sequor/engine';
import { compileAccessor } from '@sequor/engine';
import type { FieldCatalog, SequorEvent } from '@sequor/model';
import { RuleSetError } from './errors.js';
import type { Rule } from './types.js';

/**
 * The `SuppressSpec` of `rule`, or null when it has no `suppress`. Each `by` field's value is the first
 * non-null one among the evidence events in order (a filter's one event; a sequence's earliest event that
 * has it). The key tags each value with its type (`1` and `"1"` differ); a missing value is the tag `n` under `missing: suppress` (such alerts form their own group per the other values), and makes the alert
 * unsuppressed under `missing: alert`.
 */
export function compileSuppression(rule: Rule, catalog: FieldCatalog): SuppressSpec<SequorEvent> | null {
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
    const events = match.events;
    parts.length = 0;
    for (const get of getters) {
      let value: unknown = null;
      for (let i = 0; i < events.length && (value === null || value === undefined); i++)
        value = get(events[i]!);
      if (value === null || value === undefined) {
        if (alertWhenMissing) return null;
        parts.push('n');
      } else {
        const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
        // Type tag and length prefix: no two different value tuples share a key.
        parts.push(`${(typeof value)[0]}${text.length}:${text}`);
      }
    }
    return parts.join('');
  };
  return { windowMs: suppress.window.ms, groupKey };
}
