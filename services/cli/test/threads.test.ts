/**
 * `--threads N` (detect, query): worker threads normalize the lines, this thread merges and detects. The
 * output must not depend on N: the same alerts in the same order, byte for byte (SOURCE_DATE_EPOCH fixes
 * the detection time), on the real datasets, on generated scenarios out of order with late events and
 * Zeek TSV, and for queries; a worker that dies or throws fails the run at once (exit 1, one line).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultThreads } from '../src/io/normalize-workers.js';
import { assertBuilt, datasetsDir, sequor } from './support.js';

const REPRODUCIBLE = { SOURCE_DATE_EPOCH: '1700000000' };
let tmp = '';
let scenarioDir = '';

beforeAll(async () => {
  assertBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), 'sequor-cli-threads-'));
  scenarioDir = path.join(tmp, 'scenario');
  // Out of order by up to 20 s with 1 % late events: the reorder stage and lateness are exercised.
  const generated = await sequor([
    'generate',
    '--out',
    scenarioDir,
    '--seed',
    '7',
    '--events',
    '30000',
    '--out-of-order',
    '20s',
    '--late',
    '0.01',
  ]);
  if (generated.code !== 0) throw new Error(`generate failed: ${generated.stderr}`);
}, 120_000);

afterAll(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

/** `sequor detect` with --threads N: the alert file's bytes, and the summary without its timing and --out lines. */
async function detect(threads: number, inputs: readonly string[], extra: readonly string[] = []) {
  const out = path.join(tmp, `alerts-${threads}-${Math.random().toString(36).slice(2)}.ndjson`);
  const run = await sequor(['detect', '--threads', String(threads), '--out', out, ...extra, ...inputs], {
    env: REPRODUCIBLE,
  });
  expect(run.code, run.stderr).toBe(0);
  const summary = run.stderr
    .split('\n')
    .filter((line) => !line.startsWith('sequor detect:') && !line.startsWith('alerts written to'))
    .join('\n');
  return { alerts: readFileSync(out, 'utf8'), summary };
}

describe('the default --threads', () => {
  it('is 1 on one or two cores (workers there cost more than they save), else one per core but the main one', () => {
    expect([1, 2, 3, 4, 16].map((cores) => defaultThreads(cores))).toEqual([1, 1, 2, 3, 15]);
  });
});

describe('sequor detect --threads', () => {
  it('writes the same alerts, in the same order, byte for byte, on the real datasets', async () => {
    const [one, two, three] = await Promise.all([1, 2, 3].map((n) => detect(n, [datasetsDir])));
    expect(one!.alerts.split('\n').filter((l) => l !== '')).toHaveLength(3);
    expect(two!.alerts).toBe(one!.alerts);
    expect(three!.alerts).toBe(one!.alerts);
    expect(two!.summary).toBe(one!.summary);
    expect(three!.summary).toBe(one!.summary);
  }, 120_000);

  it('writes the same alerts and counts on a generated scenario out of order, with late events and Zeek TSV', async () => {
    const [one, two, three] = await Promise.all(
      [1, 2, 3].map((n) => detect(n, [scenarioDir], ['--lateness', '5s'])),
    );
    expect(one!.alerts.split('\n').filter((l) => l !== '').length).toBeGreaterThan(5);
    expect(one!.summary).toMatch(/late events: [1-9]/);
    expect(one!.summary).toContain('zeek-dce-rpc');
    expect(two!.alerts).toBe(one!.alerts);
    expect(three!.alerts).toBe(one!.alerts);
    expect(two!.summary).toBe(one!.summary);
    expect(three!.summary).toBe(one!.summary);
  }, 180_000);

  it('refuses --threads 0 as a usage error', async () => {
    const run = await sequor(['detect', '--threads', '0', datasetsDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--threads must be an integer from 1');
  });

  it.each(['exit', 'throw'])(
    'fails at once, exit 1, when a worker %ss',
    async (fault) => {
      const run = await sequor(['detect', '--threads', '2', datasetsDir], {
        env: { SEQUOR_TEST_WORKER_FAULT: fault },
      });
      expect(run.code).toBe(1);
      const errors = run.stderr.split('\n').filter((l) => l.startsWith('sequor detect:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^sequor detect: normalize worker \d: /);
      expect(run.stdout).toBe('');
    },
    60_000,
  );
});

describe('sequor query --threads', () => {
  const sequence = 'sequence by host.id with maxspan=5m [network where true] [registry where true]';

  it('prints the same matches in the same order for every thread count', async () => {
    const runs = await Promise.all(
      [1, 2, 3].map((n) => sequor(['query', '--threads', String(n), sequence, scenarioDir])),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(runs[0]!.stdout.split('\n').length).toBeGreaterThan(10);
    expect(runs[1]!.stdout).toBe(runs[0]!.stdout);
    expect(runs[2]!.stdout).toBe(runs[0]!.stdout);
    expect(runs[1]!.stderr).toBe(runs[0]!.stderr);
  }, 120_000);

  it('stops early at | head with workers running, and fails at once when one dies', async () => {
    const head = await sequor(['query', '--threads', '2', `${sequence} | head 3`, scenarioDir]);
    expect(head.code, head.stderr).toBe(0);
    expect(head.stdout.trim().split('\n')).toHaveLength(3);
    const died = await sequor(['query', '--threads', '2', sequence, scenarioDir], {
      env: { SEQUOR_TEST_WORKER_FAULT: 'exit' },
    });
    expect(died.code).toBe(1);
    expect(died.stderr).toMatch(/^sequor query: normalize worker \d: its thread exited/m);
  }, 60_000);
});
