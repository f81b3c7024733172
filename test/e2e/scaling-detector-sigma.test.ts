// Sigma correlations exactly once across a SIGKILL and a rebalance (issue 13 item 3), with the built
// service: three detector processes with RULES_DIR=shared/rules/sigma-seeds and RULES_BUILTINS=false (the
// seeds' Sigma forms alone, three of them correlations: event_count, temporal, temporal_ordered) share a 6-partition
// topic fed with a generated stream dense in the seeds' attack patterns; one member is SIGKILLed
// mid-stream, later a fourth joins (the scenario: ./support/scaling.ts). Per rule, the committed alert ids
// must equal those of one undisturbed detector: 0 missing, 0 duplicates. The correlations' window state is
// what the restore must rebuild. Probes added to the stream (./support/replay-window-probes.ts) make a
// replay shorter than the engine's two windows fail it: measured with the replay window forced to 0, 0.5 and
// 1 window (each missing or extra Remcos alerts, and event_count ones below one window), 2 windows passing.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_HEADERS } from '@sequor/detector';
import { headerString, KafkaTestKit } from '@sequor/kafka/testing';
import type { CommittedRecord } from '../../services/detector/test/support/e2e.js';
import { repoRoot } from '../../services/detector/test/support/e2e.js';
import type { NormalizedScenario } from '../../services/detector/test/support/scenario.js';
import { withReplayWindowProbes } from './support/replay-window-probes.js';
import {
  alertIdOf,
  compareTallies,
  JOIN_AT,
  KILL_AT,
  recordCount,
  SCALING_PARTITIONS,
  SCALING_TEST_TIMEOUT_MS,
  ScalingScenario,
  scalingStream,
  tally,
} from './support/scaling.js';

const SEEDS_DIR = path.join(repoRoot, 'shared/rules/sigma-seeds');

/** The Sigma correlations among the seeds (shared/rules/sigma-seeds/README.md), by the correlation's id. */
const CORRELATIONS: Readonly<Record<string, string>> = {
  'f08a1761-6529-483a-ac4b-676e2993344e': 'sigma event_count (service creation)',
  'be7a2cbd-3a62-456b-8170-c3bbda0dad1b': 'sigma temporal_ordered (remote credential access)',
  '18c25d29-94ac-4780-804c-1e4a3b43a40a': 'sigma temporal (Remcos)',
};
/**
 * The other rule RULES_DIR=sigma-seeds loads: the Sigma event rule. The built-ins are off (RULES_BUILTINS=false):
 * their 1 h span aggregation would set the restore horizon for the whole set and hide a correlation whose own
 * replay window is too short (checked by shortening it on purpose: the test then still passed).
 */
const OTHER_RULES: Readonly<Record<string, string>> = {
  '5fc46ff7-c961-4b3d-934d-ba55e0c1255f': 'sigma event rule (CAR-2014-11-005)',
};

let kit: KafkaTestKit;
let stream: NormalizedScenario;
let probes = 0;
const scaling = new ScalingScenario();

beforeAll(async () => {
  kit = await KafkaTestKit.connect();
  // With probes a replay shorter than two windows gets wrong (./support/replay-window-probes.ts).
  ({ stream, probes } = withReplayWindowProbes(scalingStream(), SCALING_PARTITIONS));
}, 180_000);

afterAll(async () => {
  await scaling.stop();
  await kit?.close();
});

function ruleOf(record: CommittedRecord): string {
  return headerString(record.headers, ALERT_HEADERS.ruleId) ?? '';
}

describe('detector group with the Sigma seeds: SIGKILL and a joining member', () => {
  it(
    'commits exactly the alerts of an undisturbed single detector, per rule',
    async () => {
      const run = await scaling.run(kit, {
        name: 'sigma-scaling',
        stream,
        detectorEnv: {
          RULES_DIR: SEEDS_DIR,
          RULES_BUILTINS: 'false',
          DETECTOR_STRICT: 'true',
        },
      });
      const named = [...Object.keys(CORRELATIONS), ...Object.keys(OTHER_RULES)];
      const rules = [
        ...new Set([...named, ...run.alerts.reference.map(ruleOf), ...run.alerts.group.map(ruleOf)]),
      ];
      const perRule = rules.map((rule) => {
        // `alert id` -> committed records carrying it, of this rule.
        const want = tally(
          run.alerts.reference.filter((r) => ruleOf(r) === rule),
          alertIdOf,
        );
        const got = tally(
          run.alerts.group.filter((r) => ruleOf(r) === rule),
          alertIdOf,
        );
        const { missing, extra, duplicate } = compareTallies(want, got);
        return {
          rule,
          name: CORRELATIONS[rule] ?? OTHER_RULES[rule] ?? rule,
          want,
          got,
          reference: want.size,
          records: recordCount(got),
          missing: missing.length,
          extra: extra.length,
          duplicate: duplicate.length,
        };
      });
      console.log(
        `[sigma scaling] ${stream.records.length} records (${probes} replay-window probes), group (3, one SIGKILLed at ${KILL_AT * 100} %, a 4th at ${JOIN_AT * 100} %) vs reference, per rule: ` +
          perRule
            .map(
              (r) =>
                `${r.name}: ${r.reference} reference / ${r.records} group records, ${r.missing} missing, ${r.extra} extra, ${r.duplicate} duplicate`,
            )
            .join('; '),
      );
      // Each Sigma correlation fired, and often enough that some of its windows spanned the kill or the join.
      for (const id of Object.keys(CORRELATIONS))
        expect(perRule.find((r) => r.rule === id)!.reference).toBeGreaterThan(20);
      for (const r of perRule) expect([r.rule, r.missing, r.extra, r.duplicate]).toEqual([r.rule, 0, 0, 0]);
      for (const r of perRule) expect([...r.got.keys()].sort()).toEqual([...r.want.keys()].sort());
    },
    SCALING_TEST_TIMEOUT_MS,
  );
});
