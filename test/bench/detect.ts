/**
 * `sequor detect` benchmark: the built command, as a user runs it, over a generated scenario.
 *
 *   npx turbo run build --filter=@sequor/cli...
 *   npx tsx --conditions=sequor-source test/bench/detect.ts [--events 1000000] [--dir DIR] [--partitions 4] [--keep]
 *
 * Generates the scenario with `sequor generate` (or reuses `--dir`, a directory it wrote earlier), runs
 * `sequor detect DIR` in a child process with the alerts to /dev/null, and prints events/s (wall clock
 * and per CPU-second: on a shared machine the second is the steadier number), the child's peak RSS, the
 * input size, and whether the alerts equal the ground truth exactly.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Alert } from '@sequor/rules';
import { loadBuiltinRules } from '@sequor/rules';
import type { GroundTruth } from '@sequor/scenarios';
import type { DetectionSummary } from '../../services/cli/src/embedded.js';
import { compareWithGroundTruth, formatComparison, ruleSlugs } from '../../services/cli/src/ground-truth.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mainJs = path.join(repoRoot, 'services/cli/dist/main.js');

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    dir: { type: 'string' },
    partitions: { type: 'string', default: '4' },
    keep: { type: 'boolean', default: false },
  },
});

function sequor(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name !== 'ground-truth.json') total += statSync(path.join(e.parentPath, e.name)).size;
  }
  return total;
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  if (!existsSync(mainJs))
    throw new Error(`${mainJs} is missing: run \`npx turbo run build --filter=@sequor/cli...\` first`);
  const dir = values.dir ?? mkdtempSync(path.join(os.tmpdir(), 'sequor-bench-detect-'));
  const generate = values.dir === undefined || !existsSync(path.join(dir, 'ground-truth.json'));
  console.log(
    `sequor detect benchmark: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  try {
    if (generate) {
      const g = await sequor(['generate', '--out', dir, '--seed', '1', '--events', values.events as string]);
      if (g.code !== 0) throw new Error(`sequor generate failed: ${g.stderr}`);
      console.log(`generated ${dir} in ${(g.ms / 1000).toFixed(1)} s`);
    }
    const truth = JSON.parse(readFileSync(path.join(dir, 'ground-truth.json'), 'utf8')) as GroundTruth;
    const summaryFile = path.join(os.tmpdir(), `sequor-bench-summary-${process.pid}.json`);
    const outFile = path.join(os.tmpdir(), `sequor-bench-alerts-${process.pid}.ndjson`);
    const d = await sequor([
      'detect',
      dir,
      '--partitions',
      values.partitions as string,
      '--summary-json',
      summaryFile,
      '--out',
      outFile,
    ]);
    if (d.code !== 0) throw new Error(`sequor detect failed: ${d.stderr}`);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as DetectionSummary;
    const alerts = readFileSync(outFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Alert);
    rmSync(summaryFile, { force: true });
    rmSync(outFile, { force: true });
    const comparison = compareWithGroundTruth(truth, dir, alerts, ruleSlugs(await loadBuiltinRules()));
    const input = bytesUnder(dir);
    console.log(
      `input: ${count(summary.events)} events, ${count(summary.lines)} lines, ${mib(input)} in ${summary.inputs.length} files (${summary.inputs.map((i) => i.format).join(', ')})`,
    );
    console.log(
      `detect: ${(summary.wallMs / 1000).toFixed(1)} s wall (process ${(d.ms / 1000).toFixed(1)} s with start-up), CPU ${(summary.cpuMs / 1000).toFixed(1)} s`,
    );
    console.log(
      `  ${count(summary.eventsPerSecond)} events/s wall clock, ${count(summary.events / (summary.cpuMs / 1000))} events per CPU-second, ${mib(input / (summary.wallMs / 1000))}/s of input`,
    );
    console.log(
      `  peak RSS ${mib(summary.peakRssBytes)}; ${summary.partitions} partitions (${summary.eventsPerPartition.map(count).join(' / ')} events)`,
    );
    console.log(
      `  ${summary.alerts} alerts, ${summary.late} late events (ground truth ${truth.counts.late}), ${summary.deadLetters} dead letters`,
    );
    console.log(formatComparison(comparison));
    if (!comparison.exact) process.exitCode = 1;
  } finally {
    if (values.dir === undefined && !values.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`scenario kept in ${dir} (reuse with --dir)`);
  }
}

await main();
