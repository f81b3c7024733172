import { ConfigError } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import { createLogger, logLevelFromEnv } from '../src/logger.js';

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
    logger.error('failed', {
      msg: 'shadow',
      level: 'x',
      error: new TypeError('bad', { cause }),
      payload: Buffer.from('abc'),
    });
    const [entry] = entries();
    expect(entry).toMatchObject({ level: 'error', msg: 'failed', 'field.msg': 'shadow', 'field.level': 'x' });
    expect(entry!.error).toEqual({
      name: 'TypeError',
      message: 'bad',
      cause: { name: 'Error', message: 'broker down' },
    });
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
