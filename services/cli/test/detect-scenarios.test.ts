/**
 * `sequor generate` then `sequor detect` as subprocesses: the alerts equal the generator's ground truth
 * exactly (rule and evidence file:line set; near-misses do not fire), in order and out of order, with
 * late events counted as the ground truth counts them, and through the Zeek JSON mirror.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@sequor/rules';
import { loadBuiltinRules } from '@sequor/rules';
import type { GroundTruth } from '@sequor/scenarios';
import type { DetectionSummary } from '../src/embedded.js';
import type { GroundTruthComparison } from '../src/ground-truth.js';
import { compareWithGroundTruth, formatComparison, ruleSlugs } from '../src/ground-truth.js';
import { assertBuilt, ndjson, sequor } from './support.js';

interface Outcome {
  readonly truth: GroundTruth;
  readonly alerts: Alert[];
  readonly comparison: GroundTruthComparison;
  readonly summary: DetectionSummary;
  readonly generateOut: string;
}

let tmp = '';
const outcomes = new Map<string, Outcome>();

async function scenario(
  name: string,
  generate: readonly string[],
  detect: (dir: string) => readonly string[],
): Promise<void> {
  const dir = path.join(tmp, name);
  const generated = await sequor(['generate', '--out', dir, ...generate]);
  if (generated.code !== 0) throw new Error(`generate failed: ${generated.stderr}`);
  const summaryFile = path.join(tmp, `${name}.summary.json`);
  const detected = await sequor(['detect', '--summary-json', summaryFile, ...detect(dir)]);
  if (detected.code !== 0) throw new Error(`detect failed: ${detected.stderr}`);
  const truth = JSON.parse(readFileSync(path.join(dir, 'ground-truth.json'), 'utf8')) as GroundTruth;
  const alerts = ndjson<Alert>(detected.stdout);
  const slugs = ruleSlugs(await loadBuiltinRules());
  outcomes.set(name, {
    truth,
    alerts,
    comparison: compareWithGroundTruth(truth, dir, alerts, slugs),
    summary: JSON.parse(readFileSync(summaryFile, 'utf8')) as DetectionSummary,
    generateOut: generated.stdout,
  });
}

beforeAll(async () => {
  assertBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), 'sequor-cli-scenarios-'));
  await Promise.all([
    scenario('sorted', ['--seed', '3', '--events', '20000', '--scenarios', '2'], (dir) => [dir]),
    // Lines up to 20 s out of order and 1% late noise; the Zeek rows read from the JSON mirror.
    scenario(
      'jittered',
      [
        '--seed',
        '4',
        '--events',
        '20000',
        '--scenarios',
        '2',
        '--out-of-order',
        '20s',
        '--late',
        '0.01',
        '--zeek-json',
      ],
      (dir) => [
        '--lateness',
        '20s',
        ...['winlogbeat.ndjson', 'endpoint.ndjson', 'flat-windows.ndjson', 'zeek/dce_rpc.json'].map((f) =>
          path.join(dir, f),
        ),
      ],
    ),
  ]);
}, 900_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('sequor detect on generated scenarios', () => {
  for (const name of ['sorted', 'jittered']) {
    it(`${name}: the alerts are the ground truth's exactly, every rule fires, no near-miss fires`, () => {
      const o = outcomes.get(name) as Outcome;
      expect(o.comparison.exact, formatComparison(o.comparison)).toBe(true);
      expect(o.comparison.matched).toBe(o.truth.counts.alerts);
      expect(o.comparison.nearMissesFired).toEqual([]);
      expect(o.truth.near_misses.length).toBeGreaterThan(0);
      expect(new Set(o.alerts.map((a) => a.rule.id)).size).toBe(4);
      expect(o.summary.deadLetters).toBe(0);
      expect(o.summary.events).toBe(o.truth.counts.events);
    });
  }

  it('counts exactly the late events the ground truth has, and none when there are none', () => {
    const jittered = outcomes.get('jittered') as Outcome;
    expect(jittered.truth.counts.late).toBeGreaterThan(0);
    expect(jittered.summary.late).toBe(jittered.truth.counts.late);
    expect((outcomes.get('sorted') as Outcome).summary.late).toBe(0);
  });

  it('read the Zeek JSON mirror in place of the TSV log, and skipped ground-truth.json in a directory', () => {
    const jittered = outcomes.get('jittered') as Outcome;
    expect(jittered.summary.inputs.map((i) => i.format)).toEqual([
      'winlogbeat',
      'ecs',
      'flat-windows',
      'zeek-dce-rpc',
    ]);
    const car = jittered.alerts.filter((a) => a.rule.name.includes('CAR-2014-11-005'));
    expect(car.length).toBeGreaterThan(0);
    expect(car.every((a) => a.evidence[0]?.origin.topic?.endsWith('zeek/dce_rpc.json'))).toBe(true);
    expect((outcomes.get('sorted') as Outcome).summary.skipped.map((s) => path.basename(s.name))).toEqual([
      'ground-truth.json',
    ]);
  });

  it('generate prints what it wrote: the files with their line counts and the expected alerts', () => {
    const o = outcomes.get('sorted') as Outcome;
    for (const file of o.truth.files) {
      expect(o.generateOut).toContain(file.path);
      expect(o.generateOut).toContain(file.lines.toLocaleString('en-US'));
    }
    expect(o.generateOut).toContain(`ground-truth.json: ${o.truth.counts.alerts} alerts`);
  });
});
