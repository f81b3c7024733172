import { beforeAll, describe, expect, it } from 'vitest';
import { createAlertUpdateCodec } from '@sequor/model';
import type { CompiledRule, Rule } from '@sequor/rules';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import { decodeRestoreMetadata, encodeRestoreMetadata, restoreHorizonMs } from '@sequor/streams';
import { ALERT_HEADERS, singleObjectAlertUpdateEncoder } from '../src/outputs.js';
import type { PartitionTask } from '../src/partition-task.js';
import type { DetectorRuleSet } from '../src/rules.js';
import { ruleSetHorizonMs } from '../src/rules.js';
import type { FakeConsumedRecord } from './support/scenario.js';
import { asConsumed, normalizedScenario } from './support/scenario.js';
import { testPartitionTask } from './support/partition-task.js';

const LATENESS = 5_000;
const HOUR = 3_600_000;
// Longer than the built-ins' own horizon (1 h span + 1 h join): only the suppression term covers it.
const WINDOW = 3 * HOUR;
const updateCodec = createAlertUpdateCodec();
let rules: CompiledRule[];
let horizonMs: number;

/** Every built-in rule with `suppress: { by: [host.id], window: 3h }`. */
const suppressing = (rule: Rule): Rule => ({
  ...rule,
  suppress: { by: ['host.id'], window: { text: '3h', ms: WINDOW }, missing: 'suppress' },
});

function task(startOffset: number, liveFrom: number, horizon = horizonMs): PartitionTask {
  return testPartitionTask({
    rules,
    alertUpdates: { topic: 'alert-updates', encoder: singleObjectAlertUpdateEncoder(updateCodec) },
    allowedLatenessMs: LATENESS,
    horizonMs: horizon,
    startOffset,
    liveFrom,
  });
}

/** `A <alert id>` and `U <alert id> +<count> <closed by>` for what a call produced, in order. */
function published(
  records: readonly { topic: string; value: Buffer | null; headers?: Record<string, unknown> }[],
) {
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

describe('PartitionTask with suppress: restore by bounded replay', () => {
  let partitions: FakeConsumedRecord[][];

  beforeAll(async () => {
    rules = (await loadBuiltinRules()).map((r) => compileRule(suppressing(r)));
    const ruleSet: DetectorRuleSet = {
      rules,
      errors: [],
      warnings: [],
      longestWindowMs: HOUR,
      longestJoinWindowMs: HOUR,
      longestSuppressionWindowMs: WINDOW,
    };
    horizonMs = ruleSetHorizonMs(LATENESS, ruleSet);
    const scenario = normalizedScenario(
      { seed: 11, events: 12_000, rate: 0.5, hosts: 12, users: 30, scenarios: 8 },
      2,
    );
    partitions = [0, 1].map((p) => asConsumed(scenario.records.filter((r) => r.partition === p)));
  }, 60_000);

  it('a new owner restored at any commit publishes exactly the alerts and update counts the first owner would have after it', () => {
    let updatesChecked = 0;
    let countsChecked = 0;
    let restoresMidStream = 0;
    let openWindowsAtRestore = 0;
    for (const records of partitions) {
      const first = task(0, 0);
      const commits: { offset: number; metadata: string; before: number }[] = [];
      const continuous: string[] = [];
      for (let i = 0; i < records.length; i += 499) {
        const out = first.process(records.slice(i, i + 499));
        continuous.push(...published(out.records));
        commits.push({
          offset: out.commitOffset!,
          metadata: encodeRestoreMetadata(first.restorePoint()!),
          before: continuous.length,
        });
      }
      expect(continuous.some((line) => line.startsWith('U '))).toBe(true);
      // Every commit is a failover point.
      for (const commit of commits.slice(0, -1)) {
        const point = decodeRestoreMetadata(commit.metadata)!;
        if (point.offset > 0) restoresMidStream++;
        const restored = task(point.offset, commit.offset);
        const replay = restored.process(records.slice(point.offset, commit.offset));
        expect(replay.records).toEqual([]);
        const windows = restored.stats().rules.reduce((sum, r) => sum + r.suppressionWindows, 0);
        openWindowsAtRestore += windows;
        const after: string[] = [];
        for (let i = commit.offset; i < records.length; i += 1500)
          after.push(...published(restored.process(records.slice(i, i + 1500)).records));
        const expected = continuous.slice(commit.before);
        expect(after).toEqual(expected);
        for (const line of expected) {
          if (!line.startsWith('U ')) continue;
          updatesChecked++;
          countsChecked += Number(/\+(\d+)/.exec(line)![1]);
        }
      }
    }
    expect(restoresMidStream).toBeGreaterThan(3);
    expect(openWindowsAtRestore).toBeGreaterThan(0); // restores really rebuilt open windows
    expect(updatesChecked).toBeGreaterThan(5);
    expect(countsChecked).toBeGreaterThan(updatesChecked);
  }, 120_000);

  it('a horizon without the suppression window repeats or loses some: the check above has teeth', () => {
    const rulesOnly = restoreHorizonMs(LATENESS, HOUR, HOUR);
    let differs = 0;
    for (const records of partitions) {
      const first = task(0, 0, rulesOnly);
      const continuous: string[] = [];
      const commits: { metadata: string; offset: number; before: number }[] = [];
      for (let i = 0; i < records.length; i += 499) {
        const out = first.process(records.slice(i, i + 499));
        continuous.push(...published(out.records));
        commits.push({
          offset: out.commitOffset!,
          metadata: encodeRestoreMetadata(first.restorePoint()!),
          before: continuous.length,
        });
      }
      for (const commit of commits.slice(0, -1)) {
        const point = decodeRestoreMetadata(commit.metadata)!;
        const restored = task(point.offset, commit.offset, rulesOnly);
        restored.process(records.slice(point.offset, commit.offset));
        const after = published(restored.process(records.slice(commit.offset)).records);
        if (JSON.stringify(after) !== JSON.stringify(continuous.slice(commit.before))) differs++;
      }
    }
    expect(differs).toBeGreaterThan(0);
  }, 120_000);
});
