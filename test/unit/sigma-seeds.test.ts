// The four seed analytics written as Sigma (shared/rules/sigma-seeds: a rule, plus a correlation where the
// seed correlates) against the built-in rules (shared/rules/builtin), on the demo scenario and on the real
// Security-Datasets files. What is compared, per seed: the set of alerts, each alert as the set of its
// evidence event ids (content-derived, so the same event has the same id on both paths). Every difference
// is listed below with the reason; nothing else may differ.
//
// The built-ins run through `sequor detect`'s path (the rule-set loader, compileRule, the embedded
// detection: normalize, merge by event time, 4 partitions, 60 s lateness). The Sigma forms run through
// @sequor/sigma and the engine (loadSigmaDocuments, SigmaRuleSet, compileSigmaCorrelation over
// SequorEventFields, runCorrelation) over the same files normalized by the same formats: the rule-set
// loader does not take Sigma files with several documents (a correlation beside its rules) yet.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandInputs, openInputs, runEmbeddedDetection } from '@sequor/cli';
import { compileEventTime, runCorrelation } from '@sequor/engine';
import { getFormat, NormalizeError } from '@sequor/formats';
import type { SequorEvent } from '@sequor/model';
import { eventFieldCatalog } from '@sequor/model';
import type { Alert } from '@sequor/rules';
import { compileRule, loadRuleSet } from '@sequor/rules';
import { writeScenario } from '@sequor/scenarios';
import {
  compileSigmaCorrelation,
  defaultPipeline,
  loadSigmaDocuments,
  match,
  SequorEventFields,
  SigmaReferences,
  SigmaRuleSet,
} from '@sequor/sigma';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SEEDS_DIR = path.join(repoRoot, 'shared/rules/sigma-seeds');
const DATASETS_DIR = path.resolve(repoRoot, '../shared/datasets/security-datasets');
/** `npm run demo`'s scenario (services/cli/src/demo.ts) and the format of each of its files. */
const DEMO = { seed: 7, events: 40_000, scenarios: 3, late: 0.002 } as const;
const DEMO_FILES: readonly (readonly [string, string])[] = [
  ['winlogbeat.ndjson', 'winlogbeat'],
  ['endpoint.ndjson', 'ecs'],
  ['flat-windows.ndjson', 'flat-windows'],
  ['zeek/dce_rpc.log', 'zeek-dce-rpc'],
];
/** `sequor detect`'s defaults. */
const PARTITIONS = 4;
const LATENESS_MS = 60_000;
const HOUR_MS = 3_600_000;

interface Seed {
  readonly slug: string;
  /** The built-in rule's id. */
  readonly builtin: string;
  /** The Sigma form's id: the correlation's, or the rule's for an event rule. */
  readonly sigma: string;
}

const SEEDS: readonly Seed[] = [
  {
    slug: 'car-2014-11-005-remote-registry',
    builtin: 'dc985e9a-0bd4-4c6c-8141-dcb771529846',
    sigma: '5fc46ff7-c961-4b3d-934d-ba55e0c1255f',
  },
  {
    slug: 'splunk-windows-service-creation-using-registry-entry',
    builtin: '25212358-948e-11ec-ad47-acde48001122',
    sigma: 'f08a1761-6529-483a-ac4b-676e2993344e',
  },
  {
    slug: 'elastic-potential-remote-credential-access-via-registry',
    builtin: '850d901a-2a3c-46c6-8b22-55398a01aad8',
    sigma: 'be7a2cbd-3a62-456b-8170-c3bbda0dad1b',
  },
  {
    slug: 'splunk-remcos-client-registry-install-entry',
    builtin: 'f2a1615a-1d63-11ec-97d2-acde48001122',
    sigma: '18c25d29-94ac-4780-804c-1e4a3b43a40a',
  },
];
const SERVICE_CREATION = SEEDS[1] as Seed;

/** One alert of either path: its rule and evidence (event ids sorted; `file:line` of each, for messages). */
interface Detection {
  readonly rule: string;
  readonly evidence: string;
  readonly lines: string;
}

interface Origin {
  readonly topic: string | null;
  readonly offset: number | null;
}

const lineOf = (origin: Origin): string =>
  `${path.basename(origin.topic ?? '?')}:${(origin.offset ?? -1) + 1}`;

const detectionOf = (rule: string, events: readonly { id: string; origin: Origin }[]): Detection => ({
  rule,
  evidence: events
    .map((e) => e.id)
    .sort()
    .join(' '),
  lines: events.map((e) => lineOf(e.origin)).join(' '),
});

