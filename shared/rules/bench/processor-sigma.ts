/**
 * The detector processor's cost beyond Sigma matching: `createDetectionProcessor` with the four built-in
 * rules plus every SigmaHQ rule (loaded by `loadRuleSet`, compiled by `compileRule`) against the same
 * processor with the built-ins only (the floor), and `SigmaRuleSet.match` alone over the same events
 * (through `SequorEventFields`, as the processor's dispatch calls it), interleaved, best of the rounds,
 * in events per CPU-second. The overhead beyond matching is 1/processor - 1/floor - 1/match, in us/event.
 * Every pass starts with the set's value memo empty.
 *
 *   node --import tsx --conditions=sequor-source shared/rules/bench/processor-sigma.ts [events=40000] [rounds=5]
 *     [--alerts-out=FILE] [--alerts-expect=FILE] [--profile]
 *
 * Differential check: `--alerts-out` writes every alert of one all-rules pass (NDJSON, in emit order, the
 * rule's id beside it); `--alerts-expect` compares this pass with such a file (written by an earlier
 * commit) and exits 1 at the first difference. `--profile` runs only the all-rules processor (for
 * `node --cpu-prof`). `SEQUOR_SIGMA_DIR` overrides `../shared/sigma`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { SequorEvent } from '@sequor/model';
import { createDetectionProcessor } from '@sequor/pipeline';
import type { CompiledRule } from '@sequor/rules';
import { SequorEventFields, type SigmaRuleSet } from '@sequor/sigma';
import { builtinRules, scenarioEvents, timePass, type PassResult } from '../../../test/bench/paths/engine.js';
import { sigmaDetectorRules } from '../../../test/bench/paths/_detector.js';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const flag = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const size = Number(positional[0] ?? 40_000);
const rounds = Number(positional[1] ?? 5);

const events: SequorEvent[] = scenarioEvents(size);
const builtins = await builtinRules();
const { rules: all } = await sigmaDetectorRules();
const sets = new Set<SigmaRuleSet>();
for (const { rule } of all)
  if (rule.type === 'sigma' && rule.binding !== undefined) sets.add(rule.binding.set);
const cold = (): void => {
  for (const set of sets) set.forgetValues();
};
console.log(
  `rules: ${all.length} (${builtins.length} built-in), Sigma rule sets: ${sets.size}, events: ${size}`,
);

/** One processor over every event, as `processorPass` in test/bench/paths/engine.ts; alerts counted. */
function processor(rules: readonly CompiledRule[], sink?: (line: string) => void): PassResult {
  cold();
  return timePass(events.length, () => {
    let alerts = 0;
    const p = createDetectionProcessor({
      rules,
      allowedLatenessMs: 5_000,
      clock: () => 0,
      onAlert:
        sink === undefined
          ? () => alerts++
          : (alert, rule) => {
              alerts++;
              sink(`${rule.rule.id} ${JSON.stringify(alert)}`);
            },
    });
    for (let i = 0; i < events.length; i++) p.push(events[i]!);
    p.flush();
    return alerts;
  });
}

function matchAlone(): PassResult {
  cold();
  const fields = new SequorEventFields();
  return timePass(events.length, () => {
    let n = 0;
    for (let i = 0; i < events.length; i++) {
      const source = fields.bind(events[i]!);
      for (const set of sets) n += set.match(source).length;
    }
    return n;
  });
}

// Differential check first (also warms every path up).
const lines: string[] = [];
const checked = processor(all, (line) => lines.push(line));
console.log(`alerts with all rules: ${checked.outputs}`);
const out = flag('alerts-out');
if (out !== undefined) writeFileSync(out, lines.join('\n') + '\n');
const expect = flag('alerts-expect');
if (expect !== undefined) {
  const expected = readFileSync(expect, 'utf8').split('\n').slice(0, -1);
  const at = expected.findIndex((line, i) => line !== lines[i]);
  if (at >= 0 || expected.length !== lines.length) {
    const i = at >= 0 ? at : Math.min(expected.length, lines.length);
    console.log(`alerts differ from ${expect} at #${i} (expected ${expected.length}, got ${lines.length})`);
    console.log(`  expected: ${expected[i]?.slice(0, 300)}\n  got:      ${lines[i]?.slice(0, 300)}`);
    process.exit(1);
  }
  console.log(`alerts identical to ${expect} (${lines.length})`);
}

// For `node --cpu-prof`: only the all-rules processor, `rounds` times.
if (process.argv.includes('--profile')) {
  for (let r = 0; r < rounds; r++)
    console.log(`processor ${Math.round(processor(all).perCpuSecond)} events/CPU-s`);
  process.exit(0);
}

const best = { floor: 0, processor: 0, match: 0 };
for (let r = 0; r < rounds; r++) {
  const floor = processor(builtins).perCpuSecond;
  const full = processor(all).perCpuSecond;
  const match = matchAlone().perCpuSecond;
  best.floor = Math.max(best.floor, floor);
  best.processor = Math.max(best.processor, full);
  best.match = Math.max(best.match, match);
  console.log(
    `round ${r + 1}: floor ${Math.round(floor)} | processor ${Math.round(full)} | match alone ${Math.round(match)} events/CPU-s`,
  );
}
const us = (perSecond: number): number => 1e6 / perSecond;
const beyond = us(best.processor) - us(best.floor) - us(best.match);
console.log(
  `best of ${rounds}: processor, all rules ${Math.round(best.processor)} events/CPU-s = ` +
    `${((100 * best.processor) / best.floor).toFixed(1)} % of the floor (built-ins only) ${Math.round(best.floor)}; ` +
    `match alone ${Math.round(best.match)}`,
);
console.log(
  `us/event: processor ${us(best.processor).toFixed(2)}, floor ${us(best.floor).toFixed(2)}, ` +
    `match ${us(best.match).toFixed(2)}, beyond floor + match ${beyond.toFixed(2)}`,
);
