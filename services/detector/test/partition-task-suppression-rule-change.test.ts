import { beforeAll, describe, expect, it } from 'vitest';
import { createAlertUpdateCodec } from '@sequor/model';
import type { CompiledRule, Rule } from '@sequor/rules';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import type { RuleSetSwitch } from '@sequor/streams';
import { decodeRestoreMetadata, encodeRestoreMetadata } from '@sequor/streams';
import { ALERT_HEADERS, singleObjectAlertUpdateEncoder } from '../src/outputs.js';
import type { PartitionTask } from '../src/partition-task.js';
import type { DetectorRuleSet } from '../src/rules.js';
import { ruleSetHorizonMs } from '../src/rules.js';
import type { RuleSetHistory, RunningRuleSet } from '../src/rules-topic.js';
import type { FakeConsumedRecord } from './support/scenario.js';
import { asConsumed, normalizedScenario } from './support/scenario.js';
import { testPartitionTask } from './support/partition-task.js';

const LATENESS = 5_000;
const HOUR = 3_600_000;
const WINDOW = 3 * HOUR;
const BATCH = 499;
const updateCodec = createAlertUpdateCodec();
const elasticId = '850d901a-2a3c-46c6-8b22-55398a01aad8';
const remcosId = 'f2a1615a-1d63-11ec-97d2-acde48001122';

/** Rule-set revisions by rules-topic position, as the detector's RulesTopic answers them. */
class FakeHistory implements RuleSetHistory {
  now = 0;
  constructor(private readonly revisions: ReadonlyMap<number, readonly CompiledRule[]>) {}
  at(revision: number): RunningRuleSet & { exact: boolean } {
    const found = Math.max(...[...this.revisions.keys()].filter((r) => r <= revision));
    return { revision: found, rules: this.revisions.get(found)!, exact: true };
  }
  current(): RunningRuleSet {
    return this.at(this.now);
  }
}

/** Every built-in rule with `suppress: { by: [host.id], window: 3h }`. */
const suppressing = (rule: Rule): Rule => ({
  ...rule,
  suppress: { by: ['host.id'], window: { text: '3h', ms: WINDOW }, missing: 'suppress' },
});

/** Before which batch (index) the newest revision becomes which. */
const schedule = new Map([
  [3, 5],
  [6, 9],
  [9, 12],
]);
let history: FakeHistory;
let horizonMs: number;

function task(startOffset: number, liveFrom: number, recorded?: readonly RuleSetSwitch[]): PartitionTask {
  return testPartitionTask({
    rules: [],
    alertUpdates: { topic: 'alert-updates', encoder: singleObjectAlertUpdateEncoder(updateCodec) },
    allowedLatenessMs: LATENESS,
    horizonMs,
    startOffset,
    liveFrom,
    ruleSets: history,
    recordedRuleSets: recorded,
  });
}

/** `A <alert id>` and `U <alert id> +<count> <closed by>` for what a call produced, in order. */
function published(
  records: readonly { topic: string; value: Buffer | null; headers?: Record<string, unknown> }[],
): string[] {
  const out: string[] = [];
  for (const r of records) {
    if (r.topic === 'alerts') out.push(`A ${String(r.headers?.[ALERT_HEADERS.alertId])}`);
    if (r.topic === 'alert-updates') {
      const update = updateCodec.decode(r.value!);
      out.push(`U ${update.alert.id} +${update.suppression.count} ${update.suppression.closed_by}`);
    }
  }
  return out;
}

/** Runs `records` from batch `fromBatch` on, switching the newest revision per the schedule. */
function runFrom(t: PartitionTask, records: readonly FakeConsumedRecord[], fromBatch: number) {
  const out: { offset: number; metadata: string; published: string[] }[] = [];
  for (let b = fromBatch; b * BATCH < records.length; b++) {
    const next = schedule.get(b);
    if (next !== undefined) history.now = next;
    const result = t.process(records.slice(b * BATCH, (b + 1) * BATCH));
    out.push({
      offset: result.commitOffset!,
      metadata: encodeRestoreMetadata(t.restorePoint()!),
      published: published(result.records),
    });
  }
  return out;
}

