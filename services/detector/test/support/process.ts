/**
 * The built detector (`services/detector/dist/main.js`) as a child process: its JSON log lines parsed as
 * they arrive, waits on what they say (never on time alone), and kill/stop.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './e2e.js';

export const detectorMainJs = path.join(repoRoot, 'services/detector/dist/main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts'))
      newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Throws unless dist/main.js is newer than the detector's (and the kafka and pipeline packages') sources. */
export function requireFreshBuild(): void {
  let built = 0;
  try {
    built = statSync(detectorMainJs).mtimeMs;
  } catch {
    built = 0;
  }
  const sources = Math.max(
    ...['services/detector/src', 'shared/kafka/src', 'shared/pipeline/src', 'shared/telemetry/src'].map((d) =>
      newestSource(path.join(repoRoot, d)),
    ),
  );
  if (built < sources)
    throw new Error(
      `${detectorMainJs} is missing or older than its sources: run \`npm run build\` first (\`npm run test:integration\` does)`,
    );
}

export interface LogLine {
  readonly ts: string;
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export class DetectorProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  /** Raw stderr that was not a JSON log line (a crash trace). */
  other = '';
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];
  private partial = '';

  constructor(
    readonly name: string,
    env: Readonly<Record<string, string>>,
  ) {
    // Each process its own free metrics port (logged at start); no trace export unless the test asks.
    const telemetryEnv = { METRICS_PORT: '0', METRICS_HOST: '127.0.0.1', OTEL_TRACES_EXPORTER: 'none' };
    this.child = spawn(process.execPath, [detectorMainJs], {
      env: { PATH: process.env.PATH ?? '', ...telemetryEnv, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (this.partial + chunk).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.other += `${line}\n`;
        }
      }
      for (const w of this.waiters) w();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => {
      for (const w of this.waiters) w();
    });
  }

  /** The partitions of its last assignment (the consumer runner logs one line per join). */
  get assignment(): number[] {
    const last = [...this.logs].reverse().find((l) => l.msg === 'partitions assigned');
    const topics = (last?.['assignment'] as { partitions: number[] }[] | undefined) ?? [];
    return topics.flatMap((t) => t.partitions);
  }

  /** Resolves with the first log line (from `from` on) that `predicate` accepts; rejects on exit or timeout. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, from = 0): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const state: { timer?: NodeJS.Timeout } = {};
      const check = (): boolean => {
        const found = this.logs.slice(from).find(predicate);
        if (found !== undefined) {
          resolve(found);
          return true;
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          reject(
            new Error(
              `${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before the expected log line:\n${this.tail()}`,
            ),
          );
          return true;
        }
        return false;
      };
      if (check()) return;
      const waiter = () => {
        if (check()) {
          clearTimeout(state.timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
        }
      };
      this.waiters.push(waiter);
      state.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: no such log line in ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
    });
  }

  /** The port of its /metrics, /healthz and /readyz (from its 'telemetry started' log line). */
  get metricsPort(): number {
    const line = this.logs.find((l) => l.msg === 'telemetry started');
    if (line === undefined)
      throw new Error(`${this.name} has not logged its metrics port yet:\n${this.tail()}`);
    return line['metricsPort'] as number;
  }

  /** GET /readyz: status and text. */
  async readyz(): Promise<{ readonly status: number; readonly text: string }> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/readyz`);
    return { status: response.status, text: (await response.text()).trim() };
  }

  /** The last log lines, for failure messages. */
  tail(n = 15): string {
    return [...this.logs.slice(-n).map((l) => JSON.stringify(l)), this.other.slice(-2000)].join('\n');
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }
}

/** Polls `condition` (cheap, in-memory: the processes' logs) until it holds, or throws `describe()`. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether `members` own partitions 0 … `partitions` − 1 between them, each at least one. */
export function groupOwnsAll(members: readonly DetectorProcess[], partitions: number): boolean {
  const owned = members
    .map((p) => p.assignment)
    .flat()
    .sort((x, y) => x - y)
    .join();
  const all = Array.from({ length: partitions }, (_, i) => i).join();
  return owned === all && members.every((p) => p.assignment.length > 0);
}
