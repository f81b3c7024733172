// ConfluentSchemaRegistry against a STAND-IN registry: a minimal in-process HTTP server on 127.0.0.1
// implementing the five Confluent REST endpoints the client uses, with Avro compatibility judged by avsc's
// resolver. It is not Confluent's server; schema-registry.int.test.ts runs the client against a real
// Confluent-compatible registry (Apicurio's ccompat API) when deploy/schema-registry/registry.sh can start one.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { Schema, Type } from 'avsc';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AvroCodec, CodecError, ConfigError, createEventCodec } from '@sequor/model';
import type { SequorEvent } from '@sequor/model';
import {
  ConfluentSchemaRegistry,
  IncompatibleSchemaError,
  InvalidSchemaError,
  SchemaNotFoundError,
  SchemaRegistryAuthError,
  SchemaRegistryError,
  isRetriable,
  keySubject,
  registerValueSchema,
  schemaRegistryConfigFromEnv,
  valueSubject,
} from '../src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const eventSchemaText = readFileSync(path.join(repoRoot, 'schemas/event.avsc'), 'utf8');

// --- the stand-in registry ------------------------------------------------------------------------

interface Fault {
  readonly status: number;
  readonly body: string;
}

/** Confluent's REST semantics for the endpoints the client uses; BACKWARD by default, as Confluent. */
class StandInRegistry {
  readonly requests: string[] = [];
  /** Answers for the next requests, in order, instead of the real handling. */
  readonly faults: Fault[] = [];
  /** When set, requests must carry this Authorization header. */
  requiredAuthorization: string | undefined;
  /** When set, requests wait for this promise before being answered (timeouts, concurrency). */
  hold: Promise<void> | undefined;
  private readonly schemas: string[] = [];
  private readonly types: Type[] = [];
  private readonly subjects = new Map<string, number[]>();
  private readonly levels = new Map<string, string>();
  private server: Server | undefined;
  baseUrl = '';

