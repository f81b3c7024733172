// deploy/compose: the Compose file validated against the Compose Specification by compose-go (the library
// `docker compose` loads files with, built by deploy/check/install-tools.sh), every variable the services
// read passed to them and listed in .env.example with the value the stack really runs with, and the
// topics created as deploy/k8s declares them. No Docker engine needed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Env } from '@sequor/model';
import { normalizerConfigFromEnv } from '@sequor/normalizer';
import { detectorConfigFromEnv } from '@sequor/detector';
import type { ServiceName } from './support.js';
import {
  deployDir,
  installTools,
  parseEnvFile,
  runTool,
  runtimeVariables,
  serviceConfig,
  serviceVariables,
  tools,
} from './support.js';

const composeDir = path.join(deployDir, 'compose');
const composeFile = path.join(composeDir, 'compose.yaml');
const envExample = path.join(composeDir, '.env.example');

interface ComposeService {
  image?: string;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  build?: { context: string; dockerfile: string; target?: string };
}
interface ComposeProject {
  services: Record<string, ComposeService>;
}

async function render(envFile: string): Promise<ComposeProject> {
  const result = await runTool(tools.deployCheck, ['compose', composeFile, envFile]);
  expect(result.stderr, 'compose-go refused the compose file').toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ComposeProject;
}

/** The Sequor services of the stack and which program each runs. */
const sequorServices: Record<string, ServiceName> = {
  normalizer: 'normalizer',
  'detector-1': 'detector',
  'detector-2': 'detector',
};

function envOf(project: ComposeProject, service: string): Env {
  const environment = project.services[service]?.environment ?? {};
  return Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, v ?? undefined]));
}

let withExample: ComposeProject;
let withNothing: ComposeProject;
let scratch: string;

beforeAll(async () => {
  installTools();
  scratch = mkdtempSync(path.join(tmpdir(), 'sequor-compose-check-'));
  const empty = path.join(scratch, 'empty.env');
  writeFileSync(empty, '');
  withExample = await render(envExample);
  withNothing = await render(empty);
}, 600_000);

