/**
 * kafkajs looks a transactional producer's coordinators up (FindCoordinator, one broker round trip)
 * before every transactional request and never keeps the answer: AddPartitionsToTxn, AddOffsetsToTxn,
 * TxnOffsetCommit (the group's coordinator) and EndTxn each cost a lookup first, ~4 extra round trips
 * per transaction, as many as the transaction's own requests. The Java client keeps a coordinator until a
 * request to it fails; `CoordinatorCache` does the same for the cluster of one transactional producer:
 * each (coordinator type, id) is looked up once, and `forget()` (called by the producer when a
 * transactional request fails) makes the next request look up again.
 *
 * kafkajs gives no seam for it: the producer's cluster is made by the client's private cluster factory,
 * wrapped for the one `producer()` call. Without that factory (another kafkajs) nothing is cached.
 */
import type { Kafka, Producer, ProducerConfig } from 'kafkajs';

interface CoordinatorQuery {
  readonly groupId: string;
  readonly coordinatorType?: number;
}

/** The part of a kafkajs cluster the cache wraps. */
export interface CoordinatorLookup {
  findGroupCoordinator(query: CoordinatorQuery): Promise<unknown>;
}

/** kafkajs's private cluster factory on a client (`src/index.js`, `PRIVATE.CREATE_CLUSTER`). */
const CLUSTER_FACTORY = 'private:Kafka:createCluster';

export class CoordinatorCache {
  private readonly known = new Map<string, Promise<unknown>>();
  /** Lookups sent to the broker (the rest were answered from the cache). */
  lookups = 0;

  /** Makes `cluster` answer coordinator lookups from this cache. */
  install(cluster: CoordinatorLookup): void {
    const find = cluster.findGroupCoordinator.bind(cluster);
    cluster.findGroupCoordinator = (query) => {
      const key = `${query.coordinatorType ?? 0}:${query.groupId}`;
      let found = this.known.get(key);
      if (found === undefined) {
        this.lookups++;
        found = find(query);
        this.known.set(key, found);
        const failed = found;
        failed.catch(() => {
          if (this.known.get(key) === failed) this.known.delete(key);
        });
      }
      return found;
    };
  }

  /** The next lookup of every coordinator asks the broker (a request to one failed: it may have moved). */
  forget(): void {
    this.known.clear();
  }
}

/**
 * `client.producer(config)`, with its cluster's coordinator lookups answered by `cache`. Returns the
 * producer and whether the cache could be installed.
 */
export function producerWithCoordinatorCache(
  client: Pick<Kafka, 'producer'>,
  config: ProducerConfig,
  cache: CoordinatorCache,
): { readonly producer: Producer; readonly cached: boolean } {
  const holder = client as unknown as Record<symbol, unknown>;
  const key = Object.getOwnPropertySymbols(client).find((s) => s.description === CLUSTER_FACTORY);
  const create = key === undefined ? undefined : holder[key];
  if (key === undefined || typeof create !== 'function')
    return { producer: client.producer(config), cached: false };
  const factory = create as (options: unknown) => CoordinatorLookup;
  let cached = false;
  holder[key] = (options: unknown) => {
    const cluster = factory(options);
    if (typeof cluster.findGroupCoordinator === 'function') {
      cache.install(cluster);
      cached = true;
    }
    return cluster;
  };
  try {
    return { producer: client.producer(config), cached };
  } finally {
    holder[key] = create;
  }
}