  async start(prefix = ''): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${prefix}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    this.requests.push(`${req.method} ${req.url}`);
    if (this.hold !== undefined) await this.hold;
    const reply = (status: number, value: unknown): void => {
      res
        .writeHead(status, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' })
        .end(JSON.stringify(value));
    };
    const fault = this.faults.shift();
    if (fault !== undefined) {
      res.writeHead(fault.status, { 'Content-Type': 'text/plain' }).end(fault.body);
      return;
    }
    if (
      this.requiredAuthorization !== undefined &&
      req.headers.authorization !== this.requiredAuthorization
    ) {
      reply(401, { error_code: 401, message: 'Unauthorized' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const route = url.pathname.replace(/^\/prefix\/ccompat/, '');
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && (m = /^\/schemas\/ids\/(\d+)$/.exec(route))) {
      const schema = this.schemas[Number(m[1]) - 1];
      if (schema === undefined) reply(404, { error_code: 40403, message: 'Schema not found' });
      else reply(200, { schema });
    } else if (req.method === 'POST' && (m = /^\/subjects\/([^/]+)\/versions$/.exec(route))) {
      const subject = decodeURIComponent(m[1] as string);
      const parsed = this.parse(body);
      if (parsed === undefined) return reply(422, { error_code: 42201, message: 'Invalid schema' });
      const versions = this.subjects.get(subject) ?? [];
      const existing = versions.find((id) => this.schemas[id - 1] === parsed.text);
      if (existing !== undefined) return reply(200, { id: existing });
      if (!this.compatible(subject, parsed.type)) {
        return reply(409, {
          error_code: 409,
          message: 'Schema being registered is incompatible with an earlier schema',
        });
      }
      let id = this.schemas.indexOf(parsed.text) + 1;
      if (id === 0) {
        this.schemas.push(parsed.text);
        this.types.push(parsed.type);
        id = this.schemas.length;
      }
      this.subjects.set(subject, [...versions, id]);
      reply(200, { id });
    } else if (req.method === 'POST' && (m = /^\/subjects\/([^/]+)$/.exec(route))) {
      const versions = this.subjects.get(decodeURIComponent(m[1] as string));
      if (versions === undefined) return reply(404, { error_code: 40401, message: 'Subject not found' });
      const parsed = this.parse(body);
      const index = versions.findIndex((id) => this.schemas[id - 1] === parsed?.text);
      if (index < 0) return reply(404, { error_code: 40403, message: 'Schema not found' });
      reply(200, { subject: m[1], version: index + 1, id: versions[index], schema: parsed?.text });
    } else if (
      req.method === 'POST' &&
      (m = /^\/compatibility\/subjects\/([^/]+)\/versions\/latest$/.exec(route))
    ) {
      const subject = decodeURIComponent(m[1] as string);
      if (!this.subjects.has(subject)) return reply(404, { error_code: 40401, message: 'Subject not found' });
      const parsed = this.parse(body);
      if (parsed === undefined) return reply(422, { error_code: 42201, message: 'Invalid schema' });
      const ok = this.compatible(subject, parsed.type);
      reply(
        200,
        url.searchParams.get('verbose') === 'true'
          ? { is_compatible: ok, messages: ok ? [] : ['reader cannot read the latest version'] }
          : { is_compatible: ok },
      );
    } else if (req.method === 'PUT' && (m = /^\/config\/([^/]+)$/.exec(route))) {
      const level = (JSON.parse(body) as { compatibility: string }).compatibility;
      this.levels.set(decodeURIComponent(m[1] as string), level);
      reply(200, { compatibility: level });
    } else {
      reply(404, { error_code: 404, message: `no route ${req.method} ${route}` });
    }
  }

  private parse(body: string): { text: string; type: Type } | undefined {
    try {
      const type = avro.Type.forSchema(JSON.parse((JSON.parse(body) as { schema: string }).schema) as Schema);
      return { text: JSON.stringify(type.schema({ exportAttrs: true })), type };
    } catch {
      return undefined;
    }
  }

  private compatible(subject: string, candidate: Type): boolean {
    const level = this.levels.get(subject) ?? 'BACKWARD';
    const latestId = this.subjects.get(subject)?.at(-1);
    if (level === 'NONE' || latestId === undefined) return true;
    const latest = this.types[latestId - 1] as Type;
    const canRead = (reader: Type, writer: Type): boolean => {
      try {
        reader.createResolver(writer);
        return true;
      } catch {
        return false;
      }
    };
    const backward = canRead(candidate, latest);
    const forward = canRead(latest, candidate);
    return level.startsWith('BACKWARD')
      ? backward
      : level.startsWith('FORWARD')
        ? forward
        : backward && forward;
  }
}

// --- fixtures -------------------------------------------------------------------------------------

const pointV1 = JSON.stringify({
  type: 'record',
  name: 'Point',
  namespace: 'test',
  fields: [{ name: 'x', type: 'int' }],
});
const pointV2 = JSON.stringify({
  type: 'record',
  name: 'Point',
  namespace: 'test',
  fields: [
    { name: 'x', type: 'int' },
    { name: 'label', type: ['null', 'string'], default: null },
  ],
});
const pointV2NoDefault = JSON.stringify({
  type: 'record',
  name: 'Point',
  namespace: 'test',
  fields: [
    { name: 'x', type: 'int' },
    { name: 'label', type: 'string' },
  ],
});

function minimalEvent(id: string): SequorEvent {
  return {
    timestamp: Date.UTC(2020, 9, 21, 8, 45, 33, 693),
    event: {
      id,
      kind: 'event',
      category: ['process'],
      type: ['start'],
      action: null,
      outcome: null,
      code: '1',
      provider: 'Microsoft-Windows-Sysmon',
      dataset: null,
      ingested: null,
      sequence: null,
      duration: null,
    },
    host: { id: 'name:workstation5', name: 'WORKSTATION5', ip: null },
    user: null,
    source: null,
    destination: null,
    network: null,
    process: {
      entity_id: '{39e4a257-f131-5f8b-0b00-000000000700}',
      pid: 628,
      name: 'services.exe',
      executable: null,
      command_line: null,
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

/** Parsing Canonical Form, for comparing a schema with the registry's (reformatted) copy of it. */
function canonical(schemaText: string): string {
  return JSON.stringify(avro.Type.forSchema(JSON.parse(schemaText) as Schema).schema());
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const stand = new StandInRegistry();
beforeAll(() => stand.start());
afterAll(() => stand.stop());
afterEach(() => {
  stand.faults.length = 0;
  stand.requiredAuthorization = undefined;
  stand.hold = undefined;
});

let subjectSequence = 0;
function freshSubject(): string {
  return `unit-${++subjectSequence}-value`;
}

function client(
  overrides: { username?: string; password?: string; requestTimeoutMs?: number; url?: string } = {},
): ConfluentSchemaRegistry {
  return new ConfluentSchemaRegistry({ url: stand.baseUrl, ...overrides });
}

// --- tests ----------------------------------------------------------------------------------------

describe('schemaRegistryConfigFromEnv', () => {
  it('is undefined without SCHEMA_REGISTRY_URL, so records keep single-object framing', () => {
    expect(schemaRegistryConfigFromEnv({})).toBeUndefined();
    expect(schemaRegistryConfigFromEnv({ SCHEMA_REGISTRY_URL: '  ' })).toBeUndefined();
  });

  it('reads URL, credentials and timeout', () => {
    expect(
      schemaRegistryConfigFromEnv({
        SCHEMA_REGISTRY_URL: ' https://sr.example:8081/apis/ccompat/v7 ',
        SCHEMA_REGISTRY_USERNAME: 'KEY',
        SCHEMA_REGISTRY_PASSWORD: 's3cret',
        SCHEMA_REGISTRY_TIMEOUT_MS: '2500',
      }),
    ).toEqual({
      url: 'https://sr.example:8081/apis/ccompat/v7',
      username: 'KEY',
      password: 's3cret',
      requestTimeoutMs: 2500,
    });
  });

  it.each([
    [{ SCHEMA_REGISTRY_URL: 'sr:8081' }, 'SCHEMA_REGISTRY_URL'],
    [{ SCHEMA_REGISTRY_URL: 'ftp://sr:8081' }, 'SCHEMA_REGISTRY_URL'],
    [{ SCHEMA_REGISTRY_URL: 'http://u:p@sr:8081' }, 'SCHEMA_REGISTRY_URL'],
    [{ SCHEMA_REGISTRY_URL: 'http://sr:8081', SCHEMA_REGISTRY_USERNAME: 'u' }, 'SCHEMA_REGISTRY_PASSWORD'],
    [{ SCHEMA_REGISTRY_URL: 'http://sr:8081', SCHEMA_REGISTRY_PASSWORD: 'p' }, 'SCHEMA_REGISTRY_USERNAME'],
    [
      { SCHEMA_REGISTRY_URL: 'http://sr:8081', SCHEMA_REGISTRY_TIMEOUT_MS: '1.5' },
      'SCHEMA_REGISTRY_TIMEOUT_MS',
    ],
    [
      { SCHEMA_REGISTRY_URL: 'http://sr:8081', SCHEMA_REGISTRY_TIMEOUT_MS: '0' },
      'SCHEMA_REGISTRY_TIMEOUT_MS',
    ],
  ])('rejects %j naming %s', (env, variable) => {
    let thrown: unknown;
    try {
      schemaRegistryConfigFromEnv(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    // A password in the URL is never echoed back.
    expect((thrown as Error).message).not.toContain('u:p@');
  });
});

describe('subject naming (TopicNameStrategy)', () => {
  it('names value and key subjects after the topic', () => {
    expect(valueSubject('sequor.events.normalized')).toBe('sequor.events.normalized-value');
    expect(keySubject('sequor.events.normalized')).toBe('sequor.events.normalized-key');
  });
});

describe('ConfluentSchemaRegistry', () => {
  it('registers, then answers the same subject and schema from its cache', async () => {
    const registry = client();
    const subject = freshSubject();
    const before = stand.requests.length;
    const id = await registry.register(subject, pointV1);
    expect(await registry.register(subject, pointV1)).toBe(id);
    expect(stand.requests.slice(before)).toEqual([`POST /subjects/${subject}/versions`]);
    // The id -> schema direction is cached from the registration too.
    expect(JSON.parse(await registry.getSchema(id))).toEqual(JSON.parse(pointV1));
    expect(stand.requests.length).toBe(before + 1);
  });

  it('gives one id to one schema across subjects, as the registry does', async () => {
    const registry = client();
    const a = await registry.register(freshSubject(), pointV1);
    const b = await registry.register(freshSubject(), pointV1);
    expect(b).toBe(a);
  });

  it('fetches a schema by id once, sharing one request among concurrent callers', async () => {
    const id = await client().register(freshSubject(), pointV2);
    const registry = client();
    let release!: () => void;
    stand.hold = new Promise<void>((resolve) => (release = resolve));
    const before = stand.requests.length;
    const calls = [registry.getSchema(id), registry.getSchema(id), registry.getSchema(id)];
    await expect.poll(() => stand.requests.length).toBe(before + 1);
    release();
    const texts = await Promise.all(calls);
    expect(new Set(texts).size).toBe(1);
    expect(avro.Type.forSchema(JSON.parse(texts[0] as string) as Schema).name).toBe('test.Point');
    await registry.getSchema(id);
    expect(stand.requests.slice(before)).toEqual([`GET /schemas/ids/${id}`]);
  });

  it('shares one registration among concurrent callers', async () => {
    const registry = client();
    const subject = freshSubject();
    const before = stand.requests.length;
    const ids = await Promise.all([registry.register(subject, pointV1), registry.register(subject, pointV1)]);
    expect(ids[0]).toBe(ids[1]);
    expect(stand.requests.length).toBe(before + 1);
  });

  it('reports an unknown id as CodecError unknown-schema-id: a poison record, not a retry', async () => {
    const error = await rejection(client().getSchema(987_654));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).reason).toBe('unknown-schema-id');
    expect((error as CodecError).detail.schemaId).toBe(987_654);
    expect(isRetriable(error)).toBe(false);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(SchemaNotFoundError);
    expect((cause as SchemaNotFoundError).errorCode).toBe(40403);
  });

  it('makes a 5xx retriable and does not cache the failure', async () => {
    const id = await client().register(freshSubject(), pointV1);
    const registry = client();
    stand.faults.push({ status: 503, body: 'upstream unavailable' });
    const error = await rejection(registry.getSchema(id));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).reason).toBe('registry-failed');
    expect(isRetriable(error)).toBe(true);
    expect((error as Error).cause).toBeInstanceOf(SchemaRegistryError);
    expect(((error as Error).cause as SchemaRegistryError).status).toBe(503);
    // The next call asks again and succeeds.
    expect(canonical(await registry.getSchema(id))).toBe(canonical(pointV1));
  });

  it('makes a 5xx on register a retriable SchemaRegistryError with the request in it', async () => {
    stand.faults.push({
      status: 500,
      body: '{"error_code":50001,"message":"Error in the backend data store"}',
    });
    const subject = freshSubject();
    const error = (await rejection(client().register(subject, pointV1))) as SchemaRegistryError;
    expect(error).toBeInstanceOf(SchemaRegistryError);
    expect(error.retriable).toBe(true);
    expect(error.status).toBe(500);
    expect(error.errorCode).toBe(50001);
    expect(error.method).toBe('POST');
    expect(error.path).toBe(`/subjects/${subject}/versions`);
    expect(error.message).toContain('Error in the backend data store');
  });

  it('treats 429 as retriable and other 4xx as final', async () => {
    stand.faults.push({ status: 429, body: '{"error_code":429,"message":"Too many requests"}' });
    expect(
      ((await rejection(client().register(freshSubject(), pointV1))) as SchemaRegistryError).retriable,
    ).toBe(true);
    stand.faults.push({ status: 400, body: 'bad request' });
    const error = (await rejection(client().register(freshSubject(), pointV1))) as SchemaRegistryError;
    expect(error.retriable).toBe(false);
    expect(error.errorCode).toBeUndefined();
  });

  it('refuses an incompatible schema with a 409 IncompatibleSchemaError, not retriable', async () => {
    const registry = client();
    const subject = freshSubject();
    await registry.register(subject, pointV1);
    const error = await rejection(registry.register(subject, pointV2NoDefault));
    expect(error).toBeInstanceOf(IncompatibleSchemaError);
    expect((error as IncompatibleSchemaError).status).toBe(409);
    expect(isRetriable(error)).toBe(false);
    // An added field with a default is a compatible next version.
    const v2 = await registry.register(subject, pointV2);
    expect(v2).not.toBe(await registry.register(subject, pointV1));
  });

  it('refuses a schema the registry cannot parse with a 422 InvalidSchemaError', async () => {
    const error = await rejection(client().register(freshSubject(), '{"type":"record","name":"Broken"}'));
    expect(error).toBeInstanceOf(InvalidSchemaError);
    expect((error as InvalidSchemaError).errorCode).toBe(42201);
    expect(isRetriable(error)).toBe(false);
  });

  it('checks compatibility without registering', async () => {
    const registry = client();
    const subject = freshSubject();
    expect(await registry.checkCompatibility(subject, pointV2NoDefault)).toEqual({
      compatible: true,
      messages: [],
    });
    await registry.register(subject, pointV1);
    expect((await registry.checkCompatibility(subject, pointV2)).compatible).toBe(true);
    const refused = await registry.checkCompatibility(subject, pointV2NoDefault);
    expect(refused.compatible).toBe(false);
    expect(refused.messages.length).toBeGreaterThan(0);
    // Under NONE the same schema is accepted.
    expect(await registry.setCompatibility(subject, 'NONE')).toBe('NONE');
    expect((await registry.checkCompatibility(subject, pointV2NoDefault)).compatible).toBe(true);
  });

  it("reads Apicurio's single `reason` as well as Confluent's `messages`", async () => {
    stand.faults.push({
      status: 200,
      body: '{"is_compatible":false,"reason":"Incompatible artifact: label at /fields/1"}',
    });
    expect(await client().checkCompatibility(freshSubject(), pointV2NoDefault)).toEqual({
      compatible: false,
      messages: ['Incompatible artifact: label at /fields/1'],
    });
  });

  it('looks a schema up without registering it', async () => {
    const registry = client();
    const subject = freshSubject();
    expect(await registry.lookup(subject, pointV1)).toBeUndefined();
    const id = await registry.register(subject, pointV1);
    await registry.register(subject, pointV2);
    expect(await client().lookup(subject, pointV1)).toEqual({ subject, version: 1, id });
    expect(await client().lookup(subject, pointV2NoDefault)).toBeUndefined();
  });

  it('sends HTTP Basic credentials and reports 401 as a final SchemaRegistryAuthError without the password', async () => {
    stand.requiredAuthorization = `Basic ${Buffer.from('api-key:s3cret:with:colons').toString('base64')}`;
    const error = await rejection(
      client({ username: 'api-key', password: 'wrong' }).register(freshSubject(), pointV1),
    );
    expect(error).toBeInstanceOf(SchemaRegistryAuthError);
    expect(isRetriable(error)).toBe(false);
    expect((error as Error).message).not.toContain('wrong');
    expect(
      await client({ username: 'api-key', password: 's3cret:with:colons' }).register(freshSubject(), pointV1),
    ).toBeGreaterThan(0);
  });

  it('makes a refused connection retriable, naming the cause', async () => {
    const closed = new StandInRegistry();
    await closed.start();
    const url = closed.baseUrl;
    await closed.stop();
    const error = (await rejection(
      new ConfluentSchemaRegistry({ url }).register('s-value', pointV1),
    )) as SchemaRegistryError;
    expect(error).toBeInstanceOf(SchemaRegistryError);
    expect(error.status).toBeUndefined();
    expect(error.retriable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('gives up after requestTimeoutMs with a retriable error', async () => {
    let release!: () => void;
    stand.hold = new Promise<void>((resolve) => (release = resolve));
    const error = (await rejection(
      client({ requestTimeoutMs: 50 }).register(freshSubject(), pointV1),
    )) as SchemaRegistryError;
    release();
    expect(error).toBeInstanceOf(SchemaRegistryError);
    expect(error.retriable).toBe(true);
    expect(error.message).toContain('no answer within 50 ms');
  });

  it('works below a path prefix, with or without a trailing slash', async () => {
    const registry = new ConfluentSchemaRegistry({ url: `${stand.baseUrl}/prefix/ccompat/` });
    const id = await registry.register(freshSubject(), pointV1);
    expect(stand.requests.at(-1)).toMatch(/^POST \/prefix\/ccompat\/subjects\/unit-\d+-value\/versions$/);
    expect(id).toBeGreaterThan(0);
  });

  it('rejects a 200 whose body is not what the API returns', async () => {
    stand.faults.push({ status: 200, body: '<html>login</html>' });
    const error = (await rejection(client().register(freshSubject(), pointV1))) as SchemaRegistryError;
    expect(error).toBeInstanceOf(SchemaRegistryError);
    expect(error.retriable).toBe(false);
    stand.faults.push({ status: 200, body: '{"schema":"\\"string\\"","schemaType":"PROTOBUF"}' });
    const wrongType = await rejection(client().getSchema(1));
    expect((wrongType as CodecError).reason).toBe('incompatible-schema');
  });
});

describe('with AvroCodec (Confluent framing)', () => {
  it('registers schemas/event.avsc for a topic, frames events with its id and decodes them through the registry', async () => {
    const topic = `events-${++subjectSequence}`;
    const producerCodec = createEventCodec();
    const id = await registerValueSchema(client(), topic, producerCodec, eventSchemaText);
    expect(stand.requests.at(-1)).toBe(`POST /subjects/${topic}-value/versions`);
    const events = [minimalEvent('a1'), minimalEvent('b2')];
    const frames = events.map((e) => producerCodec.encodeConfluent(e, id));
    expect(frames[0]?.[0]).toBe(0);
    expect(frames[0]?.readUInt32BE(1)).toBe(id);
    expect(producerCodec.decode(frames[0] as Buffer)).toEqual(events[0]);

    // A consumer that has never seen the id fetches it once, then decodes synchronously.
    const consumerCodec = createEventCodec({ registry: client() });
    const before = stand.requests.length;
    expect(await consumerCodec.decodeAsync(frames[0] as Buffer)).toEqual(events[0]);
    expect(consumerCodec.decode(frames[1] as Buffer)).toEqual(events[1]);
    expect(stand.requests.slice(before)).toEqual([`GET /schemas/ids/${id}`]);
  });

  it('reads records written with a newer schema version (an added nullable field) as the older reader', async () => {
    const topic = `points-${++subjectSequence}`;
    const registry = client();
    const v1Codec = new AvroCodec<{ x: number }>(pointV1, { registry: client() });
    await registerValueSchema(registry, topic, v1Codec, pointV1);
    const v2Codec = new AvroCodec<{ x: number; label: string | null }>(pointV2);
    const v2Id = await registerValueSchema(registry, topic, v2Codec, pointV2);
    const frame = v2Codec.encodeConfluent({ x: 7, label: 'seven' }, v2Id);
    expect(await v1Codec.decodeAsync(frame)).toEqual({ x: 7 });
  });

  it('registers the full schema by default, so an added field keeps the default that makes it compatible', async () => {
    const topic = `points-${++subjectSequence}`;
    await registerValueSchema(client(), topic, new AvroCodec(pointV1));
    // Without an explicit text the codec's schema is sent with its defaults (exportAttrs), not its
    // Parsing Canonical Form, which would drop `default: null` and be refused under BACKWARD.
    await expect(registerValueSchema(client(), topic, new AvroCodec(pointV2))).resolves.toBeGreaterThan(0);
  });

  it('turns an unknown id in a record into a non-retriable CodecError', async () => {
    const codec = createEventCodec({ registry: client() });
    const frame = Buffer.from([0, 0x7f, 0xff, 0xff, 0xff, 2]);
    const error = await rejection(codec.decodeAsync(frame));
    expect((error as CodecError).reason).toBe('unknown-schema-id');
    expect(isRetriable(error)).toBe(false);
  });
});
