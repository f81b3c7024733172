#!/usr/bin/env node
/**
 * `node services/normalizer/dist/main.js [--source format:topic ...]`: config from the environment
 * (README.md), `--source` flags replacing NORMALIZER_SOURCES. Exits 0 after a clean SIGTERM/SIGINT
 * shutdown, 1 on a crash, 2 on bad configuration.
 */
import { readFileSync } from 'node:fs';
import { createLogger, installShutdownHandlers, logLevelFromEnv, runServiceMain } from '@sequor/kafka';
import { ConfigError } from '@sequor/model';
import { formatNames } from '@sequor/formats';
import type { Telemetry } from '@sequor/telemetry';
import { start as startTelemetry } from '@sequor/telemetry';
import { normalizerConfigFromEnv } from './config.js';
import { createNormalizer } from './normalizer.js';

const usage = `usage: normalizer [--source format:topic]...

Reads raw telemetry topics, writes normalized Avro events keyed by host. Configuration comes from the
environment (see services/normalizer/README.md); each --source replaces NORMALIZER_SOURCES.
OpenTelemetry from the OTEL_* variables, /metrics, /healthz and /readyz on METRICS_PORT
(shared/telemetry/README.md).
Formats: ${formatNames().join(', ')}`;

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function parseArgs(argv: readonly string[]): string[] {
  const sources: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else if (arg === '--source') {
      const next = argv[++i];
      if (next === undefined) throw new ConfigError('--source', undefined, 'a format:topic value after --source');
      sources.push(next);
    } else if (arg.startsWith('--source=')) {
      sources.push(arg.slice('--source='.length));
    } else {
      throw new ConfigError('argument', arg, `--source format:topic (see --help)`);
    }
  }
  return sources;
}

async function main(): Promise<number> {
  let logger = createLogger('normalizer', { level: 'info' });
  let normalizer;
  let telemetry: Telemetry;
  try {
    logger = createLogger('normalizer', { level: logLevelFromEnv(process.env) });
    const config = normalizerConfigFromEnv(process.env, parseArgs(process.argv.slice(2)));
    telemetry = await startTelemetry({ serviceName: 'sequor-normalizer', serviceVersion: version });
    logger.info('telemetry started', telemetry.describe());
    normalizer = createNormalizer(config, { logger, telemetry });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error('invalid configuration', { error });
    return 2;
  }
  // On SIGTERM the last batch is acknowledged and committed first, then its spans are flushed.
  installShutdownHandlers(telemetry.shutdownAfter(normalizer), logger);
  try {
    await normalizer.start();
    await normalizer.done;
    return 0;
  } catch (error) {
    logger.error('normalizer failed', { error });
    await normalizer.stop().catch(() => undefined);
    return 1;
  } finally {
    await telemetry.shutdown().catch((error: unknown) => logger.warn('telemetry shutdown failed', { error }));
  }
}

runServiceMain('normalizer', main);
