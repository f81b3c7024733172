// Running the project's own deploy scripts (deploy/*/*.sh) from tests and benchmarks: one place that
// spawns them and collects their output, and a private broker for the benchmark scripts.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `bash <repo>/<script> <command>` with `env`; resolves with its exit code and output once it ends. */
export function runDeployScript(
  script: string,
  command: string,
  env: NodeJS.ProcessEnv,
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(repoRoot, script), command], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A single-node broker of its own for a benchmark script (deploy/kafka/kafka.sh in a fresh state
 * directory, stopped by `stop()` or, through the owner pid, when this process dies); KAFKA_BROKERS, when
 * set, is used instead and left alone.
 */
export async function benchBroker(): Promise<{
  readonly brokers: string;
  readonly external: boolean;
  stop(): Promise<void>;
}> {
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external) return { brokers: external, external: true, stop: () => Promise.resolve() };
  const state = await mkdtemp(path.join(tmpdir(), 'sequor-bench-kafka-'));
  const env = { ...process.env, SEQUOR_KAFKA_STATE: state, SEQUOR_KAFKA_OWNER_PID: String(process.pid) };
  const started = await runDeployScript('deploy/kafka/kafka.sh', 'start', env);
  const brokers = started.stdout.trim().split('\n').pop()?.trim() ?? '';
  if (started.code !== 0 || !/^[\w.-]+:\d+$/.test(brokers))
    throw new Error(`kafka.sh start failed:\n${started.stderr}`);
  return {
    brokers,
    external: false,
    stop: async () => {
      const stopped = await runDeployScript('deploy/kafka/kafka.sh', 'stop', env);
      process.stderr.write(stopped.stderr);
      await rm(state, { recursive: true, force: true });
    },
  };
}
