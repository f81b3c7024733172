// deploy/k8s: the base and every overlay rendered by kustomize's library (deploy/check/tool), then
// validated: built-in kinds against the Kubernetes JSON schemas, strict (kubernetes-validate); KEDA and
// Prometheus Operator kinds by the @kubernetes-models validators; Strimzi kinds against the vendored CRD
// schemas, strict. Then what the schemas cannot say: every variable the services read is set, the topics,
// ACLs, KEDA trigger and alerts agree with the services' configuration and metrics, memory fits the bounds.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import type { AnySchema } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { Env } from '@sequor/model';
import { MIN_DEAD_LETTER_TOPIC_BYTES } from '@sequor/kafka';
import { normalizerConfigFromEnv } from '@sequor/normalizer';
import type { DetectorConfig } from '@sequor/detector';
import { detectorConfigFromEnv, transactionalIdFor } from '@sequor/detector';
import { METRIC_NAMES } from '@sequor/telemetry';
import type { ServiceName } from './support.js';
import {
  deployDir,
  installTools,
  repoRoot,
  runTool,
  runtimeVariables,
  serviceConfig,
  serviceVariables,
  tools,
} from './support.js';

const k8sDir = path.join(deployDir, 'k8s');
const overlays = readdirSync(path.join(k8sDir, 'overlays'));
const targets = ['base', ...overlays.map((o) => `overlays/${o}`)];
const MIB = 1024 * 1024;

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are checked field by field below */
type Resource = any;

const rendered = new Map<string, Resource[]>();
let scratch: string;

async function kustomize(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runTool(tools.deployCheck, ['kustomize', dir]);
}

beforeAll(async () => {
  installTools();
  scratch = mkdtempSync(path.join(tmpdir(), 'sequor-k8s-check-'));
  for (const target of targets) {
    const result = await kustomize(path.join(k8sDir, target));
    expect(result.stderr, `kustomize build ${target}`).toBe('');
    expect(result.code).toBe(0);
    rendered.set(
      target,
      parseAllDocuments(result.stdout).map((d) => d.toJS()),
    );
    writeFileSync(path.join(scratch, `${target.replace('/', '-')}.yaml`), result.stdout);
  }
}, 600_000);

const of = (target: string, kind: string): Resource[] =>
  (rendered.get(target) ?? []).filter((r) => r.kind === kind);
const named = (target: string, kind: string, name: string): Resource => {
  const found = of(target, kind).find((r) => r.metadata.name === name);
  if (found === undefined) throw new Error(`${target}: no ${kind} ${name}`);
  return found;
};

// ---- schemas

const builtinKinds = new Set(['Deployment', 'Service', 'ConfigMap', 'Secret', 'PodDisruptionBudget']);
const modelKinds: Record<string, (r: Resource) => { validate(): void }> = {
  ScaledObject: (r) => new ScaledObject(r),
  TriggerAuthentication: (r) => new TriggerAuthentication(r),
  ServiceMonitor: (r) => new ServiceMonitor(r),
  PrometheusRule: (r) => new PrometheusRule(r),
};

/** A CRD's openAPIV3Schema with unknown fields refused (as kubeconform -strict does), for ajv. */
function strictSchema(schema: Resource): AnySchema {
  const walk = (node: Resource): Resource => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Resource = {};
    for (const [key, value] of Object.entries(node)) {
      if (key.startsWith('x-kubernetes-')) continue;
      out[key] =
        key === 'properties'
          ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, walk(v)]))
          : walk(value);
    }
    if (
      out.type === 'object' &&
      out.properties !== undefined &&
      out.additionalProperties === undefined &&
      !node['x-kubernetes-preserve-unknown-fields']
    ) {
      out.additionalProperties = false;
    }
    return out;
  };
  const root = walk(schema);
  // metadata is the API server's; the CRD says only "object".
  root.properties.metadata = { type: 'object' };
  return root;
}

const strimziDir = path.join(deployDir, 'check', 'schemas', 'strimzi-1.2.0');
const ajv = new Ajv({ allErrors: true, strict: false });
const strimziValidators = new Map(
  readdirSync(strimziDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => {
      const crd = parse(readFileSync(path.join(strimziDir, f), 'utf8'));
      const version = crd.spec.versions.find((v: Resource) => v.storage);
      return [
        `${crd.spec.group}/${version.name} ${crd.spec.names.kind}`,
        ajv.compile(strictSchema(version.schema.openAPIV3Schema)),
      ];
    }),
);

