import { describe, expect, it } from 'vitest';
import type { ProducerRecord } from '@sequor/kafka';
import { DEAD_LETTER_HEADERS, RECORD_TOO_LARGE } from '@sequor/kafka';
import type { BatchOutcome, ReadinessState } from '../src/index.js';
import {
  decodeRestoreMetadata,
  encodeRestoreMetadata,
  PartitionFencedError,
  StreamTaskRunner,
  TaskTransactionError,
} from '../src/index.js';
import type { SumRestored } from './fakes.js';
import {
  batch,
  brokerError,
  FakeAdmin,
  FakeConsumer,
  FakeProducer,
  quietLogger,
  records,
  SumTask,
  VirtualIdleClock,
} from './fakes.js';

const T = 'events';
const HORIZON_MS = 3_000;

function setUp(
  options: {
    maxMessageBytes?: Record<string, number>;
    failFirstProducer?: FakeProducer['failNext'];
    /** The idle rule on the fake task, after this much quiet (virtual time). */
    idleAfterMs?: number;
    pipelined?: boolean;
  } = {},
) {
  const idleClock = new VirtualIdleClock();
  const log: string[] = [];
  const admin = new FakeAdmin(log);
  for (const [topic, bytes] of Object.entries(options.maxMessageBytes ?? {}))
    admin.maxMessageBytes.set(topic, bytes);
  const consumer = new FakeConsumer();
  const producers: FakeProducer[] = [];
  const tasks: SumTask[] = [];
  const restored: { partition: number; summary: SumRestored | null }[] = [];
  const outcomes: BatchOutcome[] = [];
  const readiness: ReadinessState[] = [];
  const runner = new StreamTaskRunner<SumTask, SumRestored>(
    undefined,
    {
      groupId: 'g',
      topics: [T],
      admin,
      transactionalId: (topic, partition) => `g:${topic}:${partition}`,
      outputTopics: ['sums'],
      deadLetterTopic: 'dlq',
      logger: quietLogger,
      createTask: (topic, partition, plan) => {
        const task = new SumTask(topic, partition, plan, HORIZON_MS);
        tasks.push(task);
        return task;
      },
      process: (task, b) => {
        const out = task.process(b.records);
        return { ...out, settled: (outcome) => outcomes.push(outcome) };
      },
      onRestored: (task, summary) => restored.push({ partition: task.partition, summary }),
      onReadinessChanged: (state) => readiness.push(state),
      ...(options.pipelined === true ? { pipelined: true } : {}),
      ...(options.idleAfterMs === undefined
        ? {}
        : {
            idle: {
              afterMs: options.idleAfterMs,
              checkEveryMs: 100,
              advance: (task: SumTask, idleForMs: number) => {
                const out = task.advanceIdle(idleForMs);
                return out === null ? null : { ...out, settled: (outcome) => outcomes.push(outcome) };
              },
            },
          }),
    },
    {
      idleClock,
      createConsumer: (o) => {
        consumer.options = o;
        return consumer;
      },
      createProducer: ({ transactionalId }) => {
        const producer = new FakeProducer(transactionalId, log);
        if (producers.length === 0) producer.failNext = options.failFirstProducer;
        producers.push(producer);
        return Promise.resolve(producer);
      },
    },
  );
  return { runner, admin, consumer, producers, tasks, restored, outcomes, readiness, log, idleClock };
}

const values = (rs: readonly ProducerRecord[]) => rs.map((r) => r.value?.toString());

