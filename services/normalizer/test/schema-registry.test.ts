import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec } from '@sequor/model';
import { ConfluentSchemaRegistry, SchemaRegistryError } from '../src/index.js';

// A stand-in for the registry's REST API v1 (the two calls the client makes), on a local port.
const schemas: string[] = [];
const requests: { method: string; url: string; contentType: string | undefined }[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  req.on('end', () => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(json));
    };
    const register = /^\/subjects\/([^/]+)\/versions$/.exec(req.url ?? '');
    if (req.method === 'POST' && register !== null) {
      const { schema } = JSON.parse(body) as { schema: string };
      let id = schemas.indexOf(schema) + 1;
      if (id === 0) id = schemas.push(schema);
      return send(200, { id });
    }
    const byId = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && byId !== null) {
      const schema = schemas[Number(byId[1]) - 1];
      return schema === undefined ? send(404, { error_code: 40403, message: 'Schema not found' }) : send(200, { schema });
    }
    if (req.url?.startsWith('/boom')) return send(500, { message: 'down' });
    return send(404, { message: 'no route' });
  });
});
let baseUrl = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('ConfluentSchemaRegistry', () => {
  it('registers the event schema under the topic subject; a Confluent frame then decodes through it', async () => {
    const registry = new ConfluentSchemaRegistry(baseUrl);
    const writer = createEventCodec();
    const id = await writer.register(registry, 'sequor.events-value');
    expect(id).toBe(1);
    expect(await writer.register(registry, 'sequor.events-value')).toBe(1);
    expect(requests[0]).toEqual({ method: 'POST', url: '/subjects/sequor.events-value/versions', contentType: 'application/vnd.schemaregistry.v1+json' });
    expect(await registry.getSchema(id)).toBe(writer.canonicalForm);
  });

  it('reports a missing id as a non-retriable error and a 5xx as retriable', async () => {
    const registry = new ConfluentSchemaRegistry(baseUrl);
    const missing = await registry.getSchema(99).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SchemaRegistryError);
    expect((missing as SchemaRegistryError).status).toBe(404);
    expect((missing as SchemaRegistryError).retriable).toBe(false);
    const down = await new ConfluentSchemaRegistry(`${baseUrl}/boom?`).getSchema(1).catch((e: unknown) => e);
    expect((down as SchemaRegistryError).retriable).toBe(true);
  });

  it('reports an unreachable registry as retriable', async () => {
    const error = await new ConfluentSchemaRegistry('http://127.0.0.1:1').register('s', '"int"').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistryError);
    expect((error as SchemaRegistryError).retriable).toBe(true);
  });
});
