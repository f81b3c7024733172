// ConfluentSchemaRegistry against a REAL Confluent-compatible registry: Apicurio Registry's Confluent API
// (/apis/ccompat/v7), started by deploy/schema-registry/registry.sh for this file unless
// SCHEMA_REGISTRY_URL points at one (a Confluent registry works the same way). Records travel through
// the integration project's Kafka broker in Confluent framing and are decoded by id through the registry.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvroCodec, CodecError, createEventCodec } from '@sequor/model';
import type { SequorEvent } from '@sequor/model';
import {
  ConfluentSchemaRegistry,
  IncompatibleSchemaError,
  InvalidSchemaError,
  isRetriable,
  registerValueSchema,
  schemaRegistryConfigFromEnv,
  valueSubject,
} from '../src/index.js';
import { KafkaTestKit } from '../src/testing/index.js';
import { repoRoot, runDeployScript } from '../../../test/setup/deploy-script.js';

const REGISTRY_SCRIPT = 'deploy/schema-registry/registry.sh';
const eventSchemaText = readFileSync(path.join(repoRoot, 'schemas/event.avsc'), 'utf8');

interface AvroRecordSchema {
  fields: unknown[];
}

/** schemas/event.avsc with `field` appended to the root record, as the schema's evolution rule says. */
function eventSchemaWith(field: Record<string, unknown>): string {
  const schema = JSON.parse(eventSchemaText) as AvroRecordSchema;
  schema.fields.push(field);
  return JSON.stringify(schema);
}

