/**
 * Drives the built `sequor` (services/cli/dist/main.js) as a subprocess, as a user or a script would.
 * `npm test` builds first; run `npx turbo run build --filter=@sequor/cli...` after changing the sources
 * when running vitest alone (the helper refuses a dist/ older than src/ rather than test stale code).
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(cliDir, '../..');
export const datasetsDir = path.resolve(repoRoot, '../shared/datasets/security-datasets');
export const cliMain = path.join(cliDir, 'dist/main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Throws unless dist/main.js exists and is newer than every source file of the CLI. */
export function assertBuilt(): void {
  let built: number;
  try {
    built = statSync(cliMain).mtimeMs;
  } catch {
    throw new Error(
      `${cliMain} is missing: run \`npx turbo run build --filter=@sequor/cli...\` (npm test does) first`,
    );
  }
  if (newestMtime(path.join(cliDir, 'src')) > built) {
    throw new Error(
      `${cliMain} is older than services/cli/src: run \`npx turbo run build --filter=@sequor/cli...\` first`,
    );
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Bytes for stdin (default: none, stdin closed). */
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** Runs `node dist/main.js ...args`, collecting stdout and stderr (both pipes: not a terminal). */
export function sequor(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [cliMain, ...args], options);
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** NDJSON lines as values. */
export function ndjson<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Single-quotes an argument for `sh -c` (what `script -c` runs). */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
