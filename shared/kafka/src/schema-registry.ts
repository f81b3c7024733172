/**
 * Confluent Schema Registry client (REST API v1) implementing @sequor/model's `SchemaRegistry`, over
 * Node's `fetch`. It only talks to the registry: framing (`00` + id) and Avro stay in `AvroCodec`.
 *
 * Endpoints used: `POST /subjects/{subject}/versions` (register), `GET /schemas/ids/{id}` (fetch a
 * writer schema), `POST /subjects/{subject}` (look up without registering),
 * `POST /compatibility/subjects/{subject}/versions/latest` and `PUT /config/{subject}` (evolution).
 * Ids are cached both ways for the life of the client: an id never changes its schema, and a schema
 * registered under a subject keeps its id. Concurrent calls for the same key share one request.
 * There are no retries inside: errors say `retriable`, and the caller's retry policy decides.
 */
import type { AvroCodec, SchemaRegistry } from '@sequor/model';
import { CodecError, ConfigError, envInteger, envValue } from '@sequor/model';
import type { Env } from './config.js';
import type { SchemaRegistryRequest } from './schema-registry-errors.js';
import {
  SchemaNotFoundError,
  SchemaRegistryError,
  schemaRegistryErrorFor,
} from './schema-registry-errors.js';

export * from './schema-registry-errors.js';

/** How to reach the registry. Built from the environment by `schemaRegistryConfigFromEnv`. */
export interface SchemaRegistryConfig {
  /**
   * Base URL, e.g. `http://127.0.0.1:8081`, or a path below which the Confluent API is served (Apicurio:
   * `http://host:8080/apis/ccompat/v7`). No trailing slash needed.
   */
  readonly url: string;
  /** HTTP Basic credentials (Confluent Cloud: API key and secret). Both or neither. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Per request, covering connect and body. Default 10 s. */
  readonly requestTimeoutMs?: number | undefined;
}

export const SCHEMA_REGISTRY_DEFAULTS = { requestTimeoutMs: 10_000 } as const;

/** Confluent's compatibility levels (`PUT /config/{subject}`). */
export type CompatibilityLevel =
  'NONE' | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

export interface CompatibilityResult {
  readonly compatible: boolean;
  /** The registry's reasons when incompatible (Confluent 6.1+ with `verbose=true`, Apicurio; else empty). */
  readonly messages: readonly string[];
}

/** A schema registered under a subject, as `lookup` finds it. */
export interface RegisteredSchema {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
}

/**
 * Reads `SCHEMA_REGISTRY_URL`, `SCHEMA_REGISTRY_USERNAME`, `SCHEMA_REGISTRY_PASSWORD` and
 * `SCHEMA_REGISTRY_TIMEOUT_MS`. Returns undefined when no URL is set (Sequor then frames records with
 * single-object encoding and needs no registry). Throws `ConfigError` naming the variable at fault.
 */
