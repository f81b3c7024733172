/**
 * Embedded mode (issue 12, target 4): the built `sequor` command as a user runs it, one child process
 * per pass, its CPU time read by /usr/bin/time (start-up included: that is what a run costs).
 *
 * - `sequor detect` over a generated scenario's NDJSON files (Winlogbeat, Elastic Endpoint, flat Windows
 *   JSON; the Zeek TSV log is left out because the floor parses JSON);
 * - `sequor query` with the seed sequence (the built-in rule "Potential Remote Credential Access via
 *   Registry", `sequence by host.id, user.id with maxspan=1m`) over generated ECS events that leave
 *   50,000 keys open (2,000 in quick mode);
 * - with worker threads, when the CLI offers them (`--workers` or `--threads` in its help): wall time,
 *   all cores, against the single-thread floor's wall time;
 * - `sequor query` against the Python `eql` engine on the same file (full runs only, when the oracle venv
 *   exists: `.venv/bin/python` or SEQUOR_PYTHON).
 *
 * Floor, in this process, over the same files: readline over each file and JSON.parse of each line, one
 * thread. Floor and figure interleaved, best pass of each; single-thread rows compare CPU time.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadBuiltinRules } from '@sequor/rules';
import { SCENARIO_FILES, writeScenario } from '@sequor/scenarios';
import type { BenchContext, BenchRow } from '../harness.js';
import type { Pass } from './_measure.js';
import { bestInterleaved, judge, perSecond, round, timed } from './_measure.js';
import { seedSequenceLines } from './_records.js';

export const id = 'embedded';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const mainJs = path.join(repoRoot, 'services/cli/dist/main.js');
const eqlScript = path.join(repoRoot, 'test/bench/eql_query.py');
const SEED_SEQUENCE_RULE = '850d901a-2a3c-46c6-8b22-55398a01aad8';
const TARGET_SHARE = 0.5;
const TARGET_EQL_TIMES = 100;

interface ChildRun extends Pass {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `command args` as a child process, wall time here and CPU time (user + system) from /usr/bin/time. */
async function runTimed(command: string, args: readonly string[], captureStdout: boolean): Promise<ChildRun> {
  const timeFile = path.join(os.tmpdir(), `sequor-bench-time-${process.pid}-${Date.now()}`);
  const haveTime = existsSync('/usr/bin/time');
  const [file, argv] = haveTime
    ? ['/usr/bin/time', ['-f', '%U %S', '-o', timeFile, command, ...args]]
    : [command, [...args]];
  const started = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(file, argv, { stdio: ['ignore', captureStdout ? 'pipe' : 'ignore', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
      child.once('error', reject);
      child.once('close', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
    },
  );
  const wallMs = performance.now() - started;
  let cpuMs = Number.NaN;
  if (haveTime) {
    const [user, system] = (await readFile(timeFile, 'utf8').catch(() => ''))
      .trim()
      .split('\n')
      .pop()!
      .split(' ');
    cpuMs = (Number(user) + Number(system)) * 1000;
    await rm(timeFile, { force: true });
  }
  return { code, stdout, stderr, wallMs, cpuMs };
}

async function sequor(args: readonly string[], captureStdout = false): Promise<ChildRun> {
  const result = await runTimed(process.execPath, [mainJs, ...args], captureStdout);
  if (result.code !== 0)
    throw new Error(`sequor ${args[0]} exited ${String(result.code)}: ${result.stderr.slice(-2_000)}`);
  return result;
}

/** The floor: readline over each file in turn, JSON.parse of every non-blank line; returns the lines parsed. */
async function readAndParse(files: readonly string[]): Promise<number> {
  let parsed = 0;
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.length === 0) continue;
      if (JSON.parse(line) !== null) parsed++;
    }
  }
  return parsed;
}

/** The CLI's option for worker threads, once another change adds it; undefined until then. */
async function workersOption(command: 'detect' | 'query'): Promise<string | undefined> {
  const help = await runTimed(process.execPath, [mainJs, command, '--help'], true);
  return /--(workers|threads)\b/.exec(help.stdout + help.stderr)?.[0];
}

/** `npx turbo run build --filter=@sequor/cli...` (cached when nothing changed); false when it fails. */
async function buildCli(ctx: BenchContext): Promise<boolean> {
  const build = await runTimed(
    'npx',
    ['turbo', 'run', 'build', '--filter=@sequor/cli...', '--output-logs=errors-only'],
    true,
  );
  if (build.code !== 0)
    ctx.log(`building the CLI failed:\n${build.stdout.slice(-2_000)}${build.stderr.slice(-1_000)}`);
  return build.code === 0;
}

