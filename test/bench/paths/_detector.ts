/**
 * The detector's side of the bench paths and scripts: its rules with every SigmaHQ rule, and its
 * per-partition processor over a run of events.
 */
import path from 'node:path';
import type { SequorEvent } from '@sequor/model';
import { createDetectionProcessor } from '@sequor/pipeline';
import { compileRule, loadRuleSet, type CompiledRule } from '@sequor/rules';
import { SIGMA_DIR } from './_events.js';

/**
 * The detector's rules with every SigmaHQ rule as its RULES_DIR: loaded, checked and compiled as
 * `loadDetectorRules` does (the built-ins beside them; Sigma rules become event filters that the rule set
 * pipeline reaches through the Sigma index), and how many files were refused.
 */
export async function sigmaDetectorRules(): Promise<{ rules: CompiledRule[]; errors: number }> {
  const loaded = await loadRuleSet(
    { paths: [path.join(SIGMA_DIR, 'rules')], directoriesOnly: true, refuseEmptyDirectories: false },
    {},
  );
  return { rules: loaded.rules.map((rule) => compileRule(rule)), errors: loaded.errors.length };
}

/**
 * A fresh detector per-partition processor over `count` events (`eventAt(i)`: read from an array, or
 * decoded on the spot), flushed; returns the alerts raised.
 */
export function runProcessor(
  rules: readonly CompiledRule[],
  count: number,
  eventAt: (index: number) => SequorEvent,
): number {
  let alerts = 0;
  const processor = createDetectionProcessor({
    rules,
    allowedLatenessMs: 5_000,
    clock: () => 0,
    onAlert: () => alerts++,
  });
  for (let i = 0; i < count; i++) processor.push(eventAt(i));
  processor.flush();
  return alerts;
}