/** The built-in rules' alerts: `sequor detect`'s path over `inputs`. */
async function builtinAlerts(inputs: readonly string[]): Promise<Alert[]> {
  const loaded = await loadRuleSet({ paths: [], builtins: true });
  expect(loaded.errors.map((e) => e.format())).toEqual([]);
  const rules = loaded.rules.map((rule) => compileRule(rule));
  const { opened, failed } = await openInputs(await expandInputs(inputs), undefined);
  expect(failed.map((f) => f.message)).toEqual([]);
  const alerts: Alert[] = [];
  try {
    await runEmbeddedDetection({
      inputs: opened,
      rules,
      partitions: PARTITIONS,
      allowedLatenessMs: LATENESS_MS,
      onAlert: (alert) => alerts.push(alert),
      clock: () => 0,
    });
  } finally {
    for (const input of opened) input.stream.close();
  }
  return alerts;
}

/** Every event of `files` (path, format) as the formats normalize it, in event-time order. */
async function normalize(files: readonly (readonly [string, string])[]): Promise<SequorEvent[]> {
  const encoder = new TextEncoder();
  const events: SequorEvent[] = [];
  for (const [file, format] of files) {
    const decoder = getFormat(format).createDecoder();
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((line, offset) => {
      if (line.trim() === '') return;
      try {
        events.push(...decoder.decode(encoder.encode(line), { topic: file, partition: 0, offset }));
      } catch (error) {
        if (!(error instanceof NormalizeError)) throw error;
      }
    });
  }
  return events.sort((a, b) => a.timestamp - b.timestamp);
}

/**
 * The Sigma forms' alerts over `events`: each file's correlations (their rules raise none of their own:
 * `generate: false`) and, in a file without one, its rule as an event filter.
 */
async function sigmaDetections(events: readonly SequorEvent[]): Promise<Detection[]> {
  const out: Detection[] = [];
  const eventTime = compileEventTime<SequorEvent>(eventFieldCatalog);
  const fields = new SequorEventFields();
  const files = (await readdir(SEEDS_DIR)).filter((f) => f.endsWith('.yml')).sort();
  for (const file of files) {
    const loaded = loadSigmaDocuments(await readFile(path.join(SEEDS_DIR, file), 'utf8'), file);
    expect(loaded.errors.map((e) => e.format())).toEqual([]);
    const set = new SigmaRuleSet(loaded.rules, defaultPipeline);
    expect(set.refused.map((e) => e.format())).toEqual([]);
    if (loaded.correlations.length === 0) {
      for (const rule of set.rules)
        for (const event of events)
          if (match(rule, fields.bind(event)))
            out.push(detectionOf(rule.rule.id as string, [{ id: event.event.id, origin: event.origin }]));
      continue;
    }
    const references = new SigmaReferences(set.rules, loaded.correlations);
    for (const correlation of loaded.correlations) {
      expect(correlation.generate).toBe(false);
      const compiled = compileSigmaCorrelation<SequorEvent>(correlation, references, (e) => fields.bind(e));
      expect(compiled.groupByFields, 'group-by names the partition key').toContain('host.id');
      const matches = runCorrelation(compiled.spec, eventTime, { allowedLatenessMs: LATENESS_MS }, events);
      for (const m of matches)
        out.push(
          detectionOf(
            correlation.id as string,
            m.events.map((e) => ({ id: e.event.id, origin: e.origin })),
          ),
        );
    }
  }
  return out;
}

interface SeedComparison {
  readonly builtin: readonly Alert[];
  readonly sigma: readonly Detection[];
  /** Built-in alerts with no Sigma alert of the same evidence. */
  readonly builtinOnly: readonly Alert[];
  /** Sigma alerts with no built-in alert of the same evidence. */
  readonly sigmaOnly: readonly Detection[];
}

function compare(
  seed: Seed,
  builtinAlerts: readonly Alert[],
  sigmaAlerts: readonly Detection[],
): SeedComparison {
  const builtin = builtinAlerts.filter((a) => a.rule.id === seed.builtin);
  const sigma = sigmaAlerts.filter((a) => a.rule === seed.sigma);
  const asDetection = (a: Alert): Detection =>
    detectionOf(
      a.rule.id,
      a.evidence.map((e) => ({ id: e.event_id, origin: e.origin })),
    );
  const builtinSet = new Set(builtin.map((a) => asDetection(a).evidence));
  const sigmaSet = new Set(sigma.map((d) => d.evidence));
  return {
    builtin,
    sigma,
    builtinOnly: builtin.filter((a) => !sigmaSet.has(asDetection(a).evidence)),
    sigmaOnly: sigma.filter((d) => !builtinSet.has(d.evidence)),
  };
}

