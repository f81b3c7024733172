/**
 * Confluent-framed values (`00` + 4-byte schema id + body) name their writer schema by id: a task that
 * decodes synchronously needs every id of a batch fetched before it starts. Fetches each id once.
 */
import type { ConsumedRecord } from '@sequor/kafka';
import { CodecError } from '@sequor/model';

/** What the preloader needs of a codec: `AvroCodec.loadSchemaId`. */
export interface SchemaIdLoader {
  loadSchemaId(id: number): Promise<unknown>;
}

export class SchemaIdPreloader {
  private readonly loaded = new Set<number>();

  constructor(private readonly codec: SchemaIdLoader) {}

  /**
   * Fetches the unknown schema ids the records' values name. An id the registry does not know is the
   * record's problem (its decode fails, and it is dead-lettered); a registry that cannot be reached is
   * ours: that error is thrown (retriable: the batch is tried again).
   */
  async load(records: readonly ConsumedRecord[]): Promise<void> {
    for (const record of records) {
      const value = record.value;
      if (value === null || value.length < 5 || value[0] !== 0) continue;
      const id = value.readUInt32BE(1);
      if (this.loaded.has(id)) continue;
      try {
        await this.codec.loadSchemaId(id);
        this.loaded.add(id);
      } catch (error) {
        if (!(error instanceof CodecError) || error.reason !== 'unknown-schema-id') throw error;
      }
    }
  }
}