function validateStrimzi(r: Resource): string[] {
  const validate = strimziValidators.get(`${r.apiVersion} ${r.kind}`);
  if (validate === undefined) return [`no schema for ${r.apiVersion} ${r.kind}`];
  return validate(r)
    ? []
    : (validate.errors ?? []).map(
        (e) => `${r.kind}/${r.metadata.name}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
      );
}

describe.each(targets)('kustomize build %s', (target) => {
  it('every kind is one a validator covers', () => {
    const kinds = new Set((rendered.get(target) ?? []).map((r) => r.kind as string));
    const covered = new Set([...builtinKinds, ...Object.keys(modelKinds), 'KafkaTopic', 'KafkaUser']);
    expect([...kinds].filter((k) => !covered.has(k))).toEqual([]);
  });

  it('built-in kinds pass the Kubernetes 1.30 schemas, strict', async () => {
    const file = path.join(scratch, `${target.replace('/', '-')}.yaml`);
    const result = await runTool(tools.kubernetesValidate, ['--strict', '--no-warn', '-k', '1.30.0', file]);
    expect(result.stdout + result.stderr).not.toMatch(/ERROR|FAIL/);
    expect(result.code).toBe(0);
    const passed = (result.stdout.match(/passed for resource/g) ?? []).length;
    expect(passed).toBe((rendered.get(target) ?? []).filter((r) => builtinKinds.has(r.kind)).length);
  });

  it('KEDA and Prometheus Operator kinds pass their models', () => {
    for (const r of (rendered.get(target) ?? []).filter((x) => x.kind in modelKinds)) {
      expect(() => modelKinds[r.kind]?.(r).validate(), `${r.kind}/${r.metadata.name}`).not.toThrow();
    }
  });

  it('Strimzi kinds pass the Strimzi 1.2.0 CRD schemas, strict', () => {
    const errors = (rendered.get(target) ?? [])
      .filter((r) => r.apiVersion.startsWith('kafka.strimzi.io/'))
      .flatMap(validateStrimzi);
    expect(errors).toEqual([]);
  });
});

describe('the validators really check', () => {
  it('kubernetes-validate refuses an unknown field in a Deployment', async () => {
    const deployment = structuredClone(named('base', 'Deployment', 'sequor-detector'));
    deployment.spec.template.spec.containers[0].readinesProbe =
      deployment.spec.template.spec.containers[0].readinessProbe;
    const file = path.join(scratch, 'broken.yaml');
    writeFileSync(file, JSON.stringify(deployment));
    const result = await runTool(tools.kubernetesValidate, ['--strict', '-k', '1.30.0', file]);
    expect(result.code).not.toBe(0);
  });

  it('the Strimzi schema refuses an unknown field and a wrong type', () => {
    const topic = structuredClone(named('base', 'KafkaTopic', 'sequor-events'));
    topic.spec.partitons = 6;
    topic.spec.replicas = 'three';
    expect(validateStrimzi(topic).join('\n')).toMatch(/partitons[\s\S]*replicas|replicas[\s\S]*partitons/);
    const user = structuredClone(named('base', 'KafkaUser', 'sequor-detector'));
    user.spec.authorization.acls[0].operations = ['Reed'];
    expect(validateStrimzi(user)).not.toEqual([]);
  });

  it('the KEDA model refuses a non-string trigger setting', () => {
    const scaled = structuredClone(named('base', 'ScaledObject', 'sequor-detector'));
    scaled.spec.triggers[0].metadata.lagThreshold = 50000;
    expect(() => new ScaledObject(scaled).validate()).toThrow(/lagThreshold/);
  });

  it('the kustomize build refuses a missing resource', async () => {
    const dir = mkdtempSync(path.join(scratch, 'kustomize-'));
    writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources:\n  - missing.yaml\n');
    expect((await kustomize(dir)).code).toBe(1);
  });
});

// ---- what the services need

/** The container's environment: env entries and envFrom ConfigMaps; a Secret or field reference is a placeholder. */
function containerEnv(target: string, deployment: Resource): { env: Env; fromSecret: Map<string, Resource> } {
  const container = deployment.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  const fromSecret = new Map<string, Resource>();
  for (const source of container.envFrom ?? []) {
    expect(source.configMapRef, 'envFrom: ConfigMaps only').toBeDefined();
    Object.assign(env, named(target, 'ConfigMap', source.configMapRef.name).data);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      env[e.name] = 'from-a-secret';
      fromSecret.set(e.name, e.valueFrom.secretKeyRef);
    } else if (e.valueFrom?.fieldRef) env[e.name] = 'sequor-pod-0';
  }
  return { env, fromSecret };
}

const services: readonly ServiceName[] = ['normalizer', 'detector'];

describe.each(targets)('%s: services', (target) => {
  it.each(services)('sequor-%s is given every variable it reads, and nothing unknown', (service) => {
    const { env } = containerEnv(target, named(target, 'Deployment', `sequor-${service}`));
    const reads = serviceVariables(service);
    expect(
      [...reads].filter((v) => !(v in env)).sort(),
      'set them in deploy/k8s/base/config/*.env or the Deployment',
    ).toEqual([]);
    const runtime = runtimeVariables();
    expect(
      Object.keys(env)
        .filter((v) => !reads.has(v) && !runtime.has(v))
        .sort(),
    ).toEqual([]);
    expect(() => serviceConfig[service](env)).not.toThrow();
  });

  it.each(services)(
    'sequor-%s: image command, probes on the metrics port, graceful stop, non-root',
    (service) => {
      const deployment = named(target, 'Deployment', `sequor-${service}`);
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      expect(container.command, 'the image entrypoint and CMD run as built').toBeUndefined();
      expect(container.args).toBeUndefined();
      const { env } = containerEnv(target, deployment);
      const { telemetry } = serviceConfig[service](env) as { telemetry: { metricsPort: number } };
      const metricsPort = container.ports.find((p: Resource) => p.name === 'metrics');
      expect(metricsPort.containerPort).toBe(telemetry.metricsPort);
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(60);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      const pdb = of(target, 'PodDisruptionBudget').find((p) => p.metadata.name === `sequor-${service}`);
      expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    },
  );

  it.each(services)('sequor-%s: SASL password and TLS CA from Secrets', (service) => {
    const deployment = named(target, 'Deployment', `sequor-${service}`);
    const { env, fromSecret } = containerEnv(target, deployment);
    const user = named(target, 'KafkaUser', env.KAFKA_SASL_USERNAME as string);
    expect(user.spec.authentication.type).toBe(env.KAFKA_SASL_MECHANISM);
    // Strimzi's User Operator writes the password to a Secret named after the user.
    expect(fromSecret.get('KAFKA_SASL_PASSWORD')).toEqual({ name: user.metadata.name, key: 'password' });
    const ca = env.KAFKA_SSL_CA_FILE as string;
    const mount = deployment.spec.template.spec.containers[0].volumeMounts.find((m: Resource) =>
      ca.startsWith(`${m.mountPath}/`),
    );
    const volume = deployment.spec.template.spec.volumes.find((v: Resource) => v.name === mount?.name);
    expect(volume?.secret?.items).toContainEqual({ key: 'ca.crt', path: path.basename(ca) });
  });
});

function configs(target: string): {
  normalizer: ReturnType<typeof normalizerConfigFromEnv>;
  detector: DetectorConfig;
} {
  return {
    normalizer: normalizerConfigFromEnv(
      containerEnv(target, named(target, 'Deployment', 'sequor-normalizer')).env,
    ),
    detector: detectorConfigFromEnv(containerEnv(target, named(target, 'Deployment', 'sequor-detector')).env),
  };
}

function topicSpec(target: string, topic: string): Resource {
  const found = of(target, 'KafkaTopic').find((t) => t.spec.topicName === topic);
  if (found === undefined) throw new Error(`${target}: no KafkaTopic for ${topic}`);
  return found.spec;
}

describe.each(targets)('%s: topics and ACLs', (target) => {
  it('every topic the services use is a KafkaTopic with the partitions and sizes they expect', () => {
    const { normalizer, detector } = configs(target);
    for (const t of [
      ...normalizer.sources.map((s) => s.topic),
      normalizer.normalizedTopic,
      normalizer.deadLetterTopic,
      ...detector.inputTopics,
      detector.alertsTopic,
      detector.lateEventsTopic,
      detector.deadLetterTopic,
    ]) {
      const spec = topicSpec(target, t);
      expect(spec.config['cleanup.policy'] ?? 'delete', t).toBe('delete');
    }
    expect(topicSpec(target, normalizer.normalizedTopic).partitions).toBe(normalizer.normalizedPartitions);
    expect(topicSpec(target, detector.alertsTopic).partitions).toBe(detector.alertsPartitions);
    // One raw record of MAX_RECORD_BYTES must fit the events topic (the normalizer sizes it so when it creates it).
    expect(Number(topicSpec(target, normalizer.normalizedTopic).config['max.message.bytes'])).toBeGreaterThan(
      normalizer.maxRecordBytes,
    );
    for (const dlq of new Set([normalizer.deadLetterTopic, detector.deadLetterTopic])) {
      expect(Number(topicSpec(target, dlq).config['max.message.bytes'])).toBeGreaterThanOrEqual(
        MIN_DEAD_LETTER_TOPIC_BYTES,
      );
    }
    // A late event is a normalized record as read: it must fit the late-events topic.
    expect(
      Number(topicSpec(target, detector.lateEventsTopic).config['max.message.bytes']),
    ).toBeGreaterThanOrEqual(
      Number(topicSpec(target, normalizer.normalizedTopic).config['max.message.bytes']),
    );
  });

  /** Operations a user's ACLs allow on one resource (literal name or a matching prefix). */
  function allowed(user: Resource, type: string, name: string): Set<string> {
    const ops = new Set<string>();
    for (const acl of user.spec.authorization.acls) {
      const r = acl.resource;
      if (r.type !== type || (acl.type ?? 'allow') !== 'allow') continue;
      const matches =
        type === 'cluster' || (r.patternType === 'prefix' ? name.startsWith(r.name) : r.name === name);
      if (matches) for (const op of acl.operations) ops.add(op);
    }
    return ops;
  }

  it('the normalizer user may read its raw topics and group, and write its outputs', () => {
    const { normalizer } = configs(target);
    const user = named(target, 'KafkaUser', normalizer.kafka.sasl?.username as string);
    for (const s of normalizer.sources)
      expect([...allowed(user, 'topic', s.topic)]).toEqual(expect.arrayContaining(['Read', 'Describe']));
    for (const t of [normalizer.normalizedTopic, normalizer.deadLetterTopic]) {
      expect([...allowed(user, 'topic', t)], t).toEqual(
        expect.arrayContaining(['Write', 'Describe', 'DescribeConfigs']),
      );
    }
    expect([...allowed(user, 'group', normalizer.groupId)]).toContain('Read');
  });

  it("the detector user may read its input and group, write its outputs and use every partition's transactional id", () => {
    const { normalizer, detector } = configs(target);
    const user = named(target, 'KafkaUser', detector.kafka.sasl?.username as string);
    for (const t of detector.inputTopics)
      expect([...allowed(user, 'topic', t)]).toEqual(expect.arrayContaining(['Read', 'Describe']));
    for (const t of [detector.alertsTopic, detector.lateEventsTopic, detector.deadLetterTopic]) {
      expect([...allowed(user, 'topic', t)], t).toEqual(
        expect.arrayContaining(['Write', 'Describe', 'DescribeConfigs']),
      );
    }
    expect([...allowed(user, 'group', detector.groupId)]).toContain('Read');
    for (const t of detector.inputTopics) {
      const partitions = topicSpec(target, t).partitions as number;
      expect(t).toBe(normalizer.normalizedTopic);
      for (let p = 0; p < partitions; p++) {
        expect([...allowed(user, 'transactionalId', transactionalIdFor(detector.groupId, t, p))]).toEqual(
          expect.arrayContaining(['Write', 'Describe']),
        );
      }
    }
    // RULES_TOPIC's documented name: a compacted one-partition topic the detector reads whole through
    // follower groups `<group>.rules.<uuid>` (rules-topic.ts); not another group's followers.
    const rules = topicSpec(target, 'sequor.rules');
    expect(rules.partitions).toBe(1);
    expect(rules.config['cleanup.policy']).toBe('compact');
    expect([...allowed(user, 'topic', 'sequor.rules')]).toEqual(
      expect.arrayContaining(['Read', 'Describe', 'DescribeConfigs']),
    );
    expect([...allowed(user, 'group', `${detector.groupId}.rules.0b6f`)]).toContain('Read');
    expect(allowed(user, 'group', `${detector.groupId}-other.rules.0b6f`).size).toBe(0);
    const publisher = named(target, 'KafkaUser', 'sequor-rules-publisher');
    expect([...allowed(publisher, 'topic', 'sequor.rules')]).toEqual(
      expect.arrayContaining(['Read', 'Write']),
    );
    expect([...allowed(publisher, 'group', 'sequor-rules-publish.0b6f')]).toContain('Read');
    // Not a prefix that would also grant another group's ids (e.g. sequor-detector-canary:...).
    expect(
      allowed(user, 'transactionalId', `${detector.groupId}-other:${detector.inputTopics[0]}:0`).size,
    ).toBe(0);
  });
});

describe.each(targets)('%s: KEDA', (target) => {
  it('scales the detector Deployment on its group lag, up to the input partitions', () => {
    const { detector } = configs(target);
    const scaled = named(target, 'ScaledObject', 'sequor-detector');
    expect(scaled.spec.scaleTargetRef.name).toBe('sequor-detector');
    const [trigger] = scaled.spec.triggers;
    expect(trigger.type).toBe('kafka');
    expect(trigger.metadata.consumerGroup).toBe(detector.groupId);
    expect(detector.inputTopics).toEqual([trigger.metadata.topic]);
    expect(trigger.metadata.bootstrapServers).toBe(detector.kafka.brokers.join(','));
    expect(Number(trigger.metadata.lagThreshold)).toBeGreaterThan(0);
    expect(Number(trigger.metadata.activationLagThreshold)).toBeGreaterThanOrEqual(0);
    expect(scaled.spec.maxReplicaCount).toBe(topicSpec(target, trigger.metadata.topic).partitions);
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    const auth = named(target, 'TriggerAuthentication', trigger.authenticationRef.name);
    const params = new Map(auth.spec.secretTargetRef.map((s: Resource) => [s.parameter, s]));
    expect([...params.keys()].sort()).toEqual(['ca', 'password', 'sasl', 'tls', 'username']);
    const literal = (p: string): string => {
      const ref = params.get(p) as Resource;
      return Buffer.from(named(target, 'Secret', ref.name).data[ref.key], 'base64').toString();
    };
    // KEDA's names for the mechanisms @sequor/kafka reads from KAFKA_SASL_MECHANISM.
    const kedaSasl = { plain: 'plaintext', 'scram-sha-256': 'scram_sha256', 'scram-sha-512': 'scram_sha512' };
    expect(literal('sasl')).toBe(kedaSasl[detector.kafka.sasl?.mechanism ?? 'plain']);
    expect(literal('tls')).toBe('enable');
    const kedaUser = named(target, 'KafkaUser', literal('username'));
    expect((params.get('password') as Resource).name).toBe(kedaUser.metadata.name);
  });

  it('the detector heap and memory limit hold the state bounds of the partitions one pod may own', () => {
    const { detector } = configs(target);
    const scaled = named(target, 'ScaledObject', 'sequor-detector');
    const partitions = topicSpec(target, detector.inputTopics[0] as string).partitions as number;
    const perPod = Math.ceil(partitions / scaled.spec.minReplicaCount);
    const builtin = readdirSync(path.join(repoRoot, 'shared', 'rules', 'builtin')).filter((f) =>
      f.endsWith('.yaml'),
    ).length;
    const rules = builtin + Object.keys(named(target, 'ConfigMap', volumeConfigMap(target)).data).length;
    const { engineLimits } = detector as unknown as {
      engineLimits: { maxBufferedBytes: number; maxStateBytes: number };
    };
    const stateMiB = (perPod * (engineLimits.maxBufferedBytes + rules * engineLimits.maxStateBytes)) / MIB;
    const container = named(target, 'Deployment', 'sequor-detector').spec.template.spec.containers[0];
    const nodeOptions = container.env.find((e: Resource) => e.name === 'NODE_OPTIONS').value as string;
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1]);
    // 256 MiB: the process besides rule state (measured RSS 212 MiB on a 200,000-event backlog).
    expect(heapMiB).toBeGreaterThanOrEqual(stateMiB + 256);
    expect(mebibytes(container.resources.limits.memory)).toBeGreaterThanOrEqual(heapMiB + 256);
    expect(mebibytes(container.resources.requests.memory)).toBeGreaterThanOrEqual(256);
  });
});

function volumeConfigMap(target: string): string {
  const volume = named(target, 'Deployment', 'sequor-detector').spec.template.spec.volumes.find(
    (v: Resource) => v.name === 'rules',
  );
  return volume.configMap.name;
}

function mebibytes(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (m === null) throw new Error(`memory quantity ${quantity}: write it in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

describe('rules', () => {
  it('every rule file is in the sequor-rules ConfigMap, mounted at RULES_DIR, and lints clean', async () => {
    const rulesDir = path.join(k8sDir, 'base', 'rules');
    const files = readdirSync(rulesDir).filter((f) => f.endsWith('.yaml'));
    for (const target of targets) {
      expect(Object.keys(named(target, 'ConfigMap', volumeConfigMap(target)).data).sort()).toEqual(
        files.sort(),
      );
      const { detector } = configs(target);
      const mount = named(
        target,
        'Deployment',
        'sequor-detector',
      ).spec.template.spec.containers[0].volumeMounts.find((m: Resource) => m.name === 'rules');
      expect(mount.mountPath).toBe(detector.rulesDir);
      expect(detector.strict, 'a broken rule must stop a new pod, not be skipped').toBe(true);
    }
    const lint = await runTool(process.execPath, [
      path.join(repoRoot, 'services', 'cli', 'dist', 'main.js'),
      'rules',
      'lint',
      rulesDir,
    ]);
    expect(lint.stdout + lint.stderr).toMatch(/0 errors/);
    expect(lint.code).toBe(0);
  });
});

describe('monitoring', () => {
  const exported = new Set<string>();
  for (const name of Object.values(METRIC_NAMES)) {
    const base = name.replaceAll('.', '_');
    for (const suffix of ['', '_total', '_bucket', '_sum', '_count']) exported.add(base + suffix);
  }

  it('every alert expression parses as PromQL and uses only series the services export', () => {
    const rules = named('base', 'PrometheusRule', 'sequor').spec.groups.flatMap((g: Resource) => g.rules);
    expect(rules.map((r: Resource) => r.alert)).toEqual(
      expect.arrayContaining([
        'SequorConsumerLagGrowing',
        'SequorDeadLetters',
        'SequorDetectorNotReady',
        'SequorAlertLatencyHigh',
      ]),
    );
    for (const rule of rules) {
      const tree = promqlParser.parse(rule.expr);
      const errors: number[] = [];
      tree.iterate({ enter: (node) => void (node.type.isError && errors.push(node.from)) });
      expect(errors, `${rule.alert}: ${rule.expr}`).toEqual([]);
      for (const m of (rule.expr as string).matchAll(/\bsequor_[a-z_]+\b/g))
        expect(exported.has(m[0]), `${rule.alert}: ${m[0]}`).toBe(true);
    }
  });

  it('the PromQL check refuses a broken expression', () => {
    const tree = promqlParser.parse('sum by (job (sequor_consumer_lag) >');
    let error = false;
    tree.iterate({ enter: (node) => void (node.type.isError && (error = true)) });
    expect(error).toBe(true);
  });

  it('the ServiceMonitor scrapes the metrics port of both Services, which select the pods', () => {
    const monitor = named('base', 'ServiceMonitor', 'sequor');
    for (const service of services) {
      const svc = named('base', 'Service', `sequor-${service}`);
      for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
        expect(svc.metadata.labels[k]).toBe(v);
      expect(svc.spec.ports.map((p: Resource) => p.name)).toContain(monitor.spec.endpoints[0].port);
      expect(svc.spec.selector).toEqual(
        named('base', 'Deployment', `sequor-${service}`).spec.selector.matchLabels,
      );
    }
  });
});
