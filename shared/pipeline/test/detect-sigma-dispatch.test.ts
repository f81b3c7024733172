import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getFormat, type RecordDecoder } from '@sequor/formats';
import type { SequorEvent } from '@sequor/model';
import type { CompiledRule } from '@sequor/rules';
import { compileRule, loadRuleSet } from '@sequor/rules';
import { SCENARIO_FILES, ScenarioStream } from '@sequor/scenarios';
import { createDetectionProcessor } from '../src/index.js';

const sigmaRules = path.resolve(import.meta.dirname, '../../../../shared/sigma/rules');

/** The folders of SigmaHQ's rules that raise alerts over the generated scenario (and their neighbours). */
const FOLDERS = [
  'windows/builtin/security',
  'windows/file/file_event',
  'windows/network_connection',
  'windows/registry/registry_set',
  'network/zeek',
];

const FORMATS: Readonly<Record<string, string>> = {
  [SCENARIO_FILES.winlogbeat]: 'winlogbeat',
  [SCENARIO_FILES.endpoint]: 'ecs',
  [SCENARIO_FILES.flatWindows]: 'flat-windows',
  [SCENARIO_FILES.zeek]: 'zeek-dce-rpc',
};

/** A generated scenario (with out-of-order arrival) decoded by the real format decoders, in arrival order. */
function scenario(count: number): SequorEvent[] {
  const stream = new ScenarioStream({ seed: 12, events: count, hosts: 50, users: 200, outOfOrder: 2_000 });
  const decoders = new Map<string, RecordDecoder>();
  const encoder = new TextEncoder();
  const events: SequorEvent[] = [];
  for (const record of stream.records()) {
    let decoder = decoders.get(record.file);
    if (decoder === undefined)
      decoders.set(record.file, (decoder = getFormat(FORMATS[record.file]!).createDecoder()));
    const origin = { topic: record.file, partition: 0, offset: record.lineNumber };
    for (const event of decoder.decode(encoder.encode(record.line), origin)) events.push(event);
  }
  return events;
}

/** Every alert of one processor over `events`, as JSON, in the order raised, with the rule's id. */
function alerts(rules: readonly CompiledRule[], events: readonly SequorEvent[]): string[] {
  const out: string[] = [];
  const processor = createDetectionProcessor({
    rules,
    allowedLatenessMs: 5_000,
    clock: () => 0,
    onAlert: (alert, rule) => out.push(`${rule.rule.id} ${JSON.stringify(alert)}`),
  });
  for (const event of events) processor.push(event);
  processor.flush();
  return out;
}

describe('the detection processor with SigmaHQ rules', () => {
  it('raises the same alerts, in the same order, through the Sigma dispatch as through every rule predicate', async () => {
    const loaded = await loadRuleSet({ paths: FOLDERS.map((folder) => path.join(sigmaRules, folder)) });
    expect(loaded.errors).toEqual([]);
    const rules = loaded.rules.map((rule) => compileRule(rule));
    const sigma = rules.filter((r) => r.rule.type === 'sigma').length;
    expect(sigma).toBeGreaterThan(400);
    // The same compiled rules without their binding to the set: no dispatch covers them, so the
    // processor calls each one's own predicate on every event (the built-ins are stateful beside them).
    const undispatched = rules.map((r): CompiledRule =>
      r.rule.type === 'sigma' ? { ...r, rule: { ...r.rule, binding: undefined } } : r,
    );
    const events = scenario(3_000);
    const dispatched = alerts(rules, events);
    expect(dispatched.length).toBeGreaterThan(100);
    expect(new Set(dispatched.map((line) => line.slice(0, line.indexOf(' ')))).size).toBeGreaterThan(4);
    expect(alerts(undispatched, events)).toEqual(dispatched);
  }, 60_000);
});
