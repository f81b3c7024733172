import { beforeAll, describe, expect, it } from 'vitest';
import type { CompiledRule, Rule } from '@sequor/rules';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import type { RuleSetSwitch } from '@sequor/streams';
import { decodeRestoreMetadata, encodeRestoreMetadata, restoreHorizonMs } from '@sequor/streams';
import { ALERT_HEADERS } from '../src/outputs.js';
import type { PartitionTask } from '../src/partition-task.js';
import type { RuleSetHistory, RunningRuleSet } from '../src/rules-topic.js';
import type { FakeConsumedRecord } from './support/scenario.js';
import { asConsumed, normalizedScenario } from './support/scenario.js';
import { testPartitionTask } from './support/partition-task.js';

const LATENESS = 5_000;
const HOUR = 3_600_000;
const HORIZON = restoreHorizonMs(LATENESS, HOUR, HOUR);
const BATCH = 499;
const elasticId = '850d901a-2a3c-46c6-8b22-55398a01aad8';
const remcosId = 'f2a1615a-1d63-11ec-97d2-acde48001122';

/** Rule-set revisions by rules-topic position, as the detector's RulesTopic answers them. */
class FakeHistory implements RuleSetHistory {
  now = 0;
  constructor(private readonly revisions: ReadonlyMap<number, readonly CompiledRule[]>) {}
  at(revision: number): RunningRuleSet & { exact: boolean } {
    const known = [...this.revisions.keys()].filter((r) => r <= revision);
    const found = Math.max(...known);
    return { revision: found, rules: this.revisions.get(found)!, exact: true };
  }
  current(): RunningRuleSet {
    return this.at(this.now);
  }
}

let history: FakeHistory;
/** Before which batch (index) the newest revision becomes which. */
const schedule = new Map([
  [3, 5],
  [6, 9],
  [9, 12],
]);

function task(startOffset: number, liveFrom: number, recorded?: readonly RuleSetSwitch[]): PartitionTask {
  return testPartitionTask({
    rules: [],
    allowedLatenessMs: LATENESS,
    horizonMs: HORIZON,
    startOffset,
    liveFrom,
    ruleSets: history,
    recordedRuleSets: recorded,
  });
}

const alertIds = (records: readonly { topic: string; headers?: Record<string, unknown> }[]): string[] =>
  records.filter((r) => r.topic === 'alerts').map((r) => String(r.headers?.[ALERT_HEADERS.alertId]));

/** Runs `records` from batch `fromBatch` on, switching the newest revision per the schedule. */
function runFrom(t: PartitionTask, records: readonly FakeConsumedRecord[], fromBatch: number) {
  const out: { offset: number; metadata: string; alerts: string[] }[] = [];
  for (let b = fromBatch; b * BATCH < records.length; b++) {
    const next = schedule.get(b);
    if (next !== undefined) history.now = next;
    const result = t.process(records.slice(b * BATCH, (b + 1) * BATCH));
    out.push({
      offset: result.commitOffset!,
      metadata: encodeRestoreMetadata(t.restorePoint()!),
      alerts: alertIds(result.records),
    });
  }
  return out;
}