describe('PartitionTask with suppress and rule changes', () => {
  let records: FakeConsumedRecord[];

  beforeAll(async () => {
    const rules: readonly Rule[] = (await loadBuiltinRules()).map(suppressing);
    const base = rules.map((r) => compileRule(r));
    const without = (id: string, set: readonly CompiledRule[]) => set.filter((r) => r.rule.id !== id);
    const elastic = rules.find((r) => r.id === elasticId)!;
    const remcos = rules.find((r) => r.id === remcosId)!;
    // Revision 5 changes every rule but elastic (kept: its windows stay open), 9 removes remcos,
    // 12 changes elastic and brings remcos back.
    const r5 = base.map((r) => (r.rule.id === elasticId ? r : compileRule(r.rule, { revision: 'r2' })));
    const r9 = without(remcosId, r5);
    const r12 = [
      ...without(elasticId, r9),
      compileRule(elastic, { revision: 'r3' }),
      compileRule(remcos, { revision: 'r4' }),
    ];
    history = new FakeHistory(
      new Map([
        [0, base],
        [5, r5],
        [9, r9],
        [12, r12],
      ]),
    );
    const ruleSet: DetectorRuleSet = {
      rules: base,
      errors: [],
      warnings: [],
      longestWindowMs: HOUR,
      longestJoinWindowMs: HOUR,
      longestSuppressionWindowMs: WINDOW,
    };
    horizonMs = ruleSetHorizonMs(LATENESS, ruleSet);
    const scenario = normalizedScenario(
      { seed: 11, events: 12_000, rate: 0.5, hosts: 12, users: 30, scenarios: 8 },
      1,
    );
    records = asConsumed(scenario.records.filter((r) => r.partition === 0));
  }, 60_000);

  it('a changed or removed rule publishes its open windows at the switch, and a restore at any commit (switches replayed) publishes exactly what the first owner did after it', () => {
    history.now = 0;
    const first = runFrom(task(0, 0), records, 0);
    const all = first.flatMap((c) => c.published);
    const atChange = all.filter((line) => line.endsWith(' rule-change'));
    // Each switch batch publishes the changed and removed rules' counts in its own transaction.
    expect(atChange.length).toBeGreaterThan(2);
    // Batch 6 removes remcos, which had no window that counted anything: nothing to publish there.
    for (const batch of [3, 9])
      expect(first[batch]!.published.some((line) => line.endsWith(' rule-change'))).toBe(true);
    let withSwitchesReplayed = 0;
    let restores = 0;
    let updatesChecked = 0;
    for (let k = 0; k < first.length - 1; k++) {
      const commit = first[k]!;
      const point = decodeRestoreMetadata(commit.metadata)!;
      if ((point.ruleSets?.length ?? 0) > 1) withSwitchesReplayed++;
      history.now = [...schedule].filter(([b]) => b <= k).reduce((now, [, r]) => r, 0);
      const restored = task(point.offset, commit.offset, point.ruleSets);
      // The replay applies the recorded switches; what they close was committed: nothing is published.
      const replay = restored.process(records.slice(point.offset, commit.offset));
      expect(replay.records).toEqual([]);
      const after = runFrom(restored, records, k + 1).flatMap((c) => c.published);
      const expected = first.slice(k + 1).flatMap((c) => c.published);
      expect(after).toEqual(expected); // same order, so 0 duplicate and 0 missing
      restores++;
      updatesChecked += expected.filter((line) => line.endsWith(' rule-change')).length;
    }
    expect(restores).toBeGreaterThan(10);
    expect(withSwitchesReplayed).toBeGreaterThan(0);
    expect(updatesChecked).toBeGreaterThan(0);
  }, 180_000);
});
