/**
 * Confluent-framed values (`00` + 4-byte schema id + body) name their writer schema by id: a task that
 * decodes synchronously needs every id of a batch fetched before it starts. Fetches each id once.
 *
 * An id the registry does not know is remembered as missing for a second (as Confluent's registry client
 * does with `missing.id.cache.ttl.sec`): its records fail to decode and are dead-lettered, and without the
 * memory every one of them would wait for its own registry request, one after another, so one producer
 * writing a wrong id would hold its partition to the registry's pace. A second only: a registry replica
 * can lag behind a new registration, and the records naming the id meanwhile are dead-lettered.
 *
 * Ids named at random are new each: a batch asks for at most `maxLookupsPerBatch` ids it has not seen, a few
 * at a time (`lookupConcurrency`), so a batch costs at most a few registry round trips whatever its records
 * name. The records naming an id past that budget fail to decode (`unknown-schema-id`) and are
 * dead-lettered; no producer of ours writes dozens of new schemas between two fetches.
 */
import type { ConsumedRecord } from '@sequor/kafka';
import { CodecError } from '@sequor/model';

/** What the preloader needs of a codec: `AvroCodec.loadSchemaId`. */
export interface SchemaIdLoader {
  loadSchemaId(id: number): Promise<unknown>;
}

export interface SchemaIdPreloaderOptions {
  /** How long an id the registry did not know is not asked for again (default 1 s). */
  readonly missingTtlMs?: number;
  /** How many missing ids are remembered, the oldest forgotten first (default 4,096). */
  readonly maxMissing?: number;
  /** Milliseconds of a monotonic clock (default `performance.now`). */
  readonly now?: () => number;
  /** New ids asked of the registry per batch at most (default 64). */
  readonly maxLookupsPerBatch?: number;
  /** Registry requests in flight at once (default 8). */
  readonly lookupConcurrency?: number;
}

export const DEFAULT_MAX_SCHEMA_ID_LOOKUPS_PER_BATCH = 64;
export const DEFAULT_SCHEMA_ID_LOOKUP_CONCURRENCY = 8;

export const DEFAULT_MISSING_SCHEMA_ID_TTL_MS = 1_000;
export const DEFAULT_MAX_MISSING_SCHEMA_IDS = 4_096;

export class SchemaIdPreloader {
  private readonly loaded = new Set<number>();
  /** Ids the registry did not know, to the time until which they are not asked for again (oldest first). */
  private readonly missing = new Map<number, number>();
  private readonly missingTtlMs: number;
  private readonly maxMissing: number;
  private readonly now: () => number;
  private readonly maxLookupsPerBatch: number;
  private readonly lookupConcurrency: number;

  constructor(
    private readonly codec: SchemaIdLoader,
    options: SchemaIdPreloaderOptions = {},
  ) {
    this.missingTtlMs = options.missingTtlMs ?? DEFAULT_MISSING_SCHEMA_ID_TTL_MS;
    this.maxMissing = options.maxMissing ?? DEFAULT_MAX_MISSING_SCHEMA_IDS;
    this.now = options.now ?? (() => performance.now());
    this.maxLookupsPerBatch = options.maxLookupsPerBatch ?? DEFAULT_MAX_SCHEMA_ID_LOOKUPS_PER_BATCH;
    this.lookupConcurrency = Math.max(1, options.lookupConcurrency ?? DEFAULT_SCHEMA_ID_LOOKUP_CONCURRENCY);
  }

  /**
   * Fetches the unknown schema ids the records' values name. An id the registry does not know is the
   * record's problem (its decode fails, and it is dead-lettered); a registry that cannot be reached is
   * ours: that error is thrown (retriable: the batch is tried again).
   */
  async load(records: readonly ConsumedRecord[]): Promise<void> {
    const now = this.now();
    const wanted = new Set<number>();
    for (const record of records) {
      const value = record.value;
      if (value === null || value.length < 5 || value[0] !== 0) continue;
      const id = value.readUInt32BE(1);
      if (this.loaded.has(id) || wanted.has(id)) continue;
      const until = this.missing.get(id);
      if (until !== undefined && until > now) continue;
      wanted.add(id);
      if (wanted.size === this.maxLookupsPerBatch) break;
    }
    const ids = [...wanted];
    for (let from = 0; from < ids.length; from += this.lookupConcurrency) {
      const chunk = ids.slice(from, from + this.lookupConcurrency);
      const outcomes = await Promise.allSettled(chunk.map((id) => this.codec.loadSchemaId(id)));
      let failure: unknown = null;
      outcomes.forEach((outcome, i) => {
        const id = chunk[i]!;
        if (outcome.status === 'fulfilled') {
          this.loaded.add(id);
          this.missing.delete(id);
        } else if (outcome.reason instanceof CodecError && outcome.reason.reason === 'unknown-schema-id') {
          this.rememberMissing(id);
        } else failure ??= outcome.reason;
      });
      if (failure !== null) throw failure;
    }
  }

  /** Ids remembered as missing now (for tests and metrics). */
  get missingIds(): number {
    return this.missing.size;
  }

  private rememberMissing(id: number): void {
    this.missing.delete(id); // re-inserted last: the map stays oldest first
    this.missing.set(id, this.now() + this.missingTtlMs);
    if (this.missing.size > this.maxMissing) {
      const oldest = this.missing.keys().next().value as number;
      this.missing.delete(oldest);
    }
  }
}
