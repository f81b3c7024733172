// Global setup of the vitest `integration` project: every integration test runs against a real broker.
// With KAFKA_BROKERS set, that cluster is used as is; otherwise deploy/kafka/kafka.sh starts a private
// single-node Kafka (its own state dir, so a developer's `npm run kafka start` broker is never touched)
// and stops it after the run. Tests read the address with `inject('kafkaBrokers')` or KAFKA_BROKERS.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
// Importing the module makes it resolvable for the augmentation below.
import type {} from 'vitest';
import { runDeployScript } from './deploy-script.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap servers, comma-separated host:port. */
    kafkaBrokers: string;
  }
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
  const started = await runDeployScript('deploy/kafka/kafka.sh', 'start', env);
  const bootstrap = started.stdout.trim().split('\n').pop()?.trim() ?? '';
  if (started.code !== 0 || !/^[\w.-]+:\d+$/.test(bootstrap)) {
    await runDeployScript('deploy/kafka/kafka.sh', 'stop', env);
    await rm(stateDir, { recursive: true, force: true });
    throw new Error(
      `deploy/kafka/kafka.sh start failed (exit ${started.code}):\n${started.stderr}${started.stdout}`,
    );
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
    const stopped = await runDeployScript('deploy/kafka/kafka.sh', 'stop', env);
    if (stopped.code !== 0) {
      console.error(
        `[integration] deploy/kafka/kafka.sh stop failed (exit ${stopped.code}):\n${stopped.stderr}`,
      );
    }
    delete process.env.KAFKA_BROKERS;
    await rm(stateDir, { recursive: true, force: true });
  };
}