describe('PartitionTask with a rules topic: rule changes at recorded offsets', () => {
  let records: FakeConsumedRecord[];

  beforeAll(async () => {
    const rules: readonly Rule[] = await loadBuiltinRules();
    const base = rules.map((r) => compileRule(r));
    const without = (id: string, set: readonly CompiledRule[]) => set.filter((r) => r.rule.id !== id);
    const elastic = rules.find((r) => r.id === elasticId)!;
    const remcos = rules.find((r) => r.id === remcosId)!;
    const r2 = [...without(elasticId, base), compileRule(elastic, { revision: 'r2' })];
    const r9 = without(remcosId, r2);
    const r12 = [
      ...without(elasticId, r9),
      compileRule(elastic, { revision: 'r3' }),
      compileRule(remcos, { revision: 'r4' }),
    ];
    history = new FakeHistory(
      new Map([
        [0, base],
        [5, r2],
        [9, r9],
        [12, r12],
      ]),
    );
    const scenario = normalizedScenario(
      { seed: 5, events: 12_000, rate: 0.5, hosts: 12, users: 30, scenarios: 10 },
      1,
    );
    records = asConsumed(scenario.records.filter((r) => r.partition === 0));
  }, 60_000);

  it('a restore at any commit (switches in the replayed range) publishes exactly what the first owner did after it', () => {
    history.now = 0;
    const first = runFrom(task(0, 0), records, 0);
    const all = first.flatMap((c) => c.alerts);
    expect(all.length).toBeGreaterThan(10);
    let withSwitchesReplayed = 0;
    for (let k = 0; k < first.length - 1; k++) {
      const commit = first[k]!;
      const point = decodeRestoreMetadata(commit.metadata)!;
      if ((point.ruleSets?.length ?? 0) > 1) withSwitchesReplayed++;
      // The schedule as it was when batch k+1 started.
      history.now = [...schedule].filter(([b]) => b <= k).reduce((now, [, r]) => r, 0);
      const restored = task(point.offset, commit.offset, point.ruleSets);
      const replay = restored.process(records.slice(point.offset, commit.offset));
      expect(replay.records).toEqual([]);
      const after = runFrom(restored, records, k + 1).flatMap((c) => c.alerts);
      expect(after).toEqual(first.slice(k + 1).flatMap((c) => c.alerts));
    }
    expect(withSwitchesReplayed).toBeGreaterThan(0);
  }, 120_000);

  it('without the recorded switches (today’s rules for the whole replay) the alerts differ: the check has teeth', () => {
    history.now = 0;
    const first = runFrom(task(0, 0), records, 0);
    let differs = 0;
    for (let k = 0; k < first.length - 1; k++) {
      const commit = first[k]!;
      const point = decodeRestoreMetadata(commit.metadata)!;
      history.now = 12;
      const restored = task(point.offset, commit.offset);
      restored.process(records.slice(point.offset, commit.offset));
      const after = runFrom(restored, records, k + 1).flatMap((c) => c.alerts);
      if (JSON.stringify(after) !== JSON.stringify(first.slice(k + 1).flatMap((c) => c.alerts))) differs++;
    }
    expect(differs).toBeGreaterThan(0);
  }, 120_000);

  it('a batch that replays up to a recorded switch and goes on live does not switch again to the same rules', () => {
    history.now = 0;
    const t = task(0, 0);
    t.process(records.slice(0, BATCH));
    history.now = 5;
    t.process(records.slice(BATCH, 2 * BATCH));
    const point = decodeRestoreMetadata(encodeRestoreMetadata(t.restorePoint()!))!;
    expect(point.ruleSets?.map((r) => r.revision)).toEqual([0, 5]);
    const restored = task(point.offset, 2 * BATCH, point.ruleSets);
    const out = restored.process(records.slice(point.offset, 3 * BATCH));
    expect(out.ruleSetSwitch).toBeNull();
    expect(restored.ruleSetRevision).toBe(5);
  });

  it('records the switch it made live: offset, revisions, rules kept and started', () => {
    history.now = 0;
    const t = task(0, 0);
    t.process(records.slice(0, BATCH));
    history.now = 5;
    const out = t.process(records.slice(BATCH, 2 * BATCH));
    expect(out.ruleSetSwitch).toEqual({
      offset: Number(records[BATCH]!.offset),
      revision: 5,
      previousRevision: 0,
      kept: 3,
      started: 1,
      dropped: 1,
    });
    expect(t.ruleSetRevision).toBe(5);
    expect(t.process(records.slice(2 * BATCH, 3 * BATCH)).ruleSetSwitch).toBeNull();
  });
});
