// Global setup of the vitest `integration` project: every integration test runs against a real broker.
// With KAFKA_BROKERS set, that cluster is used as is; otherwise deploy/kafka/kafka.sh starts a private
// single-node Kafka (its own state dir, so a developer's `npm run kafka start` broker is never touched)
// and stops it after the run. Tests read the address with `inject('kafkaBrokers')` or KAFKA_BROKERS.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
// Importing the module makes it resolvable for the augmentation below.
import type {} from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap servers, comma-separated host:port. */
    kafkaBrokers: string;
  }
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const kafkaScript = path.join(repoRoot, 'deploy/kafka/kafka.sh');

interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runKafkaScript(command: 'start' | 'stop', env: NodeJS.ProcessEnv): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [kafkaScript, command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const existing = process.env.KAFKA_BROKERS?.trim();
  if (existing) {
    project.provide('kafkaBrokers', existing);
    console.log(`[integration] Kafka: existing cluster at ${existing} (KAFKA_BROKERS)`);
    return undefined;
  }

  const stateDir = await mkdtemp(path.join(tmpdir(), 'sequor-kafka-vitest-'));
  // The owner PID makes kafka.sh stop the broker should this process die before the teardown runs.
  const env = { ...process.env, SEQUOR_KAFKA_STATE: stateDir, SEQUOR_KAFKA_OWNER_PID: String(process.pid) };
  const startedAt = Date.now();
  const started = await runKafkaScript('start', env);
  const bootstrap = started.stdout.trim().split('\n').pop()?.trim() ?? '';
  if (started.code !== 0 || !/^[\w.-]+:\d+$/.test(bootstrap)) {
    await runKafkaScript('stop', env);
    await rm(stateDir, { recursive: true, force: true });
    throw new Error(`deploy/kafka/kafka.sh start failed (exit ${started.code}):\n${started.stderr}${started.stdout}`);
  }
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const version = /Kafka (\S+) \(KRaft\)/.exec(started.stderr)?.[1] ?? 'unknown version';
  process.env.KAFKA_BROKERS = bootstrap;
  project.provide('kafkaBrokers', bootstrap);
  console.log(
    `[integration] Kafka: started Kafka ${version} at ${bootstrap} for this run in ${seconds} s ` +
      `(log ${path.join(stateDir, 'kafka.log')}); it stops after the run`,
  );

  return async () => {
    const stopped = await runKafkaScript('stop', env);
    if (stopped.code !== 0) {
      console.error(`[integration] deploy/kafka/kafka.sh stop failed (exit ${stopped.code}):\n${stopped.stderr}`);
    }
    delete process.env.KAFKA_BROKERS;
    await rm(stateDir, { recursive: true, force: true });
  };
}
