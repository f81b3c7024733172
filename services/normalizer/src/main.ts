#!/usr/bin/env node
/**
 * `node services/normalizer/dist/main.js [--source format:topic ...]`: config from the environment
 * (README.md), `--source` flags replacing NORMALIZER_SOURCES. Exits 0 after a clean SIGTERM/SIGINT
 * shutdown, 1 on a crash, 2 on bad configuration.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '@sequor/model';
import { formatNames } from '@sequor/formats';
import { runService, runServiceMain } from '@sequor/service';
import { start as startTelemetry } from '@sequor/telemetry';
import { normalizerConfigFromEnv } from './config.js';
import { createNormalizer } from './normalizer.js';

const usage = `usage: normalizer [--source format:topic]...

Reads raw telemetry topics, writes normalized Avro events keyed by host. Configuration comes from the
environment (see services/normalizer/README.md); each --source replaces NORMALIZER_SOURCES.
OpenTelemetry from the OTEL_* variables, /metrics, /healthz and /readyz on METRICS_PORT
(shared/telemetry/README.md).
Formats: ${formatNames().join(', ')}`;

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

function parseArgs(argv: readonly string[]): string[] {
  const sources: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else if (arg === '--source') {
      const next = argv[++i];
      if (next === undefined)
        throw new ConfigError('--source', undefined, 'a format:topic value after --source');
      sources.push(next);
    } else if (arg.startsWith('--source=')) {
      sources.push(arg.slice('--source='.length));
    } else {
      throw new ConfigError('argument', arg, `--source format:topic (see --help)`);
    }
  }
  return sources;
}

function main(): Promise<number> {
  return runService('normalizer', {
    setup: async (logger) => {
      const config = normalizerConfigFromEnv(process.env, parseArgs(process.argv.slice(2)));
      const telemetry = await startTelemetry({ serviceName: 'sequor-normalizer', serviceVersion: version });
      logger.info('telemetry started', telemetry.describe());
      const normalizer = createNormalizer(config, { logger, telemetry });
      return {
        service: normalizer,
        // On SIGTERM the last batch is acknowledged and committed first, then its spans are flushed.
        onSignal: telemetry.shutdownAfter(normalizer, (error) =>
          logger.warn('telemetry shutdown failed: the last spans were not exported', { error }),
        ),
        afterStop: () =>
          telemetry.shutdown().catch((error: unknown) => logger.warn('telemetry shutdown failed', { error })),
      };
    },
  });
}

runServiceMain('normalizer', main);
