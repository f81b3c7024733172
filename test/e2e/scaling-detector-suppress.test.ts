// Suppression exactly once across a SIGKILL and a rebalance (issue 15 item 1), with the built service:
// three detector processes share a 6-partition topic fed with a generated stream, every built-in rule
// also loaded as a copy with `suppress: { by: [host.id], window: 30m }`; one member is SIGKILLed
// mid-stream, later a fourth joins (the scenario: ./support/scaling.ts). The committed alerts and the
// committed update records (alert id and count) must equal those of one undisturbed detector: 0 missing,
// 0 duplicates, no count lost or doubled.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaTestKit } from '@sequor/kafka/testing';
import { createAlertUpdateCodec } from '@sequor/model';
import type { CommittedRecord } from '../../services/detector/test/support/e2e.js';
import { repoRoot } from '../../services/detector/test/support/e2e.js';
import type { NormalizedScenario } from '../../services/detector/test/support/scenario.js';
import {
  alertIdOf,
  compareTallies,
  JOIN_AT,
  KILL_AT,
  recordCount,
  SCALING_TEST_TIMEOUT_MS,
  ScalingScenario,
  scalingStream,
  tally,
} from './support/scaling.js';

const updateCodec = createAlertUpdateCodec();

let kit: KafkaTestKit;
let stream: NormalizedScenario;
let rulesDir: string | undefined;
const scaling = new ScalingScenario();

beforeAll(async () => {
  kit = await KafkaTestKit.connect();
  stream = scalingStream();
  // Each built-in once more, under another id, suppressing per host for 30 minutes.
  rulesDir = await mkdtemp(path.join(tmpdir(), 'sequor-suppress-rules-'));
  const builtin = path.join(repoRoot, 'shared/rules/builtin');
  for (const [i, file] of (await readdir(builtin)).filter((f) => f.endsWith('.yaml')).entries()) {
    const text = (await readFile(path.join(builtin, file), 'utf8'))
      .replace(/^id: .*$/m, `id: 5e0a1c2d-3b4f-4a6e-8c7d-9f0e1a2b3c4${i}`)
      .replace(/^name: (.*)$/m, 'name: $1 (suppressed per host)')
      .replace(/^tests:[\s\S]*$/m, 'suppress:\n  by: [host.id]\n  window: 30m\n');
    await writeFile(path.join(rulesDir, file), text);
  }
}, 180_000);

afterAll(async () => {
  await scaling.stop();
  await kit?.close();
  if (rulesDir !== undefined) await rm(rulesDir, { recursive: true, force: true });
});

/** `alert id +count closed_by` of an update record. */
function updateLine(record: CommittedRecord): string {
  const u = updateCodec.decode(record.value!);
  return `${u.alert.id} +${u.suppression.count} ${u.suppression.closed_by}`;
}

describe('detector group with suppress: SIGKILL and a joining member', () => {
  it(
    'commits exactly the alerts and update counts of an undisturbed single detector',
    async () => {
      const run = await scaling.run(kit, {
        name: 'suppress',
        stream,
        detectorEnv: { RULES_DIR: rulesDir!, DETECTOR_STRICT: 'true' },
        alertUpdates: true,
      });
      const scaledAlerts = tally(run.alerts.group, alertIdOf);
      const singleAlerts = tally(run.alerts.reference, alertIdOf);
      const scaledUpdates = tally(run.updates.group, updateLine);
      const singleUpdates = tally(run.updates.reference, updateLine);
      const counted = (m: Map<string, number>) =>
        [...m.keys()].reduce((sum, line) => sum + Number(/\+(\d+)/.exec(line)![1]), 0);
      console.log(
        `[suppress scaling] reference: ${singleAlerts.size} alerts, ${singleUpdates.size} updates counting ${counted(singleUpdates)} suppressed alerts; ` +
          `group (3, one SIGKILLed at ${KILL_AT * 100} %, a 4th at ${JOIN_AT * 100} %): ${recordCount(scaledAlerts)} alert records, ` +
          `${recordCount(scaledUpdates)} update records counting ${counted(scaledUpdates)}`,
      );
      expect(counted(singleUpdates)).toBeGreaterThan(0);
      expect(compareTallies(singleAlerts, scaledAlerts)).toEqual({ missing: [], extra: [], duplicate: [] });
      expect(compareTallies(singleUpdates, scaledUpdates)).toEqual({ missing: [], extra: [], duplicate: [] });
    },
    SCALING_TEST_TIMEOUT_MS,
  );
});
