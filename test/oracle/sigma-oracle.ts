/**
 * Runs test/oracle/sigma_oracle.py (pySigma + its SQLite backend, test-time only) over oracle events and
 * Sigma rule files, and gives its JSON result typed. The Python is the repo's `.venv` (made by
 * test/setup/prepare.sh) or `SEQUOR_PYTHON`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, toJsonLines, type OracleEvent } from './sigma-events.ts';

const oracleScript = path.join(repoRoot, 'test/oracle/sigma_oracle.py');

export interface OracleRuleResult {
  readonly file: string;
  readonly id: string | null;
  readonly title: string | null;
  /** converted: pySigma's SQL ran; refused: pySigma could not load or convert it; failed: its SQL did not run. */
  readonly status: 'converted' | 'refused' | 'failed';
  readonly error?: string;
  /** Indexes of the events the detection alone matches (no processing pipeline), ascending. */
  readonly matches?: readonly number[];
  /** With pySigma's sysmon + windows-logsource pipelines; null when they map no Channel for the logsource. */
  readonly logsourceMatches?: readonly number[] | null;
  readonly logsourceError?: string;
}

export interface OracleResult {
  readonly pysigma: string;
  readonly backend: string;
  readonly events: number;
  readonly rules: readonly OracleRuleResult[];
  readonly seconds: Readonly<Record<string, number>>;
}

export class SigmaOracleError extends Error {
  constructor(
    message: string,
    readonly stderr = '',
  ) {
    super(stderr === '' ? message : `${message}\n${stderr.slice(-4000)}`);
    this.name = 'SigmaOracleError';
  }
}

function pythonPath(): string {
  const configured = process.env['SEQUOR_PYTHON'];
  const candidate = configured ?? path.join(repoRoot, '.venv/bin/python');
  if (!existsSync(candidate)) {
    throw new SigmaOracleError(
      `The Sigma oracle needs Python with pySigma: ${configured !== undefined ? `SEQUOR_PYTHON=${configured} does not exist` : `${candidate} is missing`}. ` +
        'Create it with: bash test/setup/prepare.sh (or python3 -m venv .venv && .venv/bin/pip install --no-deps -r test/oracle/requirements-sigma.txt).',
    );
  }
  return candidate;
}

/** pySigma's verdict on each rule file (files or folders, searched for *.yml) over the events. */
export function runSigmaOracle(events: readonly OracleEvent[], rules: readonly string[]): OracleResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'sequor-sigma-oracle-'));
  try {
    const eventsFile = path.join(dir, 'events.jsonl');
    writeFileSync(eventsFile, toJsonLines(events));
    const run = spawnSync(pythonPath(), [oracleScript, '--events', eventsFile, ...rules], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (run.error !== undefined)
      throw new SigmaOracleError(`sigma_oracle.py did not start: ${run.error.message}`);
    if (run.status !== 0) throw new SigmaOracleError(`sigma_oracle.py exited with ${run.status}`, run.stderr);
    const result = JSON.parse(run.stdout) as OracleResult;
    if (result.events !== events.length)
      throw new SigmaOracleError(
        `sigma_oracle.py read ${result.events} events of ${events.length}`,
        run.stderr,
      );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