export function schemaRegistryConfigFromEnv(env: Env): SchemaRegistryConfig | undefined {
  const rawUrl = env.SCHEMA_REGISTRY_URL;
  const url = envValue(env, 'SCHEMA_REGISTRY_URL');
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('SCHEMA_REGISTRY_URL', rawUrl, 'an http(s) URL, e.g. http://127.0.0.1:8081');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError('SCHEMA_REGISTRY_URL', rawUrl, 'an http(s) URL, e.g. http://127.0.0.1:8081');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // Credentials in the URL would end up in logs and error messages.
    throw new ConfigError(
      'SCHEMA_REGISTRY_URL',
      '(a URL with credentials)',
      'a URL without user:password@; set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD',
    );
  }
  const username = blankToUndefined(env.SCHEMA_REGISTRY_USERNAME);
  const password = blankToUndefined(env.SCHEMA_REGISTRY_PASSWORD);
  if (username !== undefined && password === undefined) {
    throw new ConfigError(
      'SCHEMA_REGISTRY_PASSWORD',
      undefined,
      'a password (or API secret), since SCHEMA_REGISTRY_USERNAME is set',
    );
  }
  if (password !== undefined && username === undefined) {
    throw new ConfigError(
      'SCHEMA_REGISTRY_USERNAME',
      undefined,
      'a user name (or API key), since SCHEMA_REGISTRY_PASSWORD is set',
    );
  }
  const requestTimeoutMs = envInteger(
    env,
    'SCHEMA_REGISTRY_TIMEOUT_MS',
    SCHEMA_REGISTRY_DEFAULTS.requestTimeoutMs,
    1,
    Number.MAX_SAFE_INTEGER,
    'a whole number of milliseconds >= 1',
  );
  return { url, username, password, requestTimeoutMs };
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** TopicNameStrategy, Confluent's default: the subject for a topic's record values is `<topic>-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/** TopicNameStrategy for record keys: `<topic>-key`. */
export function keySubject(topic: string): string {
  return `${topic}-key`;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export interface ConfluentSchemaRegistryOptions {
  /** Replaces the global `fetch` (tests, a proxy-aware agent). */
  readonly fetch?: typeof fetch;
}

export class ConfluentSchemaRegistry implements SchemaRegistry {
  /** The base URL as reported in errors (no credentials, no trailing slash). */
  readonly url: string;
  private readonly authorization: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly schemaById = new Map<number, string>();
  /** Key: subject + NUL + schema text. */
  private readonly idBySubjectSchema = new Map<string, number>();
  private readonly pendingSchemas = new Map<number, Promise<string>>();
  private readonly pendingIds = new Map<string, Promise<number>>();

  constructor(config: SchemaRegistryConfig, options: ConfluentSchemaRegistryOptions = {}) {
    this.url = config.url.replace(/\/+$/, '');
    this.authorization =
      config.username === undefined
        ? undefined
        : `Basic ${Buffer.from(`${config.username}:${config.password ?? ''}`, 'utf8').toString('base64')}`;
    this.requestTimeoutMs = config.requestTimeoutMs ?? SCHEMA_REGISTRY_DEFAULTS.requestTimeoutMs;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /**
   * The writer schema for `id`. Follows the `SchemaRegistry` contract that `AvroCodec` relies on: an
   * unknown id is `CodecError('unknown-schema-id')` (not retriable: the record is poison); any other
   * failure is `CodecError('registry-failed')` with the registry's `retriable` verdict and the
   * `SchemaRegistryError` as `cause`.
   */
  getSchema(id: number): Promise<string> {
    const cached = this.schemaById.get(id);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.pendingSchemas.get(id);
    if (pending === undefined) {
      pending = this.fetchSchema(id).finally(() => this.pendingSchemas.delete(id));
      this.pendingSchemas.set(id, pending);
    }
    return pending;
  }

  /**
   * Registers `schema` (Avro schema JSON) under `subject` and returns its id; the registry answers with
   * the existing id when the schema is already registered anywhere. Throws `IncompatibleSchemaError`
   * (409) when it breaks the subject's compatibility level, `InvalidSchemaError` (422) when the registry
   * cannot parse it. Register the full schema text (with defaults), not its Parsing Canonical Form:
   * the registry checks compatibility on what it is given, and a field added without its default
   * breaks BACKWARD compatibility.
   */
  register(subject: string, schema: string): Promise<number> {
    const key = `${subject}\u0000${schema}`;
    const cached = this.idBySubjectSchema.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.pendingIds.get(key);
    if (pending === undefined) {
      pending = this.registerNow(subject, schema, key).finally(() => this.pendingIds.delete(key));
      this.pendingIds.set(key, pending);
    }
    return pending;
  }

  /**
   * The id and version of `schema` under `subject` if it is registered there, else undefined. For
   * services whose credentials may read but not register.
   */
  async lookup(subject: string, schema: string): Promise<RegisteredSchema | undefined> {
    const path = `/subjects/${encodeURIComponent(subject)}`;
    let body: unknown;
    try {
      body = await this.request('POST', path, { schema });
    } catch (error) {
      // 40401 subject not found, 40403 schema not found under it.
      if (error instanceof SchemaNotFoundError) return undefined;
      throw error;
    }
    const { id, version } = body as { id?: unknown; version?: unknown };
    if (!isSchemaId(id) || typeof version !== 'number') {
      throw this.badAnswer('POST', path, 'an object with integer id and version');
    }
    this.remember(id, schema, `${subject}\u0000${schema}`);
    return { subject, version, id };
  }

  /**
   * Whether `schema` may be registered as the next version of `subject` under its compatibility level.
   * A subject with no versions yet accepts anything.
   */
  async checkCompatibility(subject: string, schema: string): Promise<CompatibilityResult> {
    const path = `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`;
    let body: unknown;
    try {
      body = await this.request('POST', path, { schema });
    } catch (error) {
      if (error instanceof SchemaNotFoundError && (error.errorCode === 40401 || error.errorCode === 40402)) {
        return { compatible: true, messages: [] };
      }
      throw error;
    }
    const {
      is_compatible: compatible,
      messages,
      reason,
    } = body as { is_compatible?: unknown; messages?: unknown; reason?: unknown };
    if (typeof compatible !== 'boolean')
      throw this.badAnswer('POST', path, 'an object with boolean is_compatible');
    // Confluent lists reasons in `messages`; Apicurio's compatible API gives one `reason`.
    const reasons = Array.isArray(messages) ? messages.filter((m): m is string => typeof m === 'string') : [];
    if (typeof reason === 'string' && reason !== '') reasons.push(reason);
    return { compatible, messages: reasons };
  }

  /** Sets the compatibility level of one subject; returns the level the registry reports. */
  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<CompatibilityLevel> {
    const path = `/config/${encodeURIComponent(subject)}`;
    const body = await this.request('PUT', path, { compatibility: level });
    const answered = (body as { compatibility?: unknown; compatibilityLevel?: unknown }).compatibility;
    if (typeof answered !== 'string') throw this.badAnswer('PUT', path, 'an object with compatibility');
    return answered as CompatibilityLevel;
  }

  private async fetchSchema(id: number): Promise<string> {
    const path = `/schemas/ids/${id}`;
    let body: unknown;
    try {
      if (!isSchemaId(id))
        throw new SchemaNotFoundError(
          this.describe('GET', path),
          undefined,
          undefined,
          `${id} is not a schema id`,
        );
      body = await this.request('GET', path);
    } catch (cause) {
      if (cause instanceof SchemaNotFoundError) {
        throw new CodecError(
          'unknown-schema-id',
          `schema id ${id} is not in the registry at ${this.url}`,
          { schemaId: id },
          { cause },
        );
      }
      throw new CodecError(
        'registry-failed',
        `fetching schema id ${id} failed: ${(cause as Error).message}`,
        { schemaId: id },
        {
          retriable: (cause as SchemaRegistryError).retriable === true,
          cause,
        },
      );
    }
    const { schema, schemaType } = body as { schema?: unknown; schemaType?: unknown };
    if (typeof schema !== 'string') {
      throw new CodecError('registry-failed', `schema id ${id}: the registry answered without a schema`, {
        schemaId: id,
      });
    }
    if (schemaType !== undefined && schemaType !== 'AVRO') {
      // A Protobuf or JSON Schema id in an Avro topic: the record is not ours to decode.
      throw new CodecError(
        'incompatible-schema',
        `schema id ${id} is a ${String(schemaType)} schema, not Avro`,
        { schemaId: id },
      );
    }
    this.schemaById.set(id, schema);
    return schema;
  }

  private async registerNow(subject: string, schema: string, key: string): Promise<number> {
    const path = `/subjects/${encodeURIComponent(subject)}/versions`;
    const body = await this.request('POST', path, { schema });
    const id = (body as { id?: unknown }).id;
    if (!isSchemaId(id)) throw this.badAnswer('POST', path, 'an object with an integer id');
    this.remember(id, schema, key);
    return id;
  }

  private remember(id: number, schema: string, key: string): void {
    this.idBySubjectSchema.set(key, id);
    if (!this.schemaById.has(id)) this.schemaById.set(id, schema);
  }

  private describe(method: string, path: string): SchemaRegistryRequest {
    return { url: this.url, method, path };
  }

  private badAnswer(method: string, path: string, expected: string): SchemaRegistryError {
    // 200 with a body we cannot use: a proxy's page or another API at this URL. Not going away by retrying.
    return new SchemaRegistryError(
      this.describe(method, path),
      200,
      undefined,
      `expected ${expected} in the answer`,
    );
  }

  private async request(method: string, path: string, payload?: unknown): Promise<unknown> {
    const described = this.describe(method, path);
    const headers: Record<string, string> = { Accept: `${CONTENT_TYPE}, application/json` };
    if (payload !== undefined) headers['Content-Type'] = CONTENT_TYPE;
    if (this.authorization !== undefined) headers.Authorization = this.authorization;
    let status: number;
    let text: string;
    try {
      const response = await this.fetchImpl(this.url + path, {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (cause) {
      const timedOut = (cause as Error).name === 'TimeoutError';
      const detail = timedOut ? `no answer within ${this.requestTimeoutMs} ms` : networkDetail(cause);
      throw new SchemaRegistryError(described, undefined, undefined, detail, cause);
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch (cause) {
      if (status >= 200 && status < 300) {
        throw new SchemaRegistryError(
          described,
          status,
          undefined,
          `answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`,
          cause,
        );
      }
      body = undefined;
    }
    if (status >= 200 && status < 300) return body;
    const { error_code: code, message } = (typeof body === 'object' && body !== null ? body : {}) as {
      error_code?: unknown;
      message?: unknown;
    };
    const errorCode = typeof code === 'number' ? code : undefined;
    const reason = typeof message === 'string' ? message : text.slice(0, 200);
    throw schemaRegistryErrorFor(
      described,
      status,
      errorCode,
      `answered ${status}${errorCode === undefined ? '' : ` (error code ${errorCode})`}: ${reason}`,
    );
  }
}

function isSchemaId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/** fetch's TypeError says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND) is in its cause. */
function networkDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return `${(error as Error).message} (${cause.code})`;
  return (error as Error).message;
}

/**
 * Registers the codec's reader schema for `topic`'s values (TopicNameStrategy) and loads the id into
 * the codec, so `codec.encodeConfluent(v, id)` frames records and `codec.decode` reads them back.
 * `schemaText` is the schema as written (with defaults and docs, e.g. the contents of
 * `schemas/event.avsc`); it must describe the codec's type. Unlike `AvroCodec.register`, the
 * registry's typed errors pass through (a 409 is not retriable), and the registry is given the full
 * schema rather than its Parsing Canonical Form, which drops the defaults that make added fields
 * compatible.
 */
export async function registerValueSchema<T>(
  registry: SchemaRegistry,
  topic: string,
  codec: AvroCodec<T>,
  schemaText: string = JSON.stringify(codec.type.schema({ exportAttrs: true })),
): Promise<number> {
  const id = await registry.register(valueSubject(topic), schemaText);
  // addSchemaId compares canonical forms: a schema text that is not the codec's own is read through a
  // resolver, and one it cannot read fails here rather than on the first record.
  codec.addSchemaId(id, schemaText);
  return id;
}
