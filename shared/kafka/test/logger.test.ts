import { ConfigError } from '@sequor/model';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger, kafkaJsLogCreator, logLevelFromEnv } from '../src/logger.js';

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

describe('createLogger', () => {
  it('writes one JSON object per line with ts, level, logger, msg first and the fields after', () => {
    const { logger, lines } = capture();
    logger.info('partitions assigned', { groupId: 'g', partitions: [0, 3] });
    expect(lines).toEqual([
      '{"ts":"2025-03-01T12:00:00.000Z","level":"info","logger":"detector","msg":"partitions assigned","groupId":"g","partitions":[0,3]}\n',
    ]);
  });

  it('drops entries below its level', () => {
    const { logger, entries } = capture('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(entries().map((e) => e.level)).toEqual(['warn', 'error']);
    expect(logger.isEnabled('info')).toBe(false);
    expect(logger.isEnabled('error')).toBe(true);
  });

  it('keeps the envelope when a field has a reserved name, and serializes errors and buffers', () => {
    const { logger, entries } = capture();
    const cause = new Error('broker down');
    logger.error('failed', { msg: 'shadow', level: 'x', error: new TypeError('bad', { cause }), payload: Buffer.from('abc') });
    const [entry] = entries();
    expect(entry).toMatchObject({ level: 'error', msg: 'failed', 'field.msg': 'shadow', 'field.level': 'x' });
    expect(entry!.error).toEqual({ name: 'TypeError', message: 'bad', cause: { name: 'Error', message: 'broker down' } });
    expect(entry!.payload).toBe('<3 bytes>');
  });

  it('names children after their parent', () => {
    const { logger, entries } = capture();
    logger.child('consumer').info('x');
    expect(entries()[0]!.logger).toBe('detector.consumer');
  });
});

describe('logLevelFromEnv', () => {
  it('defaults to info and accepts the four levels in any case', () => {
    expect(logLevelFromEnv({})).toBe('info');
    expect(logLevelFromEnv({ LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logLevelFromEnv({ LOG_LEVEL: ' warn ' })).toBe('warn');
  });

  it('rejects anything else with a ConfigError naming LOG_LEVEL', () => {
    expect(() => logLevelFromEnv({ LOG_LEVEL: 'verbose' })).toThrow(ConfigError);
    expect(() => logLevelFromEnv({ LOG_LEVEL: 'verbose' })).toThrow(/^LOG_LEVEL="verbose"/);
  });
});

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
    log({ namespace: 'Producer', level: logLevel.WARN, label: 'WARN', log: { timestamp: 't', message: 'slow' } as never });
    expect(entries()).toEqual([
      { ts: '2025-03-01T12:00:00.000Z', level: 'info', logger: 'detector.kafkajs.Consumer', msg: 'Starting', groupId: 'g1' },
      { ts: '2025-03-01T12:00:00.000Z', level: 'warn', logger: 'detector.kafkajs.Producer', msg: 'slow' },
    ]);
  });

  it('demotes per-connection error responses to debug and announced retries to warn', () => {
    const { logger, entries } = capture('info');
    const log = kafkaJsLogCreator(logger)(logLevel.INFO);
    const response = { timestamp: 't', message: 'Response JoinGroup(key: 11, version: 5)', error: 'member id required' };
    log({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: response as never });
    log({ namespace: 'Consumer', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 't', message: 'Crash' } as never });
    const retrying = { timestamp: 't', message: 'Failed to send messages: not the leader', retryCount: 0, retryTime: 51 };
    log({ namespace: 'Producer', level: logLevel.ERROR, label: 'ERROR', log: retrying as never });
    expect(entries().map((e) => [e.level, e.msg])).toEqual([
      ['error', 'Crash'],
      ['warn', 'Failed to send messages: not the leader'],
    ]);
  });
});