describe('StreamTaskRunner: one transaction per batch', () => {
  it('fences the previous owner before reading the committed offset, then commits output, offsets and restore point together', async () => {
    const { runner, consumer, producers, log } = setUp();
    await runner.start();
    expect(consumer.options.commit).toBe('transaction');
    await consumer.deliver(batch(T, 0, records(0, 5)));
    // initTransactions first: only then is the committed offset final.
    expect(log.slice(0, 2)).toEqual([`g:${T}:0:initTransactions`, 'admin:fetchOffsets']);
    const producer = producers[0]!;
    expect(producer.calls.map((c) => c.op)).toEqual([
      'initTransactions',
      'beginTransaction',
      'send',
      'sendOffsets',
      'commit',
    ]);
    expect(values(producer.sent())).toEqual(['0', '1', '3', '6', '9']);
    const [committed] = producer.offsets();
    expect(committed).toMatchObject({ topic: T, partition: 0, offset: '5' });
    expect(decodeRestoreMetadata(committed!.metadata)).toEqual({
      offset: 0,
      eventTime: 1_700_000_000_000,
      streamTime: 1_700_000_004_000,
    });
    expect(runner.transactions).toBe(1);
  });

  it('restores from the restore point in the committed metadata, with output suppressed up to the committed offset', async () => {
    // A first owner processes 0..19 in batches of five and commits each.
    const first = setUp();
    await first.runner.start();
    for (let o = 0; o < 20; o += 5) await first.consumer.deliver(batch(T, 0, records(o, o + 5)));
    const firstOutput = values(first.producers[0]!.sent());
    const last = first.producers[0]!.offsets().at(-1)!;
    expect(last.offset).toBe('20');

    // A second owner after a move: committed 15 (say the last transaction was lost), with the metadata of then.
    const second = setUp();
    const at15 = first.producers[0]!.offsets()[2]!;
    expect(at15.offset).toBe('15');
    second.admin.commit(T, 0, 15, at15.metadata ?? null);
    const point = decodeRestoreMetadata(at15.metadata)!;
    expect(point.offset).toBeGreaterThan(0);
    expect(point.offset).toBeLessThan(15);
    await second.runner.start();
    // The consumer resumes at the committed offset: the runner seeks back to the restore point.
    await second.consumer.deliver(batch(T, 0, records(15, 20)));
    expect(second.consumer.seeks).toEqual([{ topic: T, partition: 0, offset: String(point.offset) }]);
    expect(second.producers[0]!.sent()).toEqual([]);
    await second.consumer.deliver(batch(T, 0, records(point.offset, 20)));
    // Replayed records rebuilt the state but produced nothing; from 15 on the output is the first run's.
    expect(second.restored).toEqual([
      { partition: 0, summary: { replayed: 15 - point.offset, suppressed: 15 - point.offset } },
    ]);
    expect(values(second.producers[0]!.sent())).toEqual(firstOutput.slice(15, 20));
    expect(second.producers[0]!.offsets().at(-1)!.offset).toBe('20');
  });

  it('starts a replay at the log start when retention deleted the records at the restore point', async () => {
    const { runner, admin, consumer } = setUp();
    admin.commit(T, 1, 50, encodeRestoreMetadata({ offset: 10, eventTime: 1, streamTime: 2 }));
    admin.logStart.set(`${T}/1`, 30);
    await runner.start();
    await consumer.deliver(batch(T, 1, records(50, 52)));
    expect(consumer.seeks).toEqual([{ topic: T, partition: 1, offset: '30' }]);
  });

  it('on assignment seeks partitions with a restore point and reports the others ready', async () => {
    const { runner, admin, consumer, readiness } = setUp();
    admin.commit(T, 0, 40, encodeRestoreMetadata({ offset: 25, eventTime: 1, streamTime: 2 }));
    admin.commit(T, 1, 40, null);
    await runner.start();
    consumer.assign([{ topic: T, partitions: [0, 1, 2] }]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(consumer.seeks).toEqual([{ topic: T, partition: 0, offset: '25' }]);
    expect(readiness.at(-1)).toEqual({ ready: false, reason: `restoring 1 of 3 partitions: ${T}[0]` });
    await consumer.deliver(batch(T, 0, records(25, 41)));
    expect(readiness.at(-1)).toEqual({ ready: true, reason: '3 partitions assigned, state restored' });
  });

  it('a fenced transaction is a typed, retriable PartitionFencedError; the task is dropped and the next batch fences anew', async () => {
    const { runner, consumer, producers, tasks } = setUp();
    await runner.start();
    await consumer.deliver(batch(T, 0, records(0, 3)));
    producers[0]!.failNext = { op: 'commit', error: brokerError('PRODUCER_FENCED') };
    const error = await consumer.deliver(batch(T, 0, records(3, 6))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartitionFencedError);
    expect(error).toMatchObject({ topic: T, partition: 0, transactionalId: `g:${T}:0`, retriable: true });
    expect(producers[0]!.calls.map((c) => c.op).slice(-2)).toEqual(['commit', 'disconnect']);
    expect(tasks[0]!.closed).toBe(true);
    expect(runner.tasks()).toEqual([]);
    await consumer.deliver(batch(T, 0, records(3, 6)));
    expect(producers).toHaveLength(2);
    expect(producers[1]!.calls[0]!.op).toBe('initTransactions');
  });

  it('aborts the transaction when a step fails, drops the task, and keeps the retry verdict of the cause', async () => {
    const { runner, consumer, producers, tasks, outcomes } = setUp({
      failFirstProducer: { op: 'sendOffsets', error: brokerError('COORDINATOR_NOT_AVAILABLE', true) },
    });
    await runner.start();
    const error = await consumer.deliver(batch(T, 2, records(0, 3))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskTransactionError);
    expect(error).toMatchObject({ topic: T, partition: 2, retriable: true });
    expect(producers[0]!.calls.map((c) => c.op)).toEqual([
      'initTransactions',
      'beginTransaction',
      'send',
      'sendOffsets',
      'abort',
      'disconnect',
    ]);
    expect(tasks[0]!.closed).toBe(true);
    expect(outcomes.at(-1)).toMatchObject({ committed: false, error: expect.anything() });
    expect(runner.transactions).toBe(0);
  });

  it('a task that throws is dropped and nothing is committed', async () => {
    const { runner, consumer, producers, tasks } = setUp();
    await runner.start();
    const bad = records(0, 2);
    const original = SumTask.prototype.process;
    SumTask.prototype.process = function () {
      throw new Error('task bug');
    };
    try {
      await expect(consumer.deliver(batch(T, 0, bad))).rejects.toThrow('task bug');
    } finally {
      SumTask.prototype.process = original;
    }
    expect(tasks[0]!.closed).toBe(true);
    expect(producers[0]!.calls.map((c) => c.op)).toEqual(['initTransactions', 'disconnect']);
  });
});

describe('StreamTaskRunner: output size', () => {
  it('replaces an output record too large for its topic with its record-too-large dead letter', async () => {
    const { runner, consumer, producers, outcomes } = setUp({ maxMessageBytes: { sums: 4_096 } });
    await runner.start();
    const big = records(0, 3, (o) => (o === 1 ? `1:${'x'.repeat(5_000)}` : '1'));
    await consumer.deliver(batch(T, 0, big));
    const sent = producers[0]!.sent();
    expect(sent.map((r) => r.topic)).toEqual(['sums', 'dlq', 'sums']);
    const dead = sent[1]!;
    expect(dead.headers?.[DEAD_LETTER_HEADERS.reason]).toBe(RECORD_TOO_LARGE);
    expect(dead.headers?.[DEAD_LETTER_HEADERS.outputTopic]).toBe('sums');
    expect(outcomes.at(-1)).toMatchObject({
      committed: true,
      tooLargeTotal: 1,
      tooLarge: new Map([['sums', 1]]),
    });
  });

  it('re-reads the topic limits when the broker refuses a batch for its size, and the retry is retriable', async () => {
    const { runner, admin, consumer } = setUp({
      failFirstProducer: { op: 'send', error: brokerError('MESSAGE_TOO_LARGE') },
    });
    await runner.start();
    expect(admin.describeCalls).toBe(1);
    const error = await consumer.deliver(batch(T, 0, records(0, 3))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskTransactionError);
    expect(error).toMatchObject({ retriable: true });
    expect(admin.describeCalls).toBe(2);
  });
});

describe('StreamTaskRunner: lifecycle', () => {
  it('closes revoked tasks on a new assignment and every task on stop', async () => {
    const { runner, consumer, tasks, producers } = setUp();
    await runner.start();
    consumer.assign([{ topic: T, partitions: [0, 1] }]);
    await consumer.deliver(batch(T, 0, records(0, 2)));
    await consumer.deliver(batch(T, 1, records(0, 2)));
    consumer.assign([{ topic: T, partitions: [1] }]);
    expect(tasks.map((t) => t.closed)).toEqual([true, false]);
    await runner.stop();
    expect(consumer.stopped).toBe(true);
    expect(tasks.map((t) => t.closed)).toEqual([true, true]);
    expect(producers.map((p) => p.calls.at(-1)!.op)).toEqual(['disconnect', 'disconnect']);
  });

  it('rebuilds a kept partition when someone committed past it meanwhile', async () => {
    const { runner, admin, consumer, tasks } = setUp();
    await runner.start();
    consumer.assign([{ topic: T, partitions: [0] }]);
    await consumer.deliver(batch(T, 0, records(0, 5)));
    admin.commit(T, 0, 9, null);
    consumer.assign([{ topic: T, partitions: [0] }]);
    await consumer.deliver(batch(T, 0, records(9, 12)));
    expect(tasks).toHaveLength(2);
    expect(tasks[0]!.closed).toBe(true);
    expect(tasks[1]!.liveFrom).toBe(9);
  });
});

describe('StreamTaskRunner: idle partitions (virtual wall clock)', () => {
  it('after the quiet time, commits what the task makes of it in its own transaction, the offset unchanged, the advance in the metadata', async () => {
    const { runner, consumer, producers, idleClock, outcomes } = setUp({ idleAfterMs: 1_000 });
    await runner.start();
    await consumer.deliver(batch(T, 0, records(0, 3)));
    const producer = producers[0]!;
    expect(producer.offsets()).toHaveLength(1);
    await idleClock.advance(900);
    expect(producer.offsets()).toHaveLength(1); // not quiet long enough
    await idleClock.advance(100);
    expect(producer.calls.slice(-4).map((c) => c.op)).toEqual([
      'beginTransaction',
      'send',
      'sendOffsets',
      'commit',
    ]);
    const idleAt = 1_700_000_002_000 + 1_000;
    expect(values(producer.sent()).at(-1)).toBe(`idle:${idleAt}`);
    const committed = producer.offsets().at(-1)!;
    expect(committed.offset).toBe('3');
    expect(decodeRestoreMetadata(committed.metadata)?.advances).toEqual([{ offset: 3, streamTime: idleAt }]);
    expect(outcomes.at(-1)).toMatchObject({ committed: true });
    expect(runner.transactions).toBe(2);
    // The fake advances by whole seconds: the next tick that moves its stream time is one second on.
    await idleClock.advance(500);
    expect(producer.offsets()).toHaveLength(2);
    await idleClock.advance(500);
    expect(producer.offsets()).toHaveLength(3);
    expect(decodeRestoreMetadata(producer.offsets().at(-1)!.metadata)?.advances).toEqual([
      { offset: 3, streamTime: idleAt },
      { offset: 3, streamTime: idleAt + 1_000 },
    ]);
    // A record resets the quiet time.
    await consumer.deliver(batch(T, 0, records(3, 4)));
    await idleClock.advance(900);
    expect(producer.offsets()).toHaveLength(4);
    await runner.stop();
    expect(idleClock.active).toBe(0);
  });

  it('leaves a partition alone while it replays, and while a batch of it is in hand', async () => {
    const { runner, admin, consumer, producers, idleClock } = setUp({ idleAfterMs: 1_000 });
    admin.commit(T, 0, 10, encodeRestoreMetadata({ offset: 5, eventTime: 1, streamTime: 2 }));
    await runner.start();
    await consumer.deliver(batch(T, 0, records(5, 8))); // replay, not done: 8 and 9 still to come
    await idleClock.advance(5_000);
    expect(producers[0]!.calls.map((c) => c.op)).toEqual(['initTransactions']);
    await consumer.deliver(batch(T, 0, records(8, 12)));
    const producer = producers[0]!;
    expect(producer.offsets()).toHaveLength(1);
    // A batch held up by a slow broker: the ticks while it is in hand start no transaction of their own.
    await idleClock.advance(1_000);
    expect(producer.offsets()).toHaveLength(2);
    let release = (): void => undefined;
    producer.hold = new Promise((resolve) => (release = resolve));
    const inHand = consumer.deliver(batch(T, 0, records(12, 13)));
    await idleClock.advance(3_000);
    expect(producer.calls.filter((c) => c.op === 'beginTransaction')).toHaveLength(3);
    expect(producer.offsets()).toHaveLength(2); // the idle one (at 12) only; the batch is still sending
    release();
    producer.hold = undefined;
    await inHand;
    expect(producer.offsets().map((o) => o.offset)).toEqual(['12', '12', '13']);
    await runner.stop();
  });

  it('a batch that arrives during an idle transaction waits for its commit', async () => {
    const { runner, consumer, producers, idleClock } = setUp({ idleAfterMs: 1_000 });
    await runner.start();
    await consumer.deliver(batch(T, 0, records(0, 3)));
    const producer = producers[0]!;
    let release = (): void => undefined;
    producer.hold = new Promise((resolve) => (release = resolve));
    await idleClock.advance(1_000); // the idle transaction is in flight, held at send
    const next = consumer.deliver(batch(T, 0, records(3, 5)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(producer.calls.filter((c) => c.op === 'beginTransaction')).toHaveLength(2);
    producer.hold = undefined;
    release();
    await next;
    expect(producer.calls.slice(5).map((c) => c.op)).toEqual([
      ...['beginTransaction', 'send', 'sendOffsets', 'commit'],
      ...['beginTransaction', 'send', 'sendOffsets', 'commit'],
    ]);
    expect(producer.offsets().map((o) => o.offset)).toEqual(['3', '3', '5']);
    await runner.stop();
  });

  it('a failed idle transaction drops the task and re-reads the partition from the last committed restore point', async () => {
    const { runner, consumer, producers, idleClock, tasks } = setUp({ idleAfterMs: 1_000 });
    await runner.start();
    await consumer.deliver(batch(T, 0, records(0, 3)));
    producers[0]!.failNext = { op: 'commit', error: brokerError('UNKNOWN_SERVER_ERROR', true) };
    await idleClock.advance(1_000);
    expect(producers[0]!.calls.slice(-2).map((c) => c.op)).toEqual(['commit', 'disconnect']);
    expect(tasks[0]!.closed).toBe(true);
    expect(consumer.seeks.at(-1)).toEqual({ topic: T, partition: 0, offset: '0' });
    expect(runner.tasks()).toEqual([]);
    await idleClock.advance(5_000); // nothing owned: nothing to do
    expect(producers).toHaveLength(1);
    await runner.stop();
  });

  it('does not take lag for quiet: a partition whose last batch ended short of the high watermark, or a rebalance, is left alone', async () => {
    const { runner, consumer, producers, idleClock } = setUp({ idleAfterMs: 1_000 });
    await runner.start();
    // The fetch said 100 records exist; the consumer handed over the first 3 only (then a long pause).
    await consumer.deliver({ ...batch(T, 0, records(0, 3)), highWatermark: '100' });
    await idleClock.advance(5_000);
    expect(producers[0]!.offsets()).toHaveLength(1);
    await consumer.deliver(batch(T, 0, records(3, 100)));
    consumer.options.onRebalancing?.();
    await idleClock.advance(5_000);
    expect(producers[0]!.offsets()).toHaveLength(2);
    consumer.assign([{ topic: T, partitions: [0] }]);
    await idleClock.advance(100);
    expect(producers[0]!.offsets()).toHaveLength(3);
    await runner.stop();
  });

  it('refuses an idle rule without a quiet time', () => {
    expect(() => setUp({ idleAfterMs: 0 })).toThrow(/afterMs must be > 0/);
  });
});

describe('StreamTaskRunner: pipelined commits', () => {
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  /** Holds the producer's sends until the returned function is called. */
  function hold(producer: FakeProducer): () => void {
    let release = (): void => undefined;
    producer.hold = new Promise((resolve) => (release = resolve));
    return () => {
      producer.hold = undefined;
      release();
    };
  }
  const ops = (producer: FakeProducer) => producer.calls.map((c) => c.op);

  it("batches processed while the partition's transaction is in flight go out together in its next one; other partitions are not held up", async () => {
    const { runner, consumer, producers, outcomes } = setUp({ pipelined: true });
    await runner.start();
    await consumer.deliver(batch(T, 0, records(0, 3)));
    await tick();
    const release = hold(producers[0]!);
    await consumer.deliver(batch(T, 0, records(3, 5))); // resolves with its send held
    expect(ops(producers[0]!).slice(-1)).toEqual(['beginTransaction']);
    await consumer.deliver(batch(T, 0, records(5, 6))); // processed and queued, not waiting
    await consumer.deliver(batch(T, 0, records(6, 8)));
    await consumer.deliver(batch(T, 1, records(0, 2)));
    expect(outcomes).toHaveLength(1);
    const before = producers[0]!.calls.length;
    release();
    await runner.stop();
    expect(ops(producers[0]!)).toEqual([
      'initTransactions',
      ...['beginTransaction', 'send', 'sendOffsets', 'commit'],
      ...['beginTransaction', 'send', 'sendOffsets', 'commit'],
      ...['beginTransaction', 'send', 'sendOffsets', 'commit'],
      'disconnect',
    ]);
    // The last transaction: both queued batches' output in order, the offset and restore point of the last.
    const sends = producers[0]!.calls.slice(before).filter((c) => c.op === 'send');
    const last = sends.at(-1);
    expect(last?.op === 'send' ? last.records.length : -1).toBe(3);
    expect(producers[0]!.offsets().map((o) => o.offset)).toEqual(['3', '5', '8']);
    expect(decodeRestoreMetadata(producers[0]!.offsets()[2]!.metadata ?? '')).not.toBeNull();
    expect(outcomes.map((o) => o.committed)).toEqual([true, true, true, true, true]);
    expect(runner.transactions).toBe(4);
  });

  it('a partition with as many batches queued as allowed waits for its transaction', async () => {
    const { runner, consumer, producers } = setUp({ pipelined: true });
    await runner.start();
    await consumer.deliver(batch(T, 0, records(0, 1)));
    await tick();
    const release = hold(producers[0]!);
    await consumer.deliver(batch(T, 0, records(1, 2))); // in flight
    for (let o = 2; o < 9; o++) await consumer.deliver(batch(T, 0, records(o, o + 1))); // 7 queued
    let handled = false;
    const eighth = consumer.deliver(batch(T, 0, records(9, 10))).then(() => (handled = true));
    await tick();
    expect(handled).toBe(false);
    release();
    await eighth;
    await runner.stop();
    expect(producers[0]!.offsets().map((o) => o.offset)).toEqual(['1', '2', '10']);
  });

  it('a failed transaction drops the task, and its typed error fails the next batch; the one after starts afresh', async () => {
    const { runner, consumer, producers, tasks } = setUp({ pipelined: true });
    await runner.start();
    producers.length = 0;
    await consumer.deliver(batch(T, 0, records(0, 3)));
    await tick();
    producers[0]!.failNext = { op: 'commit', error: brokerError('PRODUCER_FENCED') };
    await consumer.deliver(batch(T, 0, records(3, 6)));
    await tick();
    expect(ops(producers[0]!).slice(-2)).toEqual(['commit', 'disconnect']);
    expect(tasks[0]!.closed).toBe(true);
    expect(runner.tasks()).toEqual([]);
    const error = await consumer.deliver(batch(T, 1, records(0, 2))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartitionFencedError);
    expect(error).toMatchObject({ topic: T, partition: 0, retriable: true });
    await consumer.deliver(batch(T, 1, records(0, 2)));
    await runner.stop();
    expect(producers.map((p) => p.transactionalId)).toEqual([`g:${T}:0`, `g:${T}:1`]);
  });

  it('stop waits for the transaction in flight, then closes', async () => {
    const { runner, consumer, producers } = setUp({ pipelined: true });
    await runner.start();
    await consumer.deliver(batch(T, 0, records(0, 1)));
    await tick();
    const release = hold(producers[0]!);
    await consumer.deliver(batch(T, 0, records(1, 3)));
    const stopped = runner.stop();
    await tick();
    expect(ops(producers[0]!)).not.toContain('disconnect');
    release();
    await stopped;
    expect(ops(producers[0]!).slice(-3)).toEqual(['sendOffsets', 'commit', 'disconnect']);
  });

  it("a revoked partition's transaction ends before its producer closes; fenced by the new owner, it fails nothing", async () => {
    const { runner, consumer, producers, tasks } = setUp({ pipelined: true });
    await runner.start();
    consumer.assign([{ topic: T, partitions: [0, 1] }]);
    await consumer.deliver(batch(T, 0, records(0, 1)));
    await tick();
    const release = hold(producers[0]!);
    producers[0]!.failNext = { op: 'commit', error: brokerError('PRODUCER_FENCED') };
    await consumer.deliver(batch(T, 0, records(1, 3)));
    consumer.assign([{ topic: T, partitions: [1] }]);
    await tick();
    expect(ops(producers[0]!)).not.toContain('disconnect');
    release();
    await tick();
    await tick();
    expect(ops(producers[0]!).slice(-2)).toEqual(['commit', 'disconnect']);
    expect(tasks[0]!.closed).toBe(true);
    await consumer.deliver(batch(T, 1, records(0, 2)));
    await runner.stop();
  });
});