function event(n: number): SequorEvent {
  return {
    timestamp: Date.UTC(2020, 9, 21, 8, 45, 0) + n * 1000,
    event: {
      id: `evt-${n}`,
      kind: 'event',
      category: ['process'],
      type: ['start'],
      action: null,
      outcome: null,
      code: '1',
      provider: 'Microsoft-Windows-Sysmon',
      dataset: null,
      ingested: null,
      sequence: n,
      duration: null,
    },
    host: { id: `name:workstation${n % 3}`, name: `WORKSTATION${n % 3}`, ip: ['172.18.39.6'] },
    user: null,
    source: null,
    destination: null,
    network: null,
    process: {
      entity_id: `{39e4a257-f131-5f8b-0b00-00000000070${n % 10}}`,
      pid: 600 + n,
      name: 'cmd.exe',
      executable: 'C:\\Windows\\System32\\cmd.exe',
      command_line: `cmd.exe /c echo ${n}`,
      parent: null,
    },
    registry: null,
    file: null,
    winlog: null,
    dce_rpc: null,
    smb: null,
    zeek: null,
    origin: { format: 'flat-windows', topic: null, partition: null, offset: null },
  } as SequorEvent;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

let registryUrl: string;
let stopRegistry: (() => Promise<void>) | undefined;
let kit: KafkaTestKit;

beforeAll(async () => {
  kit = await KafkaTestKit.connect();
  const configured = schemaRegistryConfigFromEnv(process.env);
  if (configured !== undefined) {
    registryUrl = configured.url;
    return;
  }
  const stateDir = await mkdtemp(path.join(tmpdir(), 'sequor-registry-vitest-'));
  const env = {
    ...process.env,
    SEQUOR_REGISTRY_STATE: stateDir,
    SEQUOR_REGISTRY_OWNER_PID: String(process.pid),
  };
  stopRegistry = async () => {
    await runDeployScript(REGISTRY_SCRIPT, 'stop', env);
    await rm(stateDir, { recursive: true, force: true });
  };
  const started = await runDeployScript(REGISTRY_SCRIPT, 'start', env);
  registryUrl = started.stdout.trim().split('\n').pop()?.trim() ?? '';
  if (started.code !== 0 || !registryUrl.startsWith('http://')) {
    throw new Error(
      `deploy/schema-registry/registry.sh start failed (exit ${started.code}):\n${started.stderr}${started.stdout}`,
    );
  }
}, 600_000);

afterAll(async () => {
  await kit?.close();
  await stopRegistry?.();
});

/** A client whose HTTP requests are counted, to see what the caches save. */
function countingClient(): { registry: ConfluentSchemaRegistry; requests: string[] } {
  const requests: string[] = [];
  const counting: typeof fetch = (input, init) => {
    requests.push(`${init?.method ?? 'GET'} ${String(input).slice(registryUrl.length)}`);
    return fetch(input, init);
  };
  const config = schemaRegistryConfigFromEnv({ ...process.env, SCHEMA_REGISTRY_URL: registryUrl });
  return {
    registry: new ConfluentSchemaRegistry(config ?? { url: registryUrl }, { fetch: counting }),
    requests,
  };
}

describe('ConfluentSchemaRegistry with a real registry and broker', () => {
  it('registers schemas/event.avsc, frames events through Kafka and decodes them by id through the registry', async () => {
    const topic = await kit.createTopic('sr-events', { partitions: 3 });
    const producerSide = countingClient();
    const producerCodec = createEventCodec();
    const id = await registerValueSchema(producerSide.registry, topic, producerCodec, eventSchemaText);
    // Registering the same schema again is answered by the registry with the same id, and by the cache
    // without a request.
    expect(await countingClient().registry.register(valueSubject(topic), eventSchemaText)).toBe(id);
    expect(await registerValueSchema(producerSide.registry, topic, producerCodec, eventSchemaText)).toBe(id);
    expect(producerSide.requests).toEqual([`POST /subjects/${topic}-value/versions`]);

    const events = Array.from({ length: 30 }, (_, n) => event(n));
    await kit.produceAll(
      topic,
      events.map((e) => ({ key: e.host?.id ?? null, value: producerCodec.encodeConfluent(e, id) })),
    );
    const records = await kit.consumeUntil(topic, events.length);

    const consumerSide = countingClient();
    const consumerCodec = createEventCodec({ registry: consumerSide.registry });
    const decoded = await Promise.all(records.map((r) => consumerCodec.decodeAsync(r.value as Buffer)));
    expect(records.every((r) => r.value?.[0] === 0 && r.value.readUInt32BE(1) === id)).toBe(true);
    const byId = new Map(decoded.map((e) => [e.event.id, e]));
    expect(byId.size).toBe(events.length);
    for (const e of events) expect(byId.get(e.event.id)).toEqual(e);
    // 30 records, concurrent decodes, one fetch of the writer schema.
    expect(consumerSide.requests).toEqual([`GET /schemas/ids/${id}`]);
  });

  it('refuses under BACKWARD a field added without a default, accepts one added nullable with default null, and old readers read new records', async () => {
    const topic = await kit.createTopic('sr-evolution');
    const subject = valueSubject(topic);
    const { registry } = countingClient();
    await registerValueSchema(registry, topic, createEventCodec(), eventSchemaText);
    // Confluent's default level is BACKWARD; Apicurio's is NONE. Set it so both behave the same.
    expect(await registry.setCompatibility(subject, 'BACKWARD')).toBe('BACKWARD');

    const required = eventSchemaWith({ name: 'risk_score', type: 'int' });
    const verdict = await registry.checkCompatibility(subject, required);
    expect(verdict.compatible).toBe(false);
    expect(verdict.messages.join(' ')).toContain('risk_score');
    const refused = await rejection(registry.register(subject, required));
    expect(refused).toBeInstanceOf(IncompatibleSchemaError);
    expect((refused as IncompatibleSchemaError).status).toBe(409);
    expect(isRetriable(refused)).toBe(false);

    const nullable = eventSchemaWith({ name: 'risk_score', type: ['null', 'int'], default: null });
    expect(await registry.checkCompatibility(subject, nullable)).toEqual({ compatible: true, messages: [] });
    const v2Codec = new AvroCodec<SequorEvent & { risk_score: number | null }>(nullable);
    const v2Id = await registerValueSchema(registry, topic, v2Codec, nullable);
    expect(await registry.lookup(subject, nullable)).toEqual({ subject, version: 2, id: v2Id });

    // A v2 producer writes through Kafka; a consumer still on v1 resolves v2 by id and drops the field.
    const v2Event = { ...event(7), risk_score: 90 };
    await kit.produceAll(topic, [
      { key: v2Event.host?.id ?? null, value: v2Codec.encodeConfluent(v2Event, v2Id) },
    ]);
    const [record] = await kit.consumeUntil(topic, 1);
    const v1Reader = createEventCodec({ registry: countingClient().registry });
    expect(await v1Reader.decodeAsync(record?.value as Buffer)).toEqual(event(7));
  });

  it('needs the full schema text: its Parsing Canonical Form drops the default, and the registry refuses it', async () => {
    const topic = await kit.createTopic('sr-canonical');
    const subject = valueSubject(topic);
    const { registry } = countingClient();
    await registerValueSchema(registry, topic, createEventCodec(), eventSchemaText);
    await registry.setCompatibility(subject, 'BACKWARD');
    const nullable = eventSchemaWith({ name: 'risk_score', type: ['null', 'int'], default: null });
    // What AvroCodec.register sends: the canonical form, without `default: null`.
    const canonical = new AvroCodec(nullable).canonicalForm;
    expect(await rejection(registry.register(subject, canonical))).toBeInstanceOf(IncompatibleSchemaError);
    // registerValueSchema's default text keeps the defaults.
    await expect(registerValueSchema(registry, topic, new AvroCodec(nullable))).resolves.toBeGreaterThan(0);
  });

  it('answers an unknown id with CodecError unknown-schema-id and an unparsable schema with a 422', async () => {
    const { registry } = countingClient();
    const unknown = await rejection(
      createEventCodec({ registry }).decodeAsync(Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2])),
    );
    expect(unknown).toBeInstanceOf(CodecError);
    expect((unknown as CodecError).reason).toBe('unknown-schema-id');
    expect(isRetriable(unknown)).toBe(false);

    const topic = await kit.createTopic('sr-invalid');
    const invalid = await rejection(
      registry.register(valueSubject(topic), '{"type":"record","name":"Broken"}'),
    );
    expect(invalid).toBeInstanceOf(InvalidSchemaError);
    expect(isRetriable(invalid)).toBe(false);
    expect(await registry.lookup(valueSubject(topic), eventSchemaText)).toBeUndefined();
  });
});
