#!/usr/bin/env node
/**
 * `node services/detector/dist/main.js`: config from the environment (README.md). Exits 0 after a clean
 * SIGTERM/SIGINT shutdown, 1 on a crash, 2 on bad configuration or a rule set it cannot run.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '@sequor/model';
import { runService, runServiceMain } from '@sequor/service';
import { start as startTelemetry } from '@sequor/telemetry';
import { detectorConfigFromEnv } from './config.js';
import { createDetector } from './detector.js';
import { RuleSetRefusedError } from './rules.js';
import { detectorTelemetry } from './telemetry.js';

const usage = `usage: detector

Reads normalized Avro events (DETECTOR_INPUT_TOPICS), runs the built-in rules and RULES_DIR, writes Avro
alerts keyed by host to ALERTS_TOPIC, exactly once per consumed record (Kafka transactions). Configuration
comes from the environment: see services/detector/README.md; OpenTelemetry from the OTEL_* variables,
/metrics, /healthz and /readyz on METRICS_PORT (shared/telemetry/README.md).`;

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

async function main(): Promise<number> {
  if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  return runService('detector', {
    setup: async (logger) => {
      if (process.argv.length > 2)
        throw new ConfigError(
          'argument',
          process.argv[2],
          'no arguments (configuration comes from the environment; see --help)',
        );
      const config = detectorConfigFromEnv(process.env);
      const telemetry = await startTelemetry({ serviceName: 'sequor-detector', serviceVersion: version });
      logger.info('telemetry started', telemetry.describe());
      const detector = createDetector(config, { logger, telemetry: detectorTelemetry(telemetry, config) });
      return {
        service: detector,
        // On SIGTERM the detector's last transaction commits first, then the spans of that batch are flushed.
        onSignal: telemetry.shutdownAfter(detector, (error) =>
          logger.warn('telemetry shutdown failed: the last spans were not exported', { error }),
        ),
        afterStop: () =>
          telemetry.shutdown().catch((error: unknown) => logger.warn('telemetry shutdown failed', { error })),
      };
    },
    refusal: (error) => (error instanceof RuleSetRefusedError ? 'rule set refused' : undefined),
  });
}

runServiceMain('detector', main);
