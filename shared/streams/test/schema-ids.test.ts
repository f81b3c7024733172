import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '@sequor/kafka';
import { CodecError } from '@sequor/model';
import { SchemaIdPreloader } from '../src/index.js';

/** A Confluent-framed record naming schema `id` (the body does not matter to the preloader). */
function framed(id: number, offset: number): ConsumedRecord {
  const value = Buffer.alloc(8);
  value.writeUInt32BE(id, 1);
  return { key: null, value, offset: String(offset), timestamp: '0' };
}

/** A registry that knows `known` ids and counts every request. */
class FakeRegistryCodec {
  readonly asked: number[] = [];
  constructor(readonly known: Set<number>) {}
  loadSchemaId(id: number): Promise<void> {
    this.asked.push(id);
    if (this.known.has(id)) return Promise.resolve();
    return Promise.reject(new CodecError('unknown-schema-id', `schema id ${id} not found`, { schemaId: id }));
  }
}

describe('SchemaIdPreloader', () => {
  it('asks the registry once for an id it does not know, not once per record naming it', async () => {
    let time = 0;
    const codec = new FakeRegistryCodec(new Set([1]));
    const preloader = new SchemaIdPreloader(codec, { missingTtlMs: 10_000, now: () => time });
    const batch = Array.from({ length: 1_000 }, (_, i) => framed(i % 2 === 0 ? 1 : 666, i));
    await preloader.load(batch);
    await preloader.load(batch);
    expect(codec.asked).toEqual([1, 666]);
    // A registry replica that lagged may know it later: asked again once the memory has expired.
    time = 10_001;
    codec.known.add(666);
    await preloader.load(batch);
    expect(codec.asked).toEqual([1, 666, 666]);
    await preloader.load(batch);
    expect(codec.asked).toEqual([1, 666, 666]);
    expect(preloader.missingIds).toBe(0);
  });

  it('remembers a bounded number of missing ids (random ids cannot grow it)', async () => {
    const codec = new FakeRegistryCodec(new Set());
    const preloader = new SchemaIdPreloader(codec, {
      maxMissing: 100,
      maxLookupsPerBatch: 10_000,
      now: () => 0,
    });
    await preloader.load(Array.from({ length: 5_000 }, (_, i) => framed(1_000_000 + i, i)));
    expect(preloader.missingIds).toBe(100);
    // The newest are the ones kept.
    await preloader.load([framed(1_000_000 + 4_999, 0), framed(1_000_000, 1)]);
    expect(codec.asked.slice(5_000)).toEqual([1_000_000]);
  });

  it('asks at most 64 new ids per batch, 8 at a time: random ids cost a batch a few round trips', async () => {
    let inFlight = 0;
    let most = 0;
    const asked: number[] = [];
    const codec = {
      async loadSchemaId(id: number): Promise<void> {
        asked.push(id);
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        if (id !== 7)
          throw new CodecError('unknown-schema-id', `schema id ${id} not found`, { schemaId: id });
      },
    };
    const preloader = new SchemaIdPreloader(codec, { now: () => 0 });
    const batch = [framed(7, 0), ...Array.from({ length: 5_000 }, (_, i) => framed(1_000 + i, i + 1))];
    await preloader.load(batch);
    expect(asked).toHaveLength(64);
    expect(asked[0]).toBe(7);
    expect(most).toBe(8);
    // The next batch asks for the next ones; the known and the missing are not asked again.
    await preloader.load(batch);
    expect(asked).toHaveLength(128);
    expect(asked[64]).toBe(1_063);
  });

  it("throws what is not the record's problem (a registry it cannot reach), and remembers nothing", async () => {
    let fail = true;
    const codec = {
      asked: 0,
      loadSchemaId(): Promise<void> {
        this.asked += 1;
        return fail ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve();
      },
    };
    const preloader = new SchemaIdPreloader(codec);
    await expect(preloader.load([framed(7, 0)])).rejects.toThrow('ECONNREFUSED');
    fail = false;
    await preloader.load([framed(7, 0), framed(7, 1)]);
    expect(codec.asked).toBe(2);
    expect(preloader.missingIds).toBe(0);
  });
});