describe('compose file', () => {
  it('is valid Compose: a broken copy is refused, so the validator really checks', async () => {
    const broken = path.join(scratch, 'compose.yaml');
    writeFileSync(
      broken,
      readFileSync(composeFile, 'utf8').replace('condition: service_healthy', 'condition: service_happy'),
    );
    const result = await runTool(tools.deployCheck, ['compose', broken, envExample]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/condition/);
    const unknownKey = path.join(scratch, 'unknown.yaml');
    writeFileSync(
      unknownKey,
      readFileSync(composeFile, 'utf8').replace('    stop_grace_period: 30s', '    stop_grace_periods: 30s'),
    );
    expect((await runTool(tools.deployCheck, ['compose', unknownKey, envExample])).code).toBe(1);
  });

  it('has the whole stack', () => {
    expect(Object.keys(withExample.services).sort()).toEqual([
      'detector-1',
      'detector-2',
      'jaeger',
      'kafka',
      'normalizer',
      'otel-collector',
      'prometheus',
      'replay',
      'scenario',
      'schema-registry',
      'topics',
    ]);
  });

  it('runs the official Kafka image, KRaft, single node, with the transaction settings one broker needs', () => {
    const kafka = withExample.services.kafka as ComposeService;
    const kafkaScript = readFileSync(path.join(deployDir, 'kafka', 'kafka.sh'), 'utf8');
    const testedVersion = /KAFKA_VERSION="\$\{KAFKA_VERSION:-([0-9.]+)\}"/.exec(kafkaScript)?.[1];
    expect(kafka.image).toBe(`apache/kafka:${testedVersion}`); // the version the integration tests run
    const env = kafka.environment ?? {};
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe('1');
    expect(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe('1');
    expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('1');
  });

  it('builds the Sequor images from deploy/docker/Dockerfile and keeps their start command', () => {
    for (const [service, target] of [
      ['normalizer', 'normalizer'],
      ['detector-1', 'detector'],
      ['detector-2', 'detector'],
      ['scenario', 'cli'],
      ['replay', 'cli'],
    ]) {
      const s = withExample.services[service as string] as ComposeService;
      expect(s.build?.dockerfile, service).toBe('deploy/docker/Dockerfile');
      expect(s.build?.target, service).toBe(target);
    }
    for (const service of Object.keys(sequorServices)) {
      expect(
        withExample.services[service]?.command ?? null,
        `${service} must run the image's CMD`,
      ).toBeNull();
      expect(withExample.services[service]?.entrypoint ?? null).toBeNull();
    }
  });
});

describe('environment', () => {
  const example = parseEnvFile(envExample);
  // Without comment lines: only what compose interpolates counts.
  const composeText = readFileSync(composeFile, 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  const runtime = runtimeVariables();

  it.each(Object.entries(sequorServices))(
    '%s is passed every variable its program reads',
    (service, program) => {
      const passed = new Set(Object.keys(withExample.services[service]?.environment ?? {}));
      const missing = [...serviceVariables(program)].filter((v) => !passed.has(v)).sort();
      expect(missing, `add them to deploy/compose/compose.yaml (x-${program}-env) and .env.example`).toEqual(
        [],
      );
    },
  );

  it('.env.example lists every variable the services read', () => {
    const all = new Set([...serviceVariables('normalizer'), ...serviceVariables('detector')]);
    expect([...all].filter((v) => !example.has(v)).sort()).toEqual([]);
  });

  it('.env.example lists nothing else than service, SDK or stack variables', () => {
    const known = new Set([...serviceVariables('normalizer'), ...serviceVariables('detector'), ...runtime]);
    const unknown = [...example.keys()].filter((v) => !known.has(v) && !composeText.includes(`\${${v}:-`));
    expect(unknown).toEqual([]);
  });

  it('every variable the compose file interpolates is in .env.example', () => {
    const used = new Set([...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string));
    expect([...used].filter((v) => !example.has(v)).sort()).toEqual([]);
  });

  it.each(Object.entries(sequorServices))(
    '%s: .env.example holds the values the stack runs with when .env is absent',
    (service, program) => {
      const documented = envOf(withExample, service);
      const unset = envOf(withNothing, service);
      // The same configuration either way (a blank value and the default it stands for compare equal) ...
      expect(serviceConfig[program](documented)).toEqual(serviceConfig[program](unset));
      // ... and the SDK's variables, which Sequor does not parse, the same strings.
      for (const name of Object.keys(documented).filter(
        (n) => runtime.has(n) && !serviceVariables(program).has(n),
      )) {
        expect(documented[name], name).toBe(unset[name]);
      }
    },
  );
});

describe('topics', () => {
  const script = readFileSync(path.join(composeDir, 'create-topics.sh'), 'utf8');
  const created = new Map(
    [...script.matchAll(/^\s*"([A-Za-z0-9._-]+) (\d+) ([^"]*)"$/gm)].map((m) => [
      m[1] as string,
      {
        partitions: Number(m[2]),
        configs: Object.fromEntries(
          (m[3] as string).split(',').map((kv) => kv.split('=') as [string, string]),
        ),
      },
    ]),
  );

  it('the topics job is valid bash and creates every topic the services use', async () => {
    expect((await runTool('bash', ['-n', path.join(composeDir, 'create-topics.sh')])).code).toBe(0);
    const normalizer = normalizerConfigFromEnv(envOf(withExample, 'normalizer'));
    const detector = detectorConfigFromEnv(envOf(withExample, 'detector-1'));
    const used = [
      ...normalizer.sources.map((s) => s.topic),
      normalizer.normalizedTopic,
      normalizer.deadLetterTopic,
      ...detector.inputTopics,
      detector.alertsTopic,
      detector.lateEventsTopic,
      detector.deadLetterTopic,
    ];
    expect(used.filter((t) => !created.has(t))).toEqual([]);
    expect(created.get(normalizer.normalizedTopic)?.partitions).toBe(normalizer.normalizedPartitions);
    expect(created.get(detector.alertsTopic)?.partitions).toBe(detector.alertsPartitions);
  });

  it('match the KafkaTopics of deploy/k8s/base in partitions, max.message.bytes and cleanup policy', () => {
    const docs = parseAllDocuments(
      readFileSync(path.join(deployDir, 'k8s', 'base', 'kafka', 'topics.yaml'), 'utf8'),
    ).map((d) => d.toJS());
    const k8s = new Map<string, { partitions: number; config: Record<string, string> }>(
      docs.map((d: { spec: { topicName: string; partitions: number; config: Record<string, string> } }) => [
        d.spec.topicName,
        d.spec,
      ]),
    );
    expect([...created.keys()].sort()).toEqual([...k8s.keys()].sort());
    for (const [topic, { partitions, configs }] of created) {
      const spec = k8s.get(topic);
      expect(partitions, topic).toBe(spec?.partitions);
      expect(configs['max.message.bytes'], topic).toBe(String(spec?.config['max.message.bytes']));
      expect(configs['cleanup.policy'], topic).toBe(spec?.config['cleanup.policy']);
    }
  });
});

describe('telemetry', () => {
  it('Prometheus scrapes /metrics of the normalizer and both detectors on METRICS_PORT', () => {
    const prometheus = parseAllDocuments(
      readFileSync(path.join(composeDir, 'prometheus.yml'), 'utf8'),
    )[0]?.toJS() as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs
      .flatMap((c) => c.static_configs.flatMap((s) => s.targets))
      .sort();
    const expected = Object.keys(sequorServices).map((s) => {
      const port = (
        serviceConfig[sequorServices[s] as ServiceName](envOf(withExample, s)) as {
          telemetry: { metricsPort: number };
        }
      ).telemetry.metricsPort;
      return `${s}:${port}`;
    });
    expect(targets).toEqual(expected.sort());
  });

  it('the services export OTLP to the collector, which sends traces to Jaeger', () => {
    const collector = parseAllDocuments(
      readFileSync(path.join(composeDir, 'otel-collector.yaml'), 'utf8'),
    )[0]?.toJS() as {
      exporters: Record<string, { endpoint?: string }>;
      service: { pipelines: { traces: { exporters: string[] } } };
    };
    for (const service of Object.keys(sequorServices)) {
      expect(withExample.services[service]?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
        'http://otel-collector:4318',
      );
    }
    const jaeger = collector.service.pipelines.traces.exporters.map((e) => collector.exporters[e]?.endpoint);
    expect(jaeger).toContain('jaeger:4317');
  });
});
