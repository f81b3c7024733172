/**
 * The detector decodes only the fields its rules read (`eventFieldsRead`, a projected reader schema):
 * differential test against the full decode over a generated scenario with late and out-of-order
 * events. Every output record (alerts byte for byte, late events, dead letters) must be the same.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProducerRecord } from '@sequor/kafka';
import type { AvroCodec, SequorEvent } from '@sequor/model';
import { createEventCodec, createProjectedEventCodec } from '@sequor/model';
import type { CompiledRule } from '@sequor/rules';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import { restoreHorizonMs } from '@sequor/streams';
import { eventFieldsRead } from '../src/detector.js';
import type { FakeConsumedRecord } from './support/scenario.js';
import { asConsumed, normalizedScenario } from './support/scenario.js';
import { testPartitionTask } from './support/partition-task.js';

const HOUR = 3_600_000;
let rules: CompiledRule[];
let records: FakeConsumedRecord[];

function run(codec: AvroCodec<SequorEvent>, with_: readonly CompiledRule[] = rules): ProducerRecord[] {
  const task = testPartitionTask({
    rules: with_,
    decode: (value) => codec.decode(value),
    allowedLatenessMs: 2_000,
    horizonMs: restoreHorizonMs(2_000, HOUR, HOUR),
  });
  const out: ProducerRecord[] = [];
  for (let i = 0; i < records.length; i += 700) out.push(...task.process(records.slice(i, i + 700)).records);
  return out;
}

const count = (out: readonly ProducerRecord[], topic: string): number =>
  out.filter((r) => r.topic === topic).length;

describe('the detector decodes only the fields its rules read', () => {
  beforeAll(async () => {
    rules = (await loadBuiltinRules()).map((r) => compileRule(r));
    const scenario = normalizedScenario(
      { seed: 21, events: 8_000, rate: 1, hosts: 8, users: 20, scenarios: 8, outOfOrder: 1_500, late: 0.02 },
      1,
    );
    records = asConsumed(scenario.records);
    // A record that does not decode: dead-lettered alike.
    records.splice(100, 0, { ...records[100]!, value: Buffer.from('not avro') });
    records.forEach((r, i) => Object.assign(r, { offset: String(i) }));
  }, 60_000);

  it('produces exactly the records the full decode produces: alerts byte for byte, late events, dead letters', () => {
    const full = run(createEventCodec());
    const projected = run(createProjectedEventCodec(eventFieldsRead(rules)));
    expect(count(full, 'alerts')).toBeGreaterThan(5);
    expect(count(full, 'late')).toBeGreaterThan(0);
    expect(count(full, 'dead')).toBe(1);
    expect(projected).toEqual(full);
  }, 60_000);

  it('without the fields alerts copy from their evidence, the alerts differ: the check above has teeth', () => {
    const conditionsOnly = rules.flatMap((r) => r.compiled.fieldsUsed);
    const full = run(createEventCodec());
    const projected = run(createProjectedEventCodec(conditionsOnly));
    expect(count(projected, 'alerts')).toBe(count(full, 'alerts'));
    expect(projected).not.toEqual(full);
  }, 60_000);

  it('keeps the fields tuning reads: an exception or a suppression group on a field no query reads', async () => {
    // Each built-in rule excepting events with a command line, or suppressing per command line: a field
    // none of their queries reads. Without it decoded, the exception never held and every alert of a
    // host fell in one suppression group.
    const builtins = await loadBuiltinRules();
    const everyCommandLine = [
      {
        entries: [
          { field: 'process.command_line', operator: 'matches', values: ['*'], list: null, negate: false },
        ],
      },
    ] as const;
    const tuned = builtins.map((rule, i) =>
      compileRule(
        i % 2 === 0
          ? { ...rule, exceptions: everyCommandLine }
          : {
              ...rule,
              suppress: {
                by: ['host.id', 'process.command_line'],
                window: { text: '1h', ms: HOUR },
                missing: 'alert',
              },
            },
      ),
    );
    expect(eventFieldsRead(tuned)).toContain('process.command_line');
    const full = run(createEventCodec(), tuned);
    expect(full).not.toEqual(run(createEventCodec()));
    expect(run(createProjectedEventCodec(eventFieldsRead(tuned)), tuned)).toEqual(full);
  }, 60_000);

  it('reads far fewer fields than the event has', () => {
    const fields = eventFieldsRead(rules);
    expect(fields).toEqual(
      expect.arrayContaining(['host.id', 'user.name', 'event.category', 'process.name']),
    );
    expect(fields).not.toContain('process.command_line');
  });
});
