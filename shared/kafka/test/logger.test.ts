import { createLogger } from '@sequor/service';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaJsLogCreator } from '../src/logger.js';

function capture(level: 'error' | 'warn' | 'info' | 'debug' = 'debug') {
  const lines: string[] = [];
  const logger = createLogger('detector', {
    level,
    write: (line) => lines.push(line),
    now: () => new Date('2025-03-01T12:00:00.000Z'),
  });
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, entries };
}

describe('kafkaJsLogCreator', () => {
  it('routes kafkajs entries into the logger under kafkajs.<namespace>, keeping their fields', () => {
    const { logger, entries } = capture();
    const log = kafkaJsLogCreator(logger)(logLevel.DEBUG);
    log({
      namespace: 'Consumer',
      level: logLevel.INFO,
      label: 'INFO',
      log: { timestamp: 'ignored', message: 'Starting', logger: 'kafkajs', groupId: 'g1' } as never,
    });
    log({
      namespace: 'Producer',
      level: logLevel.WARN,
      label: 'WARN',
      log: { timestamp: 't', message: 'slow' } as never,
    });
    expect(entries()).toEqual([
      {
        ts: '2025-03-01T12:00:00.000Z',
        level: 'info',
        logger: 'detector.kafkajs.Consumer',
        msg: 'Starting',
        groupId: 'g1',
      },
      { ts: '2025-03-01T12:00:00.000Z', level: 'warn', logger: 'detector.kafkajs.Producer', msg: 'slow' },
    ]);
  });

  it('demotes per-connection error responses and the bounded-retries warning to debug, announced retries to warn', () => {
    const { logger, entries } = capture('info');
    const log = kafkaJsLogCreator(logger)(logLevel.INFO);
    const response = {
      timestamp: 't',
      message: 'Response JoinGroup(key: 11, version: 5)',
      error: 'member id required',
    };
    log({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: response as never });
    log({
      namespace: 'Consumer',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: 't', message: 'Crash' } as never,
    });
    const retrying = {
      timestamp: 't',
      message: 'Failed to send messages: not the leader',
      retryCount: 0,
      retryTime: 51,
    };
    log({ namespace: 'Producer', level: logLevel.ERROR, label: 'ERROR', log: retrying as never });
    // Back-to-back transactions: the previous one's markers still being written, retried in ~20 ms.
    const concurrent = {
      ...retrying,
      message:
        'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
    };
    log({ namespace: 'Producer', level: logLevel.ERROR, label: 'ERROR', log: concurrent as never });
    // The transactional producer's bounded retries: a send that gives up aborts its transaction.
    const limited = {
      timestamp: 't',
      message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees',
    };
    log({ namespace: 'Producer', level: logLevel.WARN, label: 'WARN', log: limited as never });
    log({
      namespace: 'Producer',
      level: logLevel.WARN,
      label: 'WARN',
      log: { timestamp: 't', message: 'slow' } as never,
    });
    expect(entries().map((e) => [e.level, e.msg])).toEqual([
      ['error', 'Crash'],
      ['warn', 'Failed to send messages: not the leader'],
      ['warn', 'slow'],
    ]);
  });
});
