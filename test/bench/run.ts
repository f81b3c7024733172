/**
 * `npm run bench`: runs the path modules in test/bench/paths/ (each measures a path of Sequor and its
 * floor in this same process run), prints one table, writes bench/results/<date>.json and <date>.svg
 * (and latest.svg, which the README shows).
 *
 *   npm run bench [-- --quick] [--only=normalizer,detector-broker] [--out=DIR]
 *
 * --quick   small sizes, figures not judged; written as <date>-quick.* and latest.svg is left alone
 * --only    run only these path ids; written as <date>-<ids>.* and latest.svg is left alone
 * --out     results folder (default bench/results)
 *
 * A full run (neither --quick nor --only) into a folder of this repo also rewrites the README's
 * Performance table, between its `<!-- bench:begin -->` and `<!-- bench:end -->` markers.
 *
 * Files in paths/ whose names start with `_` are helpers shared by path modules, not paths.
 *
 * A broker is started (deploy/kafka/kafka.sh, private state dir, stopped at the end) the first time a
 * path that needs one runs, unless KAFKA_BROKERS is set. Exit code 1 when a path failed, not when a
 * target is missed: the table says that.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { applyV8Flags } from '@sequor/service';
import { benchBroker } from '../setup/deploy-script.js';
import type { BenchContext, BenchPathModule, BenchRow } from './harness.js';
import type { BenchReport, PathOutcome } from './report.js';
import { formatTable, markdownSummary, renderSvg, spliceBetweenMarkers } from './report.js';

// The services' V8 settings, so that every figure (and its floor) is of the runtime they run.
applyV8Flags();

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: path.join(repoRoot, 'bench/results') },
  },
});

/** Every test/bench/paths/*.ts except helpers (names starting with `_`), imported in name order. */
async function loadPaths(only: ReadonlySet<string> | undefined): Promise<BenchPathModule[]> {
  const dir = path.join(here, 'paths');
  const files = (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('_'))
    .sort();
  const modules: BenchPathModule[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as Partial<BenchPathModule>;
    if (typeof mod.id !== 'string' || typeof mod.run !== 'function')
      throw new Error(`test/bench/paths/${file}: a path module exports id (string) and run(ctx)`);
    if (only === undefined || only.has(mod.id)) modules.push(mod as BenchPathModule);
  }
  // By id, so `normalizer` (in process) comes before `normalizer-broker`.
  modules.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (only !== undefined) {
    const unknown = [...only].filter((id) => !modules.some((m) => m.id === id));
    if (unknown.length > 0)
      throw new Error(
        `--only: no path module with id ${unknown.join(', ')} (path files: ${files.join(', ')})`,
      );
  }
  return modules;
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

const errorText = (error: unknown): string =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);

async function main(): Promise<number> {
  const quick = values.quick;
  const only =
    values.only === undefined
      ? undefined
      : new Set(
          values.only
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
        );
  const modules = await loadPaths(only);
  const startedAt = new Date();
  const loadAverageStart = os.loadavg();
  const rows: BenchRow[] = [];
  const outcomes: PathOutcome[] = [];
  let broker: Awaited<ReturnType<typeof benchBroker>> | undefined;
  let brokerError: string | undefined;
  try {
    for (const mod of modules) {
      if (mod.needsBroker && broker === undefined && brokerError === undefined) {
        process.stderr.write(
          process.env.KAFKA_BROKERS?.trim()
            ? `bench: broker ${process.env.KAFKA_BROKERS} (KAFKA_BROKERS)\n`
            : 'bench: starting a private broker (deploy/kafka/kafka.sh)\n',
        );
        broker = await benchBroker().catch((error: unknown) => {
          brokerError = errorText(error);
          return undefined;
        });
      }
      const ctx: BenchContext = {
        quick,
        ...(broker === undefined ? {} : { brokers: broker.brokers }),
        log: (line) => process.stderr.write(`[${mod.id}] ${line}\n`),
      };
      const cpu = process.cpuUsage();
      const wall = performance.now();
      const timing = () => ({ wallMs: performance.now() - wall, cpuMs: cpuMs(cpu) });
      if (mod.needsBroker && broker === undefined) {
        ctx.log(`skipped: no broker (${brokerError ?? 'unknown'})`);
        outcomes.push({ id: mod.id, rows: 0, ...timing(), skipped: `no broker: ${brokerError}` });
        continue;
      }
      ctx.log(`running${quick ? ' (quick)' : ''}`);
      try {
        const produced = await mod.run(ctx);
        rows.push(...produced);
        const t = timing();
        outcomes.push({ id: mod.id, rows: produced.length, ...t });
        ctx.log(
          `done: ${produced.length} rows in ${(t.wallMs / 1000).toFixed(1)} s (${(t.cpuMs / 1000).toFixed(1)} CPU-s)`,
        );
      } catch (error) {
        ctx.log(`FAILED: ${errorText(error)}`);
        outcomes.push({ id: mod.id, rows: 0, ...timing(), error: errorText(error) });
      }
    }
  } finally {
    await broker?.stop();
  }

  const cpuList = os.cpus();
  const report: BenchReport = {
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    quick,
    ...(broker === undefined ? {} : { brokers: broker.external ? broker.brokers : 'private' }),
    machine: {
      cpus: cpuList.length,
      model: cpuList[0]?.model.trim() ?? 'unknown',
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      loadAverageStart,
      loadAverageEnd: os.loadavg(),
    },
    paths: outcomes,
    rows,
  };
  // A partial (--only) or quick run never takes the name of, or replaces the chart of, a full run.
  const partial = only === undefined ? '' : `-${[...only].sort().join('+')}`;
  const stem = `${report.date}${quick ? '-quick' : ''}${partial}`;
  await mkdir(values.out, { recursive: true });
  const svg = renderSvg(report);
  await writeFile(path.join(values.out, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(values.out, `${stem}.svg`), svg);
  if (!quick && only === undefined) {
    await writeFile(path.join(values.out, 'latest.svg'), svg);
    // The README's Performance table follows the latest full run into the default results folder.
    const readmePath = path.join(repoRoot, 'README.md');
    const resultsDir = path.relative(repoRoot, values.out);
    if (!resultsDir.startsWith('..')) {
      const readme = await readFile(readmePath, 'utf8');
      const updated = spliceBetweenMarkers(readme, markdownSummary(report, `${resultsDir}/${stem}.json`));
      if (updated !== undefined && updated !== readme) await writeFile(readmePath, updated);
    }
  }

  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  for (const o of outcomes.filter((o) => o.error !== undefined || o.skipped !== undefined))
    process.stdout.write(
      `path ${o.id}: ${o.error === undefined ? `skipped, ${o.skipped}` : 'FAILED (see above)'}\n`,
    );
  process.stdout.write(
    `${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}; written ${path.join(values.out, `${stem}.{json,svg}`)}\n`,
  );
  return outcomes.some((o) => o.error !== undefined) ? 1 : 0;
}

// Explicitly: a client's lingering timer must not keep a finished bench alive.
process.exit(await main());