const linesOfAlert = (alert: Alert): string => alert.evidence.map((e) => lineOf(e.origin)).join(' ');

/** The built-in alert's group (its span_aggregation group-by values). */
const groupOf = (alert: Alert): string => JSON.stringify(alert.keys);

/**
 * The one difference Sigma's semantics make, for the service-creation seed: `timespan` slides, tstats'
 * `span=1h` buckets are clock hours. The built-in alerts on a group's first write of each clock hour; the
 * event_count correlation (gte 1, 1h) on a group's first write and then only on a write more than 1h
 * after the group's previous one. So every Sigma alert is a built-in alert, and a built-in alert has no
 * Sigma twin only when its group wrote within the hour before it, in the previous clock hour.
 */
function expectServiceCreationDifference(c: SeedComparison): void {
  expect(c.sigmaOnly.map((d) => d.lines)).toEqual([]);
  for (const only of c.builtinOnly) {
    const t = only.event.first_time;
    const before = c.builtin.filter(
      (a) => groupOf(a) === groupOf(only) && a.event.first_time < t && t - a.event.first_time <= HOUR_MS,
    );
    expect(before.length, `a write of the same group within the hour before ${linesOfAlert(only)}`).toBe(1);
    expect(Math.floor((before[0] as Alert).event.first_time / HOUR_MS)).toBe(Math.floor(t / HOUR_MS) - 1);
  }
}

describe('the seed analytics as Sigma give the built-in rules\u2019 alerts', () => {
  let dir: string;
  let demo: { builtin: Alert[]; sigma: Detection[] };
  let datasets: { builtin: Alert[]; sigma: Detection[] };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sequor-sigma-seeds-'));
    await writeScenario(dir, DEMO);
    demo = {
      builtin: await builtinAlerts([dir]),
      sigma: await sigmaDetections(await normalize(DEMO_FILES.map(([f, fmt]) => [path.join(dir, f), fmt]))),
    };
    const files = (await readdir(DATASETS_DIR))
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.join(DATASETS_DIR, f));
    expect(files.length).toBe(5);
    datasets = {
      builtin: await builtinAlerts(files),
      sigma: await sigmaDetections(await normalize(files.map((f) => [f, 'flat-windows']))),
    };
  }, 600_000);

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('the Sigma files raise only the seeds\u2019 alerts', () => {
    const sigmaIds = new Set(SEEDS.map((s) => s.sigma));
    for (const run of [demo, datasets]) expect(run.sigma.filter((d) => !sigmaIds.has(d.rule))).toEqual([]);
  });

  for (const seed of SEEDS) {
    it(`${seed.slug}: the same alerts on the demo scenario`, () => {
      const c = compare(seed, demo.builtin, demo.sigma);
      expect(c.builtin.length, 'the demo has positives for every seed').toBeGreaterThan(0);
      if (seed === SERVICE_CREATION) {
        expectServiceCreationDifference(c);
        // On the demo: 20 built-in alerts (the ground truth's), 17 Sigma. The 3 the sliding hour leaves out
        // are a configuration agent's 09:00:20 re-assertions of an ImagePath on DC02, SRV-PRINT01 and
        // SRV-MON01, whose 08:59:20 writes alert in both.
        expect([c.builtin.length, c.sigma.length, c.builtinOnly.length]).toEqual([20, 17, 3]);
        return;
      }
      expect({
        builtinOnly: c.builtinOnly.map(linesOfAlert),
        sigmaOnly: c.sigmaOnly.map((d) => d.lines),
      }).toEqual({ builtinOnly: [], sigmaOnly: [] });
    });

    it(`${seed.slug}: the same alerts on the Security-Datasets files`, () => {
      const c = compare(seed, datasets.builtin, datasets.sigma);
      expect({
        builtinOnly: c.builtinOnly.map(linesOfAlert),
        sigmaOnly: c.sigmaOnly.map((d) => d.lines),
      }).toEqual({ builtinOnly: [], sigmaOnly: [] });
    });
  }

  it('on the datasets, the alerts PROVENANCE.md expects: 3 service creations, none of the other seeds', () => {
    expect(SEEDS.map((seed) => compare(seed, datasets.builtin, datasets.sigma).sigma.length)).toEqual([
      0, 3, 0, 0,
    ]);
  });
});
