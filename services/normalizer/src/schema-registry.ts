/**
 * A minimal Confluent Schema Registry client (REST API v1): register the event schema under a subject
 * and fetch a schema by id. Enough for the normalizer to frame Confluent records; the codec caches ids,
 * so the registry is asked once per process, at start.
 */
import type { SchemaRegistry } from '@sequor/model';
import { SequorError } from '@sequor/model';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** The registry answered with an error status (or not at all). Retriable for 5xx and network errors. */
export class SchemaRegistryError extends SequorError {
  constructor(
    readonly url: string,
    readonly status: number | undefined,
    message: string,
    cause?: unknown,
  ) {
    super(`schema registry ${url}: ${message}`, { retriable: status === undefined || status >= 500, cause });
  }
}

export class ConfluentSchemaRegistry implements SchemaRegistry {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async register(subject: string, schema: string): Promise<number> {
    const body = await this.request(`/subjects/${encodeURIComponent(subject)}/versions`, { method: 'POST', body: JSON.stringify({ schema }) });
    const id = (body as { id?: unknown }).id;
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new SchemaRegistryError(this.baseUrl, 200, `registering ${subject} returned no id`);
    return id;
  }

  async getSchema(id: number): Promise<string> {
    const body = await this.request(`/schemas/ids/${id}`, { method: 'GET' });
    const schema = (body as { schema?: unknown }).schema;
    if (typeof schema !== 'string') throw new SchemaRegistryError(this.baseUrl, 200, `schema id ${id} returned no schema`);
    return schema;
  }

  private async request(path: string, init: { method: string; body?: string }): Promise<unknown> {
    const url = this.baseUrl + path;
    let response: Response;
    try {
      response = await this.fetchImpl(url, { ...init, headers: { 'Content-Type': CONTENT_TYPE, Accept: CONTENT_TYPE } });
    } catch (cause) {
      throw new SchemaRegistryError(this.baseUrl, undefined, `${init.method} ${path} failed: ${(cause as Error).message}`, cause);
    }
    const text = await response.text();
    if (!response.ok) throw new SchemaRegistryError(this.baseUrl, response.status, `${init.method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new SchemaRegistryError(this.baseUrl, response.status, `${init.method} ${path} answered with non-JSON`, cause);
    }
  }
}