function pythonPath(): string | undefined {
  const configured = process.env.SEQUOR_PYTHON?.trim();
  const candidate = configured || path.join(repoRoot, '.venv/bin/python');
  return existsSync(candidate) ? candidate : undefined;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const built = await buildCli(ctx);
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing and the CLI did not build`);
  if (!built) ctx.log('measuring the CLI as last built (dist/ may be older than the source)');
  const rounds = ctx.quick ? 1 : 2;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sequor-bench-embedded-'));
  const rows: BenchRow[] = [];
  try {
    // ---- sequor detect over a generated scenario -------------------------------------------------
    await writeScenario(dir, { seed: 1, events: ctx.quick ? 5_000 : 100_000 });
    const detectFiles = [SCENARIO_FILES.winlogbeat, SCENARIO_FILES.endpoint, SCENARIO_FILES.flatWindows].map(
      (f) => path.join(dir, f),
    );
    const detectBytes = (await Promise.all(detectFiles.map((f) => stat(f)))).reduce(
      (s, st) => s + st.size,
      0,
    );
    let detectLines = 0;
    const threads = { detect: await workersOption('detect'), query: await workersOption('query') };
    // One thread for the single-thread rows (the option's default is every core).
    const oneThread = (option: string | undefined): string[] => (option === undefined ? [] : [option, '1']);
    const detectArgs = ['detect', ...detectFiles, '--out', '/dev/null'];
    const detect = await bestInterleaved(
      rounds,
      () => timed(async () => (detectLines = await readAndParse(detectFiles))),
      () => sequor([...detectArgs, ...oneThread(threads.detect)]),
      byCpuElseWall,
    );
    ctx.log(`detect: ${detectLines} lines, ${round(detectBytes / 2 ** 20)} MiB`);
    rows.push(
      singleThreadRow(ctx, {
        id: 'embedded.detect',
        path: `sequor detect, one thread, generated Winlogbeat + Endpoint + flat Windows NDJSON (${detectLines.toLocaleString('en-US')} lines)`,
        lines: detectLines,
        floor: detect.floor,
        figure: detect.figure,
        detail: { lines: detectLines, bytes: detectBytes, rounds },
      }),
    );

    // ---- sequor query, the seed sequence, many open keys -----------------------------------------
    const rules = await loadBuiltinRules();
    const seed = rules.find((r) => r.id === SEED_SEQUENCE_RULE);
    const query = seed !== undefined && 'query' in seed ? seed.query : undefined;
    if (query === undefined)
      throw new Error(`built-in rule ${SEED_SEQUENCE_RULE} (the seed sequence) is missing`);
    const openKeys = ctx.quick ? 2_000 : 50_000;
    const queryEvents = ctx.quick ? 5_000 : 100_000;
    const queryFile = path.join(dir, 'seed-sequence.ndjson');
    await writeFile(queryFile, `${seedSequenceLines(queryEvents, openKeys).join('\n')}\n`);
    const queryBytes = (await stat(queryFile)).size;
    const queryArgs = ['query', '--format', 'ecs', query, queryFile];
    let queryLines = 0;
    let sequorMatches = 0;
    const q = await bestInterleaved(
      rounds,
      () => timed(async () => (queryLines = await readAndParse([queryFile]))),
      async () => {
        const r = await sequor(
          [...queryArgs.slice(0, 1), ...oneThread(threads.query), ...queryArgs.slice(1)],
          true,
        );
        sequorMatches = r.stdout.split('\n').filter((l) => l !== '').length;
        return r;
      },
      byCpuElseWall,
    );
    rows.push(
      singleThreadRow(ctx, {
        id: 'embedded.query',
        path: `sequor query, one thread, the seed sequence over ${queryLines.toLocaleString('en-US')} ECS events, ${openKeys.toLocaleString('en-US')} open keys`,
        lines: queryLines,
        floor: q.floor,
        figure: q.figure,
        detail: { lines: queryLines, bytes: queryBytes, openKeys, matches: sequorMatches, rounds },
      }),
    );

    // ---- worker threads, when the CLI has them ---------------------------------------------------
    for (const [command, args, files, lines] of [
      ['detect', detectArgs, detectFiles, detectLines],
      ['query', queryArgs, [queryFile], queryLines],
    ] as const) {
      const option = threads[command];
      if (option === undefined) {
        ctx.log(
          `sequor ${command} has no worker-thread option yet (--workers/--threads): its row is left out`,
        );
        continue;
      }
      const cores = os.cpus().length;
      const withWorkers = [...args.slice(0, 1), option, String(cores), ...args.slice(1)];
      const w = await bestInterleaved(
        rounds,
        () => timed(() => readAndParse(files)),
        () => sequor(withWorkers, command === 'query'),
        byCpuElseWall,
      );
      const figure = perSecond(lines, w.figure.wallMs);
      const floor = perSecond(lines, w.floor.wallMs);
      rows.push({
        id: `embedded.${command}-workers`,
        path: `sequor ${command} ${option} ${cores}: every core, wall clock, the same input as embedded.${command}`,
        figure: round(figure),
        unit: 'lines/s',
        floorName: 'single-thread readline + JSON.parse of the same lines, wall clock',
        floor: round(floor),
        ratio: round(figure / floor, 3),
        target: 'faster than the floor (> 100 % of floor)',
        met: judge(ctx.quick, figure > floor),
        detail: { lines, cores, cpuPerSecond: round(perSecond(lines, w.figure.cpuMs)), rounds },
      });
    }

    // ---- sequor query against Python eql, same file ----------------------------------------------
    const python = pythonPath();
    if (ctx.quick) ctx.log('Python eql comparison: full runs only');
    else if (python === undefined)
      ctx.log(
        'Python eql comparison left out: no oracle venv (.venv/bin/python; bash test/setup/prepare.sh makes it)',
      );
    else {
      const budgetMs = Number(process.env.BENCH_EQL_CPU_BUDGET_S ?? 600) * 1000;
      const py = await runWithCpuBudget(python, [eqlScript, query, queryFile], budgetMs);
      if (!py.cutOff && py.code !== 0)
        throw new Error(`eql_query.py exited ${String(py.code)}: ${py.stderr.slice(-2_000)}`);
      const pyResult = py.cutOff
        ? undefined
        : (JSON.parse(py.stdout) as { readonly matches: number; readonly events: number });
      const figure = perSecond(queryLines, q.figure.cpuMs);
      // Cut off, Python had not read the whole file in that CPU time: its rate is at most this, the ratio at least.
      const floor = perSecond(pyResult?.events ?? queryLines, py.cpuMs);
      const ratio = figure / floor;
      rows.push({
        id: 'embedded.query-vs-eql',
        path: `sequor query vs Python eql 1.0.1, the seed sequence, the same file (${openKeys.toLocaleString('en-US')} open keys), JSON parsing included${py.cutOff ? '; Python stopped at its CPU budget, so the ratio is a lower bound' : ''}`,
        figure: round(figure),
        unit: 'lines/CPU-s',
        floorName: `Python eql PythonEngine over the same file (test/bench/eql_query.py)${py.cutOff ? ', an upper bound' : ''}`,
        floor: round(floor),
        ratio: round(ratio, 3),
        target: '>= 100x Python eql',
        met:
          pyResult === undefined
            ? ratio >= TARGET_EQL_TIMES || undefined
            : ratio >= TARGET_EQL_TIMES && pyResult.matches === sequorMatches,
        detail: {
          sequorCpuMs: round(q.figure.cpuMs),
          pythonCpuMs: round(py.cpuMs),
          pythonWallMs: round(py.wallMs),
          pythonCutOff: py.cutOff ? `after ${round(budgetMs / 1000)} CPU-s (BENCH_EQL_CPU_BUDGET_S)` : 'no',
          sequorMatches,
          pythonMatches: pyResult?.matches ?? 'unknown (cut off)',
        },
      });
      ctx.log(
        `Python eql: ${round(py.cpuMs / 1000, 1)} CPU-s${py.cutOff ? ' (cut off)' : ''}, ${pyResult?.matches ?? '?'} matches (sequor ${sequorMatches})`,
      );
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `command args` as a child process whose CPU time (from /proc, polled) may not exceed `budgetMs`: past
 * it the child is killed and `cutOff` set. For the Python eql engine, whose cost grows with the open keys
 * (more than 20 CPU-minutes at 50,000 on this machine): a full bench must end.
 */
export async function runWithCpuBudget(
  command: string,
  args: readonly string[],
  budgetMs: number,
): Promise<ChildRun & { readonly cutOff: boolean }> {
  const ticksPerSecond = 100; // getconf CLK_TCK on Linux
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let cpuMs = 0;
  let cutOff = false;
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const poll = setInterval(() => {
    readFile(`/proc/${String(child.pid)}/stat`, 'utf8')
      .then((stat) => {
        // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuMs = ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1000;
        if (cpuMs > budgetMs && !cutOff) {
          cutOff = true;
          child.kill('SIGKILL');
        }
      })
      .catch(() => undefined);
  }, 200);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearInterval(poll));
  return { code, stdout, stderr, wallMs: performance.now() - started, cpuMs, cutOff };
}

/** A pass's cost as CPU time, wall time when CPU is unknown (a child run without `/usr/bin/time`). */
const byCpuElseWall = (p: Pass): number => (Number.isNaN(p.cpuMs) ? p.wallMs : p.cpuMs);

function singleThreadRow(
  ctx: BenchContext,
  r: {
    id: string;
    path: string;
    lines: number;
    floor: Pass;
    figure: ChildRun;
    detail: Record<string, number | string>;
  },
): BenchRow {
  const figure = perSecond(r.lines, r.figure.cpuMs);
  const floor = perSecond(r.lines, r.floor.cpuMs);
  const ratio = figure / floor;
  return {
    id: r.id,
    path: r.path,
    figure: round(figure),
    unit: 'lines/CPU-s',
    floorName: 'readline + JSON.parse of the same lines, one thread, CPU time',
    floor: round(floor),
    ratio: round(ratio, 3),
    target: '>= 50 % of floor',
    met: judge(ctx.quick, ratio >= TARGET_SHARE),
    detail: {
      ...r.detail,
      figureWallPerSecond: round(perSecond(r.lines, r.figure.wallMs)),
      floorWallPerSecond: round(perSecond(r.lines, r.floor.wallMs)),
    },
  };
}
