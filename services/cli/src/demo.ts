#!/usr/bin/env node
/**
 * `npm run demo`: the whole product in one minute, no Kafka. Runs the built `sequor` as a user would:
 * `sequor generate` writes a small seeded scenario into a temporary directory, `sequor detect` runs the
 * four built-in rules over it, and the alerts are checked against the generator's ground truth exactly
 * (same rule, same evidence file:line set, nothing missing, nothing extra, the late events counted).
 * Exit 0 only when everything matches.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Alert } from '@sequor/rules';
import { loadBuiltinRules } from '@sequor/rules';
import type { GroundTruth } from '@sequor/scenarios';
import { compareWithGroundTruth, formatComparison, ruleSlugs } from './ground-truth.js';

const main = fileURLToPath(new URL('./main.js', import.meta.url));

/** The scenario: ~40k events, three attack instances per rule with their near-misses, 0.2% late noise. */
const GENERATE = ['--seed', '7', '--events', '40000', '--scenarios', '3', '--late', '0.002'];

function sequor(
  args: readonly string[],
  captureStdout: boolean,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], {
      stdio: ['ignore', captureStdout ? 'pipe' : 'inherit', 'inherit'],
    });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout }));
  });
}

/** One line per alert: when, severity, the rendered message. */
function describe(alert: Alert): string {
  return `  ${new Date(alert.event.first_time).toISOString()}  ${alert.rule.severity.padEnd(8)}  ${alert.message}`;
}

async function run(): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sequor-demo-'));
  try {
    console.log(`$ sequor generate --out ${dir} ${GENERATE.join(' ')}`);
    const generated = await sequor(['generate', '--out', dir, ...GENERATE], false);
    if (generated.code !== 0) return fail(`sequor generate exited with ${generated.code}`);

    const summaryFile = path.join(dir, 'summary.json');
    console.log(`\n$ sequor detect ${dir}`);
    const detected = await sequor(['detect', dir, '--summary-json', summaryFile], true);
    if (detected.code !== 0) return fail(`sequor detect exited with ${detected.code}`);
    const alerts = detected.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Alert);

    const rules = await loadBuiltinRules();
    console.log(`\nalerts (${alerts.length}):`);
    for (const rule of rules) {
      const mine = alerts
        .filter((a) => a.rule.id === rule.id)
        .sort((a, b) => a.event.first_time - b.event.first_time);
      console.log(`\n${rule.name}: ${mine.length}`);
      for (const a of mine) console.log(describe(a));
    }

    const truth = JSON.parse(await readFile(path.join(dir, 'ground-truth.json'), 'utf8')) as GroundTruth;
    const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as { late: number };
    const comparison = compareWithGroundTruth(truth, dir, alerts, ruleSlugs(rules));
    console.log(`\n${formatComparison(comparison)}`);
    console.log(`late events: ${summary.late} counted, ${truth.counts.late} in the ground truth`);
    const silent = rules.filter((r) => !alerts.some((a) => a.rule.id === r.id));
    if (silent.length > 0) return fail(`no alert for ${silent.map((r) => r.name).join(', ')}`);
    if (!comparison.exact) return fail('the alerts differ from the ground truth');
    if (summary.late !== truth.counts.late) return fail('the late event count differs from the ground truth');
    console.log('\ndemo: OK');
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function fail(reason: string): number {
  console.error(`\ndemo: FAILED: ${reason}`);
  return 1;
}

process.exitCode = await run();
